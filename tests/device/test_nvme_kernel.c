/*
 * Pollen's NVMe driver against the guest kernel's own: what identify says, and data that
 * crosses from one to the other through rebinds. The boot starts with the NVMe on the
 * kernel's nvme driver; each case hands it to vfio-pci and back.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pollen/dma.h>
#include <pollen/nvme.h>
#include <pollen/pci.h>

#include "blk_checks.h"
#include "pattern.h"
#include "testbed.h"

#define MiB (1ul << 20)

/*
 * The kernel's block device for namespace @nsid, waiting for its probe. Found by its
 * nsid attribute: the kernel numbers disks in the order it finds them, not by NSID.
 */
static bool kernel_disk(uint32_t nsid, char *name, size_t len)
{
	for (int tries = 0; tries < 400; tries++) {
		DIR *d = opendir("/sys/block");
		struct dirent *e;
		bool found = false;

		while (d && (e = readdir(d)) && !found) {
			char path[PATH_MAX];
			unsigned id = 0;
			FILE *f;

			if (strncmp(e->d_name, "nvme", 4))
				continue;
			snprintf(path, sizeof(path), "/sys/block/%s/nsid", e->d_name);
			if (!(f = fopen(path, "r")))
				continue;
			found = fscanf(f, "%u", &id) == 1 && id == nsid;
			fclose(f);
			if (found)
				snprintf(name, len, "%.31s", e->d_name);
		}
		if (d)
			closedir(d);
		if (found)
			return true;
		usleep(50000);	/* the nvme driver probes asynchronously */
	}
	return false;
}

/* /sys/block/@disk/@attr as a number. */
static unsigned long long sysfs_num(const char *disk, const char *attr)
{
	char path[PATH_MAX];
	unsigned long long v = 0;

	snprintf(path, sizeof(path), "/sys/block/%s/%s", disk, attr);
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f, "%s", path);
	cr_assert_eq(fscanf(f, "%llu", &v), 1, "%s", path);
	fclose(f);
	return v;
}

/* A controller attribute of the kernel's nvme device, trailing blanks cut. */
static void sysfs_str(const char *attr, char *out, size_t len)
{
	char path[PATH_MAX];
	DIR *d = opendir("/sys/class/nvme");
	struct dirent *e;

	cr_assert_not_null(d);
	while ((e = readdir(d)) && e->d_name[0] == '.')
		;
	cr_assert_not_null(e, "no nvme controller in /sys/class/nvme");
	snprintf(path, sizeof(path), "/sys/class/nvme/%s/%s", e->d_name, attr);
	closedir(d);
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f, "%s", path);
	cr_assert_not_null(fgets(out, (int)len, f));
	fclose(f);
	for (size_t n = strlen(out); n && (out[n - 1] == '\n' || out[n - 1] == ' '); n--)
		out[n - 1] = 0;
}

/* A space-padded identify field as a string. */
static void trimmed(const char *field, size_t len, char *out)
{
	memcpy(out, field, len);
	out[len] = 0;
	for (size_t n = len; n && out[n - 1] == ' '; n--)
		out[n - 1] = 0;
}

static const char *nvme_addr(void)
{
	return testbed_dev("nvme");
}

static void to_pollen(void)
{
	cr_assert_eq(pl_pci_bind(nvme_addr(), "vfio-pci"), 0);
}

static void to_kernel(void)
{
	char driver[PL_PCI_NAME_LEN], disk[32];

	cr_assert_eq(pl_pci_restore(nvme_addr(), driver), 0);
	cr_assert_str_eq(driver, "nvme");
	cr_assert(kernel_disk(1, disk, sizeof(disk)), "the kernel's nvme0n1 did not appear");
}

/* Whatever a case did, the next one starts with the kernel's driver on the NVMe. */
static void teardown(void)
{
	testbed_teardown();
	if (strcmp(testbed_info(nvme_addr()).driver, "nvme"))
		to_kernel();
}

ParameterizedTestParameters(nvme_kernel, identify_agrees_with_the_kernel)
{
	return cr_make_param_array(enum pl_iommu_backend, (void *)testbed_backends, 2);
}

ParameterizedTest(enum pl_iommu_backend *be, nvme_kernel, identify_agrees_with_the_kernel,
		  .fini = teardown)
{
	char disk[3][32], sn[64], mn[64], fr[64], mine[64];
	unsigned long long bytes[3], lbs[3];

	to_kernel();
	sysfs_str("serial", sn, sizeof(sn));
	sysfs_str("model", mn, sizeof(mn));
	sysfs_str("firmware_rev", fr, sizeof(fr));
	for (int i = 0; i < 2; i++) {
		cr_assert(kernel_disk(i + 1, disk[i], sizeof(disk[i])));
		bytes[i] = sysfs_num(disk[i], "size") * 512;
		lbs[i] = sysfs_num(disk[i], "queue/logical_block_size");
	}
	to_pollen();
	testbed_setup(*be, TESTBED_CONTEXT);
	struct pl_nvme_ctrl *c = pl_nvme_open(tb.ctx, nvme_addr(), NULL);
	cr_assert_not_null(c);
	const struct nvme_id_ctrl *id = pl_nvme_id_ctrl(c);
	trimmed(id->sn, sizeof(id->sn), mine);
	cr_expect_str_eq(mine, sn, "serial: Pollen '%s', kernel '%s'", mine, sn);
	trimmed(id->mn, sizeof(id->mn), mine);
	cr_expect_str_eq(mine, mn, "model: Pollen '%s', kernel '%s'", mine, mn);
	trimmed(id->fr, sizeof(id->fr), mine);
	cr_expect_str_eq(mine, fr, "firmware: Pollen '%s', kernel '%s'", mine, fr);
	for (int i = 0; i < 2; i++) {
		const struct pl_nvme_ns *ns = pl_nvme_ns(c, i + 1);

		cr_assert_not_null(ns);
		cr_expect_eq(ns->blocks * ns->block_size, bytes[i], "ns %d: %llu bytes, the kernel "
			     "says %llu", i + 1, (unsigned long long)(ns->blocks * ns->block_size),
			     bytes[i]);
		cr_expect_eq(ns->block_size, lbs[i], "ns %d: blocks of %u, the kernel says %llu",
			     i + 1, ns->block_size, lbs[i]);
	}
	pl_nvme_close(c);
}

/* Reads or writes through the kernel's block device with O_DIRECT. */
static void kernel_io(uint32_t nsid, bool write, void *buf, uint64_t off, size_t len)
{
	char disk[32], path[64];

	cr_assert(kernel_disk(nsid, disk, sizeof(disk)));
	snprintf(path, sizeof(path), "/dev/%s", disk);
	int fd = open(path, (write ? O_WRONLY : O_RDONLY) | O_DIRECT);
	cr_assert_geq(fd, 0, "%s: %s", path, strerror(errno));
	ssize_t n = write ? pwrite(fd, buf, len, off) : pread(fd, buf, len, off);
	cr_assert_eq(n, (ssize_t)len, "%s %s of %zu at %llu: %s", path, write ? "write" : "read",
		     len, (unsigned long long)off, n < 0 ? strerror(errno) : "short");
	if (write)
		cr_assert_eq(fsync(fd), 0);
	close(fd);
}

struct piece {
	uint32_t nsid;
	uint64_t lba;
	uint32_t blocks;
	size_t offset;	/* where Pollen's buffer starts in its DMA memory */
};

ParameterizedTestParameters(nvme_kernel, data_crosses_between_pollen_and_the_kernel)
{
	return cr_make_param_array(enum pl_iommu_backend, (void *)testbed_backends, 2);
}

ParameterizedTest(enum pl_iommu_backend *be, nvme_kernel,
		  data_crosses_between_pollen_and_the_kernel, .fini = teardown)
{
	/* One block, a few, one past a page, over the transfer limit, twice and more of it. */
	static const struct piece pieces[] = {
		{ 1, 1, 1, 0 }, { 1, 77, 9, 4 }, { 1, 4000, 1025, 2052 },
		{ 1, 100000, 3000, 512 }, { 2, 3, 1, 0 }, { 2, 901, 300, 4 },
	};
	enum { N = sizeof(pieces) / sizeof(pieces[0]) };
	uint32_t seed = *be == PL_IOMMU_IOMMUFD ? 1000 : 2000;
	void *kbuf;

	cr_assert_eq(posix_memalign(&kbuf, 4096, 16 * MiB), 0);
	/* The kernel writes first; Pollen must read it. */
	to_kernel();
	pattern_fill(kbuf, 1, 50000, 64, 512, seed + 1);
	kernel_io(1, true, kbuf, 50000ull * 512, 64 * 512);
	pattern_fill(kbuf, 2, 7000, 8, 4096, seed + 1);
	kernel_io(2, true, kbuf, 7000ull * 4096, 8 * 4096);

	to_pollen();
	testbed_setup(*be, TESTBED_CONTEXT);
	struct pl_nvme_ctrl *c = pl_nvme_open(tb.ctx, nvme_addr(), NULL);
	cr_assert_not_null(c);
	struct pl_nvme_qpair *qp = pl_nvme_qpair_create(c, NULL);
	uint64_t iova;
	char *buf = pl_dma_alloc(tb.ctx, 4 * MiB, 0, &iova);
	cr_assert(qp && buf);
	cr_assert_eq(pl_nvme_read_sync(qp, 1, buf, 50000, 64, NULL), 0);
	cr_expect_eq(pattern_check(buf, 1, 50000, 64, 512, seed + 1), -1,
		     "what the kernel wrote to ns 1 reads back different through Pollen");
	cr_assert_eq(pl_nvme_read_sync(qp, 2, buf, 7000, 8, NULL), 0);
	cr_expect_eq(pattern_check(buf, 2, 7000, 8, 4096, seed + 1), -1,
		     "what the kernel wrote to ns 2 reads back different through Pollen");

	/* Pollen writes; the kernel must read it after Pollen has let go. */
	for (int i = 0; i < N; i++) {
		uint32_t bs = pl_nvme_ns(c, pieces[i].nsid)->block_size;

		pattern_fill(buf + pieces[i].offset, pieces[i].nsid, pieces[i].lba, pieces[i].blocks,
			     bs, seed);
		cr_assert_eq(pl_nvme_write_sync(qp, pieces[i].nsid, buf + pieces[i].offset,
						pieces[i].lba, pieces[i].blocks, NULL), 0, "piece %d", i);
	}
	pl_nvme_qpair_destroy(qp);
	pl_dma_free(tb.ctx, buf);
	pl_nvme_close(c);	/* a normal shutdown: the data is the kernel's to read */
	cr_expect_eq(pl_iommu_close(tb.ctx), 0);
	tb.ctx = NULL;

	to_kernel();
	for (int i = 0; i < N; i++) {
		uint32_t bs = pieces[i].nsid == 1 ? 512 : 4096;

		kernel_io(pieces[i].nsid, false, kbuf, pieces[i].lba * bs,
			  (size_t)pieces[i].blocks * bs);
		long bad = pattern_check(kbuf, pieces[i].nsid, pieces[i].lba, pieces[i].blocks, bs,
					 seed);
		cr_expect_eq(bad, -1, "piece %d (ns %u, %u blocks at %llu): block %ld reads "
			     "different through the kernel", i, pieces[i].nsid, pieces[i].blocks,
			     (unsigned long long)pieces[i].lba, bad);
	}
	free(kbuf);
}

TESTBED_TEST(nvme_kernel, a_controller_the_kernel_holds_is_refused, TESTBED_CONTEXT)
{
	to_kernel();
	testbed_capture_log();
	errno = 0;
	cr_expect_null(pl_nvme_open(tb.ctx, nvme_addr(), NULL));
	cr_expect_eq(errno, ENODEV);
	cr_expect(strstr(testbed_last_log(), "bound to nvme, not vfio-pci"), "%s",
		  testbed_last_log());
	/* And the kernel still has it, working. */
	char disk[32];
	cr_expect(kernel_disk(1, disk, sizeof(disk)));
}

/*
 * The io_uring back end on the kernel's own block devices: the same checks as the PMD's,
 * plain, with a submission polling thread, and with polled completions (the boot gives
 * the nvme driver a poll queue).
 */
struct uring_case {
	bool sqpoll, iopoll;
};

ParameterizedTestParameters(nvme_kernel, uring_passes_the_data_checks_on_the_kernels_disks)
{
	static struct uring_case cases[] = { { false, false }, { true, false }, { false, true } };

	return cr_make_param_array(struct uring_case, cases, 3);
}

ParameterizedTest(struct uring_case *u, nvme_kernel,
		  uring_passes_the_data_checks_on_the_kernels_disks, .fini = teardown)
{
	char disk[32], path[64];

	testbed_setup(PL_IOMMU_AUTO, TESTBED_BARE);
	to_kernel();
	for (uint32_t nsid = 1; nsid <= 2; nsid++) {
		cr_assert(kernel_disk(nsid, disk, sizeof(disk)));
		snprintf(path, sizeof(path), "/dev/%s", disk);
		struct pl_blk *b = pl_blk_open(path, &(struct pl_blk_opts){ .sqpoll = u->sqpoll,
									     .iopoll = u->iopoll });
		cr_assert_not_null(b, "%s: %s", path, strerror(errno));
		cr_expect_eq(pl_blk_backend(b), PL_BLK_URING);
		cr_expect_eq(pl_blk_block_size(b), nsid == 1 ? 512 : 4096);
		blk_checks(b, 300 + nsid + 10 * u->sqpoll + 20 * u->iopoll, u->iopoll);
		pl_blk_close(b);
	}
}
