/*
 * pollen-echo on 00:04.0 against the guest kernel's e1000 at 00:03.0 on the same hub: the
 * kernel's ping and arping get answers, and malformed frames the kernel sends from a
 * packet socket are counted and dropped without a crash, a hang or a lost buffer.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testbed.h"

#define KERNEL_IP "10.88.0.1"
#define ECHO_IP "10.88.0.2"
#define ECHO_MAC "52:54:00:00:00:02"

static pid_t echo_pid;
static char kdev[64];
static const char *json_path = "/tmp/pollen-echo.json";

static void kernel_netdev(void)
{
	testbed_netdev("0000:00:03.0", kdev, sizeof(kdev));
}

static int sh(const char *cmd)
{
	int st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void setup(void)
{
	const char *app = getenv("POLLEN_ECHO");
	char cmd[512];

	cr_assert_not_null(app, "POLLEN_ECHO is not set");
	kernel_netdev();
	snprintf(cmd, sizeof(cmd), "ip addr flush dev %s && ip addr add " KERNEL_IP "/24 dev %s && "
		 "ip link set %s up", kdev, kdev, kdev);
	cr_assert_eq(sh(cmd), 0, "%s", cmd);
	echo_pid = fork();
	cr_assert_geq(echo_pid, 0);
	if (!echo_pid) {
		FILE *f = freopen(json_path, "w", stdout);
		(void)f;
		execl(app, app, "0000:00:04.0", ECHO_IP "/24", "-t", "100", "-q", "--json",
		      (char *)NULL);
		_exit(127);
	}
	sleep(2);	/* the port starts and its link comes up */
	cr_assert_eq(waitpid(echo_pid, NULL, WNOHANG), 0, "pollen-echo exited early");
}

/* Stops pollen-echo and returns its JSON summary. */
static const char *stop_echo(void)
{
	static char out[8192];
	int st;

	kill(echo_pid, SIGINT);
	waitpid(echo_pid, &st, 0);
	echo_pid = 0;
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "pollen-echo ended with status %d", st);
	FILE *f = fopen(json_path, "r");
	cr_assert_not_null(f);
	size_t n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = 0;
	fclose(f);
	return out;
}

static void teardown(void)
{
	if (echo_pid > 0) {
		kill(echo_pid, SIGKILL);
		waitpid(echo_pid, NULL, 0);
	}
	echo_pid = 0;
}

static uint16_t csum(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint32_t s = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		s += (uint32_t)p[len - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return htons((uint16_t)~s);
}

/*
 * One echo request with @len bytes of a pattern from the kernel's raw ICMP socket: the
 * reply comes back with the same identifier, sequence and data. Return: 0 or -1.
 */
static int ping_once(int s, uint16_t seq, size_t len)
{
	uint8_t pkt[1500], buf[1600];
	struct icmphdr *h = (struct icmphdr *)pkt;
	struct sockaddr_in to = { .sin_family = AF_INET };

	inet_pton(AF_INET, ECHO_IP, &to.sin_addr);
	memset(h, 0, sizeof(*h));
	h->type = ICMP_ECHO;
	h->un.echo.id = htons(0x5050);
	h->un.echo.sequence = htons(seq);
	for (size_t i = 0; i < len; i++)
		pkt[sizeof(*h) + i] = (uint8_t)(i * 13 + seq);
	h->checksum = csum(pkt, sizeof(*h) + len);
	if (sendto(s, pkt, sizeof(*h) + len, 0, (struct sockaddr *)&to, sizeof(to)) < 0)
		return -1;
	for (int tries = 0; tries < 20; tries++) {
		struct pollfd p = { .fd = s, .events = POLLIN };
		if (poll(&p, 1, 250) <= 0)
			continue;
		ssize_t n = recv(s, buf, sizeof(buf), 0);	/* the IP header first */
		if (n < 20)
			continue;
		size_t ihl = (buf[0] & 0xf) * 4u;
		struct icmphdr *r = (struct icmphdr *)(buf + ihl);
		if ((size_t)n < ihl + sizeof(*r) || r->type != ICMP_ECHOREPLY ||
		    r->un.echo.id != h->un.echo.id || r->un.echo.sequence != h->un.echo.sequence)
			continue;
		cr_expect_eq((size_t)n - ihl, sizeof(*h) + len, "reply %zd bytes", n);
		cr_expect(!memcmp(buf + ihl + sizeof(*r), pkt + sizeof(*h), len),
			  "reply %u carries other data than the request", seq);
		cr_expect_eq(csum(buf + ihl, (size_t)n - ihl), 0, "reply checksum wrong");
		return 0;
	}
	return -1;
}

Test(eth_echo, the_kernels_ping_gets_replies_with_its_payload, .init = setup, .fini = teardown,
     .timeout = 120)
{
	int s = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
	cr_assert_geq(s, 0, "raw ICMP socket: %s", strerror(errno));
	unsigned ok = 0;
	const size_t sizes[] = { 0, 8, 56, 1000, 1472 };	/* 1472: a full 1514-byte frame */

	for (uint16_t seq = 1; seq <= 10; seq++)
		ok += ping_once(s, seq, sizes[seq % 5]) == 0;
	close(s);
	/* The first may go while the kernel still resolves the MAC: nine of ten at least. */
	cr_expect_geq(ok, 9, "%u of 10 echo requests answered", ok);
	/* And busybox's ping, as a user runs it. */
	cr_expect_eq(sh("ping -c 3 -W 2 " ECHO_IP " | grep -q '3 packets received'"), 0);
	const char *j = stop_echo();
	cr_expect_geq(testbed_number_after(j, "\"echo_replies\": "), 12, "%s", j);
	cr_expect_eq(testbed_number_after(j, "\"buffers_in_use_after_close\": "), 0, "%s", j);
}

Test(eth_echo, arping_resolves_its_mac, .init = setup, .fini = teardown, .timeout = 60)
{
	char cmd[256], out[2048];

	snprintf(cmd, sizeof(cmd), "arping -I %s -c 2 -w 5 " ECHO_IP " 2>&1", kdev);
	FILE *p = popen(cmd, "r");
	size_t n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = 0;
	int st = pclose(p);
	cr_expect_eq(WEXITSTATUS(st), 0, "%s", out);
	cr_expect(strcasestr(out, ECHO_MAC), "arping did not see " ECHO_MAC ": %s", out);
	const char *j = stop_echo();
	cr_expect_geq(testbed_number_after(j, "\"arp_replies\": "), 2, "%s", j);
}

/* Sends @len bytes as one frame out of the kernel's port, whatever they hold. */
static void inject(int s, int ifindex, const uint8_t *frame, size_t len)
{
	struct sockaddr_ll to = { .sll_family = AF_PACKET, .sll_ifindex = ifindex, .sll_halen = 6 };

	memcpy(to.sll_addr, frame, 6);
	cr_expect_eq(sendto(s, frame, len, 0, (struct sockaddr *)&to, sizeof(to)), (ssize_t)len,
		     "AF_PACKET send of %zu bytes: %s", len, strerror(errno));
}

/* An IPv4 echo request frame to pollen-echo, which each case then damages. */
static size_t good_echo(uint8_t *f, const uint8_t *src_mac)
{
	static const uint8_t dst[6] = { 0x52, 0x54, 0, 0, 0, 2 };
	uint8_t *ip = f + 14, *icmp = ip + 20;

	memset(f, 0, 98);
	memcpy(f, dst, 6);
	memcpy(f + 6, src_mac, 6);
	f[12] = 0x08;
	ip[0] = 0x45;
	ip[3] = 84;	/* 20 + 8 + 56 */
	ip[8] = 64;
	ip[9] = 1;
	inet_pton(AF_INET, KERNEL_IP, ip + 12);
	inet_pton(AF_INET, ECHO_IP, ip + 16);
	uint16_t c = csum(ip, 20);
	memcpy(ip + 10, &c, 2);
	icmp[0] = ICMP_ECHO;
	icmp[5] = 1;
	for (int i = 8; i < 64; i++)
		icmp[i] = (uint8_t)i;
	c = csum(icmp, 64);
	memcpy(icmp + 2, &c, 2);
	return 98;
}

/*
 * Runts, garbage, lengths that point past the frame, bad checksums, fragments, other
 * protocols and ethertypes, oversized frames and a flood larger than the RX ring, all
 * from a kernel packet socket: each counted under its reason, nothing leaked, and the
 * port answers the kernel's ping afterwards.
 */
Test(eth_echo, malformed_and_hostile_frames_are_counted_and_dropped, .init = setup,
     .fini = teardown, .timeout = 120)
{
	int s = socket(AF_PACKET, SOCK_RAW, 0);
	cr_assert_geq(s, 0, "AF_PACKET: %s", strerror(errno));
	int ifindex = (int)if_nametoindex(kdev);
	uint8_t mac[6], f[9000];
	char path[320];
	snprintf(path, sizeof(path), "/sys/class/net/%s/address", kdev);
	FILE *mf = fopen(path, "r");
	cr_assert_not_null(mf);
	cr_assert_eq(fscanf(mf, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1], &mac[2],
			    &mac[3], &mac[4], &mac[5]), 6);
	fclose(mf);

	size_t len = good_echo(f, mac);
	inject(s, ifindex, f, 20);			/* runt: cut in its IP header */
	for (int i = 0; i < 3; i++) {			/* garbage after our MAC */
		for (size_t k = 12; k < 200; k++)
			f[k] = (uint8_t)(k * 31 + i * 7);
		inject(s, ifindex, f, 200);
	}
	len = good_echo(f, mac);
	f[14 + 3] = 200;				/* IP total length past the frame */
	inject(s, ifindex, f, len);
	len = good_echo(f, mac);
	f[14 + 0] = 0x4f;				/* header of 60 bytes claimed */
	inject(s, ifindex, f, len);
	len = good_echo(f, mac);
	f[14 + 10] ^= 0x55;				/* IP checksum wrong */
	inject(s, ifindex, f, len);
	len = good_echo(f, mac);
	f[14 + 20 + 10] ^= 0x55;			/* ICMP checksum wrong */
	inject(s, ifindex, f, len);
	len = good_echo(f, mac);
	f[14 + 6] = 0x20;				/* more fragments */
	f[14 + 10] = f[14 + 11] = 0;
	uint16_t c = csum(f + 14, 20);
	memcpy(f + 14 + 10, &c, 2);
	inject(s, ifindex, f, len);
	len = good_echo(f, mac);
	f[12] = 0x86, f[13] = 0xdd;			/* IPv6 ethertype */
	inject(s, ifindex, f, len);
	/* A flood of 2000 good requests, more than the 256-slot RX ring holds. */
	len = good_echo(f, mac);
	for (int i = 0; i < 2000; i++)
		inject(s, ifindex, f, len);
	sleep(1);
	/*
	 * Oversized: a 4000-byte frame, the kernel's MTU raised for it. Changing the MTU resets
	 * the kernel's e1000 and takes its link down for a while: wait for the carrier.
	 */
	char cmd[320];
	snprintf(cmd, sizeof(cmd), "ip link set %s mtu 8000 && for i in $(seq 50); do "
		 "[ \"$(cat /sys/class/net/%s/carrier)\" = 1 ] && break; sleep 0.1; done", kdev, kdev);
	bool big = sh(cmd) == 0;
	if (big) {
		len = good_echo(f, mac);
		memset(f + 98, 0xee, 4000 - 98);
		inject(s, ifindex, f, 4000);
		sleep(1);
	}
	snprintf(cmd, sizeof(cmd), "ip link set %s mtu 1500 && for i in $(seq 50); do "
		 "[ \"$(cat /sys/class/net/%s/carrier)\" = 1 ] && break; sleep 0.1; done", kdev, kdev);
	sh(cmd);
	close(s);
	/* Still answering. */
	cr_expect_eq(sh("ping -c 3 -W 2 " ECHO_IP " | grep -qE '[23] packets received'"), 0,
		     "no answer after the malformed frames");
	const char *j = stop_echo();
	cr_log_info("pollen-echo: %s", j);
	cr_expect_geq(testbed_number_after(j, "\"ip_malformed\": "), 2, "%s", j);
	cr_expect_geq(testbed_number_after(j, "\"ip_checksum\": "), 1, "%s", j);
	cr_expect_geq(testbed_number_after(j, "\"icmp_malformed\": "), 1, "%s", j);
	cr_expect_geq(testbed_number_after(j, "\"ip_fragment\": "), 1, "%s", j);
	cr_expect_geq(testbed_number_after(j, "\"ethertype\": "), 4, "%s", j);
	/* The flood: at least a ring's worth answered (the rest the emulator may drop). */
	cr_expect_gt(testbed_number_after(j, "\"echo_replies\": "), 256, "%s", j);
	if (big)
		cr_expect_geq(testbed_number_after(j, "\"rx_errors\": "), 1,
			      "the oversized frame was not counted: %s", j);
	cr_expect_eq(testbed_number_after(j, "\"buffers_in_use_after_close\": "), 0, "%s", j);
}

/* Udp InCsumErrors from /proc/net/snmp: datagrams the kernel dropped for a bad checksum. */
static long udp_csum_errors(void)
{
	char line[1024], names[1024] = "";
	long v = -1;
	FILE *f = fopen("/proc/net/snmp", "r");

	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "Udp: ", 5))
			continue;
		if (!names[0]) {
			snprintf(names, sizeof(names), "%s", line);
			continue;
		}
		/* The values line: the field whose name is InCsumErrors. */
		char *n = names + 5, *val = line + 5, *ns, *vs;
		for (char *a = strtok_r(n, " \n", &ns), *b = strtok_r(val, " \n", &vs); a && b;
		     a = strtok_r(NULL, " \n", &ns), b = strtok_r(NULL, " \n", &vs))
			if (!strcmp(a, "InCsumErrors"))
				v = strtol(b, NULL, 10);
	}
	fclose(f);
	return v;
}

/*
 * pollen-pktgen --tx-csum from Pollen's 04.0 to the kernel's e1000 at 03.0: the IPv4 header
 * checksum left 0 and the UDP one seeded with the pseudo-header sum, the NIC fills both in,
 * and the kernel (which drops a frame whose IPv4 checksum is wrong, and a datagram whose
 * UDP checksum is) delivers every one to a UDP socket.
 */
Test(eth_echo, offloaded_checksums_verify_at_a_kernel_receiver, .timeout = 120)
{
	const char *pktgen = getenv("POLLEN_PKTGEN");
	char cmd[640], mac[32], path[128];

	cr_assert_not_null(pktgen, "POLLEN_PKTGEN is not set");
	kernel_netdev();
	snprintf(cmd, sizeof(cmd), "ip addr flush dev %s && ip addr add " KERNEL_IP "/24 dev %s && "
		 "ip link set %s up", kdev, kdev, kdev);
	cr_assert_eq(sh(cmd), 0, "%s", cmd);
	snprintf(path, sizeof(path), "/sys/class/net/%s/address", kdev);
	FILE *mf = fopen(path, "r");
	cr_assert_not_null(mf);
	cr_assert_not_null(fgets(mac, sizeof(mac), mf));
	fclose(mf);
	mac[strcspn(mac, "\n")] = 0;

	int s = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(7777) };
	inet_pton(AF_INET, KERNEL_IP, &a.sin_addr);
	cr_assert_eq(bind(s, (struct sockaddr *)&a, sizeof(a)), 0, "bind: %s", strerror(errno));
	/* Room for all 500 while pktgen runs (the default limit, 208 KiB, holds under 200). */
	cr_assert_eq(sh("echo 16777216 > /proc/sys/net/core/rmem_max"), 0);
	int big = 1 << 23;
	setsockopt(s, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	long errs0 = udp_csum_errors();
	/*
	 * The kernel's e1000 wrote RCTL bringing the link up: QEMU's model takes nothing for a
	 * second after that, then drops what its 256-slot ring cannot hold.
	 */
	sleep(2);

	snprintf(cmd, sizeof(cmd), "%s -p 0000:00:04.0 --dst-mac %s --src-ip " ECHO_IP
		 " --dst-ip " KERNEL_IP " --dport 7777 -s 700 -r 2k -n 500 --tx-csum -q > /dev/null",
		 pktgen, mac);
	cr_assert_eq(sh(cmd), 0, "%s", cmd);
	unsigned got = 0, bad = 0;
	uint8_t buf[2048];
	for (;;) {
		struct pollfd p = { .fd = s, .events = POLLIN };
		if (poll(&p, 1, 1000) <= 0)
			break;
		ssize_t n = recv(s, buf, sizeof(buf), 0);
		/* pktgen's payload starts with its magic, "PLPG" */
		if (n == 700 - 42 && !memcmp(buf, "PLPG", 4))
			got++;
		else
			bad++;
	}
	close(s);
	cr_expect_eq(got, 500, "%u of 500 datagrams reached the socket (%u others)", got, bad);
	cr_expect_eq(udp_csum_errors(), errs0, "the kernel counted UDP checksum errors");
}
