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

#endif /* CGFW_POLICY_H */
