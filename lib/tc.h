/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * libcgfw, TC section: the interface datapath (tproxy interception, stateful
 * inbound filtering, redirects), the netlink it needs, and the event monitor.
 *
 * Same conventions as cgfw.h: 0 (or a count) on success, -errno on failure
 * with a one-line message in cgfw_errmsg(); -EINVAL means bad input.
 */
#ifndef CGFW_TC_H
#define CGFW_TC_H

#include <net/if.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cgfw/event_map.h>
#include <cgfw/tc_iface_map.h>
#include <cgfw/tc_meta_map.h>
#include <cgfw/tc_rule_map.h>

#include "cgfw.h"

/* ---- the TC state (under the same root and lock as the cgroup state) ------ */

struct cgfw_tc;

/* flags: CGFW_OPEN_* of cgfw.h. Without CGFW_OPEN_CREATE, -ENOENT when absent. */
int cgfw_tc_open(unsigned flags, struct cgfw_tc **ret);
void cgfw_tc_close(struct cgfw_tc *tc);
/* Inode of the calling process's network namespace. */
uint64_t cgfw_netns_id(void);

/* ---- interfaces -------------------------------------------------------------- */

struct cgfw_tc_attach_opts {
	uint32_t flags; /* CGFW_TC_STATEFUL | CGFW_TC_ICMP | CGFW_TC_NO_SSH */
	uint8_t mode;	/* 0: tcx where the kernel has it, else clsact; or CGFW_TC_MODE_* */
};

#define CGFW_TC_MAX_SHOWN_ADDRS 16

struct cgfw_tc_iface {
	char name[IF_NAMESIZE];
	uint32_t ifindex;
	uint64_t netns;
	bool this_netns;   /* attached in the caller's network namespace */
	bool live;	   /* both programs still attached (this netns only) */
	uint32_t flags;
	uint8_t mode;
	bool qdisc_created;
	uint16_t prio[2];
	uint32_t handle;
	uint32_t attach_id;
	uint64_t attached_ns;
	size_t naddrs;	   /* ssh addresses in cgfw_tc_ifaddr */
	struct cgfw_prefix addrs[CGFW_TC_MAX_SHOWN_ADDRS];
};

/* Attach (or, when attached, swap in programs with the new flags atomically). */
int cgfw_tc_attach(struct cgfw_tc *tc, const char *ifname, const struct cgfw_tc_attach_opts *o,
		   struct cgfw_tc_iface *ret);
/* Detach and leave the interface as cgfw found it. */
int cgfw_tc_detach(struct cgfw_tc *tc, const char *ifname);
int cgfw_tc_ifaces(struct cgfw_tc *tc, struct cgfw_tc_iface **ret, size_t *ret_n);
/* Copy the addresses of the attached interfaces of this netns into the map. */
int cgfw_tc_sync(struct cgfw_tc *tc, size_t *ret_changed);
/* Sync now, then again on every address change until *stop is set. */
int cgfw_tc_watch(volatile sig_atomic_t *stop, void (*changed)(size_t n, void *arg), void *arg);

/* ---- rules ------------------------------------------------------------------- */

struct cgfw_tc_rule {
	uint32_t id;		/* assigned on add */
	uint8_t kind;		/* CGFW_TC_TPROXY, _REDIRECT, _INBOUND */
	uint8_t proto;		/* CGFW_PROTO_TCP or _UDP */
	uint16_t port_lo, port_hi;
	struct cgfw_prefix dst;
	struct cgfw_prefix src; /* len 0: any source */
	bool has_to_addr;	/* tproxy: listener address given (else: this host) */
	uint8_t to_family;
	uint8_t to_addr[16];
	uint16_t to_port;	/* host byte order; 0 keeps the port (redirect only) */
	uint32_t ifindex;	/* 0: every interface */
	char ifname[IF_NAMESIZE];
	uint64_t packets, bytes;
	unsigned seen;		/* CGFW_TC_OPT_* given (parsing) */
};

enum {
	CGFW_TC_OPT_DST = 1 << 0,
	CGFW_TC_OPT_SRC = 1 << 1,
	CGFW_TC_OPT_PROTO = 1 << 2,
	CGFW_TC_OPT_PORTS = 1 << 3,
	CGFW_TC_OPT_TO = 1 << 4,
	CGFW_TC_OPT_IFACE = 1 << 5,
};

/*
 * Set one field from a command-line option ("dst", "src", "proto", "ports",
 * "to", "iface") as the user typed it. -EINVAL names the option and value.
 */
int cgfw_tc_rule_set(struct cgfw_tc_rule *r, const char *opt, const char *val);
/* Check a rule is complete and consistent for its kind (add) or as a match (del). */
int cgfw_tc_rule_check(const struct cgfw_tc_rule *r, bool add);
/*
 * Read one rule per line, in the options' syntax ("--dst 192.0.2.0/24 --proto
 * tcp --ports 80 --to 9000"; '#' comments), each starting from *tmpl.
 */
int cgfw_tc_rules_from_file(const char *path, const struct cgfw_tc_rule *tmpl, bool add,
			    struct cgfw_tc_rule **ret, size_t *ret_n);
/*
 * Add or delete rules, all or nothing. Adding a rule whose match exists
 * with the same kind updates its target; with another kind is an error.
 * tproxy rules bring their local routes. Returns the number of rules that
 * changed something.
 */
int cgfw_tc_rules_update(struct cgfw_tc *tc, const struct cgfw_tc_rule *rules, size_t n, bool add);
/* kind 0: every kind. Sorted by id. */
int cgfw_tc_rules_list(struct cgfw_tc *tc, uint8_t kind, struct cgfw_tc_rule **ret, size_t *ret_n);
/* Remove every rule of one kind; returns how many. */
int cgfw_tc_rules_flush(struct cgfw_tc *tc, uint8_t kind);
const char *cgfw_tc_kind_name(uint8_t kind);

struct cgfw_tc_route {
	struct cgfw_prefix pfx;
	uint32_t refs;
	bool owned;
	bool this_netns;
};

int cgfw_tc_routes(struct cgfw_tc *tc, struct cgfw_tc_route **ret, size_t *ret_n);

/* ---- counters ---------------------------------------------------------------- */

struct cgfw_tc_stats {
	uint64_t packets[2][CGFW_TC_R_COUNT]; /* [0] ingress, [1] egress */
	uint64_t bytes[2][CGFW_TC_R_COUNT];
	size_t rules[4];		      /* by kind */
	uint32_t table_capacity;
	uint32_t table_entries;
};

int cgfw_tc_stats_get(struct cgfw_tc *tc, struct cgfw_tc_stats *ret);
const char *cgfw_tc_reason_name(int reason);

/* ---- JSON -------------------------------------------------------------------- */

struct json_t;
struct json_t *cgfw_tc_rule_json(const struct cgfw_tc_rule *r);
struct json_t *cgfw_tc_iface_json(const struct cgfw_tc_iface *i);
struct json_t *cgfw_tc_route_json(const struct cgfw_tc_route *r);
/* cgroup: path of the event's cgroup when known, else NULL. */
struct json_t *cgfw_event_json(const struct cgfw_event *e, const char *cgroup);
void cgfw_event_format(const struct cgfw_event *e, const char *cgroup, char *buf, size_t n);

/* ---- program instances (tests and benchmarks) --------------------------------- */

struct cgfw_tc_prog {
	void *skel;
	int ingress_fd, egress_fd;
};

/* Load the programs against the pinned maps, with these settings, unattached. */
int cgfw_tc_prog_load(struct cgfw_tc *tc, uint32_t flags, uint32_t attach_id, uint32_t l2_len,
		      struct cgfw_tc_prog **ret);
void cgfw_tc_prog_free(struct cgfw_tc_prog *p);
/* Replace the addresses recorded for an attachment id (tests). */
int cgfw_tc_ifaddr_set(struct cgfw_tc *tc, uint32_t attach_id, const struct cgfw_prefix *addrs,
		       size_t n);

/* ---- the monitor ---------------------------------------------------------------- */

struct cgfw_monitor;
typedef int (*cgfw_event_fn)(const struct cgfw_event *e, void *arg);

/* Events older than the open are skipped. */
int cgfw_monitor_open(cgfw_event_fn fn, void *arg, struct cgfw_monitor **ret);
/* Handle what arrived within timeout_ms; returns the count, -EINTR on a signal. */
int cgfw_monitor_poll(struct cgfw_monitor *m, int timeout_ms);
/* Events the datapath could not send (rate limit, full ring) since the open. */
uint64_t cgfw_monitor_lost(struct cgfw_monitor *m);
void cgfw_monitor_close(struct cgfw_monitor *m);

/* Detach the interfaces of this netns and remove cgfw's routes (cgfw reset). */
int cgfw_tc_teardown(void);

/* ---- netlink (libmnl) -------------------------------------------------------------- */

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

#endif /* CGFW_TC_H */
