/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * cgfw_tc_meta (BPF_MAP_TYPE_ARRAY, 1 entry, user space only): the TC state's
 * layout version, id counters and the tick rate its loader gives the
 * programs (their clock is jiffies). Rule ids and counts live in the rule
 * set (tc_rule_map.h).
 * cgfw_tc_stats (BPF_MAP_TYPE_PERCPU_ARRAY): datapath counters by direction
 * and reason, index dir * CGFW_TC_R_COUNT + reason.
 * cgfw_tc_routes (BPF_MAP_TYPE_HASH, user space only): the local routes that
 * tproxy rules need, with the number of rules that need each and whether cgfw
 * added it (a route that was there before is never removed).
 */
#ifndef CGFW_TC_META_MAP_H
#define CGFW_TC_META_MAP_H

#include "abi.h"

#define CGFW_TC_META_PIN   "cgfw_tc_meta"
#define CGFW_TC_STATS_PIN  "cgfw_tc_stats"
#define CGFW_TC_ROUTES_PIN "cgfw_tc_routes"
#define CGFW_TC_ROUTES_MAX (1u << 20)

#define CGFW_TC_LAYOUT_VERSION 3

/* Protocol number of the routes cgfw adds (see `ip route show proto 207`). */
#define CGFW_TC_RTPROT 207

struct cgfw_tc_meta_val {
	__u32 layout_version; /* 0 until the state is complete */
	__u32 hz;	      /* the kernel's tick rate (0: a state from before it was kept) */
	__u32 next_attach_id;
	__u32 pad1;
	__u64 created_ns;
};
CGFW_ABI_ASSERT_SIZE(struct cgfw_tc_meta_val, 24);

/* Why a packet got its verdict: index into cgfw_tc_stats (and event reason). */
enum cgfw_tc_reason {
	CGFW_TC_R_PASS_NOMATCH = 0, /* no rule (interface not stateful) */
	CGFW_TC_R_PASS_NOT_IP,	    /* not IPv4/IPv6: never touched */
	CGFW_TC_R_PASS_MALFORMED,   /* unparseable IP header, interface not stateful */
	CGFW_TC_R_PASS_FRAGMENT,    /* a fragment after the first */
	CGFW_TC_R_PASS_ESTABLISHED, /* belongs to a local socket */
	CGFW_TC_R_PASS_UDP_REPLY,   /* reply to a UDP flow this host sent */
	CGFW_TC_R_PASS_INBOUND,	    /* an inbound rule */
	CGFW_TC_R_PASS_SSH,	    /* ssh to the interface's own address */
	CGFW_TC_R_PASS_DHCP,	    /* DHCP client reply */
	CGFW_TC_R_PASS_ICMP,	    /* ICMP other than echo request, or echo with --icmp */
	CGFW_TC_R_PASS_OTHER,	    /* another IP protocol (stateful: TCP, UDP, echo only) */
	CGFW_TC_R_INTERCEPT,	    /* spliced into a tproxy listener */
	CGFW_TC_R_REDIRECT,	    /* destination rewritten */
	CGFW_TC_R_RESTORE,	    /* egress: source of a redirected flow's reply restored */
	CGFW_TC_R_DROP_NO_LISTENER, /* tproxy rule, but no listener */
	CGFW_TC_R_DROP_ASSIGN,	    /* bpf_sk_assign refused the socket */
	CGFW_TC_R_DROP_UNSOLICITED, /* stateful: no socket, no rule */
	CGFW_TC_R_DROP_MALFORMED,   /* stateful: unparseable IP header */
	CGFW_TC_R_DROP_FRAGMENT,    /* first fragment of a tproxy or redirect flow */
	CGFW_TC_R_DROP_ICMP,	    /* stateful: echo request without --icmp */
	CGFW_TC_R_COUNT,
};

/* Entries of cgfw_tc_stats: index dir * CGFW_TC_R_COUNT + reason. */
#define CGFW_TC_STATS_MAX (2 * CGFW_TC_R_COUNT)

struct cgfw_tc_stat_val {
	__u64 packets;
	__u64 bytes;
};
CGFW_ABI_ASSERT_SIZE(struct cgfw_tc_stat_val, 16);

struct cgfw_tc_route_key {
	__u64 netns; /* inode of the network namespace the route is in */
	__u8 family;
	__u8 prefixlen;
	__u8 pad[6];
	__u8 addr[16];
};
CGFW_ABI_ASSERT_SIZE(struct cgfw_tc_route_key, 32);

struct cgfw_tc_route_val {
	__u32 refs;   /* tproxy rules with this destination prefix */
	__u8 owned;   /* cgfw added the route */
	__u8 pending; /* recorded before it was added: not known to be there */
	__u8 pad[2];
};
CGFW_ABI_ASSERT_SIZE(struct cgfw_tc_route_val, 8);

#endif /* CGFW_TC_META_MAP_H */
