/* SPDX-License-Identifier: GPL-2.0-only */
/* Internals shared by the ops module's files. */
#ifndef CGFW_OPS_INTERNAL_H
#define CGFW_OPS_INTERNAL_H

#include <cgfw/cgroup.h>
#include <cgfw/ops.h>
#include <cgfw/pin.h>
#include <cgfw/policy.h>
#include <cgfw/tc.h>

struct json_t;

/* ---- store.c: files under cgfw_var_dir() ------------------------------------------------ */

/* Create the var dir (0700) and, when @sub is given, VAR/SUB. */
int cgfw_store_mkdir(const char *sub);
/* "VAR/NAME" */
void cgfw_store_path(const char *name, char *buf, size_t n);
/* Read VAR/NAME when the var dir and the file are ours; -ENOENT when absent. */
int cgfw_store_read(const char *name, struct json_t **ret);
/* Cgroup ids a previous apply attached (so a later apply may detach them). */
int cgfw_store_load_attached(uint64_t **ret, size_t *ret_n);
/*
 * An apply's saved policy and attached list, written beside the ones in force
 * (*.next) until the rule set with @ret_hash is live: then finish renames
 * them into place; discard removes them. repair does either, by the hash of
 * the rule set in force, after a command died in between (with a notice).
 */
int cgfw_store_stage_policy(const struct cgfw_policy *pol, const uint64_t *ids, size_t n,
			    uint64_t *ret_hash);
int cgfw_store_finish_policy(void);
void cgfw_store_discard_policy(void);
/* A container's record: VAR/containers/ID.json. */
void cgfw_store_container_path(const char *id, char *buf, size_t n);
int cgfw_store_container_save(const char *id, struct json_t *rec);
int cgfw_store_container_read(const char *id, struct json_t **ret);

/* ---- apply.c, ifaces.c, manual.c ----------------------------------------------------------- */

/* Whether cgroup @id is attached (st may be NULL: no state, nothing attached). */
bool cgfw_ops_attached(struct cgfw_state *st, uint64_t id);
/* The interfaces section relative to the saved policy's; @tc NULL: plan only. */
int cgfw_policy_apply_ifaces(struct cgfw_tc *tc, const struct cgfw_policy *pol,
			     const struct cgfw_policy *old, struct cgfw_plan *plan);
int cgfw_manual_restore(struct cgfw_plan *plan);

#endif /* CGFW_OPS_INTERNAL_H */
