// SPDX-License-Identifier: GPL-2.0-only
/*
 * The local routes tproxy rules need (bpf_sk_assign delivers only to a
 * destination that routes locally): per network namespace, reference-counted
 * in cgfw_tc_routes, added over rtnetlink and removed with the last rule.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "internal.h"
#include "table.h"

static int cmp_rdelta(const void *x, const void *y)
{
	return memcmp(&((const struct rdelta *)x)->key, &((const struct rdelta *)y)->key,
		      sizeof(struct cgfw_tc_route_key));
}

void cgfw_tc_route_key_of(struct cgfw_tc *tc, const struct cgfw_tc_key *hk,
			  struct cgfw_tc_route_key *k)
{
	memset(k, 0, sizeof(*k));
	k->netns = tc->netns;
	k->family = hk->family;
	k->prefixlen = hk->prefixlen;
	memcpy(k->addr, hk->addr, 16);
}

void cgfw_tc_route_prefix(const struct cgfw_tc_route_key *k, struct cgfw_prefix *p)
{
	memset(p, 0, sizeof(*p));
	p->family = k->family;
	p->len = k->prefixlen;
	memcpy(p->addr, k->addr, 16);
}

/* Merge per-rule deltas into one per prefix; read the current references. */
int cgfw_tc_routes_prepare(struct cgfw_tc *tc, struct rdelta *rd, size_t *n)
{
	size_t m = 0;

	qsort(rd, *n, sizeof(*rd), cmp_rdelta);
	for (size_t i = 0; i < *n; i++) {
		if (m && !memcmp(&rd[m - 1].key, &rd[i].key, sizeof(rd[i].key))) {
			rd[m - 1].delta += rd[i].delta;
			continue;
		}
		rd[m++] = rd[i];
	}
	*n = m;
	for (size_t i = 0; i < m; i++) {
		struct cgfw_tc_route_val v;

		if (bpf_map_lookup_elem(tc->routes_fd, &rd[i].key, &v) == 0) {
			rd[i].existed = true;
			rd[i].refs = v.refs;
			rd[i].owned = v.owned;
		}
	}
	return 0;
}

/* Add the routes that go from no rule to some; undo on failure. */
int cgfw_tc_routes_add(struct rdelta *rd, size_t n)
{
	struct cgfw_prefix *p = calloc(n ? n : 1, sizeof(*p));
	int *errs = calloc(n ? n : 1, sizeof(*errs));
	size_t *idx = calloc(n ? n : 1, sizeof(*idx));
	size_t m = 0;
	int err = 0;

	if (!p || !errs || !idx) {
		err = cgfw_seterr(ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		if (rd[i].refs == 0 && (int64_t)rd[i].refs + rd[i].delta > 0) {
			cgfw_tc_route_prefix(&rd[i].key, &p[m]);
			idx[m++] = i;
		}
	err = cgfw_nl_local_routes(true, p, m, errs);
	if (err)
		goto out;
	{
		/*
		 * A route that exists may be cgfw's own (proto 207) left by a run that
		 * died before recording it: a delete that names our protocol only takes
		 * such a route; then it is added again, and owned. Anybody else's
		 * route stays, used but never removed.
		 */
		struct cgfw_prefix *q = calloc(m ? m : 1, sizeof(*q));
		size_t *qi = calloc(m ? m : 1, sizeof(*qi));
		int *qe = calloc(m ? m : 1, sizeof(*qe));
		size_t nq = 0;

		for (size_t j = 0; q && qi && qe && j < m; j++)
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
		free(q);
		free(qi);
		free(qe);
	}
	for (size_t j = 0; j < m; j++) {
		if (errs[j] == 0) {
			rd[idx[j]].added = rd[idx[j]].owned = true;
		} else if (errs[j] == -EEXIST) {
			rd[idx[j]].owned = false; /* somebody's route: use it, never remove it */
		} else if (!err) {
			char buf[CGFW_ADDRSTRLEN];

			cgfw_format_prefix(&p[j], buf, sizeof(buf));
			err = cgfw_seterr(errs[j] < 0 ? errs[j] : EIO,
					  "cannot add the local route for %s: %s", buf,
					  strerror(errs[j] < 0 ? -errs[j] : EIO));
		}
	}
	if (err) {
		/* Take back the ones this call added. */
		size_t k = 0;

		for (size_t j = 0; j < m; j++)
			if (rd[idx[j]].added)
				p[k++] = p[j];
		cgfw_nl_local_routes(false, p, k, errs);
	}
out:
	free(p);
	free(errs);
	free(idx);
	return err;
}

/* After the rules: record the references, remove routes no rule needs any more. */
void cgfw_tc_routes_commit(struct cgfw_tc *tc, struct rdelta *rd, size_t n)
{
	struct cgfw_prefix *p = calloc(n ? n : 1, sizeof(*p));
	int *errs = calloc(n ? n : 1, sizeof(*errs));
	size_t m = 0;

	for (size_t i = 0; i < n; i++) {
		int64_t refs = (int64_t)rd[i].refs + rd[i].delta;

		if (refs > 0) {
			struct cgfw_tc_route_val v = { .refs = (uint32_t)refs,
						       .owned = rd[i].owned };

			bpf_map_update_elem(tc->routes_fd, &rd[i].key, &v, BPF_ANY);
			continue;
		}
		if (rd[i].existed)
			bpf_map_delete_elem(tc->routes_fd, &rd[i].key);
		if (rd[i].owned && p)
			cgfw_tc_route_prefix(&rd[i].key, &p[m++]);
	}
	if (p && errs)
		cgfw_nl_local_routes(false, p, m, errs);
	free(p);
	free(errs);
}

void cgfw_tc_routes_undo(struct rdelta *rd, size_t n)
{
	struct cgfw_prefix *p = calloc(n ? n : 1, sizeof(*p));
	int *errs = calloc(n ? n : 1, sizeof(*errs));
	size_t m = 0;

	for (size_t i = 0; p && errs && i < n; i++)
		if (rd[i].added)
			cgfw_tc_route_prefix(&rd[i].key, &p[m++]);
	if (p && errs)
		cgfw_nl_local_routes(false, p, m, errs);
	free(p);
	free(errs);
}

static int route_conv(const void *key, const void *val, void *out, void *arg)
{
	const struct cgfw_tc_route_key *k = key;
	const struct cgfw_tc_route_val *v = val;
	const struct cgfw_tc *tc = arg;
	struct cgfw_tc_route *o = out;

	cgfw_tc_route_prefix(k, &o->pfx);
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
