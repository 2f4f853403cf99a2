/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What the rules of the cgroup datapath's rule set (ruleset_map.h) say about
 * a packet. Header only, and the same code compiles in user space, where
 * the library runs it over a rule set it built (tests, `cgfw explain`).
 *
 * The includer says how to reach element @idx of the rule set:
 *   CGFW_RS_CTX_T          the type of the first argument (default void *)
 *   CGFW_RS_ELEM(ctx, idx) a const union cgfw_rs_elem *, NULL when out of range
 * In a BPF program the default is the inner ARRAY map of cgfw_rs.
 *
 * The precedence (README, "Precedence"): the longest matching prefix
 * decides, over the host-wide scope and the cgroup's own together; at equal
 * length a rule with a protocol beats one without; ties merge their action
 * bits and deny wins. A match is kept as one number, (length << 1 | has a
 * protocol) + 1, so "longer, then protocol" is "larger".
 */
#ifndef CGFW_BPF_RULES_H
#define CGFW_BPF_RULES_H

#include <cgfw/ruleset_map.h>
#include <cgfw/verdict.h>

#ifndef __always_inline
#define __always_inline inline __attribute__((__always_inline__))
#endif

#ifndef CGFW_RS_CTX_T
#define CGFW_RS_CTX_T void *
#endif

#ifndef CGFW_RS_ELEM
#ifdef __bpf__
static __always_inline const union cgfw_rs_elem *cgfw_rs_elem_(void *map, __u32 idx)
{
	return bpf_map_lookup_elem(map, &idx);
}
#define CGFW_RS_ELEM(ctx, idx) cgfw_rs_elem_((ctx), (idx))
#else
#error "define CGFW_RS_ELEM(ctx, idx) before including cgfw_rules.h"
#endif
#endif

#define CGFW_LPM_CTX_T		CGFW_RS_CTX_T
#define CGFW_LPM_ELEM(ctx, idx) ((const struct cgfw_lpm_elem *)CGFW_RS_ELEM((ctx), (idx)))
#include "cgfw_lpm.h"

static __always_inline void cgfw_match_init(struct cgfw_match *m)
{
	m->key = 0;
	m->act = 0;
	m->rule_host = m->rule_cg = CGFW_RS_NORULE;
}

static __always_inline void cgfw_match_add(struct cgfw_match *m, __u32 key, __u8 act, int host,
					   __u32 rule)
{
	if (!act || key < m->key)
		return;
	if (key > m->key) {
		m->key = key;
		m->act = 0;
		m->rule_host = m->rule_cg = CGFW_RS_NORULE;
	}
	m->act |= act;
	if (host && m->rule_host == CGFW_RS_NORULE)
		m->rule_host = rule;
	else if (!host && m->rule_cg == CGFW_RS_NORULE)
		m->rule_cg = rule;
}

/* The counter of rule @rule of scope @sc (NULL when out of range). */
static __always_inline const union cgfw_rs_elem *
cgfw_rs_counter(CGFW_RS_CTX_T ctx, const struct cgfw_rs_scope *sc, __u32 rule)
{
	if (rule >= sc->nrules || sc->nrules > sc->len)
		return 0;
	return CGFW_RS_ELEM(ctx, sc->img + sc->len - sc->nrules + rule);
}

/*
 * Add the protocol/port rules of a decision to @m: its @n entries from
 * element @at on, longest first (once an entry cannot reach the best key,
 * none after it can).
 */
static __always_inline void cgfw_rs_ports_match(CGFW_RS_CTX_T ctx, __u32 at, __u32 n,
						const struct cgfw_rs_pkt *p, int host,
						struct cgfw_match *m)
{
	const union cgfw_rs_elem *e;
	__u32 dir = p->dir & 1;

	for (__u32 i = 0; i < CGFW_RS_MAX_PORTS; i++) {
		const struct cgfw_rs_port *pe;

		if (i >= n)
			break;
		e = CGFW_RS_ELEM(ctx, at + i / CGFW_RS_PORTS_PER_ELEM);
		if (!e)
			break;
		pe = &e->port[i % CGFW_RS_PORTS_PER_ELEM];
		if ((((__u32)pe->len << 1) | 1) + 1 < m->key)
			break;
		if (pe->proto == p->proto && cgfw_port_match(pe->lo, pe->hi, p->port))
			cgfw_match_add(m, (((__u32)pe->len << 1) | 1) + 1, pe->act[dir], host,
				       pe->rule);
	}
}

/*
 * How the includer runs the port entries: by default the loop above, inline.
 * A BPF program may define it as a call to a global function, so the loop is
 * verified once rather than once per path of its caller.
 */
#ifndef CGFW_RS_PORTS
#define CGFW_RS_PORTS(ctx, at, n, p, host, m) \
	cgfw_rs_ports_match((ctx), (at), (n), (p), (host), (m))
#endif

/*
 * Add to @m what scope @sc says about @p, given @v, the value of the longest
 * of its prefixes that contains the address (cgfw_rs_scope_match looks it
 * up): that prefix's decision, its plain rule and its protocol rules for the
 * packet's direction.
 */
static __always_inline void cgfw_rs_scope_decide(CGFW_RS_CTX_T ctx, const struct cgfw_rs_scope *sc,
						 const struct cgfw_rs_pkt *p, int host,
						 struct cgfw_match *m, __u32 v)
{
	const union cgfw_rs_elem *e;
	const struct cgfw_rs_dec *d;
	__u32 dir = p->dir & 1;

	if (!v)
		return;
	if (v & CGFW_RS_V_DIRECT) {
		/* The prefix's one plain rule decides alone; its counter has it. */
		v &= ~CGFW_RS_V_DIRECT;
		e = cgfw_rs_counter(ctx, sc, v);
		if (e)
			cgfw_match_add(m, ((__u32)e->cnt.len << 1) + 1, e->cnt.act[dir], host, v);
		return;
	}
	if (v > sc->ndec)
		return;
	e = CGFW_RS_ELEM(ctx, sc->img + sc->dec + v - 1);
	if (!e)
		return;
	d = &e->dec;
	if (d->plain_len[dir] != CGFW_RS_NOLEN)
		cgfw_match_add(m, ((__u32)d->plain_len[dir] << 1) + 1, d->plain_act[dir], host,
			       d->plain_rule[dir]);
	if (p->proto && d->nports)
		CGFW_RS_PORTS(ctx, sc->img + d->ports, d->nports, p, host, m);
}

/* The same for an IPv4 packet only (@p->addr4), for callers that know it. */
static __always_inline void cgfw_rs_scope_match4(CGFW_RS_CTX_T ctx, const struct cgfw_rs_scope *sc,
						 const struct cgfw_rs_pkt *p, int host,
						 struct cgfw_match *m)
{
	if (sc->flags & CGFW_RS_S_RULES)
		cgfw_rs_scope_decide(ctx, sc, p, host, m,
				     cgfw_lpm_lookup4(ctx, sc->img, sc->rb, p->addr4));
}

/* The same for an IPv6 packet only (@p->hi, @p->lo). */
static __always_inline void cgfw_rs_scope_match6(CGFW_RS_CTX_T ctx, const struct cgfw_rs_scope *sc,
						 const struct cgfw_rs_pkt *p, int host,
						 struct cgfw_match *m)
{
	if (sc->flags & CGFW_RS_S_RULES)
		cgfw_rs_scope_decide(ctx, sc, p, host, m,
				     cgfw_lpm_lookup6(ctx, sc->img, sc->rb, p->hi, p->lo));
}

/* Add what scope @sc says about @p to @m. */
static __always_inline void cgfw_rs_scope_match(CGFW_RS_CTX_T ctx, const struct cgfw_rs_scope *sc,
						const struct cgfw_rs_pkt *p, int host,
						struct cgfw_match *m)
{
	if (p->family == CGFW_FAMILY_INET)
		cgfw_rs_scope_match4(ctx, sc, p, host, m);
	else
		cgfw_rs_scope_match6(ctx, sc, p, host, m);
}

#endif /* CGFW_BPF_RULES_H */
