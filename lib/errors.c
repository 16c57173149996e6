/* What a failed system call means to a person: the memlock limit, IOVA space, a node's owner. */
#include "errors.h"

#include <pollen/log.h>

#include <errno.h>
#include <string.h>
#include <sys/resource.h>

void pl_log_open_error(const char *what, const char *path, int err)
{
	switch (err) {
	case ENOENT:
		pl_err("%s: %s does not exist", what, path);
		break;
	case EACCES:
	case EPERM:
		pl_err("%s: no permission to open %s: run as root, or give your user the node "
		       "(chown) and a memlock limit (ulimit -l)", what, path);
		break;
	case EBUSY:
		pl_err("%s: %s is busy: the device is in use (by another process, or another IOMMU context in this one)", what, path);
		break;
	default:
		pl_err("%s: cannot open %s: %s", what, path, strerror(err));
	}
}

void pl_log_map_error(const char *call, size_t len, int err)
{
	struct rlimit rl;

	if (err == ENOMEM && !getrlimit(RLIMIT_MEMLOCK, &rl) && rl.rlim_cur != RLIM_INFINITY)
		pl_err("%s of %zu KiB: ENOMEM: the memlock limit is %llu KiB and DMA memory is "
		       "pinned against it: raise it (ulimit -l, or memlock in "
		       "/etc/security/limits.conf) to cover all the DMA memory", call, len >> 10,
		       (unsigned long long)rl.rlim_cur >> 10);
	else if (err == ENOSPC)
		pl_err("%s of %zu KiB: no IOVA space left in the ranges the IOMMU reports",
		       call, len >> 10);
	else
		pl_err("%s of %zu KiB: %s", call, len >> 10, strerror(err));
}
