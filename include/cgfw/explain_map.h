/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * cgfw_xout (BPF_MAP_TYPE_ARRAY, 1 entry, never pinned): the side channel of
 * `cgfw explain`. An instance of the cgroup programs loaded with
 * cgfw_explain set (never attached) runs a built packet with BPF_PROG_RUN
 * and writes here what decided its verdict, from the datapath's own code;
 * that instance counts nothing and records no flow.
 */
#ifndef CGFW_EXPLAIN_MAP_H
#define CGFW_EXPLAIN_MAP_H

#include "abi.h"

struct cgfw_explain_out {
	__u32 ran;	 /* the program reached its verdict */
	__u8 verdict;	 /* CGFW_VERDICT_ALLOW or _DENY, as returned */
	__u8 reason;	 /* enum cgfw_reason */
	__u8 rule;	 /* CGFW_VERDICT_* of the rules alone */
	__u8 reply;	 /* a reply of a flow admitted the other way */
	__u8 def;	 /* the cgroup's default for this direction */
	__u8 audit;	 /* the cgroup is in audit mode */
	__u8 scoped;	 /* the cgroup's scope is in the rule set */
	__u8 act;	 /* the action bits at the best match */
	__u32 key;	 /* struct cgfw_match key */
	__u32 rule_host; /* ordinal in the host scope, or CGFW_RS_NORULE */
	__u32 rule_cg;	 /* ordinal in the cgroup's scope, or CGFW_RS_NORULE */
	__u32 pad;
	__u64 gen; /* the rule set's change number */
};
CGFW_ABI_ASSERT_SIZE(struct cgfw_explain_out, 40);

/*
 * cgfw_tc_xout: the same for the interface programs. An explain instance of
 * them (cgfw_explain set) counts nothing, writes no flow or connection,
 * sends no event, assigns no socket and rewrites nothing; a tproxy rule
 * whose listener exists reports the interception it would make.
 */
struct cgfw_tc_explain_out {
	__u32 ran;
	__u32 verdict; /* TC_ACT_* the program returned */
	__u8 reason;   /* enum cgfw_tc_reason */
	__u8 kind;     /* the rule's kind, 0: no rule */
	__u8 listener; /* tproxy: a listener was found */
	__u8 pad;
	__u32 rule_id;
	__u8 to_addr[16]; /* the listener or new destination */
	__u16 to_port;	  /* network order */
	__u16 pad2;
	__u32 pad3;
};
CGFW_ABI_ASSERT_SIZE(struct cgfw_tc_explain_out, 40);

#endif /* CGFW_EXPLAIN_MAP_H */
