/* SPDX-License-Identifier: GPL-2.0-only */
/* Internals shared by the lib/tc*.c files. */
#ifndef CGFW_TC_INTERNAL_H
#define CGFW_TC_INTERNAL_H

#include <cgfw/tc_conn_map.h>

#include "internal.h"
#include "tc.h"

struct cgfw_tc {
	struct cgfw_state *st;	/* root, lock and the cgroup maps */
	uint64_t netns;
	int rtab_fd, lens_fd, ifaces_fd, ifaddr_fd, conn_fd, udpflow_fd, meta_fd, stats_fd,
		routes_fd, events_fd, evrate_fd;
	int table_fd;		/* the current inner rule table, -1 until needed */
};

#define CGFW_TC_LINK_FMT "%s/" CGFW_LINKS_DIR "/tc-%llu-%u-%s"

/* The inner rule table (opened on first use) and its capacity. */
int cgfw_tc_table(struct cgfw_tc *tc, int *ret_fd, uint32_t *ret_max);
/* Replace the table with one of at least @want entries, copying every entry. */
int cgfw_tc_table_grow(struct cgfw_tc *tc, uint32_t want);
int cgfw_tc_meta_read(struct cgfw_tc *tc, struct cgfw_tc_meta_val *ret);
int cgfw_tc_meta_write(struct cgfw_tc *tc, const struct cgfw_tc_meta_val *v);
int cgfw_tc_lens_read(struct cgfw_tc *tc, struct cgfw_tc_lens_val *ret);
int cgfw_tc_lens_publish(struct cgfw_tc *tc, struct cgfw_tc_lens_val *v);
/* Open the TC object with the pins under the root and the given rodata, and load it. */
int cgfw_tc_skel_load(struct cgfw_tc *tc, uint32_t flags, uint32_t attach_id, uint32_t l2_len,
		      bool progs, void **ret_skel);
void cgfw_tc_skel_free(void *skel);
int cgfw_tc_skel_prog_fds(void *skel, int *ret_in, int *ret_eg);

int cgfw_nl_watch_open(void);
int cgfw_nl_watch_wait(int fd, int timeout_ms);

#endif /* CGFW_TC_INTERNAL_H */
