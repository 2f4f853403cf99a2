// SPDX-License-Identifier: GPL-2.0-only
/*
 * Re-creating what the records say: after a reboot or lost pins (`cgfw
 * restore`), and for a pending workload whose cgroup just appeared (`cgfw
 * exec`).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

int cgfw_policy_restore(struct cgfw_plan *ret_plan)
{
	struct cgfw_policy pol;
	struct cgfw_container *ct = NULL;
	struct cgfw_plan plan = {};
	size_t nct = 0;
	int err;

	err = cgfw_policy_load_saved(&pol);
	if (err)
		return err;
	/* Containers still running get their cgroups re-attached first. */
	cgfw_containers_load(&ct, &nct);
	for (size_t i = 0; i < nct; i++) {
		struct cgfw_cgroup cg;
		struct cgfw_state *st = NULL;

		if (cgfw_cgroup_resolve(NULL, ct[i].cgroup, true, &cg) < 0 || cg.id != ct[i].cgid) {
			char p[PATH_MAX + 160];

			/* the container is gone: forget it */
			cgfw_store_container_path(ct[i].id, p, sizeof(p));
			unlink(p);
			continue;
		}
		if (cgfw_state_open(CGFW_OPEN_CREATE | CGFW_OPEN_LOCK, &st) == 0) {
			cgfw_attach(st, &cg);
			cgfw_state_close(st);
		}
	}
	free(ct);
	err = cgfw_policy_apply(&pol, false, &plan);
	cgfw_policy_free(&pol);
	if (!err)
		err = cgfw_manual_restore(&plan);
	if (err) {
		cgfw_plan_free(&plan);
		return err;
	}
	*ret_plan = plan;
	return 0;
}

int cgfw_policy_enforce_pending(const struct cgfw_cgroup *cg)
{
	struct cgfw_policy pol;
	struct cgfw_plan plan = {};
	bool match = false;
	int err;

	err = cgfw_policy_load_saved(&pol);
	if (err)
		return err;
	match = cg->id && cgfw_policy_workload_of(&pol, cg->id);
	if (match && cgfw_state_exists()) {
		struct cgfw_state *st = NULL;

		/* Already enforced (the usual case): nothing to do. */
		if (cgfw_state_open(CGFW_OPEN_LOCK | CGFW_OPEN_SHARED, &st) == 0 &&
		    cgfw_ops_attached(st, cg->id))
			match = false;
		cgfw_state_close(st);
	}
	err = match ? cgfw_policy_apply(&pol, false, &plan) : 0;
	cgfw_plan_free(&plan);
	cgfw_policy_free(&pol);
	return err < 0 ? err : match;
}
