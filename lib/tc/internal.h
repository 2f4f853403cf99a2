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
	uint32_t hz; /* the tick rate, for the programs' jiffies clock */
	int rtab_fd, ifaces_fd, ifaddr_fd, conn_fd, udpflow_fd, meta_fd, stats_fd, routes_fd,
		events_fd, evrate_fd;
};

/* ---- the rule set (ruleset.c) -------------------------------------------------------- */

/* The rules of a rule set in memory, with the network namespace each was added in. */
struct cgfw_tc_set {
	struct cgfw_tc_rule *r;
	uint64_t *netns;
	size_t n;
	uint32_t next_id;
	uint64_t gen;
};

void cgfw_tc_set_free(struct cgfw_tc_set *s);
/* The live set, read back (counters included). */
int cgfw_tc_set_read(struct cgfw_tc *tc, struct cgfw_tc_set *ret);
/* Compile into elements; make it live with one switch, carrying the counts. */
int cgfw_tc_set_compile(const struct cgfw_tc_set *s, union cgfw_tc_elem **ret, size_t *ret_n);
int cgfw_tc_set_commit(struct cgfw_tc *tc, const struct cgfw_tc_set *s);
/* A new inner map of @cap elements holding the @n elements of @e. */
int cgfw_tc_set_new_map(const union cgfw_tc_elem *e, size_t n, uint32_t cap, int *ret_fd);
/* The live inner map, mapped (ret_fd: its fd too, or NULL). */
int cgfw_tc_set_map(struct cgfw_tc *tc, bool writable, const union cgfw_tc_elem **ret,
		    size_t *ret_n, size_t *ret_mapped, int *ret_fd);
/* A rule as stored: addresses masked. */
void cgfw_tc_rule_normalize(struct cgfw_tc_rule *r);
bool cgfw_tc_same_match(const struct cgfw_tc_rule *a, const struct cgfw_tc_rule *b);

/*
 * Load every attached interface's programs again and swap them in (the rule
 * set's outer map was replaced). check_only: only whether each can be
 * reached (a clsact filter in another namespace cannot); stale_only: only
 * those whose programs do not read the pinned cgfw_tc_rtab. Returns how many.
 */
int cgfw_tc_reload(struct cgfw_tc *tc, bool check_only, bool stale_only);

/* ---- routes (routes.c) ---------------------------------------------------------------- */

/*
 * Make this network namespace's local routes what the rules @s need (the
 * tproxy rules added here). @add_only: add what is missing, remove nothing
 * (before a switch: no packet is intercepted without its route); else also
 * remove what no rule needs any more (after it). Returns routes changed.
 */
int cgfw_tc_routes_sync(struct cgfw_tc *tc, const struct cgfw_tc_set *s, bool add_only);

static inline const char *cgfw_tc_root(const struct cgfw_tc *tc)
{
	return cgfw_pin_root(tc->pin);
}

/* Inode of the calling process's network namespace. */
uint64_t cgfw_netns_id(void);

int cgfw_tc_meta_read(struct cgfw_tc *tc, struct cgfw_tc_meta_val *ret);
int cgfw_tc_meta_write(struct cgfw_tc *tc, const struct cgfw_tc_meta_val *v);
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
void cgfw_nl_watch_close(int fd);

/*
 * The parsers of the kernel's replies, each over what one recv() returned
 * (exposed for fuzz/fuzz_netlink.c). cgfw_nl_cb_run() is libmnl's
 * mnl_cb_run() on the whole messages of @buf; its callbacks (mnl_cb_t) read
 * a link (data: struct cgfw_nl_link), an address dump (struct
 * cgfw_nl_addr_acc), a filter dump (struct cgfw_nl_prio_acc).
 */
struct nlmsghdr;

struct cgfw_nl_addr_acc {
	uint32_t ifindex; /* addresses of this interface only */
	struct cgfw_prefix *v;
	size_t n, cap;
	int err;
};

struct cgfw_nl_prio_acc {
	uint16_t *v; /* each priority once */
	size_t n, cap;
	int err;
};

int cgfw_nl_cb_run(const void *buf, size_t len, uint32_t seq, uint32_t portid,
		   int (*cb)(const struct nlmsghdr *nlh, void *data), void *data);
int cgfw_nl_link_cb(const struct nlmsghdr *nlh, void *data);
int cgfw_nl_addr_cb(const struct nlmsghdr *nlh, void *data);
int cgfw_nl_filter_cb(const struct nlmsghdr *nlh, void *data);
/*
 * The route acks in @buf for sequence numbers [base, base + count): errs[i]
 * still 1 (no ack yet) takes the ack's error. Returns how many it took.
 */
size_t cgfw_nl_acks_parse(const void *buf, size_t len, uint32_t base, size_t count, int *errs);

#endif /* CGFW_TC_INTERNAL_H */
