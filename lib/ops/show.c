// SPDX-License-Identifier: GPL-2.0-only
/* `cgfw policy show`: the saved policy and the state of each workload. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

void cgfw_policy_view_free(struct cgfw_policy_view *v)
{
	for (size_t i = 0; v->workloads && i < v->policy.nworkloads; i++)
		free(v->workloads[i].containers);
	free(v->workloads);
	cgfw_policy_free(&v->policy);
	memset(v, 0, sizeof(*v));
}

static const char *workload_state(struct cgfw_state *st, const struct cgfw_pol_workload *w)
{
	struct cgfw_cgroup cg;

	if (!w->cgroup)
		return "hook-only";
	if (cgfw_cgroup_resolve(NULL, w->cgroup, false, &cg) < 0 || !cg.id)
		return "pending";
	if (cgfw_ops_attached(st, cg.id))
		return "enforced";
	return "not attached (run cgfw restore)";
}

int cgfw_policy_show(struct cgfw_policy_view *ret)
{
	struct cgfw_policy_view v = {};
	_cleanup_state_ struct cgfw_state *st = NULL;
	_cleanup_free_ struct cgfw_container *ct = NULL;
	size_t nct = 0;
	int err;

	/* What a killed apply staged is finished or undone first (exclusive lock). */
	if (cgfw_store_staged() && cgfw_state_exists()) {
		err = cgfw_state_open(CGFW_OPEN_LOCK, &st);
		if (!err)
			err = cgfw_store_repair(st);
		cgfw_state_close(st);
		st = NULL;
		if (err)
			return err;
	}
	err = cgfw_policy_load_saved(&v.policy);
	if (err)
		return err;
	if (cgfw_state_exists()) {
		err = cgfw_state_open(CGFW_OPEN_LOCK | CGFW_OPEN_SHARED, &st);
		if (err)
			goto fail;
	}
	err = cgfw_containers_load(&ct, &nct);
	if (err)
		goto fail;
	v.workloads = calloc(v.policy.nworkloads + 1, sizeof(*v.workloads));
	if (!v.workloads) {
		err = cgfw_seterr(ENOMEM, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < v.policy.nworkloads; i++) {
		struct cgfw_workload_view *wv = &v.workloads[i];

		wv->w = &v.policy.workloads[i];
		wv->state = workload_state(st, wv->w);
		wv->containers = calloc(nct + 1, sizeof(*wv->containers));
		if (!wv->containers) {
			err = cgfw_seterr(ENOMEM, "out of memory");
			goto fail;
		}
		for (size_t c = 0; c < nct; c++)
			if (!strcmp(ct[c].workload, wv->w->name))
				wv->containers[wv->ncontainers++] = ct[c];
	}
	*ret = v;
	return 0;
fail:
	cgfw_policy_view_free(&v);
	return err;
}
