// SPDX-License-Identifier: GPL-2.0-only
/* Where cgfw keeps its state: pins on bpffs, saved files on disk. */
#include <stdlib.h>

#include <cgfw/core.h>

const char *cgfw_state_root(void)
{
	const char *r = getenv("CGFW_BPFFS_ROOT");

	return r && *r ? r : "/sys/fs/bpf/cgfw";
}

const char *cgfw_var_dir(void)
{
	const char *d = getenv("CGFW_STATE_DIR");

	return d && *d ? d : "/var/lib/cgfw";
}
