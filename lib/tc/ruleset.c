// SPDX-License-Identifier: GPL-2.0-only
/*
 * The TC rule set (include/cgfw/tc_rule_map.h): read back into rules,
 * compiled from rules, made live by one switch of cgfw_tc_rtab's slot.
 *
 * Compiling: rules sorted by (family, protocol, destination address, length)
 * put a prefix before the ones it contains, so one pass with a stack of the
 * enclosing prefixes gives every node its parent. A node's entries are its
 * rules best first; its port intervals list, for each range of ports, the
 * entries of the node and of its parents that cover it, in precedence order
 * (a sweep over the ports, see intervals()). One LPM image per family and
 * protocol maps each destination prefix to its node.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include <cgfw/lpm.h>

#include "internal.h"

/* ---- rules and entries ------------------------------------------------------------------ */

static uint64_t rank_of(const struct cgfw_tc_rule *r)
{
	return ((uint64_t)r->src.len << 40) | ((uint64_t)(r->ifindex != 0) << 32) |
	       ((uint64_t)(0xffff - (uint16_t)(r->port_hi - r->port_lo)) << 16) |
	       (uint64_t)(0xffff - r->port_lo);
}

/* The rule as the rule set stores it: addresses masked, the source of the family. */
void cgfw_tc_rule_normalize(struct cgfw_tc_rule *r)
{
	uint8_t m[16];

	cgfw_mask(r->dst.family, r->dst.len, r->dst.addr, m);
	memcpy(r->dst.addr, m, 16);
	if (!r->src.len) {
		memset(&r->src, 0, sizeof(r->src));
		r->src.family = r->dst.family;
	} else {
		cgfw_mask(r->src.family, r->src.len, r->src.addr, m);
		memcpy(r->src.addr, m, 16);
	}
	if (!r->has_to_addr)
		memset(r->to_addr, 0, sizeof(r->to_addr));
}

bool cgfw_tc_same_match(const struct cgfw_tc_rule *a, const struct cgfw_tc_rule *b)
{
	return a->dst.family == b->dst.family && a->dst.len == b->dst.len &&
	       !memcmp(a->dst.addr, b->dst.addr, 16) && a->proto == b->proto &&
	       a->src.len == b->src.len && (!a->src.len || !memcmp(a->src.addr, b->src.addr, 16)) &&
	       a->port_lo == b->port_lo && a->port_hi == b->port_hi && a->ifindex == b->ifindex;
}

/* The order of nodes: family, protocol, destination address, length. */
static int cmp_dst(const struct cgfw_tc_rule *a, const struct cgfw_tc_rule *b)
{
	int c;

	if (a->dst.family != b->dst.family)
		return a->dst.family < b->dst.family ? -1 : 1;
	if (a->proto != b->proto)
		return a->proto < b->proto ? -1 : 1;
	c = memcmp(a->dst.addr, b->dst.addr, 16);
	if (c)
		return c;
	if (a->dst.len != b->dst.len)
		return a->dst.len < b->dst.len ? -1 : 1;
	return 0;
}

/* Within a node: best first. */
static int cmp_in_node(const struct cgfw_tc_rule *a, const struct cgfw_tc_rule *b)
{
	uint64_t ra = rank_of(a), rb = rank_of(b);

	if (ra != rb)
		return ra > rb ? -1 : 1;
	return a->id < b->id ? -1 : a->id > b->id;
}

struct srule {
	struct cgfw_tc_rule r;
	uint64_t netns;
};

static int cmp_srule(const void *x, const void *y)
{
	const struct srule *a = x, *b = y;
	int c = cmp_dst(&a->r, &b->r);

	return c ? c : cmp_in_node(&a->r, &b->r);
}

static bool contains(const struct cgfw_tc_rule *p, const struct cgfw_tc_rule *q)
{
	uint8_t m[16];

	if (p->dst.family != q->dst.family || p->proto != q->proto || p->dst.len > q->dst.len)
		return false;
	cgfw_mask(q->dst.family, p->dst.len, q->dst.addr, m);
	return !memcmp(m, p->dst.addr, 16);
}

void cgfw_tc_set_free(struct cgfw_tc_set *s)
{
	free(s->r);
	free(s->netns);
	memset(s, 0, sizeof(*s));
}

/* ---- compiling --------------------------------------------------------------------------- */

struct tvec {
	union cgfw_tc_elem *e;
	size_t n, cap;
};

static int reserve(struct tvec *v, size_t k, size_t *at)
{
	return cgfw_array_add((void **)&v->e, &v->n, &v->cap, sizeof(*v->e), k, 256, UINT32_MAX / 2,
			      "TC rule set", at);
}

/* ---- port intervals -------------------------------------------------------------------- */

/* An entry that may decide for a node: its ports, its place in precedence, its element. */
struct cand {
	uint16_t lo, hi;
	uint32_t pos;
	uint32_t elem;
	bool always; /* no source prefix, no interface: it matches every packet of its ports */
};

static int cmp_cand_lo(const void *x, const void *y)
{
	const struct cand *a = x, *b = y;

	if (a->lo != b->lo)
		return a->lo < b->lo ? -1 : 1;
	return a->pos < b->pos ? -1 : a->pos > b->pos;
}

static int cmp_u32(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;

	return a < b ? -1 : a > b;
}

/* Candidate lists already written, so intervals with the same list share it. */
struct ltab {
	uint64_t *hash;
	uint32_t *at, *len; /* element of the list, its length */
	size_t n, nslots;
};

static uint64_t list_hash(const uint32_t *l, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ l[i]) * 0x100000001b3ull;
	return h | 1;
}

static const uint32_t *list_at(const struct tvec *v, uint32_t at)
{
	return v->e[at].cand;
}

/*
 * Where candidate list @l (n entries) is, written once. Lists start on an
 * element; a list is compared through the elements it was written to.
 */
static int list_put(struct tvec *v, struct ltab *t, const uint32_t *l, size_t n, uint32_t *ret)
{
	uint64_t h = list_hash(l, n);
	size_t at, i;
	int err;

	if ((t->n + 1) * 2 > t->nslots) {
		size_t ns = t->nslots ? t->nslots * 2 : 1024;
		uint64_t *nh = calloc(ns, sizeof(*nh));
		uint32_t *na = calloc(ns, sizeof(*na)), *nl = calloc(ns, sizeof(*nl));

		if (!nh || !na || !nl) {
			free(nh);
			free(na);
			free(nl);
			return cgfw_seterr(ENOMEM, "out of memory");
		}
		for (i = 0; i < t->nslots; i++) {
			size_t k;

			if (!t->hash[i])
				continue;
			for (k = t->hash[i] & (ns - 1); nh[k]; k = (k + 1) & (ns - 1))
				;
			nh[k] = t->hash[i];
			na[k] = t->at[i];
			nl[k] = t->len[i];
		}
		free(t->hash);
		free(t->at);
		free(t->len);
		t->hash = nh;
		t->at = na;
		t->len = nl;
		t->nslots = ns;
	}
	for (i = h & (t->nslots - 1); t->hash[i]; i = (i + 1) & (t->nslots - 1)) {
		bool same = t->hash[i] == h && t->len[i] == n;

		for (size_t k = 0; same && k < n; k++)
			same = list_at(v,
				       t->at[i] +
					       (uint32_t)(k / CGFW_TC_CANDS))[k % CGFW_TC_CANDS] ==
			       l[k];
		if (same) {
			*ret = t->at[i];
			return 0;
		}
	}
	err = reserve(v, (n + CGFW_TC_CANDS - 1) / CGFW_TC_CANDS, &at);
	if (err)
		return err;
	for (size_t k = 0; k < n; k++)
		v->e[at + k / CGFW_TC_CANDS].cand[k % CGFW_TC_CANDS] = l[k];
	t->hash[i] = h;
	t->at[i] = (uint32_t)at;
	t->len[i] = (uint32_t)n;
	t->n++;
	*ret = (uint32_t)at;
	return 0;
}

/*
 * Every node's port intervals: a sweep over the ports of its own entries and
 * its parents'. Single ports are looked up where they are; ranges are the
 * active set, kept in precedence order.
 */
static int intervals(struct tvec *v, const struct srule *sr, const uint32_t *first_of,
		     size_t nnodes, size_t nodes_at, size_t ent_at)
{
	struct cand *c = NULL, *act = NULL;
	uint32_t *bounds = NULL, *list = NULL;
	struct ltab lt = {};
	size_t cap = 0, total = 0;
	int err = 0;

	for (size_t nd = 0; nd < nnodes && !err; nd++) {
		size_t nc = 0, nb = 0, nact = 0, ci = 0, iv_at = 0, niv = 0, capiv = 0;
		struct cgfw_tc_ival *ivs = NULL;
		uint32_t node = (uint32_t)nd + 1, pos = 0;

		/* The chain: this node, its parent, and so on; entries best first in each. */
		for (uint32_t up = node; up; up = v->e[nodes_at + 2 * (up - 1)].na.parent) {
			size_t lo = first_of[up - 1], hi = first_of[up];

			if (nc + (hi - lo) > cap) {
				size_t ncap = (nc + (hi - lo)) * 2 + 16;
				struct cand *m = realloc(c, ncap * sizeof(*m));
				struct cand *ma = realloc(act, ncap * sizeof(*ma));
				uint32_t *mb = realloc(bounds, 2 * ncap * sizeof(*mb));
				uint32_t *ml = realloc(list, ncap * sizeof(*ml));

				if (m)
					c = m;
				if (ma)
					act = ma;
				if (mb)
					bounds = mb;
				if (ml)
					list = ml;
				if (!m || !ma || !mb || !ml) {
					err = cgfw_seterr(ENOMEM, "out of memory");
					goto out;
				}
				cap = ncap;
			}
			for (size_t i = lo; i < hi; i++) {
				c[nc].lo = sr[i].r.port_lo;
				c[nc].hi = sr[i].r.port_hi;
				c[nc].pos = pos++;
				c[nc].always = !sr[i].r.src.len && !sr[i].r.ifindex;
				c[nc++].elem = (uint32_t)(ent_at + 2 * i);
			}
		}
		for (size_t i = 0; i < nc; i++) {
			bounds[nb++] = c[i].lo;
			bounds[nb++] = (uint32_t)c[i].hi + 1;
		}
		qsort(bounds, nb, sizeof(*bounds), cmp_u32);
		qsort(c, nc, sizeof(*c), cmp_cand_lo);
		for (size_t b = 0; b + 1 < nb; b++) {
			uint32_t from = bounds[b], to = bounds[b + 1];
			size_t nl = 0;

			if (from == to || from > 65535)
				continue;
			/* Entries starting here join; entries that ended leave. */
			for (; ci < nc && c[ci].lo <= from; ci++) {
				size_t k = nact;

				while (k && act[k - 1].pos > c[ci].pos)
					k--;
				memmove(&act[k + 1], &act[k], (nact - k) * sizeof(*act));
				act[k] = c[ci];
				nact++;
			}
			{
				size_t w = 0;

				for (size_t k = 0; k < nact; k++)
					if (act[k].hi >= from)
						act[w++] = act[k];
				nact = w;
			}
			/* Nothing after a candidate that always matches can decide. */
			for (size_t k = 0; k < nact; k++) {
				list[nl++] = act[k].elem;
				if (act[k].always)
					break;
			}
			if (!nl)
				continue;
			total += nl;
			if (total > CGFW_TC_CANDS_MAX) {
				struct cgfw_prefix d = sr[first_of[nd]].r.dst;
				char buf[CGFW_ADDRSTRLEN];

				cgfw_format_prefix(&d, buf, sizeof(buf));
				err = cgfw_seterr(
					E2BIG,
					"too many overlapping port ranges (at %s and the "
					"prefixes around it): the rule set would list %zu "
					"candidates, at most %u",
					buf, total, CGFW_TC_CANDS_MAX);
				goto out;
			}
			if (niv == capiv) {
				struct cgfw_tc_ival *m =
					realloc(ivs, (capiv = capiv * 2 + 16) * sizeof(*m));

				if (!m) {
					err = cgfw_seterr(ENOMEM, "out of memory");
					goto out;
				}
				ivs = m;
			}
			memset(&ivs[niv], 0, sizeof(ivs[niv]));
			ivs[niv].lo = (uint16_t)from;
			ivs[niv].hi = (uint16_t)(to - 1);
			ivs[niv].ncands = (uint32_t)nl;
			err = list_put(v, &lt, list, nl, &ivs[niv].cands);
			if (err) {
				free(ivs);
				goto out;
			}
			/* The same list right after the last one: one interval. */
			if (niv && ivs[niv - 1].hi + 1u == from &&
			    ivs[niv - 1].cands == ivs[niv].cands &&
			    ivs[niv - 1].ncands == ivs[niv].ncands)
				ivs[niv - 1].hi = (uint16_t)(to - 1);
			else
				niv++;
		}
		err = reserve(v, (niv + CGFW_TC_IVALS - 1) / CGFW_TC_IVALS, &iv_at);
		if (!err) {
			struct cgfw_tc_node_b *b = &v->e[nodes_at + 2 * nd + 1].nb;

			b->ivals = (uint32_t)iv_at;
			b->nivals = (uint32_t)niv;
			for (size_t k = 0; k < niv; k++)
				v->e[iv_at + k / CGFW_TC_IVALS].iv[k % CGFW_TC_IVALS] = ivs[k];
		}
		free(ivs);
	}
out:
	free(c);
	free(act);
	free(bounds);
	free(list);
	free(lt.hash);
	free(lt.at);
	free(lt.len);
	return err;
}

int cgfw_tc_set_compile(const struct cgfw_tc_set *s, union cgfw_tc_elem **ret, size_t *ret_n)
{
	_cleanup_free_ struct srule *sr = NULL;
	_cleanup_free_ uint32_t *node_of = NULL;  /* per sorted rule: its node (1-based) */
	_cleanup_free_ uint32_t *first_of = NULL; /* per node: its first sorted rule */
	_cleanup_free_ struct cgfw_lpm_entry *ents = NULL;
	struct tvec v = {};
	size_t nnodes = 0, at, nodes_at, ent_at, n = s->n;
	uint32_t stack[CGFW_TC_MAX_DEPTH];
	size_t depth = 0;
	int err;

	sr = malloc((n ? n : 1) * sizeof(*sr));
	node_of = malloc((n ? n : 1) * sizeof(*node_of));
	first_of = malloc((n + 1) * sizeof(*first_of));
	ents = malloc((n ? n : 1) * sizeof(*ents));
	if (!sr || !node_of || !first_of || !ents)
		return cgfw_seterr(ENOMEM, "out of memory for %zu rules", n);
	for (size_t i = 0; i < n; i++) {
		sr[i].r = s->r[i];
		sr[i].netns = s->netns ? s->netns[i] : 0;
	}
	qsort(sr, n, sizeof(*sr), cmp_srule);
	for (size_t i = 0; i < n; i++) {
		if (!i || cmp_dst(&sr[i].r, &sr[i - 1].r))
			first_of[nnodes++] = (uint32_t)i;
		node_of[i] = (uint32_t)nnodes;
	}
	first_of[nnodes] = (uint32_t)n;

	err = reserve(&v, 2, &at);
	if (err)
		goto fail;
	/* One image per family and protocol, over its nodes' prefixes. */
	for (int k = 0; k < 4; k++) {
		struct cgfw_lpm_image *img = NULL;
		const struct cgfw_lpm_elem *le;
		size_t ne = 0, nle;

		for (size_t nd = 0; nd < nnodes; nd++) {
			const struct cgfw_tc_rule *r = &sr[first_of[nd]].r;

			if ((int)CGFW_TC_ROOT(r->dst.family, r->proto) != k)
				continue;
			memset(&ents[ne], 0, sizeof(ents[ne]));
			ents[ne].family = r->dst.family;
			ents[ne].len = r->dst.len;
			ents[ne].value = (uint32_t)(nd + 1);
			memcpy(ents[ne].addr, r->dst.addr, 16);
			ne++;
		}
		if (!ne)
			continue;
		err = cgfw_lpm_build(ents, ne,
				     CGFW_LPM_F_DUP_ERROR |
					     CGFW_LPM_F_ROOT_BITS(cgfw_lpm_root_bits_for(ne)),
				     &img);
		if (err) {
			err = cgfw_seterr(err, "cannot compile %zu destination prefixes: %s", ne,
					  strerror(-err));
			goto fail;
		}
		le = cgfw_lpm_elems(img, &nle);
		err = reserve(&v, nle, &at);
		if (!err) {
			memcpy(&v.e[at], le, nle * sizeof(*le));
			v.e[1].roots.img[k] = (uint32_t)at;
			v.e[1].roots.rb[k] = (uint8_t)cgfw_lpm_root_bits(img);
		}
		cgfw_lpm_free(img);
		if (err)
			goto fail;
	}
	/* Nodes, then entries, then port indexes, then records. */
	err = reserve(&v, 2 * nnodes, &nodes_at);
	if (!err)
		err = reserve(&v, 2 * n, &ent_at);
	if (err)
		goto fail;
	for (size_t nd = 0; nd < nnodes; nd++) {
		const struct cgfw_tc_rule *p = &sr[first_of[nd]].r;
		size_t lo = first_of[nd], hi = first_of[nd + 1];
		struct cgfw_tc_node_a *a;

		while (depth && !contains(&sr[first_of[stack[depth - 1]]].r, p))
			depth--;
		a = &v.e[nodes_at + 2 * nd].na;
		memcpy(a->addr, p->dst.addr, 16);
		a->len = p->dst.len;
		a->family = p->dst.family;
		a->proto = p->proto;
		a->parent = depth ? stack[depth - 1] + 1 : 0;
		a->first = (uint32_t)(ent_at + 2 * lo);
		a->n = (uint32_t)(hi - lo);
		if (depth < CGFW_TC_MAX_DEPTH)
			stack[depth++] = (uint32_t)nd;
		for (size_t i = lo; i < hi; i++) {
			const struct cgfw_tc_rule *r = &sr[i].r;
			struct cgfw_tc_entry_a *ea = &v.e[ent_at + 2 * i].ea;
			struct cgfw_tc_entry_b *eb = &v.e[ent_at + 2 * i + 1].eb;

			ea->id = r->id;
			ea->ifindex = r->ifindex;
			ea->port_lo = r->port_lo;
			ea->port_hi = r->port_hi;
			ea->to_port = htons(r->to_port);
			ea->kind = r->kind;
			ea->src_len = r->src.len;
			if (r->src.len)
				memcpy(ea->src, r->src.addr, 16);
			if (r->has_to_addr)
				memcpy(eb->to_addr, r->to_addr, 16);
		}
	}
	err = intervals(&v, sr, first_of, nnodes, nodes_at, ent_at);
	if (err)
		goto fail;
	err = reserve(&v, n, &at);
	if (err)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		v.e[at + i].rec.id = sr[i].r.id;
		v.e[at + i].rec.netns = sr[i].netns;
	}
	v.e[0].hdr.magic = CGFW_TC_MAGIC;
	v.e[0].hdr.version = CGFW_TC_VERSION;
	v.e[0].hdr.elems = (uint32_t)v.n;
	v.e[0].hdr.nrules = (uint32_t)n;
	v.e[0].hdr.nodes = (uint32_t)nodes_at;
	v.e[0].hdr.nnodes = (uint32_t)nnodes;
	v.e[0].hdr.recs = (uint32_t)at;
	v.e[0].hdr.next_id = s->next_id ? s->next_id : 1;
	v.e[1].roots.gen = s->gen;
	*ret = v.e;
	*ret_n = v.n;
	return 0;
fail:
	free(v.e);
	return err;
}

/* ---- the live set --------------------------------------------------------------------------- */

static int live(struct cgfw_tc *tc, int *ret_fd, uint32_t *ret_cap)
{
	return cgfw_inner_open(tc->rtab_fd, "TC rule set", ret_fd, ret_cap);
}

int cgfw_tc_set_map(struct cgfw_tc *tc, bool writable, const union cgfw_tc_elem **ret,
		    size_t *ret_n, size_t *ret_mapped, int *ret_fd)
{
	const union cgfw_tc_elem *e;
	const struct cgfw_tc_hdr *h;
	uint32_t cap = 0;
	size_t sz;
	int fd = -1, err;

	err = live(tc, &fd, &cap);
	if (err)
		return err;
	sz = (size_t)cap * CGFW_TC_ELEM_SIZE;
	e = mmap(NULL, sz, PROT_READ | (writable ? PROT_WRITE : 0), MAP_SHARED, fd, 0);
	if (e == MAP_FAILED) {
		err = -errno;
		close(fd);
		return cgfw_seterr(err, "cannot map the TC rule set: %s", strerror(-err));
	}
	h = &e[0].hdr;
	if (h->magic != CGFW_TC_MAGIC || h->version != CGFW_TC_VERSION || h->elems > cap ||
	    h->recs > h->elems || h->nrules > h->elems - h->recs ||
	    (uint64_t)h->nodes + 2ull * h->nnodes > h->elems) {
		munmap((void *)e, sz);
		close(fd);
		return cgfw_seterr(EPROTO, "the TC rule set is damaged; run 'cgfw reset --yes'");
	}
	*ret = e;
	*ret_n = h->elems;
	*ret_mapped = sz;
	if (ret_fd)
		*ret_fd = fd;
	else
		close(fd);
	return 0;
}

int cgfw_tc_set_read(struct cgfw_tc *tc, struct cgfw_tc_set *ret)
{
	const union cgfw_tc_elem *e;
	const struct cgfw_tc_hdr *h;
	struct cgfw_tc_set s = {};
	size_t n, mapped, k = 0;
	int err;

	err = cgfw_tc_set_map(tc, false, &e, &n, &mapped, NULL);
	if (err)
		return err;
	h = &e[0].hdr;
	s.next_id = h->next_id;
	s.gen = e[1].roots.gen;
	s.r = calloc(h->nrules ? h->nrules : 1, sizeof(*s.r));
	s.netns = calloc(h->nrules ? h->nrules : 1, sizeof(*s.netns));
	if (!s.r || !s.netns) {
		munmap((void *)e, mapped);
		cgfw_tc_set_free(&s);
		return cgfw_seterr(ENOMEM, "out of memory");
	}
	for (uint32_t nd = 0; nd < h->nnodes; nd++) {
		const struct cgfw_tc_node_a *a = &e[h->nodes + 2 * nd].na;

		for (uint32_t i = 0; i < a->n && k < h->nrules; i++, k++) {
			size_t at = a->first + 2 * (size_t)i;
			const struct cgfw_tc_entry_a *ea;
			const struct cgfw_tc_entry_b *eb;
			struct cgfw_tc_rule *r = &s.r[k];

			if (at + 1 >= n)
				break;
			ea = &e[at].ea;
			eb = &e[at + 1].eb;
			r->id = ea->id;
			r->kind = ea->kind;
			r->proto = a->proto;
			r->port_lo = ea->port_lo;
			r->port_hi = ea->port_hi;
			r->dst.family = a->family;
			r->dst.len = a->len;
			memcpy(r->dst.addr, a->addr, 16);
			r->src.family = a->family;
			r->src.len = ea->src_len;
			memcpy(r->src.addr, ea->src, 16);
			r->to_port = ntohs(ea->to_port);
			r->has_to_addr = memcmp(eb->to_addr, (uint8_t[16]){ 0 }, 16) != 0;
			r->to_family = a->family;
			memcpy(r->to_addr, eb->to_addr, 16);
			r->ifindex = ea->ifindex;
			if (ea->ifindex && !if_indextoname(ea->ifindex, r->ifname))
				snprintf(r->ifname, sizeof(r->ifname), "#%u", ea->ifindex);
			r->packets = eb->packets;
			r->bytes = eb->bytes;
			r->seen = CGFW_TC_OPT_DST | CGFW_TC_OPT_PROTO | CGFW_TC_OPT_PORTS |
				  (ea->src_len ? CGFW_TC_OPT_SRC : 0) |
				  (ea->ifindex ? CGFW_TC_OPT_IFACE : 0) |
				  (ea->kind != CGFW_TC_INBOUND ? CGFW_TC_OPT_TO : 0);
			/* Records are in entry order. */
			if (h->recs + k < n && e[h->recs + k].rec.id == ea->id)
				s.netns[k] = e[h->recs + k].rec.netns;
		}
	}
	s.n = k;
	munmap((void *)e, mapped);
	*ret = s;
	return 0;
}

struct idref {
	uint32_t id;
	uint32_t at; /* element of the entry's counters */
};

static int cmp_idref(const void *a, const void *b)
{
	uint32_t x = ((const struct idref *)a)->id, y = ((const struct idref *)b)->id;

	return x < y ? -1 : x > y;
}

/* Old counts (final: the switch waited for their readers) into the new set, by rule id. */
static void carry(const union cgfw_tc_elem *o, union cgfw_tc_elem *w)
{
	const struct cgfw_tc_hdr *ho = &o[0].hdr, *hw = &w[0].hdr;
	_cleanup_free_ struct idref *ids = calloc(hw->nrules ? hw->nrules : 1, sizeof(*ids));
	size_t k = 0;

	if (!ids)
		return;
	for (uint32_t nd = 0; nd < hw->nnodes; nd++) {
		const struct cgfw_tc_node_a *a = &w[hw->nodes + 2 * nd].na;

		for (uint32_t i = 0; i < a->n && k < hw->nrules; i++, k++) {
			ids[k].id = w[a->first + 2 * i].ea.id;
			ids[k].at = a->first + 2 * i + 1;
		}
	}
	qsort(ids, k, sizeof(*ids), cmp_idref);
	for (uint32_t nd = 0; nd < ho->nnodes; nd++) {
		const struct cgfw_tc_node_a *a = &o[ho->nodes + 2 * nd].na;

		for (uint32_t i = 0; i < a->n; i++) {
			const struct cgfw_tc_entry_b *from = &o[a->first + 2 * i + 1].eb;
			struct idref key = { .id = o[a->first + 2 * i].ea.id }, *hit;

			if (!from->packets)
				continue;
			hit = bsearch(&key, ids, k, sizeof(*ids), cmp_idref);
			if (!hit)
				continue;
			__atomic_fetch_add(&w[hit->at].eb.packets, from->packets, __ATOMIC_RELAXED);
			__atomic_fetch_add(&w[hit->at].eb.bytes, from->bytes, __ATOMIC_RELAXED);
		}
	}
}

int cgfw_tc_set_new_map(const union cgfw_tc_elem *e, size_t n, uint32_t cap, int *ret_fd)
{
	return cgfw_inner_new("cgfw_tc_set", "TC rule set", CGFW_TC_ELEM_SIZE, e, n, cap, ret_fd);
}

/*
 * The rule set needs more room than the template cgfw_tc_rtab was made with:
 * a new cgfw_tc_rtab with a larger template, holding a copy of the live set,
 * pinned in place of the old one, then every interface's programs loaded
 * against it. Packets see the old rules throughout; a command killed part
 * way leaves programs on the old map, which the next locked open reloads.
 */
static int grow(struct cgfw_tc *tc, size_t need, uint32_t *capp)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_MMAPABLE);
	const union cgfw_tc_elem *old = NULL;
	_cleanup_close_ int tmpl = -1, outer = -1;
	char path[PATH_MAX], tmp[PATH_MAX + 8];
	uint64_t cap = *capp;
	size_t nold = 0, mapped = 0;
	int inner = -1, err;
	__u32 zero = 0;

	while (cap < need + need / 4)
		cap *= 4;
	if (cap > UINT32_MAX)
		return cgfw_seterr(E2BIG, "the TC rule set would need %zu elements", need);
	/* Before anything: every interface's programs must be within reach. */
	err = cgfw_tc_reload(tc, true, false);
	if (err < 0)
		return err;
	tmpl = bpf_map_create(BPF_MAP_TYPE_ARRAY, "cgfw_tc_tmpl", sizeof(__u32), CGFW_TC_ELEM_SIZE,
			      (uint32_t)cap, &opts);
	if (tmpl < 0)
		return cgfw_seterr(errno, "cannot make room for %zu TC rule set elements: %s", need,
				   strerror(errno));
	LIBBPF_OPTS(bpf_map_create_opts, oopts, .inner_map_fd = tmpl);
	outer = bpf_map_create(BPF_MAP_TYPE_ARRAY_OF_MAPS, CGFW_TC_RTAB_PIN, sizeof(__u32),
			       sizeof(__u32), 1, &oopts);
	if (outer < 0)
		return cgfw_seterr(errno, "cannot make a larger %s: %s", CGFW_TC_RTAB_PIN,
				   strerror(errno));
	err = cgfw_tc_set_map(tc, false, &old, &nold, &mapped, NULL);
	if (!err)
		err = cgfw_tc_set_new_map(old, nold, (uint32_t)cap, &inner);
	if (old)
		munmap((void *)old, mapped);
	if (err)
		return err;
	err = bpf_map_update_elem(outer, &zero, &inner, BPF_ANY) < 0 ? -errno : 0;
	close(inner);
	if (err)
		return cgfw_seterr(err, "cannot fill the larger %s: %s", CGFW_TC_RTAB_PIN,
				   strerror(-err));
	cgfw_pin_path(tc->pin, CGFW_TC_RTAB_PIN, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s_new", path); /* bpffs refuses names with a dot */
	unlink(tmp);
	if (bpf_obj_pin(outer, tmp) < 0 || rename(tmp, path) < 0) {
		err = -errno;
		unlink(tmp);
		return cgfw_seterr(err, "cannot pin the larger %s: %s", CGFW_TC_RTAB_PIN,
				   strerror(-err));
	}
	close(tc->rtab_fd);
	tc->rtab_fd = TAKE_FD(outer);
	*capp = (uint32_t)cap;
	err = cgfw_tc_reload(tc, false, false);
	return err < 0 ? err : 0;
}

int cgfw_tc_set_commit(struct cgfw_tc *tc, const struct cgfw_tc_set *s)
{
	_cleanup_free_ union cgfw_tc_elem *e = NULL;
	const union cgfw_tc_elem *old = NULL;
	struct cgfw_tc_set next = *s;
	size_t n = 0, nold = 0, mapped = 0;
	uint32_t cap;
	__u32 zero = 0;
	int fd = -1, err;

	if (s->n > CGFW_TC_RULES_MAX)
		return cgfw_seterr(ENOSPC, "too many TC rules: %zu, at most %u", s->n,
				   CGFW_TC_RULES_MAX);
	next.gen = s->gen + 1;
	err = cgfw_tc_set_compile(&next, &e, &n);
	if (!err)
		err = cgfw_tc_set_map(tc, false, &old, &nold, &mapped, NULL);
	if (err)
		return err;
	cap = (uint32_t)(mapped / CGFW_TC_ELEM_SIZE);
	if (n > cap) {
		munmap((void *)old, mapped);
		old = NULL;
		err = grow(tc, n, &cap);
		if (!err)
			err = cgfw_tc_set_map(tc, false, &old, &nold, &mapped, NULL);
		if (err)
			return err;
	}
	err = cgfw_tc_set_new_map(e, n, cap, &fd);
	if (err) {
		munmap((void *)old, mapped);
		return err;
	}
	/* The switch: after it returns, no program still reads the old set. */
	err = bpf_map_update_elem(tc->rtab_fd, &zero, &fd, BPF_ANY) < 0 ? -errno : 0;
	if (!err) {
		size_t sz = (size_t)cap * CGFW_TC_ELEM_SIZE;
		union cgfw_tc_elem *w = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

		if (w != MAP_FAILED) {
			carry(old, w);
			munmap(w, sz);
		}
	}
	munmap((void *)old, mapped);
	close(fd);
	if (err)
		return cgfw_seterr(err, "cannot switch to the new TC rule set: %s", strerror(-err));
	return 0;
}
