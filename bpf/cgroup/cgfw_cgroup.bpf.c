// SPDX-License-Identifier: GPL-2.0-only
/*
 * cgfw cgroup_skb programs: per-workload IPv4/IPv6 allow/deny rules, a
 * default verdict per direction, replies of allowed flows, and the record of
 * remote addresses each workload exchanged packets with.
 *
 * One instance of this object is loaded per attached cgroup, with that
 * cgroup's id and scope slot in .rodata. All instances share the pinned
 * maps. Programs attached to an ancestor run for its descendants too, so a
 * descendant is held to every attached ancestor's policy.
 *
 * Per packet: the headers by direct access, the rule set (ruleset_map.h)
 * through one map-in-map lookup, one LPM walk per scope with rules (the
 * host-wide one and the cgroup's own), the decision they point at, and the
 * counters in a per-CPU cache. No hash lookup and no helper call on the
 * path of a packet that is allowed and whose peer is in the cache, and no
 * function call either but for IPv6 under a cgroup's own rules (cgfw_eval)
 * and for prefixes with protocol rules (cgfw_ports), unless the kernel's
 * verifier needs every walk in cgfw_eval (cgfw_walk_calls).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include <cgfw/cgroup_map.h>
#include <cgfw/explain_map.h>
#include <cgfw/flow_map.h>
#include <cgfw/meta_map.h>
#include <cgfw/ruleset_map.h>
#include <cgfw/seen_map.h>
#include <cgfw/verdict.h>

#include "cgfw_parse.h"

/*
 * The protocol/port entries of a matched prefix run in a global function:
 * the verifier checks its loop once, not once per path of handle() (inline,
 * it made each program 1.7x the instructions to verify). It costs a call
 * (~10 ns here) only to a packet whose prefix has protocol rules.
 */
struct cgfw_rs_pkt;
struct cgfw_match;
__noinline int cgfw_ports(const struct cgfw_rs_pkt *p, __u32 at, __u32 n, __u32 host,
			  struct cgfw_match *m);
#define CGFW_RS_PORTS(ctx, at, n, p, host, m) cgfw_ports((p), (at), (n), (host), (m))
#include "cgfw_rules.h"

/* The tick in ns (the loader measured the rate): the event bucket runs on jiffies. */
const volatile __u64 cgfw_tick_ns = 4000000;
#define CGFW_EVENT_NOW_NS() (bpf_jiffies64() * cgfw_tick_ns)
#include "cgfw_events.h"
#include "cgfw_seen.h"

char LICENSE[] SEC("license") = "GPL";

/* Set by the loader before load: the cgroup this instance enforces and its scope slot. */
const volatile __u64 cgfw_cgid = 0;
const volatile __u32 cgfw_slot = 0;
/*
 * An instance for `cgfw explain`, never attached: it counts nothing, records
 * no flow and sends no event, and writes what decided to cgfw_xout.
 */
const volatile __u32 cgfw_explain = 0;
/*
 * Set by the loader where the verifier cannot take the rule walks inline
 * (6.1's gives up on them: E2BIG): then every walk goes through cgfw_eval,
 * one call a packet, as the programs did before the walks were inlined.
 */
const volatile __u32 cgfw_walk_calls = 0;

/*
 * The rule set. Its inner map's max_entries is the template's, which user
 * space sets at creation (bpf_map__set_inner_map_fd); this one is a stand-in.
 */
struct cgfw_rs_inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CGFW_RS_MIN_ELEMS);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__uint(value_size, CGFW_RS_ELEM_SIZE);
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct cgfw_rs_inner);
} cgfw_rs SEC(".maps");

/* The registry of attached cgroups (user space only; created with the state). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CGFW_CGROUPS_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u64);
	__type(value, struct cgfw_cgroup_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} cgfw_cgroups SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, CGFW_FLOWS_MAX);
	__type(key, struct cgfw_flow_key);
	__type(value, struct cgfw_flow_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} cgfw_flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cgfw_meta_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} cgfw_meta SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CGFW_CGSTATS_SLOTS);
	__type(key, __u32);
	__type(value, struct cgfw_cgstat_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} cgfw_cgstats SEC(".maps");

/* Not pinned: each explain instance has its own. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cgfw_explain_out);
} cgfw_xout SEC(".maps");

/* ---- counting ------------------------------------------------------------------------- */

/*
 * Count a packet: the verdict's counter (in total and, with @cg set, for the
 * cgroup) and the peer's seen entry. The CPU's cache is used by one program
 * at a time (@busy); one that interrupted another on this CPU counts through
 * entry 1, atomically, and the hash. A replaced cache entry goes to the hash
 * first, so nothing is lost.
 */
static __always_inline void account(const struct cgfw_seen_key *k, __u32 stat, __u32 len, int drop,
				    int seen, int cg, __u64 now)
{
	__u32 zero = 0, one = 1, slot = cgfw_slot;
	struct cgfw_pc_val *pc = bpf_map_lookup_elem(&cgfw_pc, &zero);
	struct cgfw_cgstat_val *cs = cg ? bpf_map_lookup_elem(&cgfw_cgstats, &slot) : NULL;
	struct cgfw_seen_val v = { .packets = 1, .bytes = len, .dropped = drop ? 1 : 0 };
	struct cgfw_seen_slot *s;

	if (cgfw_explain)
		return;
	v.first_j = v.last_j = now;
	stat %= CGFW_STATS_MAX;
	if (!pc)
		return;
	if (pc->busy) {
		pc = bpf_map_lookup_elem(&cgfw_pc, &one);
		if (pc) {
			__sync_fetch_and_add(&pc->stats[stat].packets, 1);
			__sync_fetch_and_add(&pc->stats[stat].bytes, len);
		}
		if (cs) {
			__sync_fetch_and_add(&cs->s[stat].packets, 1);
			__sync_fetch_and_add(&cs->s[stat].bytes, len);
		}
		if (seen)
			seen_add(k, &v);
		return;
	}
	pc->busy = 1;
	cgfw_barrier();
	pc->stats[stat].packets++;
	pc->stats[stat].bytes += len;
	if (cs) {
		cs->s[stat].packets++;
		cs->s[stat].bytes += len;
	}
	s = &pc->seen[seen_hash(k)];
	if (!seen) {
		/* nothing but the counters */
	} else if (same_key(&s->key, k)) {
		s->val.packets++;
		s->val.bytes += len;
		s->val.dropped += v.dropped;
		s->val.last_j = now;
	} else {
		/* The entry it replaces goes to the hash first; if that fails (the
		 * hash is busy on this CPU), this packet goes there instead. */
		pc->seq++;
		cgfw_barrier();
		if (!s->key.cgid || !seen_add(&s->key, &s->val)) {
			s->key = *k;
			s->val = v;
		} else {
			seen_add(k, &v);
		}
		cgfw_barrier();
		pc->seq++;
	}
	cgfw_barrier();
	pc->busy = 0;
}

/* The deciding rule's counter: shared by every CPU, so atomic. */
static __always_inline void count_rule(void *rs, const struct cgfw_rs_scope *sc, __u32 rule,
				       __u32 len, __u64 now)
{
	const union cgfw_rs_elem *e;
	struct cgfw_rs_cnt *c;

	if (cgfw_explain || rule == CGFW_RS_NORULE || !rs)
		return;
	e = cgfw_rs_counter(rs, sc, rule);
	if (!e)
		return;
	c = (struct cgfw_rs_cnt *)&e->cnt;
	__sync_fetch_and_add(&c->packets, 1);
	__sync_fetch_and_add(&c->bytes, len);
	if (c->last_j != now)
		c->last_j = now;
}

/* ---- flows: replies of admitted traffic ---------------------------------------------- */

static __always_inline void flow_key(struct cgfw_flow_key *k, const struct cgfw_pkt *p, __u32 dir)
{
	int eg = dir == CGFW_DIR_EGRESS;

	k->cgid = cgfw_cgid;
	k->family = p->family;
	k->proto = p->proto;
	k->lport = p->has_ports ? (eg ? p->sport : p->dport) : 0;
	k->rport = p->has_ports ? (eg ? p->dport : p->sport) : 0;
	__builtin_memcpy(k->laddr, eg ? p->saddr : p->daddr, 16);
	__builtin_memcpy(k->raddr, eg ? p->daddr : p->saddr, 16);
}

/*
 * The flow map matters only for a default deny (this way: replies; the
 * other way: flows to remember) or after an allow rule. Returns whether the
 * packet is a reply of a flow admitted the other way.
 */
static __noinline int cgfw_flow(const struct cgfw_pkt *p, __u32 dir, int rule, int def,
				int other_def)
{
	struct cgfw_flow_key fk = {};
	struct cgfw_flow_val *fv;
	int reply = 0;

	if (!p)
		return 0;
	flow_key(&fk, p, dir);
	fv = bpf_map_lookup_elem(&cgfw_flows, &fk);
	/* A reply: the other direction of this flow was let through. */
	if (rule == CGFW_VERDICT_NONE && fv && (fv->allowed & CGFW_DIR_BIT(dir ^ 1)))
		reply = 1;
	/*
	 * Remember a flow this packet opens, so its replies pass a default deny:
	 * when an allow rule admitted it, or when the default let it out while
	 * the other direction defaults to deny ("no inbound").
	 */
	if (!reply && !cgfw_explain &&
	    (rule == CGFW_VERDICT_ALLOW ||
	     (def != CGFW_VERDICT_DENY && other_def == CGFW_VERDICT_DENY))) {
		if (!fv) {
			struct cgfw_flow_val nv = { .allowed = CGFW_DIR_BIT(dir) };

			nv.last_ns = bpf_ktime_get_boot_ns();
			bpf_map_update_elem(&cgfw_flows, &fk, &nv, BPF_ANY);
		} else if (!(fv->allowed & CGFW_DIR_BIT(dir))) {
			__sync_fetch_and_or(&fv->allowed, CGFW_DIR_BIT(dir));
		}
	}
	return reply;
}

/*
 * A drop (or audit) event for `cgfw monitor`, rate-limited in
 * cgfw_event_reserve(). A global function: called only for those packets (a
 * call costs ~15 ns here, a branch nothing).
 */
__noinline int cgfw_cgroup_drop_event(struct __sk_buff *skb, const struct cgfw_pkt *p, __u32 dir,
				      __u32 reason, __u32 verdict)
{
	struct cgfw_event *e;

	if ((verdict != CGFW_VERDICT_DENY && reason != CGFW_R_AUDIT_RULE &&
	     reason != CGFW_R_AUDIT_DEFAULT) ||
	    cgfw_explain || !skb || !p || !(e = cgfw_event_reserve()))
		return 0;
	e->cgid = cgfw_cgid;
	e->len = skb->len;
	e->source = dir == CGFW_DIR_EGRESS ? CGFW_EV_CGROUP_EGRESS : CGFW_EV_CGROUP_INGRESS;
	e->action = verdict == CGFW_VERDICT_DENY ? CGFW_EV_DROP : CGFW_EV_AUDIT;
	e->reason = (__u8)reason;
	e->family = p->family;
	e->proto = p->proto;
	e->sport = p->sport;
	e->dport = p->dport;
	__builtin_memcpy(e->saddr, p->saddr, 16);
	__builtin_memcpy(e->daddr, p->daddr, 16);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/* ---- the verdict ---------------------------------------------------------------------- */

static __always_inline void rs_pkt(struct cgfw_rs_pkt *rp, const struct cgfw_pkt *p, __u32 dir)
{
	const __u8 *a = dir == CGFW_DIR_EGRESS ? p->daddr : p->saddr;
	__u32 proto = p->proto;

	rp->family = p->family;
	rp->dir = (__u8)dir;
	/* ICMPv6 rules are stored under the ICMP protocol, as the user typed them. */
	if (proto == CGFW_PROTO_ICMPV6)
		proto = CGFW_PROTO_ICMP;
	if (proto != CGFW_PROTO_TCP && proto != CGFW_PROTO_UDP && proto != CGFW_PROTO_ICMP)
		proto = 0;
	rp->proto = (__u8)proto;
	/* Port rules match the destination port: the remote service on egress,
	 * the local service on ingress. A later fragment (or a cut header) has
	 * no port: only a rule covering every port matches it. */
	rp->port = p->has_ports ? bpf_ntohs(p->dport) : 0;
	if (p->family == CGFW_FAMILY_INET) {
		__u32 x;

		__builtin_memcpy(&x, a, 4);
		rp->addr4 = bpf_ntohl(x);
	} else {
		__u64 h, l;

		__builtin_memcpy(&h, a, 8);
		__builtin_memcpy(&l, a + 8, 8);
		rp->hi = bpf_be64_to_cpu(h);
		rp->lo = bpf_be64_to_cpu(l);
	}
}

/* See the declaration above. */
__noinline int cgfw_ports(const struct cgfw_rs_pkt *p, __u32 at, __u32 n, __u32 host,
			  struct cgfw_match *m)
{
	__u32 zero = 0;
	void *rs;

	if (!p || !m)
		return 0;
	rs = bpf_map_lookup_elem(&cgfw_rs, &zero);
	if (rs)
		cgfw_rs_ports_match(rs, at, n, p, host, m);
	return 0;
}

/*
 * What the rules say about @p, into @m: the host-wide scope's (@host) and the
 * scope of @slot (0: none). A global function, so the verifier checks it
 * once, not once per path of the caller. handle() calls it for IPv6 under a
 * cgroup's own rules only (that second IPv6 walk, up to 22 records, inline
 * made each program 100,000 instructions to verify, 0.25 s a load; now
 * 73,000, 0.16 s), or for everything with cgfw_walk_calls. A call costs ~10
 * ns here: returns go through the SRSO thunk.
 */
__noinline int cgfw_eval(const struct cgfw_rs_pkt *p, __u32 slot, __u32 host, struct cgfw_match *m)
{
	const union cgfw_rs_elem *sc;
	__u32 zero = 0;
	void *rs;

	if (!p || !m)
		return 0;
	rs = bpf_map_lookup_elem(&cgfw_rs, &zero);
	if (!rs)
		return 0;
	if (host) {
		sc = CGFW_RS_ELEM(rs, CGFW_RS_SCOPE(CGFW_RS_SLOT_HOST));
		if (sc)
			cgfw_rs_scope_match(rs, &sc->scope, p, 1, m);
	}
	if (slot) {
		sc = CGFW_RS_ELEM(rs, CGFW_RS_SCOPE(slot));
		if (sc)
			cgfw_rs_scope_match(rs, &sc->scope, p, 0, m);
	}
	return 0;
}

/* What decided, for `cgfw explain` (an explain instance only). */
static __always_inline void explain(const void *rs, int verdict, int reason, int rule, int reply,
				    int def, int audit, int scoped, const struct cgfw_match *m)
{
	struct cgfw_explain_out *o;
	__u32 zero = 0;

	if (!cgfw_explain)
		return;
	o = bpf_map_lookup_elem(&cgfw_xout, &zero);
	if (!o)
		return;
	o->ran = 1;
	o->verdict = (__u8)verdict;
	o->reason = (__u8)reason;
	o->rule = (__u8)rule;
	o->reply = (__u8)reply;
	o->def = (__u8)def;
	o->audit = (__u8)audit;
	o->scoped = (__u8)scoped;
	o->act = m ? m->act : 0;
	o->key = m ? m->key : 0;
	o->rule_host = m ? m->rule_host : CGFW_RS_NORULE;
	o->rule_cg = m ? m->rule_cg : CGFW_RS_NORULE;
	if (rs) {
		const union cgfw_rs_elem *h = CGFW_RS_ELEM((void *)rs, CGFW_RS_HDR);

		if (h)
			o->gen = h->hdr.gen;
	}
}

static __always_inline int handle(struct __sk_buff *skb, __u32 dir)
{
	struct cgfw_pkt p = {};
	struct cgfw_rs_pkt rp = {};
	struct cgfw_match m;
	struct cgfw_seen_key sk = {};
	const union cgfw_rs_elem *host = NULL, *self;
	int def = CGFW_VERDICT_ALLOW, other_def = CGFW_VERDICT_ALLOW, audit = 0;
	int rule, verdict, reply = 0, reason, perr, parsed, own;
	__u64 now = bpf_jiffies64();
	__u32 zero = 0;
	void *rs;

	cgfw_match_init(&m);
	rs = bpf_map_lookup_elem(&cgfw_rs, &zero);
	perr = cgfw_parse_ip_direct(skb, &p);
	/* Cut short (or too many IPv6 extension headers) after the addresses:
	 * address rules still apply; port rules see no port, as for a later
	 * fragment. Otherwise a bad L4 header would slip past a deny. */
	if (perr == CGFW_PARSE_TRUNCATED && p.family) {
		p.has_ports = 0;
		perr = CGFW_PARSE_OK;
	}
	parsed = perr == CGFW_PARSE_OK && p.family;
	/*
	 * The host-wide rules first, before this cgroup's scope splits the
	 * paths in two: the verifier walks this LPM lookup once per family.
	 */
	if (parsed && rs) {
		rs_pkt(&rp, &p, dir);
		host = CGFW_RS_ELEM(rs, CGFW_RS_SCOPE(CGFW_RS_SLOT_HOST));
		if (host && !(host->scope.flags & CGFW_RS_S_RULES))
			host = NULL;
		if (host && !cgfw_walk_calls) {
			if (p.family == CGFW_FAMILY_INET)
				cgfw_rs_scope_match4(rs, &host->scope, &rp, 1, &m);
			else
				cgfw_rs_scope_match6(rs, &host->scope, &rp, 1, &m);
		}
	}

	self = rs ? CGFW_RS_ELEM(rs, CGFW_RS_SCOPE(cgfw_slot)) : NULL;
	/* A scope that is not (or no longer) this cgroup's: no rules, allow. */
	if (self && self->scope.cgid == cgfw_cgid && (self->scope.flags & CGFW_RS_S_USED)) {
		def = self->scope.def[dir & 1];
		other_def = self->scope.def[(dir ^ 1) & 1];
		audit = !!(self->scope.flags & CGFW_RS_S_AUDIT);
	} else {
		self = NULL;
	}

	if (!parsed) {
		verdict = def == CGFW_VERDICT_DENY ? CGFW_VERDICT_DENY : CGFW_VERDICT_ALLOW;
		reason = CGFW_R_UNPARSED;
		if (verdict == CGFW_VERDICT_DENY && audit) {
			verdict = CGFW_VERDICT_ALLOW;
			reason = CGFW_R_AUDIT_DEFAULT;
		}
		account(&sk, dir * CGFW_R_COUNT + reason, skb->len, 0, 0, !!self, now);
		explain(rs, verdict, reason, CGFW_VERDICT_NONE, 0, def, audit, !!self, NULL);
		return verdict == CGFW_VERDICT_ALLOW;
	}
	own = self && (self->scope.flags & CGFW_RS_S_RULES);
	if (cgfw_walk_calls) {
		if (host || own)
			cgfw_eval(&rp, own ? cgfw_slot : 0, !!host, &m);
	} else if (p.family == CGFW_FAMILY_INET) {
		if (own)
			cgfw_rs_scope_match4(rs, &self->scope, &rp, 0, &m);
	} else if (own) {
		cgfw_eval(&rp, cgfw_slot, 0, &m);
	}
	rule = cgfw_act_verdict(m.act);

	if (rule == CGFW_VERDICT_ALLOW ||
	    (rule == CGFW_VERDICT_NONE &&
	     (def == CGFW_VERDICT_DENY || other_def == CGFW_VERDICT_DENY)))
		reply = cgfw_flow(&p, dir, rule, def, other_def);

	verdict = cgfw_final_verdict(rule, reply, def);
	if (rule == CGFW_VERDICT_ALLOW)
		reason = CGFW_R_ALLOW_RULE;
	else if (rule == CGFW_VERDICT_DENY)
		reason = CGFW_R_DROP_RULE;
	else if (reply)
		reason = CGFW_R_ALLOW_REPLY;
	else if (verdict == CGFW_VERDICT_DENY)
		reason = CGFW_R_DROP_DEFAULT;
	else
		reason = CGFW_R_ALLOW_DEFAULT;
	/* Audit: what would be dropped passes, counted and reported as such. */
	if (verdict == CGFW_VERDICT_DENY && audit) {
		verdict = CGFW_VERDICT_ALLOW;
		reason = reason == CGFW_R_DROP_RULE ? CGFW_R_AUDIT_RULE : CGFW_R_AUDIT_DEFAULT;
	}
	if (rule != CGFW_VERDICT_NONE) {
		if (host)
			count_rule(rs, &host->scope, m.rule_host, skb->len, now);
		if (self)
			count_rule(rs, &self->scope, m.rule_cg, skb->len, now);
	}

	sk.cgid = cgfw_cgid;
	sk.family = p.family;
	sk.dir = (__u8)dir;
	__builtin_memcpy(sk.addr, dir == CGFW_DIR_EGRESS ? p.daddr : p.saddr, 16);
	account(&sk, dir * CGFW_R_COUNT + reason, skb->len, verdict == CGFW_VERDICT_DENY, 1, !!self,
		now);
	if ((verdict == CGFW_VERDICT_DENY || reason >= CGFW_R_AUDIT_RULE) && cgfw_event_room())
		cgfw_cgroup_drop_event(skb, &p, dir, reason, verdict);
	explain(rs, verdict, reason, rule, reply, def, audit, !!self, &m);
	return verdict == CGFW_VERDICT_ALLOW;
}

SEC("cgroup_skb/ingress")
int cgfw_ingress(struct __sk_buff *skb)
{
	return handle(skb, CGFW_DIR_INGRESS);
}

SEC("cgroup_skb/egress")
int cgfw_egress(struct __sk_buff *skb)
{
	return handle(skb, CGFW_DIR_EGRESS);
}
