// SPDX-License-Identifier: GPL-2.0-only
/* `cgfw reset`: everything cgfw made goes, interfaces and routes first. */
#include <errno.h>

#include "internal.h"

int cgfw_reset(void)
{
	int err;

	/* cls_bpf filters are not pinned and routes live in the kernel's
	 * tables: they go before the pins that record them. */
	err = cgfw_tc_teardown();
	if (err && err != -EPROTO && err != -ENOENT)
		return err;
	return cgfw_pin_remove_all();
}
