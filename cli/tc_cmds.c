// SPDX-License-Identifier: GPL-2.0-only
/* cgfw commands for the TC (interface) datapath. */
#include <stddef.h>

#include "cgfw.h"
#include "cli.h"

const struct cmd cgfw_tc_cmds[] = {
	{ NULL, NULL, NULL, NULL },
};
