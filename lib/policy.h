/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Policy files (YAML, parsed with libyaml): workloads keyed by cgroup path
 * and name, and interface programs. See policies/README.md for the format.
 */
#ifndef CGFW_POLICY_H
#define CGFW_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cgfw.h"

struct cgfw_pol_rule {
	struct cgfw_rule r; /* scope filled in when the workload's cgroup is known */
	const char *file;
	int line, col;
};

struct cgfw_pol_workload {
	char *name;
	char *cgroup;		     /* NULL: hook-only workload */
	bool def_set[CGFW_DIR_COUNT];
	uint8_t def[CGFW_DIR_COUNT]; /* CGFW_VERDICT_* */
	struct cgfw_pol_rule *rules;
	size_t nrules;
	const char *file;
	int line;
};

struct cgfw_pol_port_rule {
	struct cgfw_prefix dst, src; /* src.len 0 and family 0: any */
	bool has_src;
	uint8_t proto;
	uint16_t lo, hi;
	struct cgfw_prefix to_addr; /* family 0: this host */
	uint16_t to_port;
	int line, col;
};

struct cgfw_pol_iface {
	char *name;
	bool stateful, icmp, ssh;
	struct cgfw_pol_port_rule *tproxy, *inbound, *redirect;
	size_t ntproxy, ninbound, nredirect;
	const char *file;
	int line;
};

struct cgfw_policy {
	struct cgfw_pol_workload *workloads;
	size_t nworkloads;
	struct cgfw_pol_iface *ifaces;
	size_t nifaces;
	char **files; /* names of the files parsed, owned */
	size_t nfiles;
	char **errors; /* "FILE:LINE:COL: message" */
	size_t nerrors;
};

/* Parse (and merge) one or more files. Returns 0 or -EINVAL with pol->errors set. */
int cgfw_policy_parse(const char *const *files, size_t n, struct cgfw_policy *pol);
/* Parse a policy from memory (the fuzzer and tests use this). */
int cgfw_policy_parse_buf(const char *name, const char *buf, size_t len, struct cgfw_policy *pol);
void cgfw_policy_free(struct cgfw_policy *pol);
const struct cgfw_pol_workload *cgfw_policy_workload(const struct cgfw_policy *pol,
						     const char *name);
/* The workload whose cgroup exists and has this id, or NULL. */
const struct cgfw_pol_workload *cgfw_policy_workload_of(const struct cgfw_policy *pol,
							uint64_t cgid);



/* ---- applying, persistence, the OCI hook (policy_apply.c, oci.c) ---------- */

/* Where applied policies and container records are kept ($CGFW_STATE_DIR, default /var/lib/cgfw). */
const char *cgfw_var_dir(void);

struct cgfw_plan_line {
	char op;	 /* '+' add, '-' remove, '~' change, '!' note */
	char text[256];
};

struct cgfw_plan {
	struct cgfw_plan_line *lines;
	size_t n;
	size_t rules_added, rules_removed;
	size_t attached, detached, pending;
};

void cgfw_plan_free(struct cgfw_plan *plan);

/*
 * Make @pol the enforced policy. With dry_run, only compute the plan (policy
 * diff). Atomic: on failure the previous policy stays in force. The applied
 * policy is saved under cgfw_var_dir() for `cgfw restore` and the OCI hook.
 */
int cgfw_policy_apply(const struct cgfw_policy *pol, bool dry_run, struct cgfw_plan *plan);
/* Re-apply the saved policy and the running containers' rules. */
int cgfw_policy_restore(struct cgfw_plan *plan);
/* Load the saved policy (an empty one if none was applied). */
int cgfw_policy_load_saved(struct cgfw_policy *pol);
/* Enforce a pending workload whose cgroup is @cg, if any (cgfw exec). Returns 1 if one applied. */
int cgfw_policy_enforce_pending(const struct cgfw_cgroup *cg);

struct json_t;
/* JSON of the saved policy with each workload's state (applied, pending, containers). */
int cgfw_policy_show(struct json_t **ret);

/* OCI runtime hook: state JSON on stdin. stage may be NULL (taken from the state's status). */
int cgfw_oci_hook(const char *stage, const char *state_json, size_t len);

/* `cgfw save`: snapshot of attachments and manual rules; restored by `cgfw restore`. */
int cgfw_manual_save(size_t *ret_rules);
int cgfw_manual_restore(struct cgfw_plan *plan);
void cgfw_plan_note(struct cgfw_plan *plan, char op, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ---- shared by the policy sources -------------------------------------------- */

struct container {
	char id[130];
	char workload[130];
	char cgroup[PATH_MAX]; /* relative to the cgroup2 mount */
	uint64_t cgid;
};

int cgfw_containers_load(struct container **ret, size_t *ret_n);
int cgfw_write_json_file(const char *path, struct json_t *j);
struct json_t *cgfw_read_json_file(const char *path, int *err);
struct json_t *cgfw_ifaces_to_json(const struct cgfw_policy *pol);
int cgfw_ifaces_from_json(struct json_t *arr, struct cgfw_policy *pol);
/* Interface programs of a policy (TC datapath). */
int cgfw_policy_apply_ifaces(const struct cgfw_policy *pol, bool dry_run, struct cgfw_plan *plan);

#endif /* CGFW_POLICY_H */
