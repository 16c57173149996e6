/* pollen-info: what Pollen sees — the IOMMU back end and each device it can drive. */
#include <pollen/dma.h>
#include <pollen/iommu.h>
#include <pollen/irq.h>
#include <pollen/log.h>
#include <pollen/pci.h>
#include <pollen/vfio.h>

#include <errno.h>
#include <linux/pci_regs.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>

#include "info_args.h"

struct list {
	char addr[64][PL_PCI_ADDR_LEN];
	int n;
};

static int collect(const struct pl_pci_info *info, void *arg)
{
	struct list *l = arg;

	if (pl_pci_family(info) && l->n < 64)
		snprintf(l->addr[l->n++], PL_PCI_ADDR_LEN, "%s", info->addr);
	return 0;
}

/* The IOVA ranges and one hugepage mapped to show where the kernel puts DMA memory. */
static int show_dma(struct pl_iommu *ctx)
{
	struct pl_iova_range r[16];
	uint64_t iova;
	int n = pl_iommu_iova_ranges(ctx, r, 16);

	if (n < 0)
		return 1;
	printf("IOVA ranges:");
	for (int i = 0; i < n && i < 16; i++)
		printf(" [0x%llx-0x%llx]", (unsigned long long)r[i].start,
		       (unsigned long long)r[i].last);
	printf("\n");
	void *va = pl_dma_alloc(ctx, 2u << 20, 0, &iova);
	if (!va) {
		printf("DMA memory: a 2 MiB hugepage could not be mapped: %s\n", strerror(errno));
		return 1;
	}
	printf("DMA memory: 2 MiB hugepage at VA %p mapped at IOVA 0x%llx\n", va,
	       (unsigned long long)iova);
	pl_dma_free(ctx, va);
	return 0;
}

static void show_hw_info(struct pl_iommu *ctx, struct pl_vfio_dev *dev)
{
	struct pl_iommu_hw_info hw;

	if (pl_iommu_backend(ctx) != PL_IOMMU_IOMMUFD) {
		printf("    IOMMU: hardware details need the iommufd back end\n");
		return;
	}
	if (pl_vfio_iommu_info(dev, &hw))
		return;
	if (hw.type != 1) {
		printf("    IOMMU: type %u (not decoded), capabilities 0x%llx\n", hw.type,
		       (unsigned long long)hw.capabilities);
		return;
	}
	printf("    IOMMU: Intel VT-d, cap 0x%016llx ecap 0x%016llx\n",
	       (unsigned long long)hw.vtd_cap, (unsigned long long)hw.vtd_ecap);
	printf("      %u-bit addresses, tables of%s%s%s levels, pages 4K%s%s\n", hw.addr_width,
	       hw.levels_mask & 2 ? " 3" : "", hw.levels_mask & 4 ? " 4" : "",
	       hw.levels_mask & 8 ? " 5" : "", hw.page_2m ? " 2M" : "", hw.page_1g ? " 1G" : "");
	printf("      coherent walks %s, snoop control %s, interrupt remapping %s, pass-through %s,\n"
	       "      caching mode %s, nesting %s, scalable mode %s, PASID %s, dirty tracking %s\n",
	       hw.coherent ? "yes" : "no", hw.snoop_control ? "yes" : "no",
	       hw.intr_remap ? "yes" : "no", hw.pass_through ? "yes" : "no",
	       hw.caching_mode ? "yes" : "no", hw.nested ? "yes" : "no",
	       hw.scalable_mode ? "yes" : "no", hw.pasid ? "yes" : "no",
	       hw.dirty_tracking ? "yes" : "no");
}

/* Every BAR with its size and how it can be reached, and the interrupt types. */
static void show_details(struct pl_iommu *ctx, struct pl_vfio_dev *dev)
{
	for (unsigned i = 0; i <= PL_VFIO_ROM; i++) {
		struct pl_vfio_region r;

		if (pl_vfio_region_info(dev, i, &r) || !r.size)
			continue;
		printf("    %s%u: %8llu bytes  %s%s\n", i == PL_VFIO_ROM ? "ROM" : "BAR",
		       i == PL_VFIO_ROM ? 0 : i, (unsigned long long)r.size,
		       r.mappable ? "mmap" : "pread/pwrite only", r.sparse ? " (sparse)" : "");
	}
	printf("    interrupts: INTx %d, MSI %d, MSI-X %d\n", pl_irq_count(dev, PL_IRQ_INTX),
	       pl_irq_count(dev, PL_IRQ_MSI), pl_irq_count(dev, PL_IRQ_MSIX));
	show_hw_info(ctx, dev);
}

static bool details;

/* Opens one device and checks config space against sysfs; 0 when they agree. */
static struct pl_vfio_dev *show(struct pl_iommu *ctx, const char *addr, int *failed)
{
	struct pl_pci_info info;
	uint16_t id[2];

	if (pl_pci_info(addr, &info)) {
		++*failed;
		return NULL;
	}
	printf("%s  %-6s  %04x:%04x  class %06x  driver %-9s  group %-3d  cdev %-7s",
	       info.addr, pl_pci_family(&info) ? pl_pci_family(&info) : "-", info.vendor,
	       info.device, info.class_code, info.driver[0] ? info.driver : "-",
	       info.iommu_group, info.vfio_cdev[0] ? info.vfio_cdev : "-");
	if (strcmp(info.driver, "vfio-pci")) {
		printf("  not for Pollen (pollen-devbind --bind vfio-pci %s)\n", info.addr);
		return NULL;
	}
	fflush(stdout);
	struct pl_vfio_dev *dev = pl_vfio_open(ctx, info.addr);
	if (!dev) {
		printf("  open failed: %s\n", strerror(errno));
		++*failed;
		return NULL;
	}
	int ret = pl_vfio_cfg_read(dev, id, sizeof(id), PCI_VENDOR_ID);
	if (!ret) {
		bool same = id[0] == info.vendor && id[1] == info.device;
		printf("  open via %s: config %04x:%04x %s, %u regions, %u irq types\n",
		       pl_iommu_backend_name(pl_iommu_backend(ctx)), id[0], id[1],
		       same ? "(matches sysfs)" : "(DIFFERS from sysfs)",
		       pl_vfio_num_regions(dev), pl_vfio_num_irqs(dev));
		ret = !same;
	} else {
		printf("  config read failed: %s\n", strerror(-ret));
	}
	*failed += ret != 0;
	if (details)
		show_details(ctx, dev);
	return dev;
}

int main(int argc, char **argv)
{
	static struct info_cfg cfg;
	struct list l = { 0 };
	int failed = 0;

	switch (info_parse(&cfg, argc, argv)) {
	case OPTS_HELP:
		info_usage(stdout);
		return 0;
	case OPTS_BAD:
		return 2;
	case OPTS_VERSION:
		return 0;
	}
	enum pl_iommu_backend want = cfg.iommu;
	if (cfg.verbose)
		pl_log_set_level(PL_LOG_DEBUG);
	details = cfg.details;
	for (unsigned i = 0; i < cfg.n; i++)
		snprintf(l.addr[l.n++], PL_PCI_ADDR_LEN, "%s", cfg.addr[i]);
	if (!cfg.n && pl_pci_scan(collect, &l))
		return 1;
	if (!l.n) {
		printf("no NVMe or e1000-family device found (pollen-devbind --status)\n");
		return 1;
	}

	struct pl_iommu *ctx = pl_iommu_open(want);
	if (!ctx) {
		fprintf(stderr, "pollen-info: no IOMMU context: %s\n", strerror(errno));
		return 1;
	}
	struct pl_vfio_dev *open[64] = { 0 };
	int nopen = 0;
	for (int i = 0; i < l.n; i++)
		if ((open[nopen] = show(ctx, l.addr[i], &failed)))
			nopen++;
	if (nopen)
		failed += show_dma(ctx);
	for (int i = 0; i < nopen; i++)
		pl_vfio_close(open[i]);
	printf("IOMMU back end: %s", pl_iommu_backend_name(pl_iommu_backend(ctx)));
	if (pl_iommu_backend(ctx) == PL_IOMMU_IOMMUFD)
		printf(" (/dev/iommu, IOAS %u)", pl_iommu_ioas_id(ctx));
	else if (pl_iommu_backend(ctx) == PL_IOMMU_VFIO)
		printf(" (/dev/vfio/vfio, type1v2)");
	printf("\n");
	failed += pl_iommu_close(ctx) != 0;
	return failed ? 1 : 0;
}
