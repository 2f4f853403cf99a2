// SPDX-License-Identifier: GPL-2.0-only
/*
 * Rule sets (include/cgfw/ruleset_map.h): read the live one back, apply a
 * change to a copy in memory, compile the copy and make it live with one
 * switch. A change never writes into the set packets see, so it is applied
 * whole or not at all, also when the command is killed part way.
 *
 * Compiling a scope: its rules sorted by (family, address, length) put a
 * prefix before the ones it contains, so one pass with a stack of enclosing
 * prefixes gives every prefix its decision (ruleset_map.h): its own plain
 * rule per direction or the enclosing one's, and its protocol rules followed
 * by the enclosing ones'. Equal decisions are stored once; the LPM image
 * maps each prefix to its decision.
 */
#define _GNU_SOURCE /* qsort_r */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include <cgfw/lpm.h>

#include "internal.h"

/* The datapath's own match code, over a rule set in memory. */
struct rs_view {
	const union cgfw_rs_elem *e;
	size_t n;
};
#define CGFW_RS_CTX_T	       const struct rs_view *
#define CGFW_RS_ELEM(ctx, idx) ((size_t)(idx) < (ctx)->n ? &(ctx)->e[(idx)] : NULL)
#include "cgfw_rules.h"

/* ---- the order of rules --------------------------------------------------------------- */

static inline uint64_t be64_at(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return __builtin_bswap64(v);
}

/* Inlined into the sorts: a million rules are sorted on every large change. */
static inline int rule_cmp(const struct cgfw_rs_rule *a, const struct cgfw_rs_rule *b)
{
	uint64_t x, y;

	if (a->slot != b->slot)
		return a->slot < b->slot ? -1 : 1;
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	x = be64_at(a->addr);
	y = be64_at(b->addr);
	if (x != y)
		return x < y ? -1 : 1;
	x = be64_at(a->addr + 8);
	y = be64_at(b->addr + 8);
	if (x != y)
		return x < y ? -1 : 1;
	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	if (a->proto != b->proto)
		return a->proto < b->proto ? -1 : 1;
	if (a->lo != b->lo)
		return a->lo < b->lo ? -1 : 1;
	if (a->hi != b->hi)
		return a->hi < b->hi ? -1 : 1;
	return 0;
}

int cgfw_rs_rule_cmp(const void *x, const void *y)
{
	return rule_cmp(x, y);
}

static bool same_prefix(const struct cgfw_rs_rule *a, const struct cgfw_rs_rule *b)
{
	return a->slot == b->slot && a->family == b->family && a->len == b->len &&
	       !memcmp(a->addr, b->addr, 16);
}

/* Does prefix @p (family, len, addr) contain @q's? */
static bool contains(const struct cgfw_rs_rule *p, const struct cgfw_rs_rule *q)
{
	uint8_t m[16];

	if (p->family != q->family || p->len > q->len)
		return false;
	cgfw_mask(q->family, p->len, q->addr, m);
	return !memcmp(m, p->addr, 16);
}

/* ---- scopes ---------------------------------------------------------------------------- */

int cgfw_rs_slot(const struct rs *rs, uint64_t cgid)
{
	if (cgid == CGFW_SCOPE_HOST)
		return 0;
	for (size_t s = 1; s < rs->nscopes; s++)
		if (rs->scopes[s].used && rs->scopes[s].cgid == cgid)
			return (int)s;
	return -ENOENT;
}

int cgfw_rs_scope_set(struct rs *rs, uint32_t slot, uint64_t cgid)
{
	if (slot >= CGFW_RS_SLOTS_MAX)
		return cgfw_seterr(ENOSPC, "no free scope slot (at most %u cgroups)",
				   CGFW_RS_SLOTS_MAX - 1);
	if (slot >= rs->nscopes) {
		struct rs_scope *m = realloc(rs->scopes, (slot + 1) * sizeof(*m));

		if (!m)
			return cgfw_seterr(ENOMEM, "out of memory");
		memset(m + rs->nscopes, 0, (slot + 1 - rs->nscopes) * sizeof(*m));
		rs->scopes = m;
		rs->nscopes = slot + 1;
	}
	if (rs->scopes[slot].used && rs->scopes[slot].cgid == cgid)
		return 0;
	rs->scopes[slot] = (struct rs_scope){
		.cgid = cgid,
		.def = { CGFW_VERDICT_ALLOW, CGFW_VERDICT_ALLOW },
		.used = true,
	};
	return 0;
}

void cgfw_rs_scope_drop(struct rs *rs, uint32_t slot)
{
	size_t w = 0;

	if (!slot || slot >= rs->nscopes)
		return;
	memset(&rs->scopes[slot], 0, sizeof(rs->scopes[slot]));
	while (rs->nscopes > 1 && !rs->scopes[rs->nscopes - 1].used)
		rs->nscopes--;
	for (size_t i = 0; i < rs->nrules; i++)
		if (rs->rules[i].slot != slot)
			rs->rules[w++] = rs->rules[i];
	rs->nrules = w;
}

void cgfw_rs_free(struct rs *rs)
{
	free(rs->scopes);
	free(rs->rules);
	memset(rs, 0, sizeof(*rs));
}

/* ---- applying rules --------------------------------------------------------------------- */

struct op {
	struct cgfw_rs_rule key;
	uint8_t bit, dirs;
	bool add;
};

/*
 * The order of ops, sorted through 16-byte entries whose first word orders
 * them as rule_cmp() does as far as it goes (slot, family, the address's
 * first 47 bits): most comparisons are one compare, and the sort moves 16
 * bytes instead of an op.
 */
struct ord {
	uint64_t k;
	uint64_t i; /* index into the ops */
};

static uint64_t ord_key(const struct cgfw_rs_rule *r)
{
	return (uint64_t)r->slot << 48 | (uint64_t)(r->family == CGFW_FAMILY_INET6) << 47 |
	       be64_at(r->addr) >> 17;
}

static int cmp_ord(const void *x, const void *y, void *arg)
{
	const struct ord *a = x, *b = y;
	const struct op *ops = arg;
	int c;

	if (a->k != b->k)
		return a->k < b->k ? -1 : 1;
	c = rule_cmp(&ops[a->i].key, &ops[b->i].key);
	if (c)
		return c;
	return a->i < b->i ? -1 : a->i > b->i; /* rules of one key apply in array order */
}

static void key_of(const struct cgfw_rule *r, uint16_t slot, struct cgfw_rs_rule *k)
{
	memset(k, 0, sizeof(*k));
	k->slot = slot;
	k->family = r->pfx.family;
	k->len = r->pfx.len;
	cgfw_mask(r->pfx.family, r->pfx.len, r->pfx.addr, k->addr);
	k->proto = r->proto;
	if (r->proto) {
		/* ICMP has no ports; a protocol rule without ports covers them all. */
		bool all = r->proto == CGFW_PROTO_ICMP || (!r->port_lo && !r->port_hi);

		k->lo = all ? 0 : r->port_lo;
		k->hi = all ? 65535 : r->port_hi;
	}
}

/* At most CGFW_PORT_ENTRIES distinct port ranges per (scope, prefix, protocol). */
static int check_port_ranges(const struct cgfw_rs_rule *r, size_t n)
{
	for (size_t i = 0; i < n;) {
		size_t j = i + 1;

		if (!r[i].proto) {
			i++;
			continue;
		}
		while (j < n && same_prefix(&r[i], &r[j]) && r[j].proto == r[i].proto)
			j++;
		if (j - i > CGFW_PORT_ENTRIES) {
			struct cgfw_prefix p = { .family = r[i].family, .len = r[i].len };
			char buf[CGFW_ADDRSTRLEN];

			memcpy(p.addr, r[i].addr, 16);
			cgfw_format_prefix(&p, buf, sizeof(buf));
			return cgfw_seterr(
				EINVAL,
				"too many port ranges for %s %s: at most %d per prefix and "
				"protocol",
				buf, cgfw_proto_name(r[i].proto), CGFW_PORT_ENTRIES);
		}
		i = j;
	}
	return 0;
}

int cgfw_rs_apply(struct rs *rs, const struct cgfw_rule *rules, const bool *adds, bool add_all,
		  size_t n)
{
	_cleanup_free_ struct op *ops = NULL;
	_cleanup_free_ struct ord *ord = NULL;
	_cleanup_free_ struct cgfw_rs_rule *out = NULL;
	size_t no = 0, i = 0, j = 0, changed = 0;
	uint64_t last_scope = ~0ull;
	int slot = 0, err;

	if (!n)
		return 0;
	ops = malloc(n * sizeof(*ops));
	ord = malloc(n * sizeof(*ord));
	out = malloc((rs->nrules + n) * sizeof(*out));
	if (!ops || !ord || !out)
		return cgfw_seterr(ENOMEM, "out of memory for %zu rules", n);
	for (size_t k = 0; k < n; k++) {
		const struct cgfw_rule *r = &rules[k];

		if (r->scope != last_scope) {
			slot = cgfw_rs_slot(rs, r->scope);
			if (slot < 0)
				return cgfw_seterr(
					EINVAL,
					"cgroup id %llu is not attached; run 'cgfw attach' "
					"first",
					(unsigned long long)r->scope);
			last_scope = r->scope;
		}
		if (!(r->dirs & CGFW_DIR_BOTH) ||
		    (r->action != CGFW_ALLOW && r->action != CGFW_DENY) ||
		    r->origin >= CGFW_ORIGIN_COUNT || !r->pfx.family)
			return cgfw_seterr(EINVAL, "malformed rule %zu", k);
		key_of(r, (uint16_t)slot, &ops[k].key);
		ops[k].bit = r->action == CGFW_DENY ? CGFW_ACT_DENY_BIT(r->origin) :
						      CGFW_ACT_ALLOW_BIT(r->origin);
		ops[k].dirs = r->dirs;
		ops[k].add = adds ? adds[k] : add_all;
		ord[k].k = ord_key(&ops[k].key);
		ord[k].i = k;
	}
	qsort_r(ord, n, sizeof(*ord), cmp_ord, ops);
	/* Into that order once, so the merge below reads them in sequence. */
	{
		struct op *sorted = malloc(n * sizeof(*sorted));

		if (!sorted)
			return cgfw_seterr(ENOMEM, "out of memory for %zu rules", n);
		for (size_t k = 0; k < n; k++)
			sorted[k] = ops[ord[k].i];
		free(ops);
		ops = sorted;
	}

	while (i < rs->nrules || j < n) {
		int c = i >= rs->nrules ? 1 : j >= n ? -1 : rule_cmp(&rs->rules[i], &ops[j].key);
		struct cgfw_rs_rule r;

		if (c < 0) {
			out[no++] = rs->rules[i++];
			continue;
		}
		r = c == 0 ? rs->rules[i++] : ops[j].key;
		for (; j < n && !rule_cmp(&ops[j].key, &r); j++) {
			bool ch = false;

			for (int d = 0; d < CGFW_DIR_COUNT; d++) {
				uint8_t old = r.act[d];

				if (!(ops[j].dirs & CGFW_DIR_BIT(d)))
					continue;
				r.act[d] = ops[j].add ? (uint8_t)(old | ops[j].bit) :
							(uint8_t)(old & ~ops[j].bit);
				ch |= r.act[d] != old;
			}
			changed += ch;
		}
		if (r.act[0] || r.act[1])
			out[no++] = r;
	}
	err = check_port_ranges(out, no);
	if (err)
		return err;
	free(rs->rules);
	rs->rules = TAKE_PTR(out);
	rs->nrules = no;
	return changed > INT32_MAX ? INT32_MAX : (int)changed;
}

/* ---- compiling --------------------------------------------------------------------------- */

struct elems {
	union cgfw_rs_elem *e;
	size_t n, cap;
};

static int elems_reserve(struct elems *v, size_t k, size_t *ret_at)
{
	return cgfw_array_add((void **)&v->e, &v->n, &v->cap, sizeof(*v->e), k, 1024, UINT32_MAX,
			      "rule set", ret_at);
}

/* A decision while compiling, and the table that keeps each one once. */
struct dtmp {
	uint8_t plain_len[CGFW_DIR_COUNT];
	uint8_t plain_act[CGFW_DIR_COUNT];
	uint8_t nports;
	uint8_t pad[3];
	uint32_t plain_rule[CGFW_DIR_COUNT];
	struct cgfw_rs_port ports[CGFW_RS_MAX_PORTS];
};

struct dtab {
	struct dtmp *d;
	size_t n, cap;
	uint32_t *slots; /* open addressing: ordinal + 1, 0 free */
	size_t nslots;
};

static size_t dtmp_size(const struct dtmp *d)
{
	return offsetof(struct dtmp, ports) + d->nports * sizeof(d->ports[0]);
}

static uint64_t dtmp_hash(const struct dtmp *d)
{
	const uint8_t *p = (const uint8_t *)d;
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < dtmp_size(d); i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

static int dtab_grow_slots(struct dtab *t)
{
	size_t ns = t->nslots ? t->nslots * 2 : 1024;
	uint32_t *s = calloc(ns, sizeof(*s));

	if (!s)
		return cgfw_seterr(ENOMEM, "out of memory");
	for (size_t i = 0; i < t->n; i++) {
		size_t h = dtmp_hash(&t->d[i]) & (ns - 1);

		while (s[h])
			h = (h + 1) & (ns - 1);
		s[h] = (uint32_t)i + 1;
	}
	free(t->slots);
	t->slots = s;
	t->nslots = ns;
	return 0;
}

/* The ordinal of @d in the table, added if new. */
static int dtab_add(struct dtab *t, const struct dtmp *d, uint32_t *ret)
{
	size_t h;
	int err;

	if ((t->n + 1) * 2 > t->nslots && (err = dtab_grow_slots(t)))
		return err;
	h = dtmp_hash(d) & (t->nslots - 1);
	for (; t->slots[h]; h = (h + 1) & (t->nslots - 1)) {
		const struct dtmp *o = &t->d[t->slots[h] - 1];

		if (o->nports == d->nports && !memcmp(o, d, dtmp_size(d))) {
			*ret = t->slots[h] - 1;
			return 0;
		}
	}
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		struct dtmp *m = realloc(t->d, cap * sizeof(*m));

		if (!m)
			return cgfw_seterr(ENOMEM, "out of memory");
		t->d = m;
		t->cap = cap;
	}
	memset(&t->d[t->n], 0, sizeof(t->d[t->n]));
	memcpy(&t->d[t->n], d, dtmp_size(d));
	t->slots[h] = (uint32_t)t->n + 1;
	*ret = (uint32_t)t->n++;
	return 0;
}

static void dtab_free(struct dtab *t)
{
	free(t->d);
	free(t->slots);
}

static void prefix_text(const struct cgfw_rs_rule *r, char *buf, size_t n)
{
	struct cgfw_prefix p = { .family = r->family, .len = r->len };

	memcpy(p.addr, r->addr, 16);
	cgfw_format_prefix(&p, buf, n);
}

/*
 * The block of one scope: its rules are r[0..n), sorted, all of one slot;
 * rule i is ordinal i. Fills the scope entry's rb, dec, ndec, len; the
 * caller sets img.
 */
static int build_block(const struct cgfw_rs_rule *r, size_t n, struct elems *v,
		       struct cgfw_rs_scope *sc)
{
	/* The enclosing prefixes of the current one, outermost first, with their decisions. */
	struct frame {
		const struct cgfw_rs_rule *p;
		struct dtmp d;
	};
	_cleanup_free_ struct frame *stack = calloc(129, sizeof(*stack));
	_cleanup_free_ struct cgfw_lpm_entry *ents = NULL;
	struct cgfw_lpm_image *img = NULL;
	struct dtab tab = {};
	const struct cgfw_lpm_elem *le;
	size_t depth = 0, ne = 0, at, nle, nport_elems = 0;
	uint8_t fam = 0;
	struct dtmp d;
	int err = 0;

	ents = calloc(n ? n : 1, sizeof(*ents));
	if (!ents || !stack)
		return cgfw_seterr(ENOMEM, "out of memory");
	for (size_t i = 0; i < n;) {
		const struct cgfw_rs_rule *p = &r[i];
		size_t own = 0, nown = 0, first = i;
		uint32_t value;

		if (p->family != fam) {
			fam = p->family;
			depth = 0;
		}
		while (depth && !contains(stack[depth - 1].p, p))
			depth--;
		/* Whole-struct copies and memset: the padding is hashed too. */
		if (depth) {
			memcpy(&d, &stack[depth - 1].d, sizeof(d));
		} else {
			memset(&d, 0, sizeof(d));
			d.plain_len[0] = d.plain_len[1] = CGFW_RS_NOLEN;
		}
		/* This prefix's rules: its plain one comes first (protocol 0). */
		for (; i < n && same_prefix(&r[i], p); i++) {
			nown++;
			if (!r[i].proto) {
				for (int k = 0; k < CGFW_DIR_COUNT; k++)
					if (r[i].act[k]) {
						d.plain_len[k] = r[i].len;
						d.plain_act[k] = r[i].act[k];
						d.plain_rule[k] = (uint32_t)i;
					}
				continue;
			}
			own++;
		}
		if (own) {
			char buf[CGFW_ADDRSTRLEN];
			size_t o = 0;

			if (own + d.nports > CGFW_RS_MAX_PORTS) {
				prefix_text(p, buf, sizeof(buf));
				err = cgfw_seterr(
					EINVAL,
					"more than %d protocol rules cover %s (its own and "
					"those of the prefixes that contain it)",
					CGFW_RS_MAX_PORTS, buf);
				goto out;
			}
			/* Longest first: this prefix's entries before the enclosing ones'. */
			memmove(&d.ports[own], &d.ports[0], d.nports * sizeof(d.ports[0]));
			for (size_t q = first; q < i; q++) {
				if (!r[q].proto)
					continue;
				d.ports[o++] = (struct cgfw_rs_port){
					.len = r[q].len,
					.proto = r[q].proto,
					.act = { r[q].act[0], r[q].act[1] },
					.lo = r[q].lo,
					.hi = r[q].hi,
					.rule = (uint32_t)q,
				};
			}
			d.nports = (uint8_t)(d.nports + own);
		}
		/* Alone: the value names the rule, whose counter has the decision. A
		 * plain rule with bits both ways shadows the plain rules around it;
		 * protocol rules around it would still count, so none may be. */
		if (nown == 1 && !p->proto &&
		    (!depth || (!stack[depth - 1].d.nports && p->act[0] && p->act[1]))) {
			value = CGFW_RS_V_DIRECT | (uint32_t)first;
		} else {
			uint32_t ord = 0;

			err = dtab_add(&tab, &d, &ord);
			if (err)
				goto out;
			value = ord + 1;
		}
		if (n > CGFW_RS_V_DIRECT) {
			err = cgfw_seterr(E2BIG, "too many rules in one scope");
			goto out;
		}
		ents[ne].family = p->family;
		ents[ne].len = p->len;
		ents[ne].value = value;
		memcpy(ents[ne].addr, p->addr, 16);
		ne++;
		if (depth < 129) {
			stack[depth].p = p;
			memcpy(&stack[depth++].d, &d, sizeof(d));
		}
	}
	err = cgfw_lpm_build(
		ents, ne, CGFW_LPM_F_DUP_ERROR | CGFW_LPM_F_ROOT_BITS(cgfw_lpm_root_bits_for(ne)),
		&img);
	if (err) {
		err = cgfw_seterr(err, "cannot compile %zu prefixes: %s", ne, strerror(-err));
		goto out;
	}
	le = cgfw_lpm_elems(img, &nle);
	for (size_t k = 0; k < tab.n; k++)
		nport_elems +=
			(tab.d[k].nports + CGFW_RS_PORTS_PER_ELEM - 1) / CGFW_RS_PORTS_PER_ELEM;
	err = elems_reserve(v, nle + tab.n + nport_elems + n, &at);
	if (err)
		goto out;
	memcpy(&v->e[at], le, nle * sizeof(*le));
	sc->rb = (uint8_t)cgfw_lpm_root_bits(img);
	sc->dec = (uint32_t)nle;
	sc->ndec = (uint32_t)tab.n;
	sc->len = (uint32_t)(nle + tab.n + nport_elems + n);
	{
		size_t pe = nle + tab.n; /* next port element, relative to the block */

		for (size_t k = 0; k < tab.n; k++) {
			struct cgfw_rs_dec *o = &v->e[at + nle + k].dec;
			const struct dtmp *t = &tab.d[k];

			memcpy(o->plain_len, t->plain_len, sizeof(o->plain_len));
			memcpy(o->plain_act, t->plain_act, sizeof(o->plain_act));
			memcpy(o->plain_rule, t->plain_rule, sizeof(o->plain_rule));
			o->nports = t->nports;
			o->ports = (uint32_t)pe;
			for (size_t q = 0; q < t->nports; q++)
				v->e[at + pe + q / CGFW_RS_PORTS_PER_ELEM]
					.port[q % CGFW_RS_PORTS_PER_ELEM] = t->ports[q];
			pe += (t->nports + CGFW_RS_PORTS_PER_ELEM - 1) / CGFW_RS_PORTS_PER_ELEM;
		}
		/* The counters, last: rule i's at len - n + i. */
		for (size_t k = 0; k < n; k++) {
			struct cgfw_rs_cnt *c = &v->e[at + sc->len - n + k].cnt;

			c->len = r[k].len;
			c->act[0] = r[k].act[0];
			c->act[1] = r[k].act[1];
		}
	}
out:
	cgfw_lpm_free(img);
	dtab_free(&tab);
	return err;
}

/* The old set's rules of @slot, if it has the same ones: its block can be copied. */
static const struct cgfw_rs_scope *reusable(const union cgfw_rs_elem *old, size_t nold,
					    uint32_t slot, const struct cgfw_rs_rule *r, size_t n)
{
	const struct cgfw_rs_header *h;
	const struct cgfw_rs_scope *sc;
	size_t first = 0;

	if (!old || nold < 2)
		return NULL;
	h = &old[CGFW_RS_HDR].hdr;
	if (h->magic != CGFW_RS_MAGIC || h->version != CGFW_RS_VERSION || slot >= h->nscopes ||
	    h->rules > nold || h->nrules > nold - h->rules || CGFW_RS_SCOPE(slot) >= nold)
		return NULL;
	sc = &old[CGFW_RS_SCOPE(slot)].scope;
	if (!(sc->flags & CGFW_RS_S_RULES) || sc->nrules != n || (uint64_t)sc->img + sc->len > nold)
		return NULL;
	/* The old list is sorted by slot too: find this slot's run. */
	while (first < h->nrules && old[h->rules + first].rule.slot < slot)
		first++;
	if (first + n > h->nrules)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (memcmp(&old[h->rules + first + i].rule, &r[i], sizeof(r[i])))
			return NULL;
	return sc;
}

int cgfw_rs_compile(const struct rs *rs, const union cgfw_rs_elem *old, size_t nold,
		    union cgfw_rs_elem **ret, size_t *ret_n)
{
	struct elems v = {};
	size_t at, first = 0;
	uint64_t lens[2][3] = {}; /* bitmaps of the lengths in use, per family */
	struct cgfw_rs_header *h;
	struct cgfw_rs_info *info;
	int err;

	err = elems_reserve(&v, CGFW_RS_SCOPE(rs->nscopes), &at);
	if (err)
		return err;
	for (uint32_t s = 0; s < rs->nscopes; s++) {
		struct cgfw_rs_scope *sc = &v.e[CGFW_RS_SCOPE(s)].scope;
		const struct cgfw_rs_scope *prev;
		size_t last = first;

		sc->cgid = rs->scopes[s].cgid;
		memcpy(sc->def, rs->scopes[s].def, sizeof(sc->def));
		if (!sc->def[0])
			sc->def[0] = CGFW_VERDICT_ALLOW;
		if (!sc->def[1])
			sc->def[1] = CGFW_VERDICT_ALLOW;
		if (rs->scopes[s].used || s == CGFW_RS_SLOT_HOST)
			sc->flags |= CGFW_RS_S_USED;
		if (rs->scopes[s].audit && s != CGFW_RS_SLOT_HOST)
			sc->flags |= CGFW_RS_S_AUDIT;
		while (last < rs->nrules && rs->rules[last].slot == s)
			last++;
		sc->nrules = (uint32_t)(last - first);
		if (last == first)
			continue;
		prev = reusable(old, nold, s, &rs->rules[first], last - first);
		if (prev) {
			err = elems_reserve(&v, prev->len, &at);
			if (err)
				goto fail;
			sc = &v.e[CGFW_RS_SCOPE(s)].scope; /* v.e may have moved */
			memcpy(&v.e[at], &old[prev->img], prev->len * sizeof(*old));
			/* Counts start from zero: the old set's go over after the switch. */
			for (size_t k = prev->len - prev->nrules; k < prev->len; k++) {
				struct cgfw_rs_cnt *c = &v.e[at + k].cnt;

				c->packets = c->bytes = c->last_j = 0;
			}
			sc->rb = prev->rb;
			sc->dec = prev->dec;
			sc->ndec = prev->ndec;
			sc->len = prev->len;
		} else {
			struct cgfw_rs_scope tmp = *sc;

			at = v.n;
			err = build_block(&rs->rules[first], last - first, &v, &tmp);
			if (err)
				goto fail;
			sc = &v.e[CGFW_RS_SCOPE(s)].scope;
			*sc = tmp;
		}
		sc->img = (uint32_t)at;
		sc->flags |= CGFW_RS_S_RULES;
		first = last;
	}
	err = elems_reserve(&v, rs->nrules, &at);
	if (err)
		goto fail;
	if (rs->nrules)
		memcpy(&v.e[at], rs->rules, rs->nrules * sizeof(*rs->rules));
	h = &v.e[CGFW_RS_HDR].hdr;
	h->magic = CGFW_RS_MAGIC;
	h->version = CGFW_RS_VERSION;
	h->elems = (uint32_t)v.n;
	h->nscopes = (uint32_t)rs->nscopes;
	h->rules = (uint32_t)at;
	h->nrules = (uint32_t)rs->nrules;
	h->gen = rs->gen;
	info = &v.e[CGFW_RS_INFO].info;
	info->policy = rs->policy;
	info->created_ns = cgfw_now_realtime();
	for (size_t i = 0; i < rs->nrules; i++) {
		int f = rs->rules[i].family == CGFW_FAMILY_INET6;

		if (f)
			info->rules6++;
		else
			info->rules4++;
		lens[f][rs->rules[i].len / 64] |= 1ull << (rs->rules[i].len % 64);
	}
	for (int f = 0; f < 2; f++)
		for (int w = 0; w < 3; w++)
			*(f ? &info->lens6 : &info->lens4) +=
				(uint32_t)__builtin_popcountll(lens[f][w]);
	*ret = v.e;
	*ret_n = v.n;
	return 0;
fail:
	free(v.e);
	return err;
}

/* ---- the live set ------------------------------------------------------------------------- */

static int live_fd(struct cgfw_state *st, int *ret_fd, uint32_t *ret_cap)
{
	return cgfw_inner_open(st->rs_fd, "rule set", ret_fd, ret_cap);
}

int cgfw_rs_map_live(struct cgfw_state *st, const union cgfw_rs_elem **ret, size_t *ret_n,
		     size_t *ret_mapped)
{
	const union cgfw_rs_elem *e;
	const struct cgfw_rs_header *h;
	uint32_t cap = 0;
	size_t sz;
	int fd = -1, err;

	err = live_fd(st, &fd, &cap);
	if (err)
		return err;
	sz = (size_t)cap * CGFW_RS_ELEM_SIZE;
	e = mmap(NULL, sz, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (e == MAP_FAILED)
		return cgfw_seterr(errno, "cannot map the rule set: %s", strerror(errno));
	h = &e[CGFW_RS_HDR].hdr;
	if (h->magic != CGFW_RS_MAGIC || h->version != CGFW_RS_VERSION || h->elems > cap ||
	    h->rules > h->elems || h->nrules > h->elems - h->rules ||
	    CGFW_RS_SCOPE(h->nscopes) > h->elems) {
		munmap((void *)e, sz);
		return cgfw_seterr(EPROTO, "the rule set in %s is damaged; run 'cgfw reset --yes'",
				   CGFW_RS_PIN);
	}
	*ret = e;
	*ret_n = h->elems;
	*ret_mapped = sz;
	return 0;
}

void cgfw_rs_unmap(const union cgfw_rs_elem *e, size_t mapped)
{
	if (e)
		munmap((void *)e, mapped);
}

int cgfw_rs_read(struct cgfw_state *st, struct rs *ret)
{
	const union cgfw_rs_elem *e;
	const struct cgfw_rs_header *h;
	struct rs rs = {};
	size_t n, mapped;
	int err;

	err = cgfw_rs_map_live(st, &e, &n, &mapped);
	if (err)
		return err;
	h = &e[CGFW_RS_HDR].hdr;
	rs.gen = h->gen;
	rs.policy = e[CGFW_RS_INFO].info.policy;
	rs.nscopes = h->nscopes ? h->nscopes : 1;
	rs.nrules = h->nrules;
	rs.scopes = calloc(rs.nscopes, sizeof(*rs.scopes));
	rs.rules = malloc((rs.nrules ? rs.nrules : 1) * sizeof(*rs.rules));
	if (!rs.scopes || !rs.rules) {
		cgfw_rs_unmap(e, mapped);
		cgfw_rs_free(&rs);
		return cgfw_seterr(ENOMEM, "out of memory");
	}
	for (size_t s = 0; s < h->nscopes; s++) {
		const struct cgfw_rs_scope *sc = &e[CGFW_RS_SCOPE(s)].scope;

		rs.scopes[s].cgid = sc->cgid;
		memcpy(rs.scopes[s].def, sc->def, sizeof(sc->def));
		rs.scopes[s].used = sc->flags & CGFW_RS_S_USED;
		rs.scopes[s].audit = sc->flags & CGFW_RS_S_AUDIT;
	}
	for (size_t i = 0; i < rs.nrules; i++)
		rs.rules[i] = e[h->rules + i].rule;
	cgfw_rs_unmap(e, mapped);
	*ret = rs;
	return 0;
}

/*
 * A new inner map holding @n elements of @e, with the template's capacity
 * (all inner maps share it, so the verifier inlines each access).
 */
static int new_inner(const union cgfw_rs_elem *e, size_t n, uint32_t cap, int *ret_fd)
{
	return cgfw_inner_new("cgfw_rs_set", "rule set", CGFW_RS_ELEM_SIZE, e, n, cap, ret_fd);
}

/* A capacity that holds @n elements with an eighth to spare, in steps of 2 MiB. */
static uint32_t capacity_for(size_t n, uint32_t cur)
{
	uint64_t c = (uint64_t)n + n / 8, step = 1u << 16;

	if (c < (uint64_t)cur + cur / 4)
		c = (uint64_t)cur + cur / 4; /* growth reloads every program: not by little */
	if (c < CGFW_RS_MIN_ELEMS)
		c = CGFW_RS_MIN_ELEMS;
	c = (c + step - 1) / step * step;
	return c > UINT32_MAX ? UINT32_MAX : (uint32_t)c;
}

/*
 * The rule set no longer fits the inner maps: make a cgfw_rs whose template
 * is larger, holding a copy of the live set, pin it in place of the old one
 * and load every attached cgroup's programs against it. Packets see the old
 * rules throughout; the change that needed the room comes after.
 */
static int grow(struct cgfw_state *st, size_t need, uint32_t *capp)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_MMAPABLE);
	const union cgfw_rs_elem *old = NULL;
	_cleanup_close_ int tmpl = -1, outer = -1;
	int inner = -1, err;
	size_t nold = 0, mapped = 0;
	char path[PATH_MAX], tmp[PATH_MAX + 8];
	__u32 zero = 0;
	uint32_t cap = capacity_for(need, *capp);

	tmpl = bpf_map_create(BPF_MAP_TYPE_ARRAY, "cgfw_rs_tmpl", sizeof(__u32), CGFW_RS_ELEM_SIZE,
			      cap, &opts);
	if (tmpl < 0)
		return cgfw_seterr(errno, "cannot make room for %zu rule set elements: %s", need,
				   strerror(errno));
	LIBBPF_OPTS(bpf_map_create_opts, oopts, .inner_map_fd = tmpl);
	outer = bpf_map_create(BPF_MAP_TYPE_ARRAY_OF_MAPS, CGFW_RS_PIN, sizeof(__u32),
			       sizeof(__u32), 1, &oopts);
	if (outer < 0)
		return cgfw_seterr(errno, "cannot make a larger %s: %s", CGFW_RS_PIN,
				   strerror(errno));
	err = cgfw_rs_map_live(st, &old, &nold, &mapped);
	if (!err)
		err = new_inner(old, nold, cap, &inner);
	cgfw_rs_unmap(old, mapped);
	if (err)
		return err;
	err = bpf_map_update_elem(outer, &zero, &inner, BPF_ANY) < 0 ? -errno : 0;
	close(inner);
	if (err)
		return cgfw_seterr(err, "cannot fill the larger %s: %s", CGFW_RS_PIN,
				   strerror(-err));
	cgfw_pin_path(st->pin, CGFW_RS_PIN, path, sizeof(path));
	/* bpffs refuses names with a dot. */
	snprintf(tmp, sizeof(tmp), "%s_new", path);
	unlink(tmp);
	if (bpf_obj_pin(outer, tmp) < 0 || rename(tmp, path) < 0) {
		err = -errno;
		unlink(tmp);
		return cgfw_seterr(err, "cannot pin the larger %s: %s", CGFW_RS_PIN,
				   strerror(-err));
	}
	close(st->rs_fd);
	st->rs_fd = TAKE_FD(outer);
	*capp = cap;
	return cgfw_reload_programs(st);
}

/* Where each slot's rules start in a rule list, and the slot's scope entry. */
static const struct cgfw_rs_cnt *cnt_of(const union cgfw_rs_elem *e, size_t n, uint32_t slot,
					size_t ord)
{
	const struct cgfw_rs_header *h = &e[CGFW_RS_HDR].hdr;
	const struct cgfw_rs_scope *sc;

	if (slot >= h->nscopes || CGFW_RS_SCOPE(slot) >= n)
		return NULL;
	sc = &e[CGFW_RS_SCOPE(slot)].scope;
	if (!(sc->flags & CGFW_RS_S_RULES) || ord >= sc->nrules || sc->nrules > sc->len ||
	    (size_t)sc->img + sc->len > n)
		return NULL;
	return &e[sc->img + sc->len - sc->nrules + ord].cnt;
}

/*
 * The counts of the rule set that was live, added to the one that is now:
 * rule by rule, matched by key. The old set is final (the switch waited for
 * every program that read it), and the new one may be counting already, so
 * the adds are atomic.
 */
static void carry_counts(const union cgfw_rs_elem *o, size_t no, union cgfw_rs_elem *w, size_t nw)
{
	const struct cgfw_rs_header *ho = &o[CGFW_RS_HDR].hdr, *hw = &w[CGFW_RS_HDR].hdr;
	size_t i = 0, j = 0, oi = 0, wj = 0;
	int oslot = -1, wslot = -1;

	while (i < ho->nrules && j < hw->nrules) {
		const struct cgfw_rs_rule *a = &o[ho->rules + i].rule, *b = &w[hw->rules + j].rule;
		int c;

		if (a->slot != oslot) {
			oslot = a->slot;
			oi = i;
		}
		if (b->slot != wslot) {
			wslot = b->slot;
			wj = j;
		}
		c = rule_cmp(a, b);
		if (c < 0) {
			i++;
		} else if (c > 0) {
			j++;
		} else {
			const struct cgfw_rs_cnt *from = cnt_of(o, no, a->slot, i - oi);
			struct cgfw_rs_cnt *to =
				(struct cgfw_rs_cnt *)cnt_of(w, nw, b->slot, j - wj);
			const struct cgfw_rs_scope *so = &o[CGFW_RS_SCOPE(a->slot)].scope,
						   *sw = &w[CGFW_RS_SCOPE(b->slot)].scope;

			/* The same slot may now hold another cgroup: its counts are not these. */
			if (from && to && so->cgid == sw->cgid && from->packets) {
				__u64 last = __atomic_load_n(&to->last_j, __ATOMIC_RELAXED);

				__atomic_fetch_add(&to->packets, from->packets, __ATOMIC_RELAXED);
				__atomic_fetch_add(&to->bytes, from->bytes, __ATOMIC_RELAXED);
				while (from->last_j > last &&
				       !__atomic_compare_exchange_n(
					       &to->last_j, &last, from->last_j, false,
					       __ATOMIC_RELAXED, __ATOMIC_RELAXED))
					;
			}
			i++;
			j++;
		}
	}
}

int cgfw_rs_commit(struct cgfw_state *st, const struct rs *rs)
{
	const union cgfw_rs_elem *old = NULL;
	_cleanup_free_ union cgfw_rs_elem *e = NULL;
	size_t nold = 0, mapped = 0, n = 0;
	uint32_t cap;
	int fd = -1, err;
	__u32 zero = 0;
	struct rs next = *rs;

	next.gen = rs->gen + 1;
	err = cgfw_rs_map_live(st, &old, &nold, &mapped);
	if (err)
		return err;
	err = cgfw_rs_compile(&next, old, nold, &e, &n);
	cap = (uint32_t)(mapped / CGFW_RS_ELEM_SIZE);
	if (!err && n > cap) {
		/* The copy grow() makes is of the set live now: map it again after. */
		cgfw_rs_unmap(old, mapped);
		old = NULL;
		err = grow(st, n, &cap);
		if (!err)
			err = cgfw_rs_map_live(st, &old, &nold, &mapped);
	}
	if (!err)
		err = new_inner(e, n, cap, &fd);
	if (err) {
		cgfw_rs_unmap(old, mapped);
		return err;
	}
	/* The switch: after it returns, no program still reads the old set. */
	err = bpf_map_update_elem(st->rs_fd, &zero, &fd, BPF_ANY) < 0 ? -errno : 0;
	if (!err) {
		size_t sz = (size_t)cap * CGFW_RS_ELEM_SIZE;
		union cgfw_rs_elem *w = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

		if (w != MAP_FAILED) {
			carry_counts(old, nold, w, n);
			munmap(w, sz);
		}
	}
	close(fd);
	cgfw_rs_unmap(old, mapped);
	if (err)
		return cgfw_seterr(err, "cannot switch to the new rule set: %s", strerror(-err));
	return 0;
}

/* ---- matching in user space ----------------------------------------------------------------- */

void cgfw_rs_match(const union cgfw_rs_elem *e, size_t n, uint32_t slot,
		   const struct cgfw_rs_pkt *p, struct cgfw_match *ret)
{
	struct rs_view v = { e, n };
	struct cgfw_match m;
	const union cgfw_rs_elem *sc;

	cgfw_match_init(&m);
	sc = CGFW_RS_ELEM(&v, CGFW_RS_SCOPE(CGFW_RS_SLOT_HOST));
	if (sc)
		cgfw_rs_scope_match(&v, &sc->scope, p, 1, &m);
	if (slot != CGFW_RS_SLOT_HOST && CGFW_RS_SCOPE(slot) < n) {
		sc = CGFW_RS_ELEM(&v, CGFW_RS_SCOPE(slot));
		if (sc && (sc->scope.flags & CGFW_RS_S_USED))
			cgfw_rs_scope_match(&v, &sc->scope, p, 0, &m);
	}
	*ret = m;
}
