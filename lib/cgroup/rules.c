// SPDX-License-Identifier: GPL-2.0-only
/*
 * Rule changes in batches. A batch is merged per map key in memory, checked
 * against capacity, written with batched map updates, and only then are the
 * prefix-length lists republished. A failure part way restores every key the
 * batch touched, so a change is applied whole or not at all.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "internal.h"

union val {
	struct cgfw_rule_val plain;
	struct cgfw_port_rule_val port;
};

struct change {
	struct cgfw_rule_key key;
	bool port;
	bool existed;
	union val old, new;
	size_t first, last; /* rule index range in the sorted order */
};

struct sorted {
	struct cgfw_rule_key key;
	size_t idx;
};

static int cmp_sorted(const void *a, const void *b)
{
	const struct sorted *x = a, *y = b;
	int c = memcmp(&x->key, &y->key, sizeof(x->key));

	if (c)
		return c;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static bool val_empty(const struct change *c, const union val *v)
{
	return c->port ? cgfw_port_val_empty(&v->port) : cgfw_rule_val_empty(&v->plain);
}

static __u32 *count_slot(struct cgfw_lens_val *l, const struct cgfw_rule_key *k, bool port)
{
	if (k->family == CGFW_FAMILY_INET)
		return &l->count4[port + 2 * !!k->scope][k->prefixlen];
	return &l->count6[port + 2 * !!k->scope][k->prefixlen];
}

static size_t total_plain(const struct cgfw_lens_val *l)
{
	size_t n = 0;

	for (int i = 0; i < CGFW_LEN4_MAX; i++)
		n += l->count4[0][i] + l->count4[2][i];
	for (int i = 0; i < CGFW_LEN6_MAX; i++)
		n += l->count6[0][i] + l->count6[2][i];
	return n;
}

static size_t total_port(const struct cgfw_lens_val *l)
{
	size_t n = 0;

	for (int i = 0; i < CGFW_LEN4_MAX; i++)
		n += l->count4[1][i] + l->count4[3][i];
	for (int i = 0; i < CGFW_LEN6_MAX; i++)
		n += l->count6[1][i] + l->count6[3][i];
	return n;
}

static void restore(struct cgfw_state *st, struct change *ch, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int fd = ch[i].port ? st->prules_fd : st->rules_fd;

		if (ch[i].existed)
			bpf_map_update_elem(fd, &ch[i].key, &ch[i].old, BPF_ANY);
		else
			bpf_map_delete_elem(fd, &ch[i].key);
	}
}

/* Commit merged changes: write, publish lengths, delete emptied keys. */
static int commit(struct cgfw_state *st, struct change *ch, size_t n, cgfw_progress_fn progress,
		  void *arg, int (*mid)(void *), void *mid_arg)
{
	/* old: as found; uni: old and new lengths together; lens: the result */
	struct cgfw_lens_val old, uni, lens;
	size_t nw[2] = { 0, 0 }, nd[2] = { 0, 0 }, done = 0;
	struct cgfw_rule_key *wk[2] = {}, *dk[2] = {};
	union val *wv[2] = {};
	int err;

	err = cgfw_lens_read(st, &old);
	if (err)
		return err;
	uni = lens = old;
	for (size_t i = 0; i < n; i++) {
		bool was = ch[i].existed && !val_empty(&ch[i], &ch[i].old);
		bool is = !val_empty(&ch[i], &ch[i].new);

		if (was && !is) {
			(*count_slot(&lens, &ch[i].key, ch[i].port))--;
		} else if (!was && is) {
			(*count_slot(&lens, &ch[i].key, ch[i].port))++;
			(*count_slot(&uni, &ch[i].key, ch[i].port))++;
		}
	}
	/* Old and new keys are both in the map until the old ones go. */
	if (total_plain(&uni) > CGFW_RULES_MAX)
		return cgfw_seterr(ENOSPC,
				   "rule map full: %zu address rules during the change, "
				   "capacity %u",
				   total_plain(&uni), CGFW_RULES_MAX);
	if (total_port(&uni) > CGFW_PRULES_MAX)
		return cgfw_seterr(ENOSPC,
				   "port rule map full: %zu entries during the change, "
				   "capacity %u",
				   total_port(&uni), CGFW_PRULES_MAX);

	for (int p = 0; p < 2; p++) {
		wk[p] = malloc((n ? n : 1) * sizeof(*wk[p]));
		wv[p] = malloc((n ? n : 1) * (p ? sizeof(struct cgfw_port_rule_val) :
						  sizeof(struct cgfw_rule_val)));
		dk[p] = malloc((n ? n : 1) * sizeof(*dk[p]));
		if (!wk[p] || !wv[p] || !dk[p]) {
			err = cgfw_seterr(ENOMEM, "out of memory");
			goto out;
		}
	}
	for (size_t i = 0; i < n; i++) {
		int p = ch[i].port;

		if (val_empty(&ch[i], &ch[i].new)) {
			if (ch[i].existed)
				dk[p][nd[p]++] = ch[i].key;
			continue;
		}
		wk[p][nw[p]] = ch[i].key;
		if (p)
			((struct cgfw_port_rule_val *)wv[p])[nw[p]] = ch[i].new.port;
		else
			((struct cgfw_rule_val *)wv[p])[nw[p]] = ch[i].new.plain;
		nw[p]++;
	}
	/* 1. New and changed keys: a packet may now match them, if its length is listed. */
	for (int p = 0; p < 2; p++) {
		size_t vsz = p ? sizeof(struct cgfw_port_rule_val) : sizeof(struct cgfw_rule_val);

		err = cgfw_map_write(p ? st->prules_fd : st->rules_fd, wk[p], wv[p],
				     sizeof(struct cgfw_rule_key), vsz, nw[p], &done, progress, arg,
				     p ? nw[0] : 0, nw[0] + nw[1]);
		if (err) {
			err = cgfw_seterr(
				err,
				err == -ENOMEM || err == -E2BIG ?
					"rule map full or out of kernel memory after %zu of %zu rules: %s" :
					"writing rules failed after %zu of %zu: %s",
				(p ? nw[0] : 0) + done, nw[0] + nw[1], strerror(-err));
			restore(st, ch, n);
			goto out;
		}
	}
	/* 2. Every length of the old and the new rules, swapped in whole: a
	 * rule on its way out is still probed until it is deleted. */
	err = cgfw_lens_publish(st, &uni);
	if (err) {
		restore(st, ch, n);
		goto out;
	}
	/* 2b. The caller's own switch (default verdicts), while old and new
	 * rules are both in place, so it never meets an incomplete rule set. */
	if (mid) {
		err = mid(mid_arg);
		if (err) {
			restore(st, ch, n);
			cgfw_lens_publish(st, &old);
			goto out;
		}
	}
	/* 3. Emptied keys go last; no packet probes them any more. */
	cgfw_map_delete(st->rules_fd, dk[0], sizeof(*dk[0]), nd[0]);
	cgfw_map_delete(st->prules_fd, dk[1], sizeof(*dk[1]), nd[1]);
	/* 4. The lengths in use now, with exact counts. */
	err = cgfw_lens_publish(st, &lens);
out:
	for (int p = 0; p < 2; p++) {
		free(wk[p]);
		free(wv[p]);
		free(dk[p]);
	}
	return err;
}

static int check_scope(struct cgfw_state *st, uint64_t scope)
{
	struct cgfw_cgroup_val v;

	if (scope == CGFW_SCOPE_HOST)
		return 0;
	if (bpf_map_lookup_elem(st->cgroups_fd, &scope, &v) < 0)
		return cgfw_seterr(ENOENT,
				   "cgroup id %llu is not attached; run 'cgfw attach' first",
				   (unsigned long long)scope);
	return 0;
}

int cgfw_rules_update(struct cgfw_state *st, const struct cgfw_rule *rules, size_t n, bool add,
		      cgfw_progress_fn progress, void *arg)
{
	return cgfw_rules_update_ops(st, rules, NULL, add, n, progress, arg);
}

int cgfw_rules_update_ops(struct cgfw_state *st, const struct cgfw_rule *rules, const bool *adds,
			  bool add_all, size_t n, cgfw_progress_fn progress, void *arg)
{
	return cgfw_rules_update_mid(st, rules, adds, add_all, n, progress, arg, NULL, NULL);
}

int cgfw_rules_update_mid(struct cgfw_state *st, const struct cgfw_rule *rules, const bool *adds,
			  bool add_all, size_t n, cgfw_progress_fn progress, void *arg,
			  int (*mid)(void *), void *mid_arg)
{
	struct cgfw_lens_val lens;
	struct sorted *s = NULL;
	struct change *ch = NULL;
	size_t nch = 0, changed = 0;
	uint64_t last_scope = ~0ull;
	int err = 0;

	if (!n)
		return mid ? mid(mid_arg) : 0;
	s = malloc(n * sizeof(*s));
	ch = calloc(n, sizeof(*ch));
	if (!s || !ch) {
		err = cgfw_seterr(ENOMEM, "out of memory for %zu rules", n);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (rules[i].scope != last_scope) {
			err = check_scope(st, rules[i].scope);
			if (err)
				goto out;
			last_scope = rules[i].scope;
		}
		if (!rules[i].dirs ||
		    (rules[i].action != CGFW_ALLOW && rules[i].action != CGFW_DENY) ||
		    rules[i].origin >= CGFW_ORIGIN_COUNT) {
			err = cgfw_seterr(EINVAL, "malformed rule %zu", i);
			goto out;
		}
		cgfw_rule_key(&rules[i], &s[i].key);
		s[i].idx = i;
	}
	qsort(s, n, sizeof(*s), cmp_sorted);
	err = cgfw_lens_read(st, &lens);
	if (err)
		goto out;

	for (size_t i = 0; i < n;) {
		struct change *c = &ch[nch];
		size_t j = i;
		int fd;

		c->key = s[i].key;
		c->port = c->key.proto != CGFW_PROTO_ANY;
		fd = c->port ? st->prules_fd : st->rules_fd;
		/* No rule at this family and length yet: nothing to read back. */
		if (*count_slot(&lens, &c->key, c->port) == 0) {
			memset(&c->old, 0, sizeof(c->old));
		} else if (bpf_map_lookup_elem(fd, &c->key, &c->old) == 0) {
			c->existed = true;
		} else if (errno == ENOENT) {
			memset(&c->old, 0, sizeof(c->old));
		} else {
			err = cgfw_seterr(errno, "cannot read the rule maps: %s", strerror(errno));
			goto out;
		}
		c->new = c->old;
		for (; j < n && memcmp(&s[j].key, &c->key, sizeof(c->key)) == 0; j++) {
			const struct cgfw_rule *r = &rules[s[j].idx];
			bool add = adds ? adds[s[j].idx] : add_all;
			bool ch_one = false;

			if (c->port) {
				err = cgfw_port_val_apply(&c->new.port, r, add, &ch_one);
				if (err) {
					char buf[CGFW_ADDRSTRLEN];

					cgfw_format_prefix(&r->pfx, buf, sizeof(buf));
					err = cgfw_seterr(
						EINVAL,
						"too many port ranges for %s %s: at most %d per "
						"prefix and protocol",
						buf, cgfw_proto_name(r->proto), CGFW_PORT_ENTRIES);
					goto out;
				}
			} else {
				ch_one = cgfw_rule_val_apply(&c->new.plain, r, add);
			}
			changed += ch_one;
		}
		if (memcmp(&c->new, &c->old, sizeof(c->old)) != 0)
			nch++;
		i = j;
	}
	err = commit(st, ch, nch, progress, arg, mid, mid_arg);
out:
	free(s);
	free(ch);
	return err ? err : (int)(changed > INT32_MAX ? INT32_MAX : changed);
}

static void emit(struct cgfw_rule **out, size_t *n, size_t *cap, const struct cgfw_rule_key *k,
		 const __u8 act[CGFW_DIR_COUNT], uint16_t lo, uint16_t hi)
{
	for (int o = 0; o < CGFW_ORIGIN_COUNT; o++) {
		for (int a = CGFW_ALLOW; a <= CGFW_DENY; a++) {
			__u8 bit = a == CGFW_DENY ? CGFW_ACT_DENY_BIT(o) : CGFW_ACT_ALLOW_BIT(o);
			struct cgfw_rule r = {};

			for (int d = 0; d < CGFW_DIR_COUNT; d++)
				if (act[d] & bit)
					r.dirs |= CGFW_DIR_BIT(d);
			if (!r.dirs)
				continue;
			if (*n == *cap) {
				struct cgfw_rule *m =
					realloc(*out, (*cap = *cap * 2 + 64) * sizeof(**out));

				if (!m)
					return;
				*out = m;
			}
			r.scope = k->scope;
			r.pfx.family = k->family;
			r.pfx.len = k->prefixlen;
			memcpy(r.pfx.addr, k->addr, 16);
			r.proto = k->proto;
			r.port_lo = lo;
			r.port_hi = hi;
			r.action = (uint8_t)a;
			r.origin = (uint8_t)o;
			(*out)[(*n)++] = r;
		}
	}
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
	return x->action - y->action;
}

int cgfw_rules_list(struct cgfw_state *st, struct cgfw_rule **ret, size_t *ret_n)
{
	struct cgfw_rule_key *keys = NULL;
	void *vals = NULL;
	struct cgfw_rule *out = NULL;
	size_t n = 0, cap = 0, nk = 0;
	int err;

	err = cgfw_map_dump(st->rules_fd, sizeof(*keys), sizeof(struct cgfw_rule_val),
			    (void **)&keys, &vals, &nk);
	if (err)
		return cgfw_seterr(err, "cannot read %s: %s", CGFW_RULES_PIN, strerror(-err));
	for (size_t i = 0; i < nk; i++)
		emit(&out, &n, &cap, &keys[i], ((struct cgfw_rule_val *)vals)[i].act, 0, 0);
	free(keys);
	free(vals);
	err = cgfw_map_dump(st->prules_fd, sizeof(*keys), sizeof(struct cgfw_port_rule_val),
			    (void **)&keys, &vals, &nk);
	if (err) {
		free(out);
		return cgfw_seterr(err, "cannot read %s: %s", CGFW_PRULES_PIN, strerror(-err));
	}
	for (size_t i = 0; i < nk; i++) {
		const struct cgfw_port_rule_val *v = &((struct cgfw_port_rule_val *)vals)[i];

		for (int e = 0; e < CGFW_PORT_ENTRIES; e++)
			if (v->e[e].act[0] || v->e[e].act[1])
				emit(&out, &n, &cap, &keys[i], v->e[e].act,
				     keys[i].proto == CGFW_PROTO_ICMP ? 0 : v->e[e].lo,
				     keys[i].proto == CGFW_PROTO_ICMP ? 0 : v->e[e].hi);
	}
	free(keys);
	free(vals);
	if (n)
		qsort(out, n, sizeof(*out), cmp_rule);
	*ret = out;
	*ret_n = n;
	return 0;
}

int cgfw_rules_flush_scope(struct cgfw_state *st, uint64_t scope)
{
	struct cgfw_rule *all = NULL, *mine;
	size_t n = 0, m = 0;
	int err;

	err = cgfw_rules_list(st, &all, &n);
	if (err)
		return err;
	mine = all;
	for (size_t i = 0; i < n; i++)
		if (all[i].scope == scope)
			mine[m++] = all[i];
	/* The scope is being detached: skip the attached check. */
	err = 0;
	if (m) {
		struct cgfw_cgroup_val v;
		bool present = bpf_map_lookup_elem(st->cgroups_fd, &scope, &v) == 0;

		if (!present && scope != CGFW_SCOPE_HOST) {
			memset(&v, 0, sizeof(v));
			bpf_map_update_elem(st->cgroups_fd, &scope, &v, BPF_NOEXIST);
		}
		err = cgfw_rules_update(st, mine, m, false, NULL, NULL);
		if (!present && scope != CGFW_SCOPE_HOST)
			bpf_map_delete_elem(st->cgroups_fd, &scope);
	}
	free(all);
	return err < 0 ? err : 0;
}
