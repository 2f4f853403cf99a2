// SPDX-License-Identifier: GPL-2.0-only
/* cgfw policy check|apply|diff|show, cgfw restore, cgfw oci-hook. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgfw.h"
#include "cli.h"
#include "policy.h"

static int take_json_flags(int *argc, char **argv)
{
	int w = 1;

	for (int i = 1; i < *argc; i++) {
		if (!strcmp(argv[i], "--json") || !strcmp(argv[i], "-j"))
			json_mode = true;
		else if (!strcmp(argv[i], "--pretty") || !strcmp(argv[i], "-p"))
			json_mode = json_pretty = true;
		else if (argv[i][0] == '-' && argv[i][1])
			return usage_error("policy", "unknown option '%s'", argv[i]);
		else
			argv[w++] = argv[i];
	}
	*argc = w;
	return 0;
}

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
		json_object_set_new(o, "rules_removed", json_integer((json_int_t)plan->rules_removed));
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

static int cmd_policy(int argc, char **argv)
{
	struct cgfw_policy pol = {};
	struct cgfw_plan plan = {};
	const char *sub;
	int err;

	err = take_json_flags(&argc, argv);
	if (err)
		return err;
	if (argc < 2)
		return usage_error("policy", "expected check, apply, diff or show");
	sub = argv[1];
	if (!strcmp(sub, "show")) {
		json_t *o;

		if (argc != 2)
			return usage_error("policy", "show takes no arguments");
		err = cgfw_policy_show(&o);
		if (err)
			return fail(err);
		if (json_mode) {
			print_json(o);
			return 0;
		}
		{
			json_t *ws = json_object_get(o, "workloads"), *w, *ifs;
			size_t i;

			printf("%-20s %-40s %-8s %-8s %6s %s\n", "WORKLOAD", "CGROUP", "INGRESS",
			       "EGRESS", "RULES", "STATE");
			json_array_foreach(ws, i, w) {
				json_t *d = json_object_get(w, "default");
				const char *in = json_string_value(json_object_get(d, "ingress"));
				const char *eg = json_string_value(json_object_get(d, "egress"));
				const char *cg = json_string_value(json_object_get(w, "cgroup"));

				printf("%-20s %-40s %-8s %-8s %6lld %s (%zu containers)\n",
				       json_string_value(json_object_get(w, "name")), cg ? cg : "-",
				       in ? in : "allow", eg ? eg : "allow",
				       json_integer_value(json_object_get(w, "rules")),
				       json_string_value(json_object_get(w, "state")),
				       json_array_size(json_object_get(w, "containers")));
			}
			ifs = json_object_get(o, "interfaces");
			json_array_foreach(ifs, i, w)
				printf("interface %s: stateful %s, %zu tproxy, %zu inbound, %zu redirect\n",
				       json_string_value(json_object_get(w, "name")),
				       json_is_true(json_object_get(w, "stateful")) ? "yes" : "no",
				       json_array_size(json_object_get(w, "tproxy")),
				       json_array_size(json_object_get(w, "inbound")),
				       json_array_size(json_object_get(w, "redirect")));
		}
		json_decref(o);
		return 0;
	}
	if (strcmp(sub, "check") && strcmp(sub, "apply") && strcmp(sub, "diff"))
		return usage_error("policy", "unknown subcommand '%s' (check, apply, diff, show)", sub);
	if (argc < 3)
		return usage_error("policy", "%s needs at least one FILE", sub);
	err = cgfw_policy_parse((const char *const *)argv + 2, (size_t)argc - 2, &pol);
	if (err) {
		int rc = print_errors(&pol);

		cgfw_policy_free(&pol);
		return rc;
	}
	if (!strcmp(sub, "check")) {
		size_t rules = 0;

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
	err = cgfw_policy_apply(&pol, !strcmp(sub, "diff"), &plan);
	cgfw_policy_free(&pol);
	if (err) {
		cgfw_plan_free(&plan);
		return fail(err);
	}
	print_plan(&plan, !strcmp(sub, "diff") ? "would apply" : "applied");
	cgfw_plan_free(&plan);
	return 0;
}

static int cmd_restore(int argc, char **argv)
{
	struct cgfw_plan plan = {};
	int err;

	err = take_json_flags(&argc, argv);
	if (err)
		return err;
	if (argc != 1)
		return usage_error("restore", "takes no arguments");
	err = cgfw_policy_restore(&plan);
	if (err) {
		cgfw_plan_free(&plan);
		return fail(err);
	}
	print_plan(&plan, "restored");
	cgfw_plan_free(&plan);
	return 0;
}

static int cmd_save(int argc, char **argv)
{
	size_t n = 0;
	int err;

	err = take_json_flags(&argc, argv);
	if (err)
		return err;
	if (argc != 1)
		return usage_error("save", "takes no arguments");
	err = cgfw_manual_save(&n);
	if (err)
		return fail(err);
	if (json_mode)
		print_json(json_pack("{s:I}", "rules", (json_int_t)n));
	else
		printf("saved attachments and %zu rules added by hand to %s/manual.json\n", n,
		       cgfw_var_dir());
	return 0;
}

static int cmd_oci_hook(int argc, char **argv)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int err;

	if (argc > 2)
		return usage_error("oci-hook", "expected at most one STAGE");
	/* The state is small; anything above 1 MiB is not a runtime talking. */
	for (;;) {
		ssize_t got;

		if (len == cap) {
			char *m;

			if (cap >= (1u << 20)) {
				free(buf);
				fprintf(stderr, "cgfw oci-hook: OCI state on stdin is larger than 1 MiB\n");
				return EXIT_RUNTIME;
			}
			m = realloc(buf, cap = cap ? cap * 2 : 4096);
			if (!m) {
				free(buf);
				return EXIT_RUNTIME;
			}
			buf = m;
		}
		got = read(STDIN_FILENO, buf + len, cap - len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		len += (size_t)got;
	}
	err = cgfw_oci_hook(argc == 2 ? argv[1] : NULL, buf ? buf : "", len);
	free(buf);
	if (err) {
		/* Any failure must stop the container from starting. */
		fprintf(stderr, "cgfw oci-hook: %s\n", cgfw_errmsg());
		return EXIT_RUNTIME;
	}
	return 0;
}

const struct cmd cgfw_policy_cmds[] = {
	{ "policy", cmd_policy, "check, apply, diff or show policy files",
	  "Usage: cgfw policy check FILE...\n"
	  "       cgfw policy apply FILE...\n"
	  "       cgfw policy diff FILE...\n"
	  "       cgfw policy show [--json]\n\n"
	  "Policy files (YAML, see policies/README.md) key rules by cgroup path and name.\n"
	  "check   validate only; every error as FILE:LINE:COL: message, exit 2\n"
	  "apply   enforce atomically: the previous policy stays in force until the new one\n"
	  "        is completely in place; applying the same files twice changes nothing.\n"
	  "        A workload whose cgroup does not exist yet is pending, enforced when it\n"
	  "        appears (OCI hook, cgfw exec, a later apply). Saved for 'cgfw restore'.\n"
	  "diff    what apply would change (+ add, - remove, ~ change, ! note)\n"
	  "show    the applied policy and each workload's state\n"
	  "Rules a policy owns are kept apart from rules added by hand (list shows the origin).\n" },
	{ "restore", cmd_restore, "re-create the saved policy (at boot)",
	  "Usage: cgfw restore\n\n"
	  "Re-apply the saved policy, the rules of running containers and what\n"
	  "'cgfw save' saved, e.g. after a reboot or after the pins under /sys/fs/bpf\n"
	  "were lost. Idempotent.\n" },
	{ "save", cmd_save, "save attachments and manual rules for restore",
	  "Usage: cgfw save\n\n"
	  "Write the attachments, their defaults and the rules added by hand to\n"
	  "/var/lib/cgfw/manual.json ($CGFW_STATE_DIR), which 'cgfw restore' re-creates\n"
	  "after a reboot. Policy rules are saved by 'cgfw policy apply' already.\n" },
	{ "oci-hook", cmd_oci_hook, "OCI runtime hook (createRuntime, poststop)",
	  "Usage: cgfw oci-hook [createRuntime|poststop] < STATE.json\n\n"
	  "Called by the container runtime with the OCI state on stdin. At createRuntime,\n"
	  "enforces the workload named by the annotation io.cgfw.policy on the container's\n"
	  "cgroup before its process runs; an unknown name fails the start. At poststop,\n"
	  "removes what it created. Without a stage, it is taken from the state's status.\n" },
	{ NULL, NULL, NULL, NULL },
};
