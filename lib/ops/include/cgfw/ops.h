/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * cgfw ops: what spans the datapaths and the records kept on disk. Applying
 * a policy to the cgroup and the interface programs at once, the records
 * store under cgfw_var_dir() (the applied policy, container records, the
 * manual snapshot), restore, pending workloads, the OCI hook, and reset.
 * Conventions as in core.h.
 */
#ifndef CGFW_OPS_H
#define CGFW_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cgfw/core.h>
#include <cgfw/cgroup.h>
#include <cgfw/policy.h>

/* ---- the records store ------------------------------------------------------------ */

/* A running container the OCI hook enforced a workload on. */
struct cgfw_container {
	char id[130];
	char workload[130];
	char cgroup[PATH_MAX]; /* relative to the cgroup2 mount */
	uint64_t cgid;
};

int cgfw_containers_load(struct cgfw_container **ret, size_t *ret_n);
/* The applied policy (an empty one if none was applied). */
int cgfw_policy_load_saved(struct cgfw_policy *ret);
/*
 * Finish or undo what a policy apply killed part way left in the store, by
 * the rule set in force (run after opening the state; says what it did with
 * cgfw_notice). A command holding the state's lock calls it.
 */
int cgfw_store_repair(struct cgfw_state *st);
/* Did a policy apply leave staged files (cgfw_store_repair has work)? */
bool cgfw_store_staged(void);

/* ---- policies ------------------------------------------------------------------------ */

/*
 * Make @pol the enforced policy. With dry_run, only compute the plan (policy
 * diff). Atomic: on failure the previous policy stays in force. The applied
 * policy is saved under cgfw_var_dir() for `cgfw restore` and the OCI hook.
 */
int cgfw_policy_apply(const struct cgfw_policy *pol, bool dry_run, struct cgfw_plan *ret_plan);
/* Re-apply the saved policy, the running containers' rules and the manual snapshot. */
int cgfw_policy_restore(struct cgfw_plan *ret_plan);
/* Enforce a pending workload whose cgroup is @cg, if any (cgfw exec). Returns 1 if one applied. */
int cgfw_policy_enforce_pending(const struct cgfw_cgroup *cg);

/* What `cgfw policy show` shows: the saved policy and each workload's state. */
struct cgfw_workload_view {
	const struct cgfw_pol_workload *w; /* in policy */
	const char *state; /* "enforced", "pending", "hook-only", "not attached (run cgfw restore)" */
	struct cgfw_container *containers; /* running containers using it */
	size_t ncontainers;
};

struct cgfw_policy_view {
	struct cgfw_policy policy;
	struct cgfw_workload_view *workloads; /* one per policy.workloads[] */
};

int cgfw_policy_show(struct cgfw_policy_view *ret);
void cgfw_policy_view_free(struct cgfw_policy_view *v);

/* ---- `cgfw save` -------------------------------------------------------------------------- */

/* Snapshot of attachments and manual rules; restored by `cgfw restore`. */
int cgfw_manual_save(size_t *ret_rules);

/* ---- the OCI hook ---------------------------------------------------------------------------- */

/* OCI runtime hook: the state JSON from stdin. stage may be NULL (taken from the state's status). */
int cgfw_oci_hook(const char *stage, const char *state_json, size_t len);

/* ---- reset ------------------------------------------------------------------------------------- */

/* Detach every interface of this netns, remove cgfw's routes, then every pin. */
int cgfw_reset(void);

#endif /* CGFW_OPS_H */
