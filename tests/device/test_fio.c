/*
 * The pollen-fio ioengine, run by the fio it was built against ($POLLEN_FIO, with the
 * engine at $POLLEN_FIO_ENGINE): fio's own verify through Pollen's driver and through
 * io_uring with one job file, and what fio says for a filename that names nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pollen/pci.h>

#include "testbed.h"

#define JOB "/tmp/pollen-verify.fio"

static char out[65536];

/*
 * Runs fio with @args (the job file, or a job on the command line) and @target as the
 * job file's ${TARGET}: its exit status, its output in out.
 */
static int fio(const char *target, const char *args)
{
	const char *engine = getenv("POLLEN_FIO_ENGINE");
	char all[256];

	cr_assert_not_null(engine, "POLLEN_FIO_ENGINE is not set");
	setenv("TARGET", target, 1);
	setenv("ENGINE", engine, 1);
	snprintf(all, sizeof(all), "--output-format=json %s", args);
	return testbed_run_tool("POLLEN_FIO", all, out, sizeof(out));
}

/*
 * One job file for every back end, as a user keeps one: two jobs (a queue pair each)
 * write 16 MiB apiece at random with CRC32C headers, then read it back and check it.
 */
static void write_job(void)
{
	FILE *j = fopen(JOB, "w");

	cr_assert_not_null(j);
	fputs("[global]\n"
	      "ioengine=external:${ENGINE}\n"
	      "thread=1\n"
	      "filename=${TARGET}\n"
	      "rw=randwrite\n"
	      "bs=4k\n"
	      "iodepth=16\n"
	      "iodepth_batch=4\n"
	      "iodepth_batch_complete=1\n"
	      "size=16m\n"
	      "offset_increment=16m\n"
	      "numjobs=2\n"
	      "verify=crc32c\n"
	      "do_verify=1\n"
	      "verify_fatal=1\n"
	      "lat_percentiles=1\n"
	      "group_reporting=1\n"
	      "[verify]\n", j);
	cr_assert_eq(fclose(j), 0);
}

/* What fio's JSON says the group moved in @dir ("read" or "write"). */
static unsigned long long io_bytes(const char *dir)
{
	char label[32];

	snprintf(label, sizeof(label), "\"%s\" : {", dir);
	const char *at = strstr(out, label);
	cr_assert_not_null(at, "no %s section in fio's JSON: %s", dir, out);
	const char *b = strstr(at, "\"io_bytes\" : ");
	cr_assert_not_null(b, "%s", out);
	return strtoull(b + strlen("\"io_bytes\" : "), NULL, 10);
}

static void expect_verified(void)
{
	cr_expect(!strstr(out, "verify: bad") && !strstr(out, "\"error\" : 1"), "%s", out);
	cr_expect_eq(io_bytes("write"), 32ull << 20, "fio wrote: %s", out);
	cr_expect_eq(io_bytes("read"), 32ull << 20, "fio read back: %s", out);
	cr_expect(strstr(out, "\"percentile\""), "no latency percentiles: %s", out);
}

Test(fio, verify_passes_through_pollens_driver_with_two_jobs, .timeout = 240)
{
	write_job();
	cr_assert_eq(fio("0000.00.02.0 ns=1", JOB), 0, "fio: %s", out);
	expect_verified();
}

static void back_to_vfio(void)
{
	pl_pci_bind("0000:00:02.0", "vfio-pci");
}

Test(fio, the_same_job_file_passes_on_io_uring, .timeout = 240, .fini = back_to_vfio)
{
	char dev[64];

	cr_assert_eq(pl_pci_bind("0000:00:02.0", "nvme"), 0, "the NVMe to the kernel's driver");
	testbed_kernel_disk("0000:00:02.0", 1, dev, sizeof(dev));
	write_job();
	cr_assert_eq(fio(dev, JOB), 0, "fio: %s", out);
	expect_verified();
}

Test(fio, a_filename_naming_nothing_is_refused_clearly, .timeout = 120)
{
	write_job();
	/* not a PCI address, nor a path */
	cr_expect_neq(fio("00.02.0", JOB), 0, "%s", out);
	cr_expect(strstr(out, "want a PCI address"), "fio said: %s", out);
	/* a device that is not there */
	cr_expect_neq(fio("0000.00.1e.0", JOB), 0, "%s", out);
	cr_expect(strstr(out, "no such PCI device"), "fio said: %s", out);
	/* a namespace the controller does not have */
	cr_expect_neq(fio("0000.00.02.0 ns=9", JOB), 0, "%s", out);
	cr_expect(strstr(out, "namespace 9"), "fio said: %s", out);
	/* processes, not threads: the jobs could not share the controller */
	cr_expect_neq(fio("", "--name=p --ioengine=external:$ENGINE --filename=0000.00.02.0 "
			  "--rw=read --size=1m"), 0, "%s", out);
	cr_expect(strstr(out, "needs thread=1"), "fio said: %s", out);
}
