// SPDX-License-Identifier: GPL-2.0-only
/*
 * tproxy, redirect and inbound rules in the TC rule table (layout and
 * precedence in include/cgfw/tc_rule_map.h).
 *
 * A change is grouped by head key (destination prefix and protocol). For each
 * key the current entries are decoded, the change applied, and a new layout
 * written under a new generation: sub-keys first, then the heads in one
 * batch, then the prefix-length list, then the old sub-keys and emptied heads
 * are deleted. A failure part way restores the heads, so a change is applied
 * whole or not at all; a packet always sees one complete layout per key.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "internal.h"
#include "table.h"

/* ---- applying a change ------------------------------------------------------------------- */

struct op {
	struct cgfw_tc_key key;
	size_t idx;
};

static int cmp_op(const void *x, const void *y)
{
	const struct op *a = x, *b = y;
	int c = memcmp(&a->key, &b->key, sizeof(a->key));

	if (c)
		return c;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

static __u32 *lens_slot(struct cgfw_tc_lens_val *l, const struct cgfw_tc_key *k)
{
	return k->family == CGFW_FAMILY_INET ? &l->count4[k->prefixlen & 63] :
					       &l->count6[k->prefixlen];
}

static const char *rule_str(const struct cgfw_tc_rule *r, char *buf, size_t n)
{
	char d[CGFW_ADDRSTRLEN], s[CGFW_ADDRSTRLEN] = "";

	cgfw_format_prefix(&r->dst, d, sizeof(d));
	if (r->src.len)
		cgfw_format_prefix(&r->src, s, sizeof(s));
	snprintf(buf, n, "--dst %s%s%s --proto %s --ports %u-%u%s%s", d, s[0] ? " --src " : "", s,
		 cgfw_proto_name(r->proto), r->port_lo, r->port_hi, r->ifname[0] ? " --iface " : "",
		 r->ifname);
	return buf;
}

static uint16_t next_gen(const struct kset *k)
{
	uint16_t gen = (uint16_t)(k->existed ? k->old->gen + 1 : 1);

	return gen ? gen : 1;
}

static void kset_free(struct kset *ks, size_t n)
{
	for (size_t i = 0; ks && i < n; i++) {
		free(ks[i].e);
		free(ks[i].oldsub);
		free(ks[i].old);
	}
	free(ks);
}

/* Put back the heads this call overwrote, drop the ones it made (the first @n changed). */
static void restore_heads(int fd, struct kset *ks, size_t nks, size_t n)
{
	for (size_t i = 0, done = 0; i < nks && done < n; i++) {
		if (!ks[i].changed || !ks[i].n)
			continue;
		if (ks[i].existed)
			bpf_map_update_elem(fd, &ks[i].head, ks[i].old, BPF_ANY);
		else
			bpf_map_delete_elem(fd, &ks[i].head);
		done++;
	}
}

int cgfw_tc_rules_update(struct cgfw_tc *tc, const struct cgfw_tc_rule *rules, size_t n, bool add)
{
	struct cgfw_tc_meta_val meta;
	struct cgfw_tc_lens_val lens;
	struct op *ops = NULL;
	struct kset *ks = NULL;
	struct plan *sub = NULL, *heads = NULL;
	struct keylist del = {};
	struct rdelta *rd = NULL;
	size_t nks = 0, nrd = 0, changed = 0, created = 0, nheaddel = 0, nsub_planned;
	uint32_t next_id, max;
	bool routes_added = false, lens_created = false;
	int fd, err = 0;

	if (!n)
		return 0;
	err = cgfw_tc_meta_read(tc, &meta);
	if (!err)
		err = cgfw_tc_lens_read(tc, &lens);
	if (!err)
		err = cgfw_tc_table(tc, &fd, &max);
	if (err)
		return err;
	next_id = meta.next_rule_id ? meta.next_rule_id : 1;
	ops = malloc(n * sizeof(*ops));
	rd = calloc(n, sizeof(*rd));
	sub = calloc(1, sizeof(*sub));
	heads = calloc(1, sizeof(*heads));
	if (!ops || !rd || !sub || !heads) {
		err = cgfw_seterr(ENOMEM, "out of memory for %zu rules", n);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		err = cgfw_tc_rule_check(&rules[i], add);
		if (err)
			goto out;
		cgfw_tc_head_key(&rules[i], &ops[i].key);
		ops[i].idx = i;
	}
	qsort(ops, n, sizeof(*ops), cmp_op);
	for (size_t i = 0; i < n; i++)
		nks += !i || memcmp(&ops[i].key, &ops[i - 1].key, sizeof(ops[i].key));
	ks = calloc(nks, sizeof(*ks));
	if (!ks) {
		err = cgfw_seterr(ENOMEM, "out of memory for %zu rules", n);
		goto out;
	}

	/* Per head key: decode what is there, apply the rules in order. */
	for (size_t i = 0, g = 0; i < n; g++) {
		struct kset *k = &ks[g];
		struct cgfw_tc_val head;
		size_t j = i;

		k->head = ops[i].key;
		if (bpf_map_lookup_elem(fd, &k->head, &head) == 0) {
			k->existed = true;
			k->old = malloc(sizeof(*k->old));
			if (!k->old) {
				err = cgfw_seterr(ENOMEM, "out of memory");
				goto out;
			}
			*k->old = head;
		} else if (errno != ENOENT) {
			err = cgfw_seterr(errno, "cannot read the TC rule table: %s",
					  strerror(errno));
			goto out;
		}
		if ((err = cgfw_tc_decode(cgfw_tc_fd_lookup, &fd, k))) {
			err = cgfw_seterr(err, "cannot read the TC rule table: %s", strerror(-err));
			goto out;
		}
		for (; j < n && !memcmp(&ops[j].key, &k->head, sizeof(k->head)); j++) {
			const struct cgfw_tc_rule *r = &rules[ops[j].idx];
			struct cgfw_tc_entry e;
			size_t at = k->n;
			char buf[256];

			cgfw_tc_rule_entry(r, &e);
			for (size_t x = 0; x < k->n; x++)
				if (cgfw_tc_same_match(&k->e[x], &e))
					at = x;
			if (!add) {
				if (at == k->n || k->e[at].kind != r->kind)
					continue; /* nothing to delete */
				if (r->kind == CGFW_TC_TPROXY) {
					cgfw_tc_route_key_of(tc, &k->head, &rd[nrd].key);
					rd[nrd++].delta = -1;
				}
				k->e[at] = k->e[--k->n];
				k->changed = true;
				changed++;
				continue;
			}
			if (at < k->n && k->e[at].kind != r->kind) {
				err = cgfw_seterr(EEXIST,
						  "a %s rule with the same match exists (%s); "
						  "delete it first",
						  cgfw_tc_kind_name(k->e[at].kind),
						  rule_str(r, buf, sizeof(buf)));
				goto out;
			}
			if (at < k->n) {
				/* Same match and kind: a new target, counters kept. */
				if (k->e[at].to_port == e.to_port &&
				    !memcmp(k->e[at].to_addr, e.to_addr, 16))
					continue;
				memcpy(k->e[at].to_addr, e.to_addr, 16);
				k->e[at].to_port = e.to_port;
			} else {
				if (next_id == UINT32_MAX) {
					err = cgfw_seterr(ENOSPC,
							  "rule ids exhausted; run 'cgfw reset'");
					goto out;
				}
				e.id = next_id++;
				if ((err = cgfw_tc_push_entry(k, &e))) {
					err = cgfw_seterr(ENOMEM, "out of memory");
					goto out;
				}
				if (r->kind == CGFW_TC_TPROXY) {
					cgfw_tc_route_key_of(tc, &k->head, &rd[nrd].key);
					rd[nrd++].delta = 1;
				}
			}
			k->changed = true;
			changed++;
		}
		i = j;
	}

	/* Count what the new layouts need, and what goes; check each can be laid out. */
	sub->fd = -1;
	for (size_t i = 0; i < nks; i++) {
		struct kset *k = &ks[i];
		struct cgfw_tc_val head;

		if (!k->changed)
			continue;
		qsort(k->e, k->n, sizeof(*k->e), cgfw_tc_cmp_rank);
		if (k->n) {
			err = cgfw_tc_layout(k, next_gen(k), sub, &head);
			if (err) {
				char buf[CGFW_ADDRSTRLEN];
				struct cgfw_prefix d = { .family = k->head.family,
							 .len = k->head.prefixlen };

				memcpy(d.addr, k->head.addr, 16);
				cgfw_format_prefix(&d, buf, sizeof(buf));
				err = err == -E2BIG ?
					      cgfw_seterr(ENOSPC, "too many rules for %s %s",
							  cgfw_proto_name(k->head.proto), buf) :
					      cgfw_seterr(ENOMEM, "out of memory");
				goto out;
			}
			if (!k->existed) {
				created++;
				lens_created |= (*lens_slot(&lens, &k->head))++ == 0;
			}
		} else if (k->existed) {
			nheaddel++;
		}
	}
	nsub_planned = sub->count;

	/* Routes before the rules that need them. */
	cgfw_tc_routes_prepare(tc, rd, &nrd);
	if (add) {
		err = cgfw_tc_routes_add(rd, nrd);
		if (err)
			goto out;
		routes_added = true;
	}

	/* Room for the new keys next to the old ones until these are deleted. */
	if ((uint64_t)meta.table_entries + nsub_planned + created > max) {
		uint64_t want = (uint64_t)meta.table_entries + nsub_planned + created;

		err = cgfw_tc_table_grow(tc, want > UINT32_MAX ? UINT32_MAX : (uint32_t)want);
		if (!err)
			err = cgfw_tc_table(tc, &fd, &max);
		if (err)
			goto out;
	}

	/* 1. New sub-keys: no packet reaches them before their head. */
	sub->fd = fd;
	sub->count = 0;
	for (size_t i = 0; i < nks && !err; i++) {
		struct cgfw_tc_val head;

		if (ks[i].changed && ks[i].n)
			err = cgfw_tc_layout(&ks[i], next_gen(&ks[i]), sub, &head);
	}
	if (!err)
		err = cgfw_tc_plan_flush(sub);
	if (err == -E2BIG) {
		/* The entry count drifted (a crash left keys behind): grow once, write again. */
		cgfw_map_delete(fd, sub->done, sizeof(*sub->done), sub->ndone);
		sub->ndone = sub->n = sub->count = 0;
		err = cgfw_tc_table_grow(tc, max * 2);
		if (!err)
			err = cgfw_tc_table(tc, &fd, &max);
		sub->fd = fd;
		for (size_t i = 0; i < nks && !err; i++) {
			struct cgfw_tc_val head;

			if (ks[i].changed && ks[i].n)
				err = cgfw_tc_layout(&ks[i], next_gen(&ks[i]), sub, &head);
		}
		if (!err)
			err = cgfw_tc_plan_flush(sub);
	}
	if (err) {
		cgfw_map_delete(fd, sub->done, sizeof(*sub->done), sub->ndone);
		err = cgfw_seterr(err, "writing the TC rule table failed after %zu entries: %s%s",
				  sub->ndone, strerror(-err),
				  err == -ENOMEM || err == -E2BIG ? " (out of kernel memory)" : "");
		goto out;
	}

	/* 2. The heads, each switching its key to the new layout in one update. */
	heads->fd = fd;
	for (size_t i = 0; i < nks && !err; i++) {
		struct cgfw_tc_val head;

		if (!ks[i].changed || !ks[i].n)
			continue;
		err = cgfw_tc_layout(&ks[i], next_gen(&ks[i]), NULL, &head);
		if (!err)
			err = cgfw_tc_plan_write(heads, &ks[i].head, &head);
	}
	if (!err)
		err = cgfw_tc_plan_flush(heads);
	/* 3. The lengths in use, with the new ones. */
	if (!err && lens_created)
		err = cgfw_tc_lens_publish(tc, &lens);
	if (err) {
		restore_heads(fd, ks, nks, heads->ndone);
		cgfw_map_delete(fd, sub->done, sizeof(*sub->done), sub->ndone);
		err = cgfw_seterr(err, "writing the TC rule table failed: %s%s", strerror(-err),
				  err == -ENOMEM || err == -E2BIG ? " (out of kernel memory)" : "");
		goto out;
	}
	/* 4. Emptied heads and old layouts last: no packet reaches them any more. */
	for (size_t i = 0; i < nks && !err; i++) {
		if (!ks[i].changed)
			continue;
		if (!ks[i].n && ks[i].existed) {
			__u32 *cnt = lens_slot(&lens, &ks[i].head);

			if (*cnt)
				(*cnt)--;
			err = cgfw_tc_keylist_add(&del, &ks[i].head);
		}
		for (size_t x = 0; !err && x < ks[i].noldsub; x++)
			err = cgfw_tc_keylist_add(&del, &ks[i].oldsub[x]);
	}
	cgfw_map_delete(fd, del.k, sizeof(*del.k),
			del.n); /* out of memory above: leftovers, never seen */
	err = 0;
	if (nheaddel || created)
		cgfw_tc_lens_publish(tc, &lens);
	cgfw_tc_routes_commit(tc, rd, nrd);
	routes_added = false;
	meta.next_rule_id = next_id;
	{
		int64_t entries = (int64_t)meta.table_entries + (int64_t)sub->ndone +
				  (int64_t)created - (int64_t)del.n;

		meta.table_entries = entries < 0 ? 0 : (uint32_t)entries;
	}
	cgfw_tc_meta_write(tc, &meta);
out:
	if (err && routes_added)
		cgfw_tc_routes_undo(rd, nrd);
	kset_free(ks, nks);
	free(ops);
	free(rd);
	if (sub)
		free(sub->done);
	if (heads)
		free(heads->done);
	free(sub);
	free(heads);
	free(del.k);
	return err ? err : (int)(changed > INT32_MAX ? INT32_MAX : changed);
}

/* ---- listing --------------------------------------------------------------------------------- */

struct image {
	struct cgfw_tc_key *k;
	struct cgfw_tc_val *v;
	size_t n;
};

static int cmp_key(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct cgfw_tc_key));
}

static int image_lookup(void *ctx, const struct cgfw_tc_key *k, struct cgfw_tc_val *v)
{
	struct image *im = ctx;
	struct cgfw_tc_key *hit = bsearch(k, im->k, im->n, sizeof(*k), cmp_key);

	if (!hit)
		return -ENOENT;
	*v = im->v[hit - im->k];
	return 0;
}

static int cmp_id(const void *a, const void *b)
{
	const struct cgfw_tc_rule *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

int cgfw_tc_rules_list(struct cgfw_tc *tc, uint8_t kind, struct cgfw_tc_rule **ret, size_t *ret_n)
{
	struct image im = {};
	struct cgfw_tc_rule *out = NULL;
	size_t n = 0, cap = 0;
	int fd, err;

	err = cgfw_tc_table(tc, &fd, NULL);
	if (err)
		return err;
	err = cgfw_map_dump(fd, sizeof(*im.k), sizeof(*im.v), (void **)&im.k, (void **)&im.v,
			    &im.n);
	if (err)
		return cgfw_seterr(err, "cannot read the TC rule table: %s", strerror(-err));
	/* Sort keys and values together, then decode each head from the image. */
	{
		size_t *perm = malloc((im.n ? im.n : 1) * sizeof(*perm));
		struct cgfw_tc_key *k2 = malloc((im.n ? im.n : 1) * sizeof(*k2));
		struct cgfw_tc_val *v2 = malloc((im.n ? im.n : 1) * sizeof(*v2));
		struct {
			struct cgfw_tc_key k;
			size_t i;
		} *tmp = malloc((im.n ? im.n : 1) * sizeof(*tmp));

		if (!perm || !k2 || !v2 || !tmp) {
			free(perm);
			free(k2);
			free(v2);
			free(tmp);
			err = cgfw_seterr(ENOMEM, "out of memory");
			goto out;
		}
		for (size_t i = 0; i < im.n; i++) {
			tmp[i].k = im.k[i];
			tmp[i].i = i;
		}
		qsort(tmp, im.n, sizeof(*tmp), cmp_key); /* the key leads the struct */
		for (size_t i = 0; i < im.n; i++) {
			k2[i] = tmp[i].k;
			v2[i] = im.v[tmp[i].i];
		}
		free(perm);
		free(tmp);
		free(im.k);
		free(im.v);
		im.k = k2;
		im.v = v2;
	}
	for (size_t i = 0; i < im.n; i++) {
		struct kset ks = {};

		if (im.k[i].type != CGFW_TC_KEY_HEAD)
			continue;
		ks.head = im.k[i];
		ks.old = &im.v[i];
		ks.existed = true;
		err = cgfw_tc_decode(image_lookup, &im, &ks);
		for (size_t e = 0; !err && e < ks.n; e++) {
			if (kind && ks.e[e].kind != kind)
				continue;
			if (n == cap) {
				struct cgfw_tc_rule *m =
					realloc(out, (cap = cap * 2 + 256) * sizeof(*m));

				if (!m) {
					err = -ENOMEM;
					break;
				}
				out = m;
			}
			cgfw_tc_entry_rule(&ks.head, &ks.e[e], &out[n++]);
		}
		free(ks.e);
		free(ks.oldsub);
		ks.old = NULL;
		if (err) {
			err = cgfw_seterr(ENOMEM, "out of memory");
			goto out;
		}
	}
	qsort(out, n, sizeof(*out), cmp_id);
out:
	free(im.k);
	free(im.v);
	if (err) {
		free(out);
		return err;
	}
	*ret = out;
	*ret_n = n;
	return 0;
}

int cgfw_tc_rules_flush(struct cgfw_tc *tc, uint8_t kind)
{
	struct cgfw_tc_rule *rules = NULL;
	size_t n = 0;
	int err;

	err = cgfw_tc_rules_list(tc, kind, &rules, &n);
	if (!err)
		err = cgfw_tc_rules_update(tc, rules, n, false);
	free(rules);
	return err;
}
