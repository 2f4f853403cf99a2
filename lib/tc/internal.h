/* SPDX-License-Identifier: GPL-2.0-only */
/* Internals shared by the tc module's files. */
#ifndef CGFW_TC_INTERNAL_H
#define CGFW_TC_INTERNAL_H

#include <net/if.h>

#include <cgfw/event_map.h>
#include <cgfw/tc_conn_map.h>

#include <cgfw/tc.h>

struct cgfw_tc {
	struct cgfw_pin *pin;
	bool own_pin; /* opened by cgfw_tc_open(), closed with the state */
	uint64_t netns;
	int rtab_fd, lens_fd, ifaces_fd, ifaddr_fd, conn_fd, udpflow_fd, meta_fd, stats_fd,
		routes_fd, events_fd, evrate_fd;
	int table_fd; /* the current inner rule table, -1 until needed */
};

static inline const char *cgfw_tc_root(const struct cgfw_tc *tc)
{
	return cgfw_pin_root(tc->pin);
}

/* Inode of the calling process's network namespace. */
uint64_t cgfw_netns_id(void);

/* The inner rule table (opened on first use) and its capacity. */
int cgfw_tc_table(struct cgfw_tc *tc, int *ret_fd, uint32_t *ret_max);
/* Replace the table with one of at least @want entries, copying every entry. */
int cgfw_tc_table_grow(struct cgfw_tc *tc, uint32_t want);
int cgfw_tc_meta_read(struct cgfw_tc *tc, struct cgfw_tc_meta_val *ret);
int cgfw_tc_meta_write(struct cgfw_tc *tc, const struct cgfw_tc_meta_val *v);
int cgfw_tc_lens_read(struct cgfw_tc *tc, struct cgfw_tc_lens_val *ret);
int cgfw_tc_lens_publish(struct cgfw_tc *tc, struct cgfw_tc_lens_val *v);
/* Record the interface's current addresses for its attachment; returns changes made. */
int cgfw_tc_sync_addrs(struct cgfw_tc *tc, uint32_t attach_id, uint32_t ifindex);

/* ---- netlink (libmnl) ------------------------------------------------------------------ */

struct cgfw_nl_link {
	uint32_t ifindex;
	uint16_t type;	/* ARPHRD_* */
	uint32_t flags; /* IFF_* */
	char name[IF_NAMESIZE];
};

int cgfw_nl_link_get(const char *name, uint32_t ifindex, struct cgfw_nl_link *ret);
/* Add (or remove) local routes in table local for the prefixes; per-prefix -errno in errs. */
int cgfw_nl_local_routes(bool add, const struct cgfw_prefix *p, size_t n, int *errs);
/* The addresses of an interface (prefix length: the address's own). */
int cgfw_nl_addrs(uint32_t ifindex, struct cgfw_prefix **ret, size_t *ret_n);
/* Priorities in use by filters under a parent (TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS)...). */
int cgfw_nl_filter_prios(uint32_t ifindex, uint32_t parent, uint16_t **ret, size_t *ret_n);
int cgfw_nl_watch_open(void);
int cgfw_nl_watch_wait(int fd, int timeout_ms);

#endif /* CGFW_TC_INTERNAL_H */
