/*
 * Kernel peers through pollen-fwd: the guest kernel's e1000 at 00:03.0 (hub 0) and e1000e at
 * 00:06.0 (hub 1), each in its own network namespace, reach each other only through Pollen's
 * ports 00:04.0 and 00:05.0 forwarding between the hubs.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "testbed.h"

#define IP_A "10.77.0.1"
#define IP_B "10.77.0.2"
#define TCP_PORT 5001
#define TCP_BYTES (6u << 20)

static pid_t ns_a, ns_b, fwd;

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	int st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char dev_a[64], dev_b[64];	/* the netdevs moved, by name */

static void put_in_netns(const char *addr, pid_t ns, const char *ip, char *dev)
{
	testbed_netdev(addr, dev, sizeof(dev_a));
	cr_assert_eq(sh("ip link set dev %s netns %d", dev, (int)ns), 0, "moving %s", dev);
	cr_assert_eq(sh("nsenter -t %d -n sh -c 'ip link set lo up && ip addr add %s/24 dev %s && "
			"ip link set %s up'", (int)ns, ip, dev, dev), 0, "configuring %s", dev);
}

/* The peers in their namespaces, and the forwarder @argv between them. */
static void setup_with(char *const argv[])
{
	ns_a = testbed_netns();
	ns_b = testbed_netns();
	put_in_netns("0000:00:03.0", ns_a, IP_A, dev_a);
	put_in_netns("0000:00:06.0", ns_b, IP_B, dev_b);
	fwd = fork();
	cr_assert_geq(fwd, 0);
	if (!fwd) {
		execv(argv[0], argv);
		_exit(127);
	}
	/* It is forwarding once both ports started (the e1000's start takes a second). */
	sleep(3);
	cr_assert_eq(waitpid(fwd, NULL, WNOHANG), 0, "%s exited early", argv[0]);
}

static void setup(const char *iommu)
{
	char *app = getenv("POLLEN_FWD");

	cr_assert_not_null(app, "POLLEN_FWD is not set");
	setup_with((char *[]){ app, "-p", "0000:00:04.0,0000:00:05.0", "-t", "60", "-q",
			       "--iommu", (char *)iommu, NULL });
}

static void teardown(void)
{
	if (fwd > 0) {
		kill(fwd, SIGINT);
		waitpid(fwd, NULL, 0);
	}
	/*
	 * The netdevs moved back now: a namespace's end would return them too, but from a
	 * work queue, which two guests on two cores delayed past the next case's 10 s once.
	 */
	if (ns_a > 0 && dev_a[0])
		sh("nsenter -t %d -n ip link set dev %s netns 1", (int)ns_a, dev_a);
	if (ns_b > 0 && dev_b[0])
		sh("nsenter -t %d -n ip link set dev %s netns 1", (int)ns_b, dev_b);
	if (ns_a > 0)
		kill(ns_a, SIGKILL), waitpid(ns_a, NULL, 0);
	if (ns_b > 0)
		kill(ns_b, SIGKILL), waitpid(ns_b, NULL, 0);
	fwd = ns_a = ns_b = 0;
	dev_a[0] = dev_b[0] = 0;
}

/* Enters the network namespace that process @pid holds: 0 or -errno. */
static int enter_netns(pid_t pid)
{
	char path[64];
	int ret = 0;

	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWNET))
		ret = -errno;
	if (fd >= 0)
		close(fd);
	return ret;
}

/* FNV-1a over a stream: what both ends compare. */
static uint64_t fnv(uint64_t h, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

/* Each case once per IOMMU back end of pollen-fwd. */
static const char *const iommus[] = { "iommufd", "vfio" };
static int iommu_idx[] = { 0, 1 };	/* the parameters: indexes (Criterion copies them) */
#define BACKENDS(suite, name)                                                          \
	ParameterizedTestParameters(suite, name)                                      \
	{                                                                             \
		return cr_make_param_array(int, iommu_idx, 2);          \
	}

/* Namespace A pings B across the forwarder. */
static void expect_pings(void)
{
	char out[2048];
	int st = 1;

	/* The first ARP may meet a port still starting: up to three tries of three pings. */
	for (int i = 0; i < 3 && st; i++) {
		snprintf(out, sizeof(out), "nsenter -t %d -n ping -c 3 -W 3 " IP_B " 2>&1", (int)ns_a);
		FILE *p = popen(out, "r");
		size_t n = fread(out, 1, sizeof(out) - 1, p);
		out[n] = 0;
		st = pclose(p);
	}
	cr_expect_eq(st, 0, "ping " IP_B " from the other namespace failed: %s", out);
	cr_expect(strstr(out, "3 packets received"), "%s", out);
}

BACKENDS(eth_kernel, a_kernel_port_pings_another_through_pollen_fwd)
ParameterizedTest(int *iommu, eth_kernel, a_kernel_port_pings_another_through_pollen_fwd,
		  .fini = teardown, .timeout = 120)
{
	setup(iommus[*iommu]);
	expect_pings();
}

/* examples/l2fwd.c, the 80-line forwarder README shows, does the same. */
Test(eth_kernel, a_kernel_port_pings_another_through_the_example_forwarder, .fini = teardown,
     .timeout = 120)
{
	char *app = getenv("POLLEN_EXAMPLE_L2FWD");

	cr_assert_not_null(app, "POLLEN_EXAMPLE_L2FWD is not set");
	setup_with((char *[]){ app, "0000:00:04.0", "0000:00:05.0", "60", NULL });
	expect_pings();
}

BACKENDS(eth_kernel, a_tcp_transfer_through_pollen_fwd_arrives_intact)
ParameterizedTest(int *iommu, eth_kernel, a_tcp_transfer_through_pollen_fwd_arrives_intact,
		  .fini = teardown, .timeout = 180)
{
	int res[2];

	setup(iommus[*iommu]);
	cr_assert_eq(pipe(res), 0);
	pid_t server = fork();
	cr_assert_geq(server, 0);
	if (!server) {
		if (enter_netns(ns_b))
			_exit(100);
		int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
		setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(TCP_PORT) };
		inet_pton(AF_INET, IP_B, &a.sin_addr);
		if (bind(s, (struct sockaddr *)&a, sizeof(a)) || listen(s, 1))
			_exit(101);
		int c = accept(s, NULL, NULL);
		uint64_t h = 0xcbf29ce484222325ull, total = 0;
		uint8_t buf[65536];
		ssize_t n;
		while ((n = read(c, buf, sizeof(buf))) > 0) {
			h = fnv(h, buf, (size_t)n);
			total += (uint64_t)n;
		}
		uint64_t r[2] = { h, total };
		_exit(write(res[1], r, sizeof(r)) == sizeof(r) ? 0 : 102);
	}
	sleep(1);
	/* The client: pseudo-random bytes (not compressible, nothing repeats at any offset). */
	cr_assert_eq(enter_netns(ns_a), 0, "setns into the client's namespace");
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(TCP_PORT) };
	inet_pton(AF_INET, IP_B, &a.sin_addr);
	int ok = -1;
	for (int i = 0; i < 20 && ok; i++) {
		ok = connect(s, (struct sockaddr *)&a, sizeof(a));
		if (ok) {
			close(s);
			s = socket(AF_INET, SOCK_STREAM, 0);
			sleep(1);
		}
	}
	cr_assert_eq(ok, 0, "connect to " IP_B ": %s", strerror(errno));
	uint64_t h = 0xcbf29ce484222325ull, x = 88172645463325252ull;
	uint8_t buf[65536];
	for (unsigned sent = 0; sent < TCP_BYTES; sent += sizeof(buf)) {
		for (size_t i = 0; i < sizeof(buf); i += 8) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			memcpy(buf + i, &x, 8);
		}
		h = fnv(h, buf, sizeof(buf));
		for (size_t off = 0; off < sizeof(buf);) {
			ssize_t n = write(s, buf + off, sizeof(buf) - off);
			cr_assert_gt(n, 0, "write: %s", strerror(errno));
			off += (size_t)n;
		}
	}
	close(s);
	uint64_t r[2] = { 0, 0 };
	cr_assert_eq(read(res[0], r, sizeof(r)), (ssize_t)sizeof(r), "the server said nothing");
	int st;
	waitpid(server, &st, 0);
	cr_expect_eq(r[1], TCP_BYTES, "the server got %llu of %u bytes", (unsigned long long)r[1],
		     TCP_BYTES);
	cr_expect_eq(r[0], h, "the bytes that arrived differ from those sent");
}
