// SPDX-License-Identifier: GPL-2.0-only
/*
 * cgfw TC programs: the interface half of cgfw.
 *
 * Ingress, per packet:
 *   1. Not IPv4/IPv6: passed untouched. An IP header that cannot be parsed
 *      (truncated, bad version or length, more extension headers than we
 *      walk) is passed, or dropped on a stateful interface; never misparsed.
 *   2. Fragments after the first carry no ports: passed (without their first
 *      fragment the stack cannot reassemble them).
 *   3. Stateful interfaces only: ICMP echo requests need --icmp, other ICMP
 *      and other IP protocols pass; DHCP client replies pass; ssh (tcp/22) to
 *      the interface's own addresses passes unless --no-ssh.
 *   4. The rule set (tproxy, redirect, inbound; layout and precedence in
 *      tc_rule_map.h): an LPM walk to the longest destination prefix with
 *      rules, whatever the number of rules and prefix lengths, then its
 *      entries (a port index for single ports), then the prefixes that
 *      contain it until one matches.
 *   5. No rule: passed, or on a stateful interface passed only when the
 *      packet belongs to a local socket (or answers a UDP flow this host
 *      sent), else dropped.
 *   6. A first fragment that matches a tproxy or redirect rule is dropped:
 *      its later fragments could not follow it.
 *   7. tproxy: packets of an established flow go to their own socket; the
 *      others are assigned to the listener (bpf_sk_assign). No listener:
 *      dropped. redirect: destination rewritten with its checksums, the flow
 *      remembered for egress. inbound: passed.
 * Egress: replies of redirected flows get their source restored; on stateful
 * interfaces outgoing UDP flows are remembered for their replies.
 *
 * "Pass" returns TC_ACT_UNSPEC (TCX_NEXT), so the programs and filters after
 * cgfw on the interface still run; "drop" returns TC_ACT_SHOT (TCX_DROP).
 * One instance is loaded per interface, its settings in the rodata below.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include <cgfw/tc_rule_map.h>
#include <cgfw/tc_iface_map.h>
#include <cgfw/tc_conn_map.h>
#include <cgfw/tc_meta_map.h>
#include <cgfw/explain_map.h>

#include "cgfw_parse.h"
#include "cgfw_masks.h"

/*
 * The tick in ns (the loader measured the rate): the event bucket runs on
 * jiffies, one load where a clock read is a helper call on every new flow.
 * The cgroup programs pace the same per-CPU bucket on the same clock.
 */
const volatile __u64 cgfw_tick_ns = 4000000;
#define CGFW_EVENT_NOW_NS() (bpf_jiffies64() * cgfw_tick_ns)
#include "cgfw_events.h"

char LICENSE[] SEC("license") = "GPL";

/* Set by the loader before load. */
const volatile __u32 cgfw_flags = 0;	 /* CGFW_TC_STATEFUL | CGFW_TC_ICMP | CGFW_TC_NO_SSH */
const volatile __u32 cgfw_attach_id = 0; /* key of this interface's addresses in cgfw_tc_ifaddr */
const volatile __u32 cgfw_l2_len = 14;	 /* offset of the IP header */
const volatile __u32 cgfw_explain = 0;	 /* an instance for `cgfw explain` (explain_map.h) */

#define V_PASS TC_ACT_UNSPEC
#define V_DROP TC_ACT_SHOT

#define DIR_IN	0
#define DIR_OUT 1

#define TCP_FLAG_SYN 0x02
#define TCP_FLAG_ACK 0x10

/*
 * The rule set (tc_rule_map.h). Its inner maps are the size of the template
 * cgfw_tc_rtab was made with (this declaration's, at first): the verifier
 * inlines every element access.
 */
struct tc_rules {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CGFW_TC_MIN_ELEMS);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__uint(value_size, CGFW_TC_ELEM_SIZE);
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct tc_rules);
} cgfw_tc_rtab SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CGFW_TC_IFACES_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct cgfw_tc_iface_key);
	__type(value, struct cgfw_tc_iface_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} cgfw_tc_ifaces SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CGFW_TC_IFADDR_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct cgfw_tc_ifaddr_key);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} cgfw_tc_ifaddr SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, CGFW_TC_CONN_MAX);
	__type(key, struct cgfw_tc_conn_key);
	__type(value, struct cgfw_tc_conn_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} cgfw_tc_conn SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, CGFW_TC_UDPFLOW_MAX);
	__type(key, struct cgfw_tc_udpflow_key);
	__type(value, struct cgfw_tc_udpflow_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} cgfw_tc_udpflow SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cgfw_tc_meta_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} cgfw_tc_meta SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CGFW_TC_STATS_MAX);
	__type(key, __u32);
	__type(value, struct cgfw_tc_stat_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} cgfw_tc_stats SEC(".maps");

/* Not pinned: each explain instance has its own. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cgfw_tc_explain_out);
} cgfw_tc_xout SEC(".maps");

static __always_inline struct cgfw_tc_explain_out *xout(void)
{
	__u32 zero = 0;

	return cgfw_explain ? bpf_map_lookup_elem(&cgfw_tc_xout, &zero) : NULL;
}

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CGFW_TC_ROUTES_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct cgfw_tc_route_key);
	__type(value, struct cgfw_tc_route_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} cgfw_tc_routes SEC(".maps");

/* ---- rule lookup ----------------------------------------------------------- */

static __always_inline const struct cgfw_lpm_elem *tc_lpm_elem(void *t, __u32 idx)
{
	return bpf_map_lookup_elem(t, &idx);
}
#define CGFW_LPM_CTX_T		void *
#define CGFW_LPM_ELEM(ctx, idx) tc_lpm_elem((ctx), (idx))
#include "cgfw_lpm.h"

static __always_inline const union cgfw_tc_elem *elem(void *t, __u32 idx)
{
	return bpf_map_lookup_elem(t, &idx);
}

/* What an entry must match, besides the destination prefix. */
struct want {
	__u32 sa[4]; /* packet source, network byte order */
	__u32 ifindex;
	__u16 port; /* destination port, host order */
	__u16 pad;
};

static __always_inline int entry_match(const struct cgfw_tc_entry_a *e, const struct want *l)
{
	const __u32 *m, *s;
	__u32 sl;

	if (e->ifindex && e->ifindex != l->ifindex)
		return 0;
	if (l->port < e->port_lo || l->port > e->port_hi)
		return 0;
	sl = e->src_len;
	if (!sl)
		return 1;
	if (sl > 128)
		return 0;
	m = cgfw_masks[sl];
	s = (const __u32 *)e->src;
	return (l->sa[0] & m[0]) == s[0] && (l->sa[1] & m[1]) == s[1] &&
	       (l->sa[2] & m[2]) == s[2] && (l->sa[3] & m[3]) == s[3];
}

/* Candidates past the first CGFW_TC_INLINE_SCAN: a loop of its own. */
#define CGFW_TC_INLINE_SCAN 8

struct scan {
	void *t;
	const struct want *w;
	__u32 cands, from, n;
	__u32 found; /* element of the entry that decides; 0: none */
};

static long scan_cand(__u32 i, void *ctx)
{
	struct scan *s = ctx;
	const union cgfw_tc_elem *c, *e;
	__u32 k = s->from + i, at;

	if (k >= s->n || !s->t)
		return 1;
	c = elem(s->t, s->cands + k / CGFW_TC_CANDS);
	if (!c)
		return 1;
	at = c->cand[k % CGFW_TC_CANDS];
	e = elem(s->t, at);
	if (!e || !s->w || !entry_match(&e->ea, s->w))
		return 0;
	s->found = at;
	return 1;
}

/* The rule that decides for a packet, copied out of the rule set. */
struct match {
	__u32 id;
	__u8 kind;
	__u8 pad;
	__u16 to_port;
	__u8 to_addr[16];
};

/*
 * Global functions (here and below) are verified once, on their own, instead
 * of once per path of the caller: that keeps the verification of the
 * ingress program short.
 */
/*
 * The node of the longest destination prefix with rules (1-based), or 0: an
 * LPM walk. Inline in cgfw_tc_lookup, which the verifier checks once.
 */
static __always_inline __u32 cgfw_tc_node(const struct cgfw_pkt *p)
{
	const union cgfw_tc_elem *h, *roots;
	__u32 zero = 0, k, img, v;
	void *t;

	if (!p)
		return 0;
	t = bpf_map_lookup_elem(&cgfw_tc_rtab, &zero);
	if (!t)
		return 0;
	h = elem(t, 0);
	roots = elem(t, 1);
	if (!h || !roots)
		return 0;
	k = CGFW_TC_ROOT(p->family, p->proto) & 3;
	img = roots->roots.img[k];
	if (!img)
		return 0;
	if (p->family == CGFW_FAMILY_INET) {
		__u32 a;

		__builtin_memcpy(&a, p->daddr, 4);
		v = cgfw_lpm_lookup4(t, img, roots->roots.rb[k], bpf_ntohl(a));
	} else {
		__u64 hi, lo;

		__builtin_memcpy(&hi, p->daddr, 8);
		__builtin_memcpy(&lo, p->daddr + 8, 8);
		v = cgfw_lpm_lookup6(t, img, roots->roots.rb[k], bpf_be64_to_cpu(hi),
				     bpf_be64_to_cpu(lo));
	}
	return v <= h->hdr.nnodes ? v : 0;
}

__noinline int cgfw_tc_lookup(struct __sk_buff *skb, const struct cgfw_pkt *p, struct match *m)
{
	const union cgfw_tc_elem *h, *a, *b, *iv, *c, *ea;
	union cgfw_tc_elem *eb;
	struct want w;
	__u32 zero = 0, node, at, lo, hi, found = 0, n, cands;
	const struct cgfw_tc_ival *hit = NULL;
	void *t;

	if (!skb || !p || !m)
		return 0;
	node = cgfw_tc_node(p);
	if (!node)
		return 0;
	t = bpf_map_lookup_elem(&cgfw_tc_rtab, &zero);
	if (!t)
		return 0;
	h = elem(t, 0);
	if (!h)
		return 0;
	at = h->hdr.nodes + 2 * (node - 1);
	a = elem(t, at);
	b = elem(t, at + 1);
	if (!a || !b)
		return 0;
	__builtin_memcpy(w.sa, p->saddr, 16);
	w.ifindex = skb->ifindex;
	w.port = bpf_ntohs(p->dport);
	w.pad = 0;
	/* The interval of the port: the last one that starts at or below it. */
	lo = 0;
	hi = b->nb.nivals;
	for (int s = 0; s < 17 && lo < hi; s++) {
		__u32 mid = lo + (hi - lo) / 2;

		iv = elem(t, b->nb.ivals + mid / CGFW_TC_IVALS);
		if (!iv)
			return 0;
		if (iv->iv[mid % CGFW_TC_IVALS].lo <= w.port)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return 0;
	iv = elem(t, b->nb.ivals + (lo - 1) / CGFW_TC_IVALS);
	if (!iv)
		return 0;
	hit = &iv->iv[(lo - 1) % CGFW_TC_IVALS];
	if (w.port > hit->hi)
		return 0;
	/* Its candidates in precedence order: the first that matches decides. */
	n = hit->ncands;
	cands = hit->cands;
	for (__u32 k = 0; k < CGFW_TC_INLINE_SCAN && k < n && !found; k++) {
		c = elem(t, cands + k / CGFW_TC_CANDS);
		if (!c)
			return 0;
		ea = elem(t, c->cand[k % CGFW_TC_CANDS]);
		if (ea && entry_match(&ea->ea, &w))
			found = c->cand[k % CGFW_TC_CANDS];
	}
	if (!found && n > CGFW_TC_INLINE_SCAN) {
		struct scan sc = {
			.t = t, .w = &w, .cands = cands, .from = CGFW_TC_INLINE_SCAN, .n = n
		};

		bpf_loop(n - CGFW_TC_INLINE_SCAN, scan_cand, &sc, 0);
		found = sc.found;
	}
	if (!found)
		return 0;
	ea = elem(t, found);
	eb = (union cgfw_tc_elem *)elem(t, found + 1);
	if (!ea || !eb)
		return 0;
	if (!cgfw_explain) {
		__sync_fetch_and_add(&eb->eb.packets, 1);
		__sync_fetch_and_add(&eb->eb.bytes, skb->len);
	} else {
		struct cgfw_tc_explain_out *o = xout();

		if (o) {
			o->rule_id = ea->ea.id;
			o->kind = ea->ea.kind;
			o->to_port = ea->ea.to_port;
			__builtin_memcpy(o->to_addr, eb->eb.to_addr, 16);
		}
	}
	m->id = ea->ea.id;
	m->kind = ea->ea.kind;
	m->to_port = ea->ea.to_port;
	__builtin_memcpy(m->to_addr, eb->eb.to_addr, 16);
	return 1;
}

/* ---- verdicts, counters, events --------------------------------------------- */

static __always_inline void count(__u32 dir, __u32 reason, __u32 len)
{
	if (cgfw_explain) {
		struct cgfw_tc_explain_out *o = xout();

		if (o) {
			o->ran = 1;
			o->reason = (__u8)reason;
		}
		return;
	}
	__u32 k = dir * CGFW_TC_R_COUNT + reason;
	struct cgfw_tc_stat_val *s = bpf_map_lookup_elem(&cgfw_tc_stats, &k);

	if (s) {
		s->packets++;
		s->bytes += len;
	}
}

#define EV(source, action, reason) ((source) | (action) << 8 | (reason) << 16)

/* @what: EV(source, action, reason); @m: the listener or new destination, or NULL. */
__noinline int cgfw_tc_event(struct __sk_buff *skb, const struct cgfw_pkt *p, __u32 what,
			     __u32 rule_id, const struct match *m)
{
	struct cgfw_event *e;

	if (!skb || !p || cgfw_explain)
		return 0;
	e = cgfw_event_reserve();
	if (!e)
		return 0;
	e->ifindex = skb->ifindex;
	e->rule_id = rule_id;
	e->len = skb->len;
	e->source = (__u8)what;
	e->action = (__u8)(what >> 8);
	e->reason = (__u8)(what >> 16);
	e->family = p->family;
	e->proto = p->proto;
	e->sport = p->sport;
	e->dport = p->dport;
	__builtin_memcpy(e->saddr, p->saddr, 16);
	__builtin_memcpy(e->daddr, p->daddr, 16);
	if (m) {
		__builtin_memcpy(e->to_addr, m->to_addr, 16);
		e->to_port = m->to_port;
	}
	bpf_ringbuf_submit(e, 0);
	return 0;
}

static __always_inline int pass(struct __sk_buff *skb, __u32 dir, __u32 reason)
{
	count(dir, reason, skb->len);
	return V_PASS;
}

__noinline int cgfw_tc_drop(struct __sk_buff *skb, const struct cgfw_pkt *p, __u32 reason,
			    __u32 rule_id)
{
	if (!skb)
		return V_DROP;
	count(DIR_IN, reason, skb->len);
	if (!cgfw_explain && cgfw_event_room())
		cgfw_tc_event(skb, p, EV(CGFW_EV_TC_INGRESS, CGFW_EV_DROP, reason), rule_id, NULL);
	return V_DROP;
}

#define drop cgfw_tc_drop

/* ---- sockets ------------------------------------------------------------------- */

static __always_inline __u32 make_tuple(struct bpf_sock_tuple *t, const struct cgfw_pkt *p,
					const __u8 *daddr, __u16 dport)
{
	if (p->family == CGFW_FAMILY_INET) {
		__builtin_memcpy(&t->ipv4.saddr, p->saddr, 4);
		__builtin_memcpy(&t->ipv4.daddr, daddr, 4);
		t->ipv4.sport = p->sport;
		t->ipv4.dport = dport;
		return sizeof(t->ipv4);
	}
	__builtin_memcpy(t->ipv6.saddr, p->saddr, 16);
	__builtin_memcpy(t->ipv6.daddr, daddr, 16);
	t->ipv6.sport = p->sport;
	t->ipv6.dport = dport;
	return sizeof(t->ipv6);
}

/* Does the packet belong to a local socket: a TCP flow, or a connected UDP socket? */
__noinline int cgfw_tc_own_socket(struct __sk_buff *skb, const struct cgfw_pkt *p)
{
	struct bpf_sock_tuple t = {};
	struct bpf_sock *sk;
	__u32 tl;
	int own;

	if (!skb || !p)
		return 0;
	tl = make_tuple(&t, p, p->daddr, p->dport);
	if (p->proto == CGFW_PROTO_TCP) {
		sk = bpf_skc_lookup_tcp(skb, &t, tl, BPF_F_CURRENT_NETNS, 0);
		if (!sk)
			return 0;
		own = sk->state != BPF_TCP_LISTEN;
		bpf_sk_release(sk);
		return own;
	}
	sk = bpf_sk_lookup_udp(skb, &t, tl, BPF_F_CURRENT_NETNS, 0);
	if (!sk)
		return 0;
	own = sk->state == BPF_TCP_ESTABLISHED;
	bpf_sk_release(sk);
	return own;
}

static __always_inline int udp_reply(const struct cgfw_pkt *p)
{
	struct cgfw_tc_udpflow_key k = {};
	struct cgfw_tc_udpflow_val *v;

	k.family = p->family;
	k.lport = p->dport;
	k.rport = p->sport;
	__builtin_memcpy(k.laddr, p->daddr, 16);
	__builtin_memcpy(k.raddr, p->saddr, 16);
	v = bpf_map_lookup_elem(&cgfw_tc_udpflow, &k);
	return v && cgfw_coarse_ns() - v->last_ns < CGFW_TC_UDP_TIMEOUT_MS * 1000000ull;
}

static __always_inline int is_ifaddr(const struct cgfw_pkt *p)
{
	struct cgfw_tc_ifaddr_key k = {};

	k.attach_id = cgfw_attach_id;
	k.family = p->family;
	__builtin_memcpy(k.addr, p->daddr, 16);
	return bpf_map_lookup_elem(&cgfw_tc_ifaddr, &k) != NULL;
}

/* ---- actions --------------------------------------------------------------------- */

static __always_inline int addr_eq(const __u8 *a, const __u8 *b)
{
	const __u32 *x = (const __u32 *)a, *y = (const __u32 *)b;

	return x[0] == y[0] && x[1] == y[1] && x[2] == y[2] && x[3] == y[3];
}

static __always_inline int addr_zero(const __u8 *a)
{
	const __u32 *w = (const __u32 *)a;

	return !(w[0] | w[1] | w[2] | w[3]);
}

__noinline int cgfw_tc_tproxy(struct __sk_buff *skb, const struct cgfw_pkt *p,
			      const struct match *l, int new_flow)
{
	struct bpf_sock_tuple t = {};
	struct match ev = {};
	struct bpf_sock *sk;
	__u32 tl;
	long err;

	if (!skb || !p || !l)
		return V_DROP;
	__builtin_memcpy(ev.to_addr, addr_zero(l->to_addr) ? p->daddr : l->to_addr, 16);
	ev.to_port = l->to_port;
	/* An established flow goes to its own socket: the stack finds it. */
	if (!new_flow && cgfw_tc_own_socket(skb, p))
		return pass(skb, DIR_IN, CGFW_TC_R_PASS_ESTABLISHED);
	tl = make_tuple(&t, p, ev.to_addr, l->to_port);
	if (p->proto == CGFW_PROTO_TCP) {
		sk = bpf_skc_lookup_tcp(skb, &t, tl, BPF_F_CURRENT_NETNS, 0);
		if (!sk)
			return drop(skb, p, CGFW_TC_R_DROP_NO_LISTENER, l->id);
		if (sk->state != BPF_TCP_LISTEN) {
			bpf_sk_release(sk);
			return drop(skb, p, CGFW_TC_R_DROP_NO_LISTENER, l->id);
		}
		/* Explain: the listener is there; the interception is what it would be. */
		err = cgfw_explain ? 0 : bpf_sk_assign(skb, sk, 0);
		bpf_sk_release(sk);
	} else {
		sk = bpf_sk_lookup_udp(skb, &t, tl, BPF_F_CURRENT_NETNS, 0);
		if (!sk)
			return drop(skb, p, CGFW_TC_R_DROP_NO_LISTENER, l->id);
		err = cgfw_explain ? 0 : bpf_sk_assign(skb, sk, 0);
		bpf_sk_release(sk);
	}
	if (cgfw_explain) {
		struct cgfw_tc_explain_out *o = xout();

		if (o)
			o->listener = 1;
	}
	if (err)
		return drop(skb, p, CGFW_TC_R_DROP_ASSIGN, l->id);
	if (new_flow && !cgfw_explain && cgfw_event_room())
		cgfw_tc_event(skb, p,
			      EV(CGFW_EV_TC_INGRESS, CGFW_EV_INTERCEPT, CGFW_TC_R_INTERCEPT), l->id,
			      &ev);
	return pass(skb, DIR_IN, CGFW_TC_R_INTERCEPT);
}

/*
 * Rewrite one address and port of the packet, fixing the IPv4 header
 * checksum and the TCP/UDP checksum (which covers the addresses through the
 * pseudo-header). @dst selects the destination (ingress) or the source
 * (egress). An IPv4 UDP datagram without checksum keeps none.
 */
static __always_inline int rewrite(struct __sk_buff *skb, const struct cgfw_pkt *p, int dst,
				   const __u8 *naddr, __u16 nport)
{
	__u32 ip = cgfw_l2_len;
	__u32 csum = p->l4_off + (p->proto == CGFW_PROTO_TCP ? 16 : 6);
	__u32 port_off = p->l4_off + (dst ? 2 : 0);
	__u16 oport = dst ? p->dport : p->sport;
	__u64 m0 = p->proto == CGFW_PROTO_UDP ? BPF_F_MARK_MANGLED_0 : 0;

	if (p->family == CGFW_FAMILY_INET) {
		__u32 o, n;

		__builtin_memcpy(&o, dst ? p->daddr : p->saddr, 4);
		__builtin_memcpy(&n, naddr, 4);
		if (bpf_l4_csum_replace(skb, csum, o, n, BPF_F_PSEUDO_HDR | m0 | 4) ||
		    bpf_l3_csum_replace(skb, ip + 10, o, n, 4) ||
		    bpf_skb_store_bytes(skb, ip + (dst ? 16 : 12), &n, 4, BPF_F_INVALIDATE_HASH))
			return -1;
	} else {
		__u8 o[16];
		__s64 diff;

		__builtin_memcpy(o, dst ? p->daddr : p->saddr, 16);
		diff = bpf_csum_diff((__be32 *)o, 16, (__be32 *)naddr, 16, 0);
		if (diff < 0 || bpf_l4_csum_replace(skb, csum, 0, diff, BPF_F_PSEUDO_HDR | m0) ||
		    bpf_skb_store_bytes(skb, ip + (dst ? 24 : 8), naddr, 16, BPF_F_INVALIDATE_HASH))
			return -1;
	}
	if (nport != oport) {
		if (bpf_l4_csum_replace(skb, csum, oport, nport, m0 | 2) ||
		    bpf_skb_store_bytes(skb, port_off, &nport, 2, 0))
			return -1;
	}
	return 0;
}

__noinline int cgfw_tc_redirect(struct __sk_buff *skb, const struct cgfw_pkt *p,
				const struct match *l)
{
	struct cgfw_tc_conn_key k = {};
	struct cgfw_tc_conn_val *v, nv = {};
	__u16 nport;

	if (!skb || !p || !l)
		return V_DROP;
	nport = l->to_port ? l->to_port : p->dport;
	if (cgfw_explain)
		return pass(skb, DIR_IN, CGFW_TC_R_REDIRECT); /* nothing rewritten, nothing kept */
	if (rewrite(skb, p, 1, l->to_addr, nport))
		return drop(skb, p, CGFW_TC_R_DROP_MALFORMED, l->id);
	k.family = p->family;
	k.proto = p->proto;
	k.cport = p->sport;
	k.tport = nport;
	__builtin_memcpy(k.caddr, p->saddr, 16);
	__builtin_memcpy(k.taddr, l->to_addr, 16);
	v = bpf_map_lookup_elem(&cgfw_tc_conn, &k);
	if (!v || v->oport != p->dport || !addr_eq(v->oaddr, p->daddr)) {
		__builtin_memcpy(nv.oaddr, p->daddr, 16);
		nv.oport = p->dport;
		nv.rule_id = l->id;
		nv.last_ns = cgfw_coarse_ns();
		bpf_map_update_elem(&cgfw_tc_conn, &k, &nv, BPF_ANY);
		struct match ev = *l;

		ev.to_port = nport;
		if (!cgfw_explain && cgfw_event_room())
			cgfw_tc_event(skb, p,
				      EV(CGFW_EV_TC_INGRESS, CGFW_EV_REDIRECT, CGFW_TC_R_REDIRECT),
				      l->id, &ev);
	}
	return pass(skb, DIR_IN, CGFW_TC_R_REDIRECT);
}

/* ---- programs ---------------------------------------------------------------------- */

__noinline int cgfw_tc_parse(struct __sk_buff *skb, struct cgfw_pkt *p)
{
	if (!skb || !p)
		return CGFW_PARSE_TRUNCATED;
	return cgfw_parse_ip(skb, cgfw_l2_len, (__u16)skb->protocol, p);
}

/*
 * The common case read straight from the packet: an unfragmented TCP or UDP
 * packet, IPv4 (options allowed) or IPv6 without extension headers, whose
 * headers are in the linear data. Fills what cgfw_parse_ip() would and the
 * TCP flags; returns -1 for anything else, which then takes the bounded
 * bpf_skb_load_bytes() parser. (bpf_skb_load_bytes costs ~8 ns a call.)
 */
static __always_inline int fast_parse(struct __sk_buff *skb, struct cgfw_pkt *p, __u8 *flags)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	__u8 *ip = data + cgfw_l2_len, *l4;
	__u32 hl;

	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		if ((void *)(ip + 20) > end || (ip[0] >> 4) != 4)
			return -1;
		hl = (ip[0] & 0xf) * 4;
		/* any fragment bit or offset: the slow path */
		if (hl < 20 || (ip[6] & 0x3f) || ip[7])
			return -1;
		if (ip[9] != CGFW_PROTO_TCP && ip[9] != CGFW_PROTO_UDP)
			return -1;
		l4 = ip + hl;
		p->family = CGFW_FAMILY_INET;
		p->proto = ip[9];
		__builtin_memcpy(p->saddr, ip + 12, 4);
		__builtin_memcpy(p->daddr, ip + 16, 4);
	} else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		if ((void *)(ip + 40) > end || (ip[0] >> 4) != 6)
			return -1;
		if (ip[6] != CGFW_PROTO_TCP && ip[6] != CGFW_PROTO_UDP)
			return -1;
		l4 = ip + 40;
		p->family = CGFW_FAMILY_INET6;
		p->proto = ip[6];
		__builtin_memcpy(p->saddr, ip + 8, 16);
		__builtin_memcpy(p->daddr, ip + 24, 16);
	} else {
		return -1;
	}
	if ((void *)(l4 + (p->proto == CGFW_PROTO_TCP ? 14 : 4)) > end) {
		p->family = 0;
		return -1;
	}
	p->l4_off = (__u32)(l4 - (__u8 *)data);
	__builtin_memcpy(&p->sport, l4, 2);
	__builtin_memcpy(&p->dport, l4 + 2, 2);
	p->has_ports = 1;
	*flags = p->proto == CGFW_PROTO_TCP ? l4[13] : 0;
	return 0;
}

SEC("tc")
int cgfw_tc_ingress(struct __sk_buff *skb)
{
	struct cgfw_pkt p = {};
	struct match m = {};
	int stateful = cgfw_flags & CGFW_TC_STATEFUL;
	int new_flow = 1, rc, fast;
	__u16 sport, dport;
	__u8 flags = 0;

	fast = fast_parse(skb, &p, &flags) == 0;
	rc = fast ? CGFW_PARSE_OK : cgfw_tc_parse(skb, &p);
	if (rc == CGFW_PARSE_NOT_IP || (rc == CGFW_PARSE_OK && !p.family))
		return pass(skb, DIR_IN, CGFW_TC_R_PASS_NOT_IP);
	if (rc != CGFW_PARSE_OK)
		return stateful ? drop(skb, &p, CGFW_TC_R_DROP_MALFORMED, 0) :
				  pass(skb, DIR_IN, CGFW_TC_R_PASS_MALFORMED);

	if (p.proto != CGFW_PROTO_TCP && p.proto != CGFW_PROTO_UDP) {
		__u8 type;

		if (!stateful)
			return pass(skb, DIR_IN, CGFW_TC_R_PASS_NOMATCH);
		if (!(p.family == CGFW_FAMILY_INET && p.proto == CGFW_PROTO_ICMP) &&
		    !(p.family == CGFW_FAMILY_INET6 && p.proto == CGFW_PROTO_ICMPV6))
			return pass(skb, DIR_IN, CGFW_TC_R_PASS_OTHER);
		/* A fragment may not start with the ICMP header: only --icmp admits it. */
		if (p.is_frag)
			return cgfw_flags & CGFW_TC_ICMP ? pass(skb, DIR_IN, CGFW_TC_R_PASS_ICMP) :
							   drop(skb, &p, CGFW_TC_R_DROP_ICMP, 0);
		if (bpf_skb_load_bytes(skb, p.l4_off, &type, 1) < 0)
			return drop(skb, &p, CGFW_TC_R_DROP_MALFORMED, 0);
		if (type == (p.family == CGFW_FAMILY_INET ? 8 : 128) &&
		    !(cgfw_flags & CGFW_TC_ICMP))
			return drop(skb, &p, CGFW_TC_R_DROP_ICMP, 0);
		return pass(skb, DIR_IN, CGFW_TC_R_PASS_ICMP);
	}
	if (!p.has_ports)
		return pass(skb, DIR_IN, CGFW_TC_R_PASS_FRAGMENT);

	if (p.proto == CGFW_PROTO_TCP) {
		if (!fast && bpf_skb_load_bytes(skb, p.l4_off + 13, &flags, 1) < 0)
			return stateful ? drop(skb, &p, CGFW_TC_R_DROP_MALFORMED, 0) :
					  pass(skb, DIR_IN, CGFW_TC_R_PASS_MALFORMED);
		new_flow = (flags & (TCP_FLAG_SYN | TCP_FLAG_ACK)) == TCP_FLAG_SYN;
	}
	sport = bpf_ntohs(p.sport);
	dport = bpf_ntohs(p.dport);
	if (stateful) {
		if (p.proto == CGFW_PROTO_UDP &&
		    ((p.family == CGFW_FAMILY_INET && sport == 67 && dport == 68) ||
		     (p.family == CGFW_FAMILY_INET6 && sport == 547 && dport == 546)))
			return pass(skb, DIR_IN, CGFW_TC_R_PASS_DHCP);
		if (p.proto == CGFW_PROTO_TCP && dport == 22 && !(cgfw_flags & CGFW_TC_NO_SSH) &&
		    is_ifaddr(&p))
			return pass(skb, DIR_IN, CGFW_TC_R_PASS_SSH);
	}

	if (!cgfw_tc_lookup(skb, &p, &m)) {
		if (!stateful)
			return pass(skb, DIR_IN, CGFW_TC_R_PASS_NOMATCH);
		if (!(p.proto == CGFW_PROTO_TCP && new_flow) && cgfw_tc_own_socket(skb, &p))
			return pass(skb, DIR_IN, CGFW_TC_R_PASS_ESTABLISHED);
		if (p.proto == CGFW_PROTO_UDP && udp_reply(&p))
			return pass(skb, DIR_IN, CGFW_TC_R_PASS_UDP_REPLY);
		return drop(skb, &p, CGFW_TC_R_DROP_UNSOLICITED, 0);
	}
	if (m.kind == CGFW_TC_INBOUND)
		return pass(skb, DIR_IN, CGFW_TC_R_PASS_INBOUND);
	if (p.is_frag)
		return drop(skb, &p, CGFW_TC_R_DROP_FRAGMENT, m.id);
	if (m.kind == CGFW_TC_TPROXY)
		return cgfw_tc_tproxy(skb, &p, &m, new_flow);
	if (m.kind == CGFW_TC_REDIRECT)
		return cgfw_tc_redirect(skb, &p, &m);
	return pass(skb, DIR_IN, CGFW_TC_R_PASS_NOMATCH);
}

SEC("tc")
int cgfw_tc_egress(struct __sk_buff *skb)
{
	struct cgfw_pkt p = {};
	struct cgfw_tc_conn_key k = {};
	struct cgfw_tc_conn_val *v;
	__u32 reason = CGFW_TC_R_PASS_NOMATCH;
	__u8 flags;

	if ((fast_parse(skb, &p, &flags) != 0 && cgfw_tc_parse(skb, &p) != CGFW_PARSE_OK) ||
	    !p.has_ports || p.is_frag || (p.proto != CGFW_PROTO_TCP && p.proto != CGFW_PROTO_UDP))
		return pass(skb, DIR_OUT, reason);

	/* A reply of a redirected flow: from the service back to the client. */
	k.family = p.family;
	k.proto = p.proto;
	k.cport = p.dport;
	k.tport = p.sport;
	__builtin_memcpy(k.caddr, p.daddr, 16);
	__builtin_memcpy(k.taddr, p.saddr, 16);
	v = bpf_map_lookup_elem(&cgfw_tc_conn, &k);
	if (v && cgfw_explain) {
		reason = CGFW_TC_R_RESTORE; /* it would restore the source */
	} else if (v) {
		__u8 oaddr[16];
		__u16 oport = v->oport;

		__builtin_memcpy(oaddr, v->oaddr, 16);
		if (rewrite(skb, &p, 0, oaddr, oport) == 0) {
			reason = CGFW_TC_R_RESTORE;
			__builtin_memcpy(p.saddr, oaddr, 16);
			p.sport = oport;
		}
	}
	if ((cgfw_flags & CGFW_TC_STATEFUL) && p.proto == CGFW_PROTO_UDP && !cgfw_explain) {
		struct cgfw_tc_udpflow_key fk = {};
		struct cgfw_tc_udpflow_val *fv, nv;
		__u64 now = cgfw_coarse_ns();

		fk.family = p.family;
		fk.lport = p.sport;
		fk.rport = p.dport;
		__builtin_memcpy(fk.laddr, p.saddr, 16);
		__builtin_memcpy(fk.raddr, p.daddr, 16);
		fv = bpf_map_lookup_elem(&cgfw_tc_udpflow, &fk);
		if (fv) {
			if (now - fv->last_ns > 1000000000ull)
				fv->last_ns = now;
		} else {
			nv.last_ns = now;
			bpf_map_update_elem(&cgfw_tc_udpflow, &fk, &nv, BPF_ANY);
		}
	}
	return pass(skb, DIR_OUT, reason);
}
