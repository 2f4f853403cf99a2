// SPDX-License-Identifier: GPL-2.0-only
/* cgfw policy check|apply|diff|show, cgfw restore, cgfw save, cgfw oci-hook. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cgfw/ops.h>
#include <cgfw/policy.h>

#include "cli.h"

/* Every error of a policy file, each on its own line (FILE:LINE:COL: message). */
static int print_errors(const struct cgfw_policy *pol)
{
	if (json_mode) {
		json_t *a = json_array();

		for (size_t i = 0; i < pol->nerrors; i++)
			json_array_append_new(a, json_string(pol->errors[i]));
		print_json(json_pack("{s:b, s:o}", "valid", 0, "errors", a));
	}
	for (size_t i = 0; i < pol->nerrors; i++)
		fprintf(stderr, "%s\n", pol->errors[i]);
	return EXIT_USAGE;
}

static void print_plan(const struct cgfw_plan *plan, const char *verb)
{
	if (json_mode) {
		json_t *o = json_object(), *l = json_array();

		for (size_t i = 0; i < plan->n; i++) {
			char op[2] = { plan->lines[i].op, 0 };

			json_array_append_new(l, json_pack("{s:s, s:s}", "op", op, "change",
							   plan->lines[i].text));
		}
		json_object_set_new(o, "changes", l);
		json_object_set_new(o, "rules_added", json_integer((json_int_t)plan->rules_added));
		json_object_set_new(o, "rules_removed",
				    json_integer((json_int_t)plan->rules_removed));
		json_object_set_new(o, "attached", json_integer((json_int_t)plan->attached));
		json_object_set_new(o, "detached", json_integer((json_int_t)plan->detached));
		json_object_set_new(o, "pending", json_integer((json_int_t)plan->pending));
		print_json(o);
		return;
	}
	for (size_t i = 0; i < plan->n; i++)
		printf("%c %s\n", plan->lines[i].op, plan->lines[i].text);
	printf("%s: %zu rules added, %zu removed, %zu cgroups attached, %zu detached, %zu pending\n",
	       verb, plan->rules_added, plan->rules_removed, plan->attached, plan->detached,
	       plan->pending);
}

/* Parse the files; an invalid policy prints its errors and gives exit status 2. */
static int parse(struct ctx *c, struct cgfw_policy *pol)
{
	return cgfw_policy_parse((const char *const *)c->argv, (size_t)c->argc, pol);
}

int cmd_policy_check(struct ctx *c)
{
	struct cgfw_policy pol = {};
	size_t rules = 0;
	int rc;

	if (parse(c, &pol)) {
		rc = print_errors(&pol);
		cgfw_policy_free(&pol);
		return rc;
	}
	for (size_t i = 0; i < pol.nworkloads; i++)
		rules += pol.workloads[i].nrules;
	if (json_mode)
		print_json(json_pack("{s:b, s:I, s:I, s:I}", "valid", 1, "workloads",
				     (json_int_t)pol.nworkloads, "interfaces",
				     (json_int_t)pol.nifaces, "rules", (json_int_t)rules));
	else
		printf("ok: %zu workloads, %zu interfaces, %zu rules\n", pol.nworkloads,
		       pol.nifaces, rules);
	cgfw_policy_free(&pol);
	return 0;
}

/* apply, and diff (data 1) */
int cmd_policy_apply(struct ctx *c)
{
	bool diff = c->cmd->data == 1;
	struct cgfw_policy pol = {};
	struct cgfw_plan plan = {};
	int err;

	if (parse(c, &pol)) {
		err = print_errors(&pol);
		cgfw_policy_free(&pol);
		return err;
	}
	err = cgfw_policy_apply(&pol, diff, &plan);
	cgfw_policy_free(&pol);
	if (err)
		return err;
	print_plan(&plan, diff ? "would apply" : "applied");
	cgfw_plan_free(&plan);
	return 0;
}

static json_t *workload_json(const struct cgfw_workload_view *wv)
{
	json_t *j = cgfw_workload_json(wv->w), *cs = json_array();

	/* The listing counts rules; the saved form (and `list`) has them. */
	json_object_del(j, "source");
	json_object_set_new(j, "rules", json_integer((json_int_t)wv->w->nrules));
	json_object_set_new(j, "state", json_string(wv->state));
	for (size_t i = 0; i < wv->ncontainers; i++)
		json_array_append_new(cs, json_pack("{s:s, s:s}", "id", wv->containers[i].id,
						    "cgroup", wv->containers[i].cgroup));
	json_object_set_new(j, "containers", cs);
	return j;
}

static const char *def_name(const struct cgfw_pol_workload *w, int dir)
{
	return cgfw_verdict_name(w->def_set[dir] ? w->def[dir] : CGFW_VERDICT_ALLOW);
}

int cmd_policy_show(struct ctx *c)
{
	struct cgfw_policy_view v;
	const struct cgfw_policy *pol = &v.policy;
	int err;

	err = cgfw_policy_show(&v);
	if (err)
		return err;
	if (json_mode) {
		json_t *o = json_object(), *ws = json_array();

		for (size_t i = 0; i < pol->nworkloads; i++)
			json_array_append_new(ws, workload_json(&v.workloads[i]));
		json_object_set_new(o, "workloads", ws);
		json_object_set_new(o, "interfaces", cgfw_ifaces_to_json(pol));
		print_json(o);
		cgfw_policy_view_free(&v);
		return 0;
	}
	printf("%-20s %-40s %-8s %-8s %6s %s\n", "WORKLOAD", "CGROUP", "INGRESS", "EGRESS", "RULES",
	       "STATE");
	for (size_t i = 0; i < pol->nworkloads; i++) {
		const struct cgfw_workload_view *wv = &v.workloads[i];

		printf("%-20s %-40s %-8s %-8s %6zu %s (%zu containers)\n", wv->w->name,
		       wv->w->cgroup ? wv->w->cgroup : "-", def_name(wv->w, CGFW_DIR_INGRESS),
		       def_name(wv->w, CGFW_DIR_EGRESS), wv->w->nrules, wv->state, wv->ncontainers);
	}
	for (size_t i = 0; i < pol->nifaces; i++) {
		const struct cgfw_pol_iface *f = &pol->ifaces[i];

		printf("interface %s: stateful %s, %zu tproxy, %zu inbound, %zu redirect\n",
		       f->name, f->stateful ? "yes" : "no", f->ntproxy, f->ninbound, f->nredirect);
	}
	cgfw_policy_view_free(&v);
	return 0;
}

int cmd_restore(struct ctx *c)
{
	struct cgfw_plan plan = {};
	int err;

	err = cgfw_policy_restore(&plan);
	if (err)
		return err;
	print_plan(&plan, "restored");
	cgfw_plan_free(&plan);
	return 0;
}

int cmd_save(struct ctx *c)
{
	size_t n = 0;
	int err;

	err = cgfw_manual_save(&n);
	if (err)
		return err;
	if (json_mode)
		print_json(json_pack("{s:I}", "rules", (json_int_t)n));
	else
		printf("saved attachments and %zu rules added by hand to %s/manual.json\n", n,
		       cgfw_var_dir());
	return 0;
}

/* The OCI state on stdin: small; anything above 1 MiB is not a runtime talking. */
#define OCI_STATE_MAX (1u << 20)

int cmd_oci_hook(struct ctx *c)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, cap = OCI_STATE_MAX + 1;
	int err;

	buf = malloc(cap);
	if (!buf)
		return cgfw_seterr(ENOMEM, "out of memory");
	for (;;) {
		ssize_t got = read(STDIN_FILENO, buf + len, cap - len);

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		len += (size_t)got;
		if (len == cap)
			break;
	}
	/* Any failure must stop the container from starting. */
	if (len > OCI_STATE_MAX)
		err = cgfw_seterr(E2BIG, "OCI state on stdin is larger than 1 MiB");
	else
		err = cgfw_oci_hook(c->argc ? c->argv[0] : NULL, buf, len);
	if (err) {
		fprintf(stderr, "cgfw oci-hook: %s\n", cgfw_errmsg());
		return EXIT_RUNTIME;
	}
	return 0;
}
