/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The precedence of cgfw's cgroup rules, in one place: compiled into the BPF
 * program and into the unit tests that pin the documented behaviour down.
 *
 *  1. The longest matching prefix decides (host rules and the cgroup's own
 *     rules together).
 *  2. At that prefix length, a rule with a protocol (and ports) beats a rule
 *     without one.
 *  3. Among the rules still tied, deny wins.
 *  4. No rule matched: a reply of a flow admitted the other way (by an
 *     allow rule, or by the default while this direction defaults to deny)
 *     is allowed; otherwise the cgroup's default verdict for that direction
 *     applies.
 */
#ifndef CGFW_VERDICT_H
#define CGFW_VERDICT_H

#include "abi.h"

#ifndef CGFW_INLINE
#define CGFW_INLINE static inline __attribute__((always_inline))
#endif

/* Verdict of the action bits gathered from all matching rules at one tier. */
CGFW_INLINE int cgfw_act_verdict(__u8 act)
{
	if (act & CGFW_ACT_DENY_ANY)
		return CGFW_VERDICT_DENY;
	if (act & CGFW_ACT_ALLOW_ANY)
		return CGFW_VERDICT_ALLOW;
	return CGFW_VERDICT_NONE;
}

/* Does a port entry match this packet's protocol-relative port? */
CGFW_INLINE int cgfw_port_match(__u16 lo, __u16 hi, __u16 port)
{
	return port >= lo && port <= hi;
}

/*
 * Final verdict once the rule walk is done.
 * @rule:  CGFW_VERDICT_* from the walk (NONE when nothing matched)
 * @reply: the packet belongs to a flow an allow rule admitted the other way
 * @def:   the cgroup's default for this direction
 */
CGFW_INLINE int cgfw_final_verdict(int rule, int reply, int def)
{
	if (rule != CGFW_VERDICT_NONE)
		return rule;
	if (reply)
		return CGFW_VERDICT_ALLOW;
	return def == CGFW_VERDICT_DENY ? CGFW_VERDICT_DENY : CGFW_VERDICT_ALLOW;
}

#endif /* CGFW_VERDICT_H */
