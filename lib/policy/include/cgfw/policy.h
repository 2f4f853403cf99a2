/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * cgfw policy: the pure policy model. Policy files (YAML, parsed with
 * libyaml): workloads keyed by cgroup path and name, and interface programs
 * (see policies/README.md for the format); the saved form an applied policy
 * is kept in (JSON); the plan of changes that apply and diff report. No
 * kernel, no state: the fuzzers link only this and core.
 */
#ifndef CGFW_POLICY_H
#define CGFW_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cgfw/core.h>

struct cgfw_pol_rule {
	struct cgfw_rule r; /* scope filled in when the workload's cgroup is known */
	const char *file;
	int line, col;
};

struct cgfw_pol_workload {
	char *name;
	char *cgroup; /* NULL: hook-only workload */
	bool def_set[CGFW_DIR_COUNT];
	uint8_t def[CGFW_DIR_COUNT]; /* CGFW_VERDICT_* */
	bool audit;		     /* audit mode: would-drops pass and are reported */
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

/* ---- the saved form (JSON, jansson) -------------------------------------------------- */

struct json_t;
/* The whole policy: {"version", "files", "workloads", "interfaces"}. */
struct json_t *cgfw_policy_to_json(const struct cgfw_policy *pol);
/* Read it back into an empty @pol; @name names the source in messages. */
int cgfw_policy_from_json(struct json_t *j, const char *name, struct cgfw_policy *pol);
/* A workload: {"name", "cgroup", "default", "rules", "source"}. */
struct json_t *cgfw_workload_json(const struct cgfw_pol_workload *w);
struct json_t *cgfw_ifaces_to_json(const struct cgfw_policy *pol);
int cgfw_ifaces_from_json(struct json_t *arr, struct cgfw_policy *pol);
/* A port rule of an interface: {"dst", "src"?, "proto", "ports", "to"?}. */
struct json_t *cgfw_port_rule_json(const struct cgfw_pol_port_rule *r, bool with_to);

/* ---- plans: what apply and diff report -------------------------------------------------- */

struct cgfw_plan_line {
	char op; /* '+' add, '-' remove, '~' change, '!' note */
	char text[256];
};

struct cgfw_plan {
	struct cgfw_plan_line *lines;
	size_t n;
	size_t rules_added, rules_removed;
	size_t attached, detached, pending;
};

void cgfw_plan_free(struct cgfw_plan *plan);
/* Add a line (plan may be NULL: nothing is noted). */
void cgfw_plan_note(struct cgfw_plan *plan, char op, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif /* CGFW_POLICY_H */
