/* pollen-pktgen and pollen-fwd as a user runs them, on the test bed's NICs. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testbed.h"

struct run {
	char tx[16], rx[16];
	unsigned size;
	char iommu[8];
	char extra[16];
};

/* --tx-csum: the sender's NIC fills in the checksums, and the receiver checks them. */
static struct run runs[] = {
	{ "0000:00:03.0", "0000:00:04.0", 60, "iommufd", "" },
	{ "0000:00:04.0", "0000:00:03.0", 1514, "iommufd", "--tx-csum" },
	{ "0000:00:03.0", "0000:00:04.0", 1514, "vfio", "--tx-csum" },
	{ "0000:00:04.0", "0000:00:03.0", 60, "vfio", "" },
	{ "0000:00:03.0", "0000:00:04.0", 333, "iommufd", "--tx-csum" },
	{ "0000:00:04.0", "0000:00:03.0", 61, "vfio", "--tx-csum" },
};

ParameterizedTestParameters(eth_tools, pktgen_frames_arrive_intact_and_none_lost)
{
	return cr_make_param_array(struct run, runs, sizeof(runs) / sizeof(runs[0]));
}

/*
 * 5000 frames at 20k pps (a rate the emulation sustains) from one Pollen port to the
 * other on hub 0, e1000 to e1000e and back, both back ends: every one arrives, in order,
 * its bytes as sent, and the ports' counters say so.
 *
 * The receiver's ring holds 4096 frames, 200 ms at this rate: under TCG a vCPU stalls for
 * tens of milliseconds now and then (once long enough to overflow 512 slots: 416 frames
 * lost), and a ring that runs empty loses frames on the e1000 (which counts them missed)
 * and on the e1000e lets QEMU 7.2's net layer reorder them (a new frame is delivered
 * before the ones it queued meanwhile: net/queue.c, DEVELOPERS.md). The ring is sized
 * for the stall, so that neither happens; should the stall outlast it, every frame lost
 * must be one the NIC counted as missed: the driver loses none.
 */
ParameterizedTest(struct run *r, eth_tools, pktgen_frames_arrive_intact_and_none_lost,
		  .timeout = 120)
{
	static char out[16384];
	char args[256];

	snprintf(args, sizeof(args), "-p %s --rx %s -s %u -r 20k -n 5000 --rx-desc 4096 --iommu %s "
		 "--json -q %s", r->tx, r->rx, r->size, r->iommu, r->extra);
	int st = testbed_run_tool("POLLEN_PKTGEN", args, out, sizeof(out));
	cr_assert_eq(st, 0, "pollen-pktgen %s: status %d\n%s", args, st, out);
	const char *rx = strstr(out, "\"rx\": {");
	cr_assert_not_null(rx, "no rx object in: %s", out);
	cr_expect_eq(testbed_number_after(out, "\"packets\": "), 5000, "sent");
	cr_expect_eq(testbed_number_after(rx, "\"packets\": "), 5000, "received: %s", rx);
	cr_expect_eq(testbed_number_after(rx, "\"lost\": "), 0);
	cr_expect_eq(testbed_number_after(rx, "\"reordered\": "), 0);
	cr_expect_eq(testbed_number_after(rx, "\"duplicated\": "), 0);
	cr_expect_eq(testbed_number_after(rx, "\"corrupted\": "), 0);
	cr_expect_eq(testbed_number_after(rx, "\"other\": "), 0);
	/* The receiving port's device counted them too (ports[1] is the receiver). */
	const char *port = strstr(out, r->rx);
	port = port ? strstr(port + 1, r->rx) : NULL;	/* past the set-up line */
	cr_assert_not_null(port, "no port entry for %s", r->rx);
	cr_expect_eq(testbed_number_after(port, "\"rx_packets\": "), 5000);
	cr_expect_eq(testbed_number_after(port, "\"rx_bytes\": "), 5000ull * (r->size + 4));
	cr_expect_eq(testbed_number_after(port, "\"rx_missed\": "),
		     testbed_number_after(rx, "\"lost\": "), "a frame lost that the NIC did not miss");
}

/* pollen-fwd loops frames between the two ports of hub 0 and says what it moved. */
Test(eth_tools, fwd_forwards_and_reports, .timeout = 120)
{
	static char out[16384];
	int st = testbed_run_tool("POLLEN_FWD", "-p 0000:00:03.0,0000:00:04.0 --tx-first 64 -t 2 "
				  "--json -q", out, sizeof(out));

	cr_assert_eq(st, 0, "status %d\n%s", st, out);
	const char *total = strstr(out, "\"total\"");
	cr_assert_not_null(total, "%s", out);
	cr_expect_gt(testbed_number_after(total, "\"rx_packets\": "), 10000,
		     "frames looping for 2 s: %s", total);
}

/*
 * A wrong address, the NVMe, a bad size, or more queues than the NIC has: a clear
 * error, exit status 1 (refused by the library) or 2 (bad arguments).
 */
Test(eth_tools, tools_refuse_what_is_not_a_nic)
{
	static char out[4096];

	cr_expect_eq(testbed_run_tool("POLLEN_FWD", "-p 0000:00:02.0,0000:00:03.0 -t 1", out,
				      sizeof(out)), 1, "%s", out);
	cr_expect(strstr(out, "is not a NIC Pollen drives"), "%s", out);
	cr_expect_eq(testbed_run_tool("POLLEN_PKTGEN", "-p 0000:00:1e.0 -n 10", out, sizeof(out)),
		     1, "%s", out);
	cr_expect(strstr(out, "no such PCI device"), "%s", out);
	cr_expect_eq(testbed_run_tool("POLLEN_PKTGEN", "-p 0000:00:03.0 -s 40 -n 10", out,
				      sizeof(out)), 2, "%s", out);
	/* Two queues: the e1000 has one; three: no part here has them. */
	cr_expect_eq(testbed_run_tool("POLLEN_FWD", "-p 0000:00:03.0,0000:00:04.0 --queues 2 -t 1",
				      out, sizeof(out)), 1, "%s", out);
	cr_expect(strstr(out, "the 8254x has 1 of each"), "%s", out);
	cr_expect_eq(testbed_run_tool("POLLEN_FWD", "-p 0000:00:04.0,0000:00:06.0 --queues 3 -t 1",
				      out, sizeof(out)), 2, "%s", out);
}

/*
 * Runs pollen-fwd with @fwd_argv (its JSON to @fwd_out) in the background, and once it
 * has had @settle_s seconds to bring its ports up, pollen-pktgen with @pktgen_args (its
 * output to @out); then ends pollen-fwd as a user would (SIGTERM), and it must end well.
 * Its -t is only a bound should the test die first.
 */
static void fwd_beside_pktgen(char *const fwd_argv[], unsigned settle_s, const char *pktgen_args,
			      char *out, size_t out_len, char *fwd_out, size_t fwd_len)
{
	const char *fwd = getenv("POLLEN_FWD");
	const char *path = "/tmp/fwd-beside-pktgen.json";

	cr_assert_not_null(fwd);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (!pid) {
		if (!freopen(path, "w", stdout))
			_exit(126);
		execv(fwd, fwd_argv);
		_exit(127);
	}
	sleep(settle_s);
	int st = testbed_run_tool("POLLEN_PKTGEN", pktgen_args, out, out_len);
	cr_expect_eq(st, 0, "%s", out);
	int fst;
	kill(pid, SIGTERM);
	waitpid(pid, &fst, 0);
	cr_assert(WIFEXITED(fst) && WEXITSTATUS(fst) == 0, "pollen-fwd status %d", fst);
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f);
	fwd_out[fread(fwd_out, 1, fwd_len - 1, f)] = 0;
	fclose(f);
}

/*
 * pollen-fwd --sleep between 04.0 and 05.0 (the two hubs): idle, it sleeps on the RX
 * interrupts (INTx on the 82540EM at 05.0, MSI-X on the 82574L at 04.0) and costs next to
 * no CPU; frames pollen-pktgen sends at 10 a second from 03.0 each wake it, and every one
 * reaches 06.0 on the other hub intact.
 */
Test(eth_tools, a_sleeping_fwd_wakes_and_forwards_the_next_frame, .timeout = 120)
{
	static char out[16384], fwd_out[16384];
	char *const argv[] = { "pollen-fwd", "-p", "0000:00:04.0,0000:00:05.0", "--sleep", "-t",
			       "60", "-q", "--json", NULL };

	/* both ports started (the e1000's start waits a second), then idle */
	fwd_beside_pktgen(argv, 3, "-p 0000:00:03.0 --rx 0000:00:06.0 -r 10 -n 30 --json -q", out,
			  sizeof(out), fwd_out, sizeof(fwd_out));
	const char *rx = strstr(out, "\"rx\": {");
	cr_assert_not_null(rx, "%s", out);
	cr_expect_eq(testbed_number_after(rx, "\"packets\": "), 30, "%s", rx);
	cr_expect_eq(testbed_number_after(rx, "\"lost\": "), 0);
	cr_expect_eq(testbed_number_after(rx, "\"corrupted\": "), 0);
	cr_expect_geq(testbed_number_after(fwd_out, "\"wakeups\": "), 15,
		      "frames 100 ms apart should each find it asleep: %s", fwd_out);
	/* Polling would be 100% of a core; asleep it is a few. */
	cr_expect_lt(testbed_number_after(fwd_out, "\"cpu_percent\": "), 20, "%s", fwd_out);
}

/*
 * pollen-fwd --queues 2 between the two e1000e ports (04.0 on hub 0, 06.0 on hub 1): a
 * worker thread per queue. 4000 frames of 16 flows from pollen-pktgen at 03.0 reach
 * 05.0, none lost or damaged (frames of different flows may pass each other: the two
 * workers send independently), and RSS gave both of 04.0's queues a share.
 */
Test(eth_tools, a_two_queue_fwd_spreads_flows_over_its_workers, .timeout = 120)
{
	static char out[16384], fwd_out[16384];
	/*
	 * Rings that hold every frame (4096 >= 4000): a forwarder or receiver the loaded
	 * bed keeps off a vCPU for a while then loses none. At 512 the receiver, off for
	 * more than 256 ms (512 frames at 2k a second), missed 386 in a loaded run.
	 */
	char *const argv[] = { "pollen-fwd", "-p", "0000:00:04.0,0000:00:06.0", "--queues", "2",
			       "--rx-desc", "4096", "-t", "60", "-q", "--json", NULL };

	fwd_beside_pktgen(argv, 2, "-p 0000:00:03.0 --rx 0000:00:05.0 --flows 16 -r 2k -n 4000 "
			  "--rx-desc 4096 --json -q", out, sizeof(out), fwd_out, sizeof(fwd_out));
	const char *rx = strstr(out, "\"rx\": {");
	cr_assert_not_null(rx, "%s", out);
	cr_expect_eq(testbed_number_after(rx, "\"packets\": "), 4000, "%s", rx);
	cr_expect_eq(testbed_number_after(rx, "\"lost\": "), 0);
	cr_expect_eq(testbed_number_after(rx, "\"duplicated\": "), 0);
	cr_expect_eq(testbed_number_after(rx, "\"corrupted\": "), 0);
	cr_expect_eq(testbed_number_after(fwd_out, "\"queues\": "), 2, "%s", fwd_out);
	/* ports[0] is 04.0: its per-queue counts, queue 0 then queue 1 */
	const char *q = strstr(fwd_out, "\"per_queue\"");
	cr_assert_not_null(q, "%s", fwd_out);
	uint64_t q0 = testbed_number_after(q, "\"rx_packets\": ");
	const char *q1s = strstr(q, "},");
	cr_assert_not_null(q1s, "%s", q);
	uint64_t q1 = testbed_number_after(q1s, "\"rx_packets\": ");
	cr_expect_eq(q0 + q1, 4000, "04.0 received %llu + %llu", (unsigned long long)q0,
		     (unsigned long long)q1);
	cr_expect(q0 > 400 && q1 > 400, "RSS gave the queues %llu and %llu of 16 flows' frames",
		  (unsigned long long)q0, (unsigned long long)q1);
}
