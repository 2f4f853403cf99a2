// SPDX-License-Identifier: GPL-2.0-only
/*
 * The TC rule table's encoding (layout and precedence in
 * include/cgfw/tc_rule_map.h): entries of one head key ranked, laid out in
 * the head, PORT and CHUNK sub-keys of one generation, and decoded back.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "internal.h"
#include "table.h"

/* ---- encoding ------------------------------------------------------------------ */

void cgfw_tc_head_key(const struct cgfw_tc_rule *r, struct cgfw_tc_key *k)
{
	memset(k, 0, sizeof(*k));
	k->family = r->dst.family;
	k->prefixlen = r->dst.len;
	k->proto = r->proto;
	k->type = CGFW_TC_KEY_HEAD;
	cgfw_mask(r->dst.family, r->dst.len, r->dst.addr, k->addr);
}

void cgfw_tc_rule_entry(const struct cgfw_tc_rule *r, struct cgfw_tc_entry *e)
{
	memset(e, 0, sizeof(*e));
	e->id = r->id;
	e->ifindex = r->ifindex;
	e->port_lo = r->port_lo;
	e->port_hi = r->port_hi;
	e->to_port = htons(r->to_port);
	e->kind = r->kind;
	if (r->seen & CGFW_TC_OPT_SRC || r->src.len) {
		e->src_len = r->src.len;
		cgfw_mask(r->dst.family, r->src.len, r->src.addr, e->src);
	}
	if (r->has_to_addr)
		memcpy(e->to_addr, r->to_addr, 16);
}

void cgfw_tc_entry_rule(const struct cgfw_tc_key *k, const struct cgfw_tc_entry *e,
			struct cgfw_tc_rule *r)
{
	memset(r, 0, sizeof(*r));
	r->id = e->id;
	r->kind = e->kind;
	r->proto = k->proto;
	r->port_lo = e->port_lo;
	r->port_hi = e->port_hi;
	r->dst.family = k->family;
	r->dst.len = k->prefixlen;
	memcpy(r->dst.addr, k->addr, 16);
	r->src.family = k->family;
	r->src.len = e->src_len;
	memcpy(r->src.addr, e->src, 16);
	r->to_port = ntohs(e->to_port);
	r->has_to_addr = memcmp(e->to_addr, (uint8_t[16]){ 0 }, 16) != 0;
	r->to_family = k->family;
	memcpy(r->to_addr, e->to_addr, 16);
	r->ifindex = e->ifindex;
	if (e->ifindex && !if_indextoname(e->ifindex, r->ifname))
		snprintf(r->ifname, sizeof(r->ifname), "#%u", e->ifindex);
	r->packets = e->packets;
	r->bytes = e->bytes;
	r->seen = CGFW_TC_OPT_DST | CGFW_TC_OPT_PROTO | CGFW_TC_OPT_PORTS |
		  (e->src_len ? CGFW_TC_OPT_SRC : 0) | (e->ifindex ? CGFW_TC_OPT_IFACE : 0) |
		  (e->kind != CGFW_TC_INBOUND ? CGFW_TC_OPT_TO : 0);
}

/* The precedence of tc_rule_map.h as one number, as the datapath computes it. */
uint64_t cgfw_tc_rank(const struct cgfw_tc_entry *e)
{
	return ((uint64_t)e->src_len << 40) | ((uint64_t)(e->ifindex != 0) << 32) |
	       ((uint64_t)(0xffff - (uint16_t)(e->port_hi - e->port_lo)) << 16) |
	       (uint64_t)(0xffff - e->port_lo);
}

bool cgfw_tc_same_match(const struct cgfw_tc_entry *a, const struct cgfw_tc_entry *b)
{
	return a->src_len == b->src_len && !memcmp(a->src, b->src, 16) &&
	       a->port_lo == b->port_lo && a->port_hi == b->port_hi && a->ifindex == b->ifindex;
}

int cgfw_tc_cmp_rank(const void *x, const void *y)
{
	const struct cgfw_tc_entry *a = x, *b = y;
	uint64_t ra = cgfw_tc_rank(a), rb = cgfw_tc_rank(b);

	if (ra != rb)
		return ra > rb ? -1 : 1;
	return a->id < b->id ? -1 : a->id > b->id;
}

/* ---- one head key at a time ----------------------------------------------------------- */

int cgfw_tc_fd_lookup(void *ctx, const struct cgfw_tc_key *k, struct cgfw_tc_val *v)
{
	return bpf_map_lookup_elem(*(int *)ctx, k, v) < 0 ? -errno : 0;
}

int cgfw_tc_push_entry(struct kset *ks, const struct cgfw_tc_entry *e)
{
	if (ks->n == ks->cap) {
		struct cgfw_tc_entry *m =
			realloc(ks->e, (ks->cap = ks->cap ? ks->cap * 2 : 1) * sizeof(*m));

		if (!m)
			return -ENOMEM;
		ks->e = m;
	}
	ks->e[ks->n++] = *e;
	return 0;
}

static int push_sub(struct kset *ks, const struct cgfw_tc_key *k)
{
	if (ks->noldsub == ks->capsub) {
		struct cgfw_tc_key *m =
			realloc(ks->oldsub, (ks->capsub = ks->capsub * 2 + 8) * sizeof(*m));

		if (!m)
			return -ENOMEM;
		ks->oldsub = m;
	}
	ks->oldsub[ks->noldsub++] = *k;
	return 0;
}

static int push_vals(struct kset *ks, const struct cgfw_tc_val *v)
{
	for (unsigned i = 0; i < v->n && i < CGFW_TC_INLINE; i++)
		if (cgfw_tc_push_entry(ks, &v->e[i]))
			return -ENOMEM;
	return 0;
}

/* Every entry of a head's current layout, and its sub-keys. */
int cgfw_tc_decode(lookup_fn fn, void *ctx, struct kset *ks)
{
	const struct cgfw_tc_val *h = ks->old;
	struct cgfw_tc_key k = ks->head;
	struct cgfw_tc_val v;
	int err;

	if (!ks->existed)
		return 0;
	if ((err = push_vals(ks, h)))
		return err;
	k.gen = h->gen;
	for (unsigned c = 1; c <= h->nchunks; c++) {
		k.type = CGFW_TC_KEY_CHUNK;
		k.sub = (uint16_t)c;
		if (fn(ctx, &k, &v) == 0 && ((err = push_vals(ks, &v)) || (err = push_sub(ks, &k))))
			return err;
	}
	for (unsigned pl = 1; pl <= h->nportlists; pl++) {
		struct cgfw_tc_val list;

		k.type = CGFW_TC_KEY_PORTLIST;
		k.sub = (uint16_t)pl;
		if (fn(ctx, &k, &list) != 0)
			continue;
		if ((err = push_sub(ks, &k)))
			return err;
		for (unsigned i = 0; i < list.n && i < CGFW_TC_PORTLIST_N; i++) {
			struct cgfw_tc_key pk = k;

			pk.type = CGFW_TC_KEY_PORT;
			pk.sub = list.ports[i];
			if (fn(ctx, &pk, &v) == 0 &&
			    ((err = push_vals(ks, &v)) || (err = push_sub(ks, &pk))))
				return err;
		}
	}
	return 0;
}

/*
 * Writes of one change, streamed: (key, value) pairs collect in a buffer that
 * goes to the kernel in batches, and only the keys written are kept, for the
 * rollback. With no fd the plan only counts. User space thus needs about 200
 * bytes per rule however large the change, and kernel memory is what runs
 * out first.
 */

int cgfw_tc_plan_flush(struct plan *p)
{
	size_t done = 0;
	int err;

	if (p->fd < 0 || !p->n)
		return 0;
	err = cgfw_map_write(p->fd, p->k, p->v, sizeof(*p->k), sizeof(*p->v), p->n, &done, NULL,
			     NULL, 0, 0);
	if (p->ndone + done > p->capdone) {
		size_t cap = (p->ndone + done) * 2 + 1024;
		struct cgfw_tc_key *m = realloc(p->done, cap * sizeof(*m));

		if (!m) {
			/* Cannot even remember them: take them back now. */
			cgfw_map_delete(p->fd, p->k, sizeof(*p->k), done);
			return err ? err : -ENOMEM;
		}
		p->done = m;
		p->capdone = cap;
	}
	memcpy(p->done + p->ndone, p->k, done * sizeof(*p->k));
	p->ndone += done;
	p->n = 0;
	return err;
}

int cgfw_tc_plan_write(struct plan *p, const struct cgfw_tc_key *k, const struct cgfw_tc_val *v)
{
	p->count++;
	if (p->fd < 0)
		return 0;
	p->k[p->n] = *k;
	p->v[p->n++] = *v;
	return p->n == PLAN_BUF ? cgfw_tc_plan_flush(p) : 0;
}

int cgfw_tc_keylist_add(struct keylist *l, const struct cgfw_tc_key *k)
{
	if (l->n == l->cap) {
		struct cgfw_tc_key *m = realloc(l->k, (l->cap = l->cap * 2 + 1024) * sizeof(*m));

		if (!m)
			return -ENOMEM;
		l->k = m;
	}
	l->k[l->n++] = *k;
	return 0;
}

struct portref {
	uint16_t port;
	uint32_t idx; /* position in the rank order */
};

static int cmp_portref(const void *x, const void *y)
{
	const struct portref *a = x, *b = y;

	if (a->port != b->port)
		return a->port < b->port ? -1 : 1;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/*
 * Lay out a key's entries (in rank order) as sub-keys of generation @gen,
 * planned in @p (NULL: not planned), and the head that refers to them, in
 * *ret_head. The layout is a function of the entries alone, so the head can
 * be computed again after the sub-keys went out.
 */
int cgfw_tc_layout(struct kset *ks, uint16_t gen, struct plan *p, struct cgfw_tc_val *ret_head)
{
	struct cgfw_tc_val head = { .gen = gen }, v;
	struct cgfw_tc_key k = ks->head;
	struct portref *singles = NULL;
	bool *ported = NULL;
	uint16_t *ports = NULL;
	size_t ns = 0, nports = 0, m = 0, chunk = 0;
	int err = -ENOMEM;

	k.gen = gen;
	if (ks->n > CGFW_TC_INLINE) {
		/* Single ports go to PORT sub-keys, up to CGFW_TC_INLINE per port. */
		singles = calloc(ks->n, sizeof(*singles));
		ported = calloc(ks->n, sizeof(*ported));
		ports = calloc(ks->n, sizeof(*ports));
		if (!singles || !ported || !ports)
			goto out;
		for (size_t i = 0; i < ks->n; i++)
			if (ks->e[i].port_lo == ks->e[i].port_hi)
				singles[ns++] = (struct portref){ ks->e[i].port_lo, (uint32_t)i };
		qsort(singles, ns, sizeof(*singles), cmp_portref);
		for (size_t i = 0; i < ns;) {
			size_t j = i;

			memset(&v, 0, sizeof(v));
			for (; j < ns && singles[j].port == singles[i].port; j++) {
				if (v.n < CGFW_TC_INLINE) {
					v.e[v.n++] = ks->e[singles[j].idx];
					ported[singles[j].idx] = true;
				}
			}
			k.type = CGFW_TC_KEY_PORT;
			k.sub = singles[i].port;
			if (p && (err = cgfw_tc_plan_write(p, &k, &v)))
				goto out;
			ports[nports++] = singles[i].port;
			head.portmask[(singles[i].port / 64) % 4] |= 1ull << (singles[i].port % 64);
			i = j;
		}
		if (nports > 0xffffu / CGFW_TC_PORTLIST_N * CGFW_TC_PORTLIST_N) {
			err = -E2BIG;
			goto out;
		}
		for (size_t i = 0; i < nports; i += CGFW_TC_PORTLIST_N) {
			memset(&v, 0, sizeof(v));
			for (size_t j = i; j < nports && j < i + CGFW_TC_PORTLIST_N; j++)
				v.ports[v.n++] = ports[j];
			k.type = CGFW_TC_KEY_PORTLIST;
			k.sub = (uint16_t)(i / CGFW_TC_PORTLIST_N + 1);
			if (p && (err = cgfw_tc_plan_write(p, &k, &v)))
				goto out;
			head.nportlists++;
		}
		if (nports)
			head.flags |= CGFW_TC_F_PORTIDX;
	}
	/* The rest, in rank order: CGFW_TC_INLINE in the head, then chunks. */
	memset(&v, 0, sizeof(v));
	for (size_t i = 0; i < ks->n; i++) {
		if (ported && ported[i])
			continue;
		if (m < CGFW_TC_INLINE) {
			head.e[head.n++] = ks->e[i];
		} else {
			v.e[v.n++] = ks->e[i];
			if (v.n == CGFW_TC_INLINE) {
				if (++chunk > 0xffff) {
					err = -E2BIG;
					goto out;
				}
				k.type = CGFW_TC_KEY_CHUNK;
				k.sub = (uint16_t)chunk;
				if (p && (err = cgfw_tc_plan_write(p, &k, &v)))
					goto out;
				memset(&v, 0, sizeof(v));
			}
		}
		m++;
	}
	if (v.n) {
		if (++chunk > 0xffff) {
			err = -E2BIG;
			goto out;
		}
		k.type = CGFW_TC_KEY_CHUNK;
		k.sub = (uint16_t)chunk;
		if (p && (err = cgfw_tc_plan_write(p, &k, &v)))
			goto out;
	}
	head.nchunks = (uint16_t)chunk;
	*ret_head = head;
	err = 0;
out:
	free(singles);
	free(ported);
	free(ports);
	return err;
}
