// SPDX-License-Identifier: GPL-2.0-only
/*
 * The local routes tproxy rules need (bpf_sk_assign delivers only to a
 * destination that routes locally), per network namespace: the destination
 * prefixes of the tproxy rules added in that namespace. cgfw_tc_routes
 * records each with the rules that need it and whether cgfw added it (a
 * route that was there before is used, never removed).
 *
 * cgfw_tc_routes_sync makes the routes what a rule set needs: before a
 * switch it only adds (a route is recorded, pending, before it is added, so
 * a command killed in between leaves a record the next sync completes);
 * after it, it also removes what no rule needs. Every TC command that takes
 * the lock syncs the live set first, so whatever a killed command left is
 * set right.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "internal.h"

static void route_key(const struct cgfw_tc *tc, const struct cgfw_prefix *p,
		      struct cgfw_tc_route_key *k)
{
	memset(k, 0, sizeof(*k));
	k->netns = tc->netns;
	k->family = p->family;
	k->prefixlen = p->len;
	memcpy(k->addr, p->addr, 16);
}

static void route_prefix(const struct cgfw_tc_route_key *k, struct cgfw_prefix *p)
{
	memset(p, 0, sizeof(*p));
	p->family = k->family;
	p->len = k->prefixlen;
	memcpy(p->addr, k->addr, 16);
}

struct want {
	struct cgfw_tc_route_key key;
	uint32_t refs;
};

static int cmp_key(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct cgfw_tc_route_key));
}

/* The routes of this namespace @s needs, with their rule counts, sorted. */
static int wanted(struct cgfw_tc *tc, const struct cgfw_tc_set *s, struct want **ret, size_t *n)
{
	struct want *w = calloc(s->n + 1, sizeof(*w));
	size_t m = 0;

	if (!w)
		return cgfw_seterr(ENOMEM, "out of memory");
	for (size_t i = 0; i < s->n; i++)
		if (s->r[i].kind == CGFW_TC_TPROXY && s->netns[i] == tc->netns) {
			route_key(tc, &s->r[i].dst, &w[m].key);
			w[m++].refs = 1;
		}
	qsort(w, m, sizeof(*w), cmp_key);
	*n = 0;
	for (size_t i = 0; i < m; i++) {
		if (*n && !cmp_key(&w[*n - 1].key, &w[i].key)) {
			w[*n - 1].refs++;
			continue;
		}
		w[(*n)++] = w[i];
	}
	*ret = w;
	return 0;
}

struct rec {
	struct cgfw_tc_route_key key;
	struct cgfw_tc_route_val val;
};

static int rec_conv(const void *key, const void *val, void *out, void *arg)
{
	const struct cgfw_tc_route_key *k = key;
	struct rec *o = out;

	if (k->netns != ((const struct cgfw_tc *)arg)->netns)
		return 0;
	memcpy(&o->key, key, sizeof(o->key));
	memcpy(&o->val, val, sizeof(o->val));
	return 1;
}

/*
 * Add the routes of @p (n of them); ret_owned[i] says whether cgfw added it
 * (else it was somebody's already). -errno naming the first that failed.
 */
static int add_routes(struct cgfw_prefix *p, size_t n, bool *ret_owned)
{
	_cleanup_free_ int *errs = calloc(n ? n : 1, sizeof(*errs));
	_cleanup_free_ struct cgfw_prefix *q = calloc(n ? n : 1, sizeof(*q));
	_cleanup_free_ size_t *qi = calloc(n ? n : 1, sizeof(*qi));
	_cleanup_free_ int *qe = calloc(n ? n : 1, sizeof(*qe));
	size_t nq = 0;
	int err;

	if (!errs || !q || !qi || !qe)
		return cgfw_seterr(ENOMEM, "out of memory");
	err = cgfw_nl_local_routes(true, p, n, errs);
	if (err)
		return err;
	/*
	 * A route that exists may be cgfw's own (proto 207) from a command that
	 * died: a delete naming our protocol only takes such a route; then it is
	 * added again, and owned. Anybody else's route stays, used, never removed.
	 */
	for (size_t j = 0; j < n; j++)
		if (errs[j] == -EEXIST) {
			qi[nq] = j;
			q[nq++] = p[j];
		}
	if (nq && cgfw_nl_local_routes(false, q, nq, qe) == 0) {
		size_t nr = 0;

		for (size_t j = 0; j < nq; j++)
			if (qe[j] == 0) {
				qi[nr] = qi[j];
				q[nr++] = q[j];
			}
		if (nr && cgfw_nl_local_routes(true, q, nr, qe) == 0)
			for (size_t j = 0; j < nr; j++)
				errs[qi[j]] = qe[j];
	}
	for (size_t j = 0; j < n; j++) {
		ret_owned[j] = errs[j] == 0;
		if (errs[j] && errs[j] != -EEXIST) {
			char buf[CGFW_ADDRSTRLEN];

			cgfw_format_prefix(&p[j], buf, sizeof(buf));
			return cgfw_seterr(errs[j] < 0 ? errs[j] : EIO,
					   "cannot add the local route for %s: %s", buf,
					   strerror(errs[j] < 0 ? -errs[j] : EIO));
		}
	}
	return 0;
}

int cgfw_tc_routes_sync(struct cgfw_tc *tc, const struct cgfw_tc_set *s, bool add_only)
{
	_cleanup_free_ struct want *w = NULL;
	_cleanup_free_ struct rec *rec = NULL;
	_cleanup_free_ struct cgfw_prefix *p = NULL;
	_cleanup_free_ size_t *pw = NULL;
	_cleanup_free_ bool *owned = NULL, *gone = NULL;
	size_t nw = 0, nr = 0, np = 0, i = 0, j = 0, changed = 0;
	int err;

	err = wanted(tc, s, &w, &nw);
	if (!err)
		err = cgfw_map_collect(tc->routes_fd, CGFW_TC_ROUTES_PIN,
				       sizeof(struct cgfw_tc_route_key),
				       sizeof(struct cgfw_tc_route_val), sizeof(struct rec),
				       rec_conv, tc, (void **)&rec, &nr);
	if (err)
		return err;
	qsort(rec, nr, sizeof(*rec), cmp_key);
	p = calloc(nw + nr + 1, sizeof(*p));
	pw = calloc(nw + 1, sizeof(*pw));
	owned = calloc(nw + 1, sizeof(*owned));
	if (!p || !pw || !owned)
		return cgfw_seterr(ENOMEM, "out of memory");
	/* What to add: wanted, and not recorded or not known to be there. */
	for (i = 0, j = 0; i < nw; i++) {
		while (j < nr && cmp_key(&rec[j].key, &w[i].key) < 0)
			j++;
		if (j < nr && !cmp_key(&rec[j].key, &w[i].key) && !rec[j].val.pending) {
			if (rec[j].val.refs != w[i].refs) {
				struct cgfw_tc_route_val v = rec[j].val;

				v.refs = w[i].refs;
				bpf_map_update_elem(tc->routes_fd, &w[i].key, &v, BPF_ANY);
			}
			continue;
		}
		{
			struct cgfw_tc_route_val v = { .refs = w[i].refs,
						       .owned = 1,
						       .pending = 1 };

			if (bpf_map_update_elem(tc->routes_fd, &w[i].key, &v, BPF_ANY) < 0)
				return cgfw_seterr(errno, "cannot record a route in %s: %s",
						   CGFW_TC_ROUTES_PIN, strerror(errno));
		}
		route_prefix(&w[i].key, &p[np]);
		pw[np++] = i;
	}
	if (np) {
		err = add_routes(p, np, owned);
		for (size_t k = 0; k < np; k++) {
			struct cgfw_tc_route_val v = { .refs = w[pw[k]].refs, .owned = owned[k] };

			if (!err || owned[k])
				bpf_map_update_elem(tc->routes_fd, &w[pw[k]].key, &v, BPF_ANY);
		}
		if (err)
			return err;
		changed += np;
	}
	if (add_only)
		return (int)changed;
	/*
	 * What to remove: recorded, not wanted. The routes go first, their
	 * records after: a command killed in between leaves records of routes
	 * that may be gone, which the next sync removes again (a route already
	 * gone is no error), never routes nobody records.
	 */
	gone = calloc(nr + 1, sizeof(*gone));
	if (!gone)
		return cgfw_seterr(ENOMEM, "out of memory");
	np = 0;
	for (i = 0, j = 0; j < nr; j++) {
		while (i < nw && cmp_key(&w[i].key, &rec[j].key) < 0)
			i++;
		if (i < nw && !cmp_key(&w[i].key, &rec[j].key))
			continue;
		gone[j] = true;
		if (rec[j].val.owned)
			route_prefix(&rec[j].key, &p[np++]);
	}
	if (np) {
		_cleanup_free_ int *errs = calloc(np, sizeof(*errs));

		if (!errs)
			return cgfw_seterr(ENOMEM, "out of memory");
		cgfw_nl_local_routes(false, p, np, errs);
	}
	for (j = 0; j < nr; j++)
		if (gone[j]) {
			bpf_map_delete_elem(tc->routes_fd, &rec[j].key);
			changed++;
		}
	return (int)changed;
}

static int route_conv(const void *key, const void *val, void *out, void *arg)
{
	const struct cgfw_tc_route_key *k = key;
	const struct cgfw_tc_route_val *v = val;
	const struct cgfw_tc *tc = arg;
	struct cgfw_tc_route *o = out;

	route_prefix(k, &o->pfx);
	o->refs = v->refs;
	o->owned = v->owned;
	o->this_netns = k->netns == tc->netns;
	return 1;
}

int cgfw_tc_routes(struct cgfw_tc *tc, struct cgfw_tc_route **ret, size_t *ret_n)
{
	return cgfw_map_collect(tc->routes_fd, CGFW_TC_ROUTES_PIN, sizeof(struct cgfw_tc_route_key),
				sizeof(struct cgfw_tc_route_val), sizeof(struct cgfw_tc_route),
				route_conv, tc, (void **)ret, ret_n);
}
