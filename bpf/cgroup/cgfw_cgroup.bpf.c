// SPDX-License-Identifier: GPL-2.0-only
/*
 * cgfw cgroup_skb programs: per-workload IPv4/IPv6 allow/deny rules, a
 * default verdict per direction, replies of allowed flows, and the record of
 * remote addresses each workload exchanged packets with.
 *
 * One instance of this object is loaded per attached cgroup, with that
 * cgroup's id in cgfw_cgid. All instances share the pinned maps. Programs
 * attached to an ancestor run for its descendants too, so a descendant is
 * held to every attached ancestor's policy.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include <cgfw/rule_map.h>
#include <cgfw/lengths_map.h>
#include <cgfw/cgroup_map.h>
#include <cgfw/seen_map.h>
#include <cgfw/flow_map.h>
#include <cgfw/meta_map.h>
#include <cgfw/verdict.h>

#include "cgfw_parse.h"
#include "cgfw_masks.h"
#include "cgfw_events.h"

char LICENSE[] SEC("license") = "GPL";

/* Set by the loader before load: the cgroup this instance enforces. */
const volatile __u64 cgfw_cgid = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CGFW_RULES_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct cgfw_rule_key);
	__type(value, struct cgfw_rule_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} cgfw_rules SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CGFW_PRULES_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct cgfw_rule_key);
	__type(value, struct cgfw_port_rule_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} cgfw_prules SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CGFW_LENS_SLOTS);
	__type(key, __u32);
	__type(value, struct cgfw_lens_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} cgfw_lens SEC(".maps");

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
	__uint(max_entries, CGFW_SEEN_MAX);
	__type(key, struct cgfw_seen_key);
	__type(value, struct cgfw_seen_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} cgfw_seen SEC(".maps");

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
	__uint(max_entries, CGFW_STATS_MAX);
	__type(key, __u32);
	__type(value, struct cgfw_stat_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} cgfw_stats SEC(".maps");

static __always_inline void mask_addr(__u8 *dst, const __u8 *src, __u32 plen)
{
	const __u32 *m = cgfw_masks[plen];
	__u32 a[4], *d = (__u32 *)dst;

	__builtin_memcpy(a, src, 16);
	d[0] = a[0] & m[0];
	d[1] = a[1] & m[1];
	d[2] = a[2] & m[2];
	d[3] = a[3] & m[3];
}

static __always_inline __u8 port_acts(const struct cgfw_port_rule_val *v, __u32 dir, __u16 port)
{
	__u8 act = 0;

	if (!v)
		return 0;
#pragma unroll
	for (int i = 0; i < CGFW_PORT_ENTRIES; i++)
		if (cgfw_port_match(v->e[i].lo, v->e[i].hi, port))
			act |= v->e[i].act[dir & 1];
	return act;
}

struct walk {
	struct cgfw_rule_key key;
	const struct cgfw_len_list *list;
	const __u8 *addr;
	__u32 dir;
	__u16 port; /* host order; 0 for protocols without ports */
	__u8 proto; /* rule protocol to probe in cgfw_prules, 0 if none */
	int verdict;
};

static int walk_one(__u32 i, void *ctx)
{
	struct walk *w = ctx;
	const struct cgfw_rule_val *r;
	__u8 plen, kind, act = 0;

	if (i >= w->list->n || i >= sizeof(w->list->len))
		return 1;
	plen = w->list->len[i];
	kind = w->list->kind[i];
	if (plen > 128)
		return 1;
	mask_addr(w->key.addr, w->addr, plen);
	w->key.prefixlen = plen;

	if ((kind & CGFW_LEN_PORT) && w->proto) {
		w->key.proto = w->proto;
		if (kind & CGFW_LEN_PORT_CG) {
			w->key.scope = cgfw_cgid;
			act = port_acts(bpf_map_lookup_elem(&cgfw_prules, &w->key), w->dir,
					w->port);
		}
		if (kind & CGFW_LEN_PORT_HOST) {
			w->key.scope = CGFW_SCOPE_HOST;
			act |= port_acts(bpf_map_lookup_elem(&cgfw_prules, &w->key), w->dir,
					 w->port);
		}
		w->key.proto = CGFW_PROTO_ANY;
		w->verdict = cgfw_act_verdict(act);
		if (w->verdict != CGFW_VERDICT_NONE)
			return 1;
	}
	if (kind & CGFW_LEN_PLAIN_CG) {
		w->key.scope = cgfw_cgid;
		r = bpf_map_lookup_elem(&cgfw_rules, &w->key);
		if (r)
			act |= r->act[w->dir & 1];
	}
	if (kind & CGFW_LEN_PLAIN_HOST) {
		w->key.scope = CGFW_SCOPE_HOST;
		r = bpf_map_lookup_elem(&cgfw_rules, &w->key);
		if (r)
			act |= r->act[w->dir & 1];
	}
	w->verdict = cgfw_act_verdict(act);
	if (w->verdict != CGFW_VERDICT_NONE)
		return 1;
	return 0;
}

static __always_inline void count(__u32 dir, __u32 reason, __u32 len)
{
	__u32 k = dir * CGFW_R_COUNT + reason;
	struct cgfw_stat_val *s = bpf_map_lookup_elem(&cgfw_stats, &k);

	if (s) {
		s->packets++;
		s->bytes += len;
	}
}

static __always_inline void record_seen(const struct cgfw_pkt *p, __u32 dir, __u32 len, int drop)
{
	struct cgfw_seen_key k = {};
	struct cgfw_seen_val *v;
	__u64 now = bpf_ktime_get_boot_ns();

	k.cgid = cgfw_cgid;
	k.family = p->family;
	k.dir = dir;
	__builtin_memcpy(k.addr, dir == CGFW_DIR_EGRESS ? p->daddr : p->saddr, 16);
	v = bpf_map_lookup_elem(&cgfw_seen, &k);
	if (v) {
		__sync_fetch_and_add(&v->packets, 1);
		__sync_fetch_and_add(&v->bytes, len);
		if (drop)
			__sync_fetch_and_add(&v->dropped, 1);
		v->last_ns = now;
	} else {
		struct cgfw_seen_val nv = {
			.packets = 1,
			.bytes = len,
			.dropped = drop ? 1 : 0,
			.first_ns = now,
			.last_ns = now,
		};
		bpf_map_update_elem(&cgfw_seen, &k, &nv, BPF_NOEXIST);
	}
}

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
 * A drop event for `cgfw monitor`, rate-limited in cgfw_event_reserve(). A
 * global function, called for every verdict so the caller gains no branch.
 */
__noinline int cgfw_cgroup_drop_event(struct __sk_buff *skb, const struct cgfw_pkt *p, __u32 dir,
				      __u32 reason, __u32 verdict)
{
	struct cgfw_event *e;

	if (verdict != CGFW_VERDICT_DENY || !skb || !p || !(e = cgfw_event_reserve()))
		return 0;
	e->cgid = cgfw_cgid;
	e->len = skb->len;
	e->source = dir == CGFW_DIR_EGRESS ? CGFW_EV_CGROUP_EGRESS : CGFW_EV_CGROUP_INGRESS;
	e->action = CGFW_EV_DROP;
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

static __always_inline int handle(struct __sk_buff *skb, __u32 dir)
{
	struct cgfw_pkt p = {};
	struct cgfw_flow_key fk = {};
	const struct cgfw_cgroup_val *cg;
	const struct cgfw_lens_val *ctl, *lens;
	struct walk w = {};
	__u32 zero = 0, slot;
	int def = CGFW_VERDICT_ALLOW, other_def = CGFW_VERDICT_ALLOW, verdict, reply = 0, reason,
	    perr;

	cg = bpf_map_lookup_elem(&cgfw_cgroups, (__u64 *)&cgfw_cgid);
	if (cg) {
		def = cg->def[dir & 1];
		other_def = cg->def[(dir ^ 1) & 1];
	}

	perr = cgfw_parse_ip(skb, 0, skb->protocol, &p);
	/* Cut short (or too many IPv6 extension headers) after the addresses:
	 * address rules still apply; port rules see no port, as for a later
	 * fragment. Otherwise a bad L4 header would slip past a deny. */
	if (perr == CGFW_PARSE_TRUNCATED && p.family) {
		p.has_ports = 0;
		perr = CGFW_PARSE_OK;
	}
	if (perr != CGFW_PARSE_OK || !p.family) {
		verdict = def == CGFW_VERDICT_DENY ? CGFW_VERDICT_DENY : CGFW_VERDICT_ALLOW;
		count(dir, CGFW_R_UNPARSED, skb->len);
		return verdict == CGFW_VERDICT_ALLOW;
	}

	ctl = bpf_map_lookup_elem(&cgfw_lens, &zero);
	if (!ctl)
		return 1;
	slot = ctl->active == 2 ? 2 : 1;
	lens = bpf_map_lookup_elem(&cgfw_lens, &slot);
	if (!lens)
		return 1;

	w.list = p.family == CGFW_FAMILY_INET ? &lens->v4 : &lens->v6;
	w.addr = dir == CGFW_DIR_EGRESS ? p.daddr : p.saddr;
	w.key.family = p.family;
	w.dir = dir;
	/* ICMPv6 rules are stored under the ICMP protocol, as the user typed them. */
	w.proto = p.proto == CGFW_PROTO_ICMPV6 ? CGFW_PROTO_ICMP : p.proto;
	if (w.proto != CGFW_PROTO_TCP && w.proto != CGFW_PROTO_UDP && w.proto != CGFW_PROTO_ICMP)
		w.proto = 0;
	/* Port rules match the destination port: the remote service on egress,
	 * the local service on ingress. A later fragment has no port: only a
	 * rule covering every port matches it. */
	w.port = p.has_ports ? bpf_ntohs(p.dport) : 0;
	if ((w.proto == CGFW_PROTO_TCP || w.proto == CGFW_PROTO_UDP) && !p.has_ports)
		w.port = 0;
	bpf_loop(CGFW_LEN6_MAX, walk_one, &w, 0);

	/* The flow map matters only for a default deny (this way: replies; the
	 * other way: flows to remember) or after an allow rule. */
	if (w.verdict == CGFW_VERDICT_ALLOW ||
	    (w.verdict == CGFW_VERDICT_NONE &&
	     (def == CGFW_VERDICT_DENY || other_def == CGFW_VERDICT_DENY))) {
		struct cgfw_flow_val *fv;

		flow_key(&fk, &p, dir);
		fv = bpf_map_lookup_elem(&cgfw_flows, &fk);
		/* A reply: the other direction of this flow was let through. */
		if (w.verdict == CGFW_VERDICT_NONE && fv && (fv->allowed & CGFW_DIR_BIT(dir ^ 1)))
			reply = 1;
		/*
		 * Remember a flow this packet opens, so its replies pass a default
		 * deny: when an allow rule admitted it, or when the default let it
		 * out while the other direction defaults to deny ("no inbound").
		 */
		if (!reply && (w.verdict == CGFW_VERDICT_ALLOW ||
			       (def != CGFW_VERDICT_DENY && other_def == CGFW_VERDICT_DENY))) {
			if (!fv) {
				struct cgfw_flow_val nv = { .allowed = CGFW_DIR_BIT(dir) };

				nv.last_ns = bpf_ktime_get_boot_ns();
				bpf_map_update_elem(&cgfw_flows, &fk, &nv, BPF_ANY);
			} else if (!(fv->allowed & CGFW_DIR_BIT(dir))) {
				__sync_fetch_and_or(&fv->allowed, CGFW_DIR_BIT(dir));
			}
		}
	}

	verdict = cgfw_final_verdict(w.verdict, reply, def);
	if (w.verdict == CGFW_VERDICT_ALLOW)
		reason = CGFW_R_ALLOW_RULE;
	else if (w.verdict == CGFW_VERDICT_DENY)
		reason = CGFW_R_DROP_RULE;
	else if (reply)
		reason = CGFW_R_ALLOW_REPLY;
	else if (verdict == CGFW_VERDICT_DENY)
		reason = CGFW_R_DROP_DEFAULT;
	else
		reason = CGFW_R_ALLOW_DEFAULT;
	count(dir, reason, skb->len);
	record_seen(&p, dir, skb->len, verdict == CGFW_VERDICT_DENY);
	cgfw_cgroup_drop_event(skb, &p, dir, reason, verdict);
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
