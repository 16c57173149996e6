/*
 * One block written and read back through Pollen's NVMe driver.
 *
 *   nvme_hello 0000:01:00.0 [LBA]     (the controller bound to vfio-pci: pollen-devbind)
 *
 * Exit status: 0 the block read back as written, 1 an error (printed), 2 bad arguments.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pollen/dma.h>
#include <pollen/iommu.h>
#include <pollen/nvme.h>

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: %s PCI-ADDRESS [LBA]\n", argv[0]);
		return 2;
	}
	uint64_t lba = argc == 3 ? strtoull(argv[2], NULL, 0) : 0, iova;
	struct pl_iommu *ctx = pl_iommu_open(PL_IOMMU_AUTO);
	struct pl_nvme_ctrl *c = ctx ? pl_nvme_open(ctx, argv[1], NULL) : NULL;
	struct pl_nvme_qpair *qp = c ? pl_nvme_qpair_create(c, NULL) : NULL;
	const struct pl_nvme_ns *ns = c ? pl_nvme_ns_at(c, 0) : NULL;	/* the first namespace */
	int ret = 1;

	if (!qp || !ns)
		goto out;	/* the library has said why */
	/* I/O buffers are DMA memory: the controller reaches them through the IOMMU. */
	char *out = pl_dma_alloc(ctx, 2 * ns->block_size, 0, &iova), *in = out + ns->block_size;
	if (!out)
		goto out;
	for (uint32_t i = 0; i < ns->block_size; i++)
		out[i] = (char)(lba + i * 7);
	if (pl_nvme_write_sync(qp, ns->nsid, out, lba, 1, NULL) ||
	    pl_nvme_read_sync(qp, ns->nsid, in, lba, 1, NULL))
		fprintf(stderr, "I/O at LBA %llu failed\n", (unsigned long long)lba);
	else if (memcmp(out, in, ns->block_size))
		fprintf(stderr, "LBA %llu read back differently\n", (unsigned long long)lba);
	else {
		printf("%s namespace %u: LBA %llu (%u bytes) written and read back\n", argv[1],
		       ns->nsid, (unsigned long long)lba, ns->block_size);
		ret = 0;
	}
	pl_dma_free(ctx, out);
out:
	pl_nvme_qpair_destroy(qp);
	pl_nvme_close(c);
	pl_iommu_close(ctx);
	return ret;
}
