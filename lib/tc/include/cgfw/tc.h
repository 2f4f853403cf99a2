/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * cgfw tc: the interface datapath's driver. Its pinned maps, attaching the
 * TC programs (tcx, else clsact), tproxy/redirect/inbound rules with the
 * local routes tproxy needs, the interfaces' own addresses, counters and the
 * JSON forms of its objects. Conventions as in core.h.
 */
#ifndef CGFW_TC_H
#define CGFW_TC_H

#include <net/if.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cgfw/tc_iface_map.h>
#include <cgfw/tc_meta_map.h>
#include <cgfw/tc_rule_map.h>

#include <cgfw/core.h>
#include <cgfw/pin.h>

/* ---- the TC state (under the same root and lock as the cgroup state) ------ */

struct cgfw_tc;

/* flags: CGFW_OPEN_*. Without CGFW_OPEN_CREATE, -ENOENT when absent. */
int cgfw_tc_open(unsigned flags, struct cgfw_tc **ret);
/* Open it on a root the caller holds (created when the pin allows it). */
int cgfw_tc_open_at(struct cgfw_pin *pin, struct cgfw_tc **ret);
void cgfw_tc_close(struct cgfw_tc *tc);
static inline void cgfw_tc_closep(struct cgfw_tc **tc)
{
	cgfw_tc_close(*tc);
}
#define _cleanup_tc_ _cleanup_(cgfw_tc_closep)
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
	bool this_netns; /* attached in the caller's network namespace */
	bool live;	 /* both programs still attached (this netns only) */
	uint32_t flags;
	uint8_t mode;
	bool qdisc_created;
	uint16_t prio[2];
	uint32_t handle;
	uint32_t attach_id;
	uint64_t attached_ns;
	size_t naddrs; /* ssh addresses in cgfw_tc_ifaddr */
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
	uint32_t id;   /* assigned on add */
	uint8_t kind;  /* CGFW_TC_TPROXY, _REDIRECT, _INBOUND */
	uint8_t proto; /* CGFW_PROTO_TCP or _UDP */
	uint16_t port_lo, port_hi;
	struct cgfw_prefix dst;
	struct cgfw_prefix src; /* len 0: any source */
	bool has_to_addr;	/* tproxy: listener address given (else: this host) */
	uint8_t to_family;
	uint8_t to_addr[16];
	uint16_t to_port; /* host byte order; 0 keeps the port (redirect only) */
	uint32_t ifindex; /* 0: every interface */
	char ifname[IF_NAMESIZE];
	uint64_t packets, bytes;
	unsigned seen; /* CGFW_TC_OPT_* given (parsing) */
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
	size_t rules[4]; /* by kind */
	uint32_t table_capacity;
	uint32_t table_entries;
};

int cgfw_tc_stats_get(struct cgfw_tc *tc, struct cgfw_tc_stats *ret);

/* ---- explain ---------------------------------------------------------------------- */

struct cgfw_tc_explanation {
	char ifname[IF_NAMESIZE];
	uint32_t flags;	  /* the interface's CGFW_TC_STATEFUL ... */
	uint32_t verdict; /* TC_ACT_UNSPEC (passed on) or TC_ACT_SHOT */
	uint8_t reason;	  /* enum cgfw_tc_reason */
	bool listener;	  /* tproxy: the listener exists */
	bool has_rule;
	struct cgfw_tc_rule rule; /* the rule that decided, with its counters */
};

/*
 * Run @x through the programs of interface @ifname (attached in this
 * namespace) with their own code: the rule that decides and what it does.
 * For the interface programs the remote end is the packet's source on
 * ingress (x->remote), the destination the local end (x->local).
 */
int cgfw_tc_explain(struct cgfw_tc *tc, const char *ifname, const struct cgfw_explain_pkt *x,
		    struct cgfw_tc_explanation *ret);

/* ---- JSON -------------------------------------------------------------------- */

struct json_t;
struct json_t *cgfw_tc_rule_json(const struct cgfw_tc_rule *r);
struct json_t *cgfw_tc_iface_json(const struct cgfw_tc_iface *i);
struct json_t *cgfw_tc_route_json(const struct cgfw_tc_route *r);

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

/* Detach the interfaces of this netns and remove cgfw's routes (cgfw reset). */
int cgfw_tc_teardown(void);

#endif /* CGFW_TC_H */
