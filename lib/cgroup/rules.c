// SPDX-License-Identifier: GPL-2.0-only
/*
 * Changes to the cgroup datapath: a change reads the live rule set, applies
 * everything the caller asks for to a copy in memory (attachments, rules,
 * defaults, detachments), and commits the copy with one switch (ruleset.c).
 * Only then are links made for new cgroups and removed for detached ones;
 * a command that dies in between leaves a rule set the next command makes
 * the links match (attach.c, cgfw_state_repair). So a change is old or new,
 * even after kill -9, and no count can drift: every count is derived from
 * the rule set itself.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "internal.h"

static int rs_copy(const struct rs *a, struct rs *b)
{
	*b = *a;
	b->scopes = malloc((a->nscopes ? a->nscopes : 1) * sizeof(*a->scopes));
	b->rules = malloc((a->nrules ? a->nrules : 1) * sizeof(*a->rules));
	if (!b->scopes || !b->rules) {
		cgfw_rs_free(b);
		return cgfw_seterr(ENOMEM, "out of memory");
	}
	memcpy(b->scopes, a->scopes, a->nscopes * sizeof(*a->scopes));
	memcpy(b->rules, a->rules, a->nrules * sizeof(*a->rules));
	return 0;
}

int cgfw_change_begin(struct cgfw_state *st, struct cgfw_change **ret)
{
	struct cgfw_change *c = calloc(1, sizeof(*c));
	int err;

	if (!c)
		return cgfw_seterr(ENOMEM, "out of memory");
	c->st = st;
	err = cgfw_rs_read(st, &c->rs);
	if (!err)
		err = rs_copy(&c->rs, &c->orig);
	if (err) {
		cgfw_change_free(c);
		return err;
	}
	*ret = c;
	return 0;
}

void cgfw_change_free(struct cgfw_change *c)
{
	if (!c)
		return;
	/* Registry entries of attachments that never went live. */
	for (size_t i = 0; i < c->natt && !c->committed; i++)
		if (c->att[i].registered)
			bpf_map_delete_elem(c->st->cgroups_fd, &c->att[i].id);
	cgfw_rs_free(&c->rs);
	cgfw_rs_free(&c->orig);
	free(c->att);
	free(c->det);
	free(c);
}

int cgfw_change_attach(struct cgfw_change *c, const struct cgfw_cgroup *cg)
{
	struct pend *m, *p;
	bool registered = false;
	uint32_t slot;
	int err;

	for (size_t i = 0; i < c->natt; i++)
		if (c->att[i].id == cg->id)
			return 0;
	err = cgfw_register(c->st, &c->rs, cg, &slot, &registered);
	if (err)
		return err;
	m = realloc(c->att, (c->natt + 1) * sizeof(*m));
	if (!m) {
		if (registered)
			bpf_map_delete_elem(c->st->cgroups_fd, &cg->id);
		return cgfw_seterr(ENOMEM, "out of memory");
	}
	c->att = m;
	p = &c->att[c->natt++];
	p->id = cg->id;
	p->slot = slot;
	p->registered = registered;
	snprintf(p->abs, sizeof(p->abs), "%s", cg->abs);
	/* An attached cgroup keeps its scope (rules, defaults) as it is. */
	if (slot < c->rs.nscopes && c->rs.scopes[slot].used && c->rs.scopes[slot].cgid == cg->id)
		return 0;
	return cgfw_rs_scope_set(&c->rs, slot, cg->id);
}

int cgfw_change_detach(struct cgfw_change *c, uint64_t id)
{
	int slot = cgfw_rs_slot(&c->rs, id);
	uint64_t *m;

	if (slot <= 0)
		return cgfw_seterr(EINVAL, "cgroup id %llu is not attached",
				   (unsigned long long)id);
	m = realloc(c->det, (c->ndet + 1) * sizeof(*m));
	if (!m)
		return cgfw_seterr(ENOMEM, "out of memory");
	c->det = m;
	c->det[c->ndet++] = id;
	cgfw_rs_scope_drop(&c->rs, (uint32_t)slot);
	return 0;
}

int cgfw_change_default(struct cgfw_change *c, uint64_t id, uint8_t dirs, uint8_t verdict)
{
	int slot = cgfw_rs_slot(&c->rs, id);

	if (slot <= 0)
		return cgfw_seterr(EINVAL, "cgroup id %llu is not attached",
				   (unsigned long long)id);
	if (verdict != CGFW_VERDICT_ALLOW && verdict != CGFW_VERDICT_DENY)
		return cgfw_seterr(EINVAL, "bad verdict %u", verdict);
	for (int d = 0; d < CGFW_DIR_COUNT; d++)
		if (dirs & CGFW_DIR_BIT(d))
			c->rs.scopes[slot].def[d] = verdict;
	return 0;
}

int cgfw_change_audit(struct cgfw_change *c, uint64_t id, bool audit)
{
	int slot = cgfw_rs_slot(&c->rs, id);

	if (slot <= 0)
		return cgfw_seterr(EINVAL, "cgroup id %llu is not attached",
				   (unsigned long long)id);
	c->rs.scopes[slot].audit = audit;
	return 0;
}

int cgfw_change_rules(struct cgfw_change *c, const struct cgfw_rule *rules, const bool *adds,
		      bool add_all, size_t n)
{
	return cgfw_rs_apply(&c->rs, rules, adds, add_all, n);
}

void cgfw_change_policy(struct cgfw_change *c, uint64_t hash)
{
	c->rs.policy = hash;
}

int cgfw_change_commit(struct cgfw_change *c)
{
	struct cgfw_state *st = c->st;
	size_t linked = 0;
	int err;

	if (c->rs.nrules > CGFW_RS_RULES_MAX)
		return cgfw_seterr(ENOSPC, "too many rules: %zu, at most %u", c->rs.nrules,
				   CGFW_RS_RULES_MAX);
	err = cgfw_rs_commit(st, &c->rs);
	if (err)
		return err;
	c->committed = true;
	for (; linked < c->natt; linked++) {
		if (!c->att[linked].abs[0])
			continue; /* a scope without programs */
		err = cgfw_link(st, c->att[linked].id, c->att[linked].slot, c->att[linked].abs);
		if (err)
			break;
	}
	if (err) {
		/* Back to what was live; the cgroups this change attached are forgotten. */
		char msg[1024];

		snprintf(msg, sizeof(msg), "%s", cgfw_errmsg());
		c->orig.gen = c->rs.gen + 1;
		if (cgfw_rs_commit(st, &c->orig) == 0) {
			for (size_t i = 0; i < c->natt; i++)
				if (c->att[i].registered) {
					cgfw_unlink(st, c->att[i].id);
					bpf_map_delete_elem(st->cgroups_fd, &c->att[i].id);
				}
		}
		return cgfw_seterr(err, "%s", msg);
	}
	for (size_t i = 0; i < c->ndet && !err; i++) {
		err = cgfw_unlink(st, c->det[i]);
		if (!err)
			err = cgfw_forget(st, c->det[i]);
	}
	return err;
}

/* ---- rule batches --------------------------------------------------------------------------- */

int cgfw_rules_update_ops(struct cgfw_state *st, const struct cgfw_rule *rules, const bool *adds,
			  bool add_all, size_t n, cgfw_progress_fn progress, void *arg)
{
	struct cgfw_change *c = NULL;
	int changed, err;

	if (progress)
		progress(0, n, arg);
	err = cgfw_change_begin(st, &c);
	if (err)
		return err;
	changed = cgfw_change_rules(c, rules, adds, add_all, n);
	err = changed < 0 ? changed : changed ? cgfw_change_commit(c) : 0;
	cgfw_change_free(c);
	if (err)
		return err;
	if (progress)
		progress(n, n, arg);
	return changed;
}

int cgfw_rules_update(struct cgfw_state *st, const struct cgfw_rule *rules, size_t n, bool add,
		      cgfw_progress_fn progress, void *arg)
{
	return cgfw_rules_update_ops(st, rules, NULL, add, n, progress, arg);
}

/* ---- listing ---------------------------------------------------------------------------------- */

struct list {
	struct cgfw_rule *r;
	size_t n, cap;
};

/* One set rule as the rules it merges: one per (origin, action) with its directions. */
static int emit(struct list *l, uint64_t scope, const struct cgfw_rs_rule *k)
{
	for (int o = 0; o < CGFW_ORIGIN_COUNT; o++) {
		for (int a = CGFW_ALLOW; a <= CGFW_DENY; a++) {
			__u8 bit = a == CGFW_DENY ? CGFW_ACT_DENY_BIT(o) : CGFW_ACT_ALLOW_BIT(o);
			struct cgfw_rule r = {};

			for (int d = 0; d < CGFW_DIR_COUNT; d++)
				if (k->act[d] & bit)
					r.dirs |= CGFW_DIR_BIT(d);
			if (!r.dirs)
				continue;
			if (l->n == l->cap) {
				size_t cap = l->cap * 2 + 64;
				struct cgfw_rule *m = realloc(l->r, cap * sizeof(*m));

				if (!m)
					return cgfw_seterr(ENOMEM, "out of memory");
				l->r = m;
				l->cap = cap;
			}
			r.scope = scope;
			r.pfx.family = k->family;
			r.pfx.len = k->len;
			memcpy(r.pfx.addr, k->addr, 16);
			r.proto = k->proto;
			/* A protocol rule for every port lists as 0-65535; ICMP has none. */
			if (k->proto && k->proto != CGFW_PROTO_ICMP) {
				r.port_lo = k->lo;
				r.port_hi = k->hi;
			}
			r.action = (uint8_t)a;
			r.origin = (uint8_t)o;
			l->r[l->n++] = r;
		}
	}
	return 0;
}

static const struct cgfw_rule *sort_rules; /* for cmp_ix: qsort has no argument */

static int cmp_rule(const void *a, const void *b);

static int cmp_ix(const void *a, const void *b)
{
	return cmp_rule(&sort_rules[*(const size_t *)a], &sort_rules[*(const size_t *)b]);
}

static int cmp_rule(const void *a, const void *b)
{
	const struct cgfw_rule *x = a, *y = b;

	if (x->scope != y->scope)
		return x->scope < y->scope ? -1 : 1;
	if (x->pfx.family != y->pfx.family)
		return x->pfx.family - y->pfx.family;
	if (memcmp(x->pfx.addr, y->pfx.addr, 16))
		return memcmp(x->pfx.addr, y->pfx.addr, 16);
	if (x->pfx.len != y->pfx.len)
		return x->pfx.len - y->pfx.len;
	if (x->proto != y->proto)
		return x->proto - y->proto;
	if (x->port_lo != y->port_lo)
		return x->port_lo - y->port_lo;
	if (x->port_hi != y->port_hi)
		return x->port_hi - y->port_hi;
	if (x->action != y->action)
		return x->action - y->action;
	return x->origin - y->origin;
}

int cgfw_rules_list_stats(struct cgfw_state *st, struct cgfw_rule **ret,
			  struct cgfw_rule_stats **ret_stats, size_t *ret_n)
{
	const union cgfw_rs_elem *e;
	const struct cgfw_rs_header *h;
	struct cgfw_rule_stats *stats = NULL;
	struct list l = {};
	size_t n, mapped, run = 0;
	int slot = -1, err;

	err = cgfw_rs_map_live(st, &e, &n, &mapped);
	if (err)
		return err;
	h = &e[CGFW_RS_HDR].hdr;
	for (size_t i = 0; i < h->nrules && !err; i++) {
		const struct cgfw_rs_rule *k = &e[h->rules + i].rule;
		const struct cgfw_rs_scope *sc;
		size_t before = l.n;

		if (k->slot >= h->nscopes)
			continue;
		if (k->slot != slot) {
			slot = k->slot;
			run = i;
		}
		sc = &e[CGFW_RS_SCOPE(k->slot)].scope;
		err = emit(&l, sc->cgid, k);
		if (err || !ret_stats || l.n == before)
			continue;
		{
			struct cgfw_rule_stats *m = realloc(stats, l.cap * sizeof(*m));
			const struct cgfw_rs_cnt *c = NULL;

			if (!m) {
				err = cgfw_seterr(ENOMEM, "out of memory");
				break;
			}
			stats = m;
			if ((sc->flags & CGFW_RS_S_RULES) && i - run < sc->nrules &&
			    sc->nrules <= sc->len && (size_t)sc->img + sc->len <= n)
				c = &e[sc->img + sc->len - sc->nrules + (i - run)].cnt;
			for (size_t q = before; q < l.n; q++) {
				stats[q].packets = c ? c->packets : 0;
				stats[q].bytes = c ? c->bytes : 0;
				stats[q].last_ns = c ? cgfw_jiffies_to_realtime(st, c->last_j) : 0;
			}
		}
	}
	cgfw_rs_unmap(e, mapped);
	if (err) {
		free(l.r);
		free(stats);
		return err;
	}
	if (l.n) {
		/* Sorted with their stats: through an index. */
		size_t *ix = malloc(l.n * sizeof(*ix));
		struct cgfw_rule *r = malloc(l.n * sizeof(*r));
		struct cgfw_rule_stats *s2 = ret_stats ? malloc(l.n * sizeof(*s2)) : NULL;

		if (!ix || !r || (ret_stats && !s2)) {
			free(ix);
			free(r);
			free(s2);
			free(l.r);
			free(stats);
			return cgfw_seterr(ENOMEM, "out of memory");
		}
		for (size_t i = 0; i < l.n; i++)
			ix[i] = i;
		sort_rules = l.r;
		qsort(ix, l.n, sizeof(*ix), cmp_ix);
		for (size_t i = 0; i < l.n; i++) {
			r[i] = l.r[ix[i]];
			if (s2)
				s2[i] = stats[ix[i]];
		}
		free(ix);
		free(l.r);
		free(stats);
		l.r = r;
		stats = s2;
	}
	*ret = l.r;
	if (ret_stats)
		*ret_stats = stats;
	*ret_n = l.n;
	return 0;
}

int cgfw_rules_list(struct cgfw_state *st, struct cgfw_rule **ret, size_t *ret_n)
{
	return cgfw_rules_list_stats(st, ret, NULL, ret_n);
}

int cgfw_rules_policy(struct cgfw_state *st, uint64_t *ret)
{
	const union cgfw_rs_elem *e;
	size_t n, mapped;
	int err;

	err = cgfw_rs_map_live(st, &e, &n, &mapped);
	if (err)
		return err;
	*ret = e[CGFW_RS_INFO].info.policy;
	cgfw_rs_unmap(e, mapped);
	return 0;
}
