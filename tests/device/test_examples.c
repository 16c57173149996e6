/*
 * The storage examples (examples/, shown in README's "Write your own") do what they say
 * on the bed's NVMe: through Pollen's driver, and the block-interface ones on the
 * kernel's disk through io_uring too. (examples/l2fwd.c: test_eth_kernel.c.)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pollen/pci.h>

#include "testbed.h"

static char out[8192];

static int run(const char *env, const char *args)
{
	return testbed_run_tool(env, args, out, sizeof(out));
}

Test(examples, nvme_hello_writes_and_reads_back_a_block, .timeout = 60)
{
	cr_expect_eq(run("POLLEN_EXAMPLE_NVME_HELLO", "0000:00:02.0 4242"), 0, "%s", out);
	cr_expect(strstr(out, "LBA 4242 (512 bytes) written and read back"), "%s", out);
	/* what a newcomer reads when the address is wrong */
	cr_expect_eq(run("POLLEN_EXAMPLE_NVME_HELLO", "0000:00:1e.0"), 1, "%s", out);
	cr_expect(strstr(out, "no such PCI device"), "%s", out);
}

Test(examples, blk_hello_and_irq_sleep_on_pollens_driver, .timeout = 60)
{
	cr_expect_eq(run("POLLEN_EXAMPLE_BLK_HELLO", "0000:00:02.0"), 0, "%s", out);
	cr_expect(strstr(out, "(pmd): block 0 (512 bytes) written and read back"), "%s", out);
	cr_expect_eq(run("POLLEN_EXAMPLE_IRQ_SLEEP", "0000:00:02.0 50"), 0, "%s", out);
	/* the emulated NVMe takes longer than 1000 polls: each read is slept for at least once */
	cr_expect_geq(testbed_number_after(out, "50 reads, "), 1, "%s", out);
}

static void back_to_vfio(void)
{
	pl_pci_bind("0000:00:02.0", "vfio-pci");
}

Test(examples, the_block_examples_run_on_io_uring_unchanged, .timeout = 60,
     .fini = back_to_vfio)
{
	char dev[64], args[96];

	cr_assert_eq(pl_pci_bind("0000:00:02.0", "nvme"), 0, "the NVMe to the kernel's driver");
	testbed_kernel_disk("0000:00:02.0", 1, dev, sizeof(dev));
	cr_expect_eq(run("POLLEN_EXAMPLE_BLK_HELLO", dev), 0, "%s", out);
	cr_expect(strstr(out, "(uring): block 0 (512 bytes) written and read back"), "%s", out);
	snprintf(args, sizeof(args), "%s 20", dev);
	cr_expect_eq(run("POLLEN_EXAMPLE_IRQ_SLEEP", args), 0, "%s", out);
	cr_expect(strstr(out, "20 reads, "), "%s", out);
}
