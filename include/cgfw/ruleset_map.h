/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * cgfw_rs (BPF_MAP_TYPE_ARRAY_OF_MAPS, 1 slot): the cgroup datapath's rule
 * set. Its inner map is a BPF_MAP_TYPE_ARRAY (BPF_F_MMAPABLE) of 32-byte
 * elements holding everything the programs read: every scope's defaults,
 * an LPM image per scope (lpm_map.h) whose values are decision records,
 * and the rule list itself, which user space reads back.
 *
 * A change never touches the rule set packets see: user space writes a
 * complete new one into a fresh inner map and makes it live with one update
 * of slot 0, which returns after an RCU grace period (no program still
 * reads the old one). So a packet sees the old rules or the new ones, and a
 * command killed part way leaves the old set in force. The cgroup registry
 * (cgroup_map.h) and the links are then made to match the live set; the
 * next command finishes that if a command died after the switch.
 *
 * All inner maps share the template's max_entries, so the verifier inlines
 * every element access; when a rule set outgrows it, user space makes a new
 * cgfw_rs with a larger template and reloads the programs.
 *
 * Layout (element indices, all relative to the inner map):
 *   0                      struct cgfw_rs_header
 *   1                      struct cgfw_rs_info
 *   2 + slot               struct cgfw_rs_scope of scope @slot (0: host-wide)
 *   scope.img ...          the scope's block: its LPM image (both families),
 *   img + scope.dec ...    its decision records (value v of the image: dec + v - 1),
 *   img + dec.ports ...    their port entries, CGFW_RS_PORTS_PER_ELEM per element
 *   img + len - nrules ... its rule counters, one per rule of the scope, in
 *                          the order of the scope's rules in the list
 *   header.rules ...       the rule list, struct cgfw_rs_rule, sorted
 * Every index inside a scope's block is relative to the block (scope.img),
 * so a block that did not change is copied into the next rule set as is.
 * Rules are named by their ordinal among their scope's rules ("rule i of
 * the scope"): decisions and image values use it, and so do the counters.
 * Host byte order throughout, but for addresses (network order).
 */
#ifndef CGFW_RULESET_MAP_H
#define CGFW_RULESET_MAP_H

#include "abi.h"
#include "lpm_map.h"

#define CGFW_RS_PIN	"cgfw_rs"
#define CGFW_RS_MAGIC	0x73726763u /* "cgrs" */
#define CGFW_RS_VERSION 2

#define CGFW_RS_ELEM_SIZE 32
/* The smallest inner map; it grows (doubles at least) when a rule set needs more. */
#define CGFW_RS_MIN_ELEMS (1u << 14)

#define CGFW_RS_HDR	    0
#define CGFW_RS_INFO	    1
#define CGFW_RS_SCOPE(slot) (2u + (slot))

/*
 * An image value with this bit is the scope's rule (ordinal in the low bits)
 * that alone decides for the prefix: a plain rule with nothing around it.
 * Its counter holds what the decision needs (struct cgfw_rs_cnt), so most
 * blocklist entries need no decision record. Otherwise a value is the
 * 1-based index of a decision record.
 */
#define CGFW_RS_V_DIRECT 0x80000000u

/* Rules of one rule set, at most (about 130 MiB of rule list and image). */
#define CGFW_RS_RULES_MAX (1u << 22)

/* Scope slots: 0 is the host-wide scope, 1.. the attached cgroups. */
#define CGFW_RS_SLOT_HOST 0
#define CGFW_RS_SLOTS_MAX 65536

struct cgfw_rs_header {
	__u32 magic;   /* CGFW_RS_MAGIC */
	__u16 version; /* CGFW_RS_VERSION */
	__u16 pad;
	__u32 elems;   /* elements in use */
	__u32 nscopes; /* scope slots 0..nscopes-1 */
	__u32 rules;   /* element index of the rule list */
	__u32 nrules;
	__u64 gen; /* change number: each new rule set has the old one's + 1 */
};
CGFW_ABI_ASSERT_SIZE(struct cgfw_rs_header, 32);

/* Counts for status and for the policy store. */
struct cgfw_rs_info {
	__u64 policy; /* hash of the saved policy this set enforces (0: none) */
	__u32 rules4, rules6;
	__u32 lens4, lens6; /* distinct prefix lengths in use */
	__u64 created_ns;   /* CLOCK_REALTIME of this rule set */
};
CGFW_ABI_ASSERT_SIZE(struct cgfw_rs_info, 32);

/* Scope flags. */
#define CGFW_RS_S_USED	0x1 /* the slot belongs to a cgroup (or is the host scope) */
#define CGFW_RS_S_RULES 0x2 /* the scope has rules: img, dec are set */
#define CGFW_RS_S_AUDIT 0x4 /* audit mode: what would be dropped passes, counted and reported */

struct cgfw_rs_scope {
	__u64 cgid;		  /* the cgroup's id (0 for the host scope) */
	__u8 def[CGFW_DIR_COUNT]; /* default verdict per direction (CGFW_VERDICT_*) */
	__u8 flags;		  /* CGFW_RS_S_* */
	__u8 rb;		  /* root bits of the image */
	__u32 img;		  /* element index of the scope's block (its LPM image) */
	__u32 dec;		  /* first decision record, relative to img */
	__u32 ndec;		  /* decision records */
	__u32 nrules;		  /* rules of this scope */
	__u32 len;		  /* elements of the block */
};
CGFW_ABI_ASSERT_SIZE(struct cgfw_rs_scope, 32);

/* No plain rule decides for a direction. */
#define CGFW_RS_NOLEN 0xff
/* Port entries of one decision, at most (its prefix's and the enclosing ones'). */
#define CGFW_RS_MAX_PORTS 32
/* Distinct port ranges of one (scope, prefix, protocol), at most. */
#define CGFW_PORT_ENTRIES 8

/*
 * What the rules of a scope say about the addresses of one prefix: the
 * longest plain rule (no protocol) with bits for each direction, and every
 * protocol rule of the prefix and of the prefixes that contain it, longest
 * first. The datapath takes the longest match that has bits for the packet's
 * direction; at equal length a protocol rule beats a plain one; ties merge
 * their bits (deny wins). Shared by every prefix with the same content.
 */
struct cgfw_rs_dec {
	__u8 plain_len[CGFW_DIR_COUNT]; /* CGFW_RS_NOLEN: none */
	__u8 plain_act[CGFW_DIR_COUNT]; /* CGFW_ACT_* bits */
	__u8 nports;
	__u8 pad[3];
	__u32 ports; /* element of the first port entry, relative to the block */
	__u32 plain_rule[CGFW_DIR_COUNT]; /* the rule (ordinal in the scope) behind plain_* */
	__u8 pad2[12];
};
CGFW_ABI_ASSERT_SIZE(struct cgfw_rs_dec, 32);

/* A protocol rule in a decision: (proto, lo..hi) with bits per direction. */
struct cgfw_rs_port {
	__u8 len;   /* prefix length of the rule */
	__u8 proto; /* CGFW_PROTO_TCP, _UDP or _ICMP (ICMPv6 too) */
	__u8 act[CGFW_DIR_COUNT];
	__u16 lo, hi; /* host order; 0-65535 for every port (and for ICMP) */
	__u32 rule;   /* ordinal in the scope */
	__u32 pad;
};
CGFW_ABI_ASSERT_SIZE(struct cgfw_rs_port, 16);

#define CGFW_RS_PORTS_PER_ELEM 2

/*
 * A rule's counter, written by the datapath when the rule decides (also in
 * audit mode). User space carries the counts into every new rule set. It
 * also holds the rule's plain decision, for an image value with
 * CGFW_RS_V_DIRECT.
 */
struct cgfw_rs_cnt {
	__u64 packets;
	__u64 bytes;
	__u64 last_j; /* jiffies of the last hit (meta_map.h) */
	__u8 len;     /* the rule's prefix length */
	__u8 act[CGFW_DIR_COUNT];
	__u8 pad[5];
};
CGFW_ABI_ASSERT_SIZE(struct cgfw_rs_cnt, 32);

/* One rule (the source of truth user space reads back). */
struct cgfw_rs_rule {
	__u16 slot; /* scope slot */
	__u8 family;
	__u8 len;
	__u8 proto; /* CGFW_PROTO_ANY: a plain rule */
	__u8 act[CGFW_DIR_COUNT];
	__u8 pad;
	__u16 lo, hi; /* protocol rules: host order, 0-65535 for every port */
	__u8 pad2[4];
	__u8 addr[16]; /* network byte order, host bits cleared */
};
CGFW_ABI_ASSERT_SIZE(struct cgfw_rs_rule, 32);

union cgfw_rs_elem {
	struct cgfw_lpm_elem lpm;
	struct cgfw_rs_header hdr;
	struct cgfw_rs_info info;
	struct cgfw_rs_scope scope;
	struct cgfw_rs_dec dec;
	struct cgfw_rs_port port[CGFW_RS_PORTS_PER_ELEM];
	struct cgfw_rs_cnt cnt;
	struct cgfw_rs_rule rule;
};
CGFW_ABI_ASSERT_SIZE(union cgfw_rs_elem, 32);

/* ---- matching (bpf/include/cgfw_rules.h) ---------------------------------------------- */

/* A packet as the rules see it. */
struct cgfw_rs_pkt {
	__u8 family;
	__u8 dir;   /* CGFW_DIR_* */
	__u8 proto; /* TCP, UDP, ICMP (ICMPv6 too), or 0 for any other protocol */
	__u8 pad;
	__u16 port; /* destination port, host order; 0 without one */
	__u16 pad2;
	__u32 addr4;  /* the remote address: IPv4, host order */
	__u64 hi, lo; /* IPv6, host order */
};

/* No rule (an ordinal of struct cgfw_match). */
#define CGFW_RS_NORULE 0xffffffffu

/*
 * The best match so far: its key, the merged action bits, and the rules
 * that have them: one of the host-wide scope, one of the cgroup's (at equal
 * key both decide together; overlapping port ranges of one prefix name the
 * first).
 */
struct cgfw_match {
	__u32 key; /* (len << 1 | protocol rule) + 1; 0: no rule matched */
	__u8 act;
	__u8 pad[3];
	__u32 rule_host; /* ordinal in the host scope, or CGFW_RS_NORULE */
	__u32 rule_cg;	 /* ordinal in the cgroup's scope, or CGFW_RS_NORULE */
};

#endif /* CGFW_RULESET_MAP_H */
