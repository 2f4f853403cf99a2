// SPDX-License-Identifier: GPL-2.0-only
/*
 * `cgfw save`: a snapshot of what was set up by hand (attachments, their
 * defaults, manual rules), which `cgfw restore` re-creates after a reboot.
 * Rules are stored with their cgroup path, not the id: ids change on reboot.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"

static void manual_path(char *buf, size_t n)
{
	cgfw_store_path("manual.json", buf, n);
}

int cgfw_manual_save(size_t *ret_rules)
{
	struct cgfw_state *st = NULL;
	struct cgfw_attachment *att = NULL;
	struct cgfw_rule *rules = NULL;
	size_t na = 0, nr = 0, saved = 0;
	json_t *o = NULL, *ja, *jr;
	char path[PATH_MAX];
	int err;

	if (cgfw_state_exists())
		err = cgfw_state_open(CGFW_OPEN_LOCK | CGFW_OPEN_SHARED, &st);
	else
		err = 0;
	if (!err && st)
		err = cgfw_attachments(st, &att, &na);
	if (!err && st)
		err = cgfw_rules_list(st, &rules, &nr);
	if (err)
		goto out;
	o = json_object();
	ja = json_array();
	jr = json_array();
	for (size_t i = 0; i < na; i++)
		json_array_append_new(
			ja, json_pack("{s:s, s:s, s:s, s:b}", "cgroup", att[i].path, "ingress",
				      att[i].def[CGFW_DIR_INGRESS] == CGFW_VERDICT_DENY ? "deny" :
											  "allow",
				      "egress",
				      att[i].def[CGFW_DIR_EGRESS] == CGFW_VERDICT_DENY ? "deny" :
											 "allow",
				      "audit", att[i].audit));
	for (size_t i = 0; i < nr; i++) {
		const char *scope = NULL;
		json_t *r;

		if (rules[i].origin != CGFW_ORIGIN_MANUAL)
			continue;
		for (size_t k = 0; k < na && rules[i].scope; k++)
			if (att[k].id == rules[i].scope)
				scope = att[k].path;
		if (rules[i].scope && !scope)
			continue; /* its cgroup is gone */
		r = cgfw_rule_json(&rules[i], scope);
		json_object_set_new(r, "port_lo", json_integer(rules[i].port_lo));
		json_object_set_new(r, "port_hi", json_integer(rules[i].port_hi));
		json_array_append_new(jr, r);
		saved++;
	}
	json_object_set_new(o, "version", json_integer(1));
	json_object_set_new(o, "attachments", ja);
	json_object_set_new(o, "rules", jr);
	manual_path(path, sizeof(path));
	err = cgfw_store_mkdir(NULL);
	if (!err)
		err = cgfw_write_json_file(path, o);
	if (!err && ret_rules)
		*ret_rules = saved;
out:
	json_decref(o);
	free(att);
	free(rules);
	cgfw_state_close(st);
	return err;
}

/*
 * Does the applied policy own this cgroup (a workload's cgroup or a running
 * container's)? Then the policy restore already attached it and set its
 * defaults, and the snapshot's defaults, maybe older than the last apply,
 * must not override them.
 */
static bool policy_owns(const struct cgfw_policy *pol, const struct cgfw_container *ct, size_t nct,
			uint64_t id)
{
	if (cgfw_policy_workload_of(pol, id))
		return true;
	for (size_t i = 0; i < nct; i++)
		if (ct[i].cgid == id)
			return true;
	return false;
}

int cgfw_manual_restore(struct cgfw_plan *plan)
{
	struct cgfw_policy pol;
	struct cgfw_container *ct = NULL;
	size_t nct = 0;
	struct cgfw_state *st = NULL;
	struct cgfw_change *ch = NULL;
	struct cgfw_rule *rules = NULL;
	size_t nr = 0;
	char path[PATH_MAX];
	json_t *o = NULL, *ja, *jr, *v;
	size_t i;
	int err;

	manual_path(path, sizeof(path));
	err = cgfw_store_read("manual.json", &o);
	if (err)
		return err == -ENOENT ? 0 : err;
	ja = json_object_get(o, "attachments");
	jr = json_object_get(o, "rules");
	if (cgfw_policy_load_saved(&pol) < 0) {
		cgfw_policy_free(&pol);
		memset(&pol, 0, sizeof(pol));
	}
	cgfw_containers_load(&ct, &nct);
	err = cgfw_state_open(CGFW_OPEN_CREATE | CGFW_OPEN_LOCK, &st);
	if (!err)
		err = cgfw_change_begin(st, &ch);
	if (err)
		goto out;
	json_array_foreach(ja, i, v) {
		const char *p = json_string_value(json_object_get(v, "cgroup"));
		const char *in = json_string_value(json_object_get(v, "ingress"));
		const char *eg = json_string_value(json_object_get(v, "egress"));
		struct cgfw_cgroup cg;

		if (!p || cgfw_cgroup_resolve(NULL, p[0] ? p : "/", true, &cg) < 0) {
			plan->pending++;
			if (plan->n < 1000)
				cgfw_plan_note(plan, '!',
					       "saved attachment %s: cgroup does not exist",
					       p ? p : "?");
			continue;
		}
		if (policy_owns(&pol, ct, nct, cg.id))
			continue;
		if (!cgfw_ops_attached(st, cg.id))
			plan->attached++;
		err = cgfw_change_attach(ch, &cg);
		if (!err)
			err = cgfw_change_default(ch, cg.id, CGFW_DIR_BIT(CGFW_DIR_INGRESS),
						  in && !strcmp(in, "deny") ? CGFW_VERDICT_DENY :
									      CGFW_VERDICT_ALLOW);
		if (!err)
			err = cgfw_change_default(ch, cg.id, CGFW_DIR_BIT(CGFW_DIR_EGRESS),
						  eg && !strcmp(eg, "deny") ? CGFW_VERDICT_DENY :
									      CGFW_VERDICT_ALLOW);
		/* A workload saved in audit mode comes back in audit, not enforcing. */
		if (!err)
			err = cgfw_change_audit(ch, cg.id,
						json_is_true(json_object_get(v, "audit")));
		if (err)
			goto out;
	}
	rules = calloc(json_array_size(jr) + 1, sizeof(*rules));
	if (!rules) {
		err = cgfw_seterr(ENOMEM, "out of memory");
		goto out;
	}
	json_array_foreach(jr, i, v) {
		const char *scope = json_string_value(json_object_get(v, "cgroup"));
		const char *act = json_string_value(json_object_get(v, "action"));
		const char *pfx = json_string_value(json_object_get(v, "prefix"));
		const char *dir = json_string_value(json_object_get(v, "direction"));
		const char *proto = json_string_value(json_object_get(v, "proto"));
		struct cgfw_rule r = { .origin = CGFW_ORIGIN_MANUAL };
		json_int_t lo, hi;

		if (scope) {
			struct cgfw_cgroup cg;

			if (cgfw_cgroup_resolve(NULL, scope[0] ? scope : "/", true, &cg) < 0)
				continue;
			r.scope = cg.id;
		}
		if (!act || !pfx || !dir || !proto || cgfw_parse_prefix(pfx, &r.pfx) < 0) {
			err = cgfw_seterr(EINVAL, "%s: rule %zu is damaged", path, i);
			goto out;
		}
		r.action = !strcmp(act, "deny") ? CGFW_DENY : CGFW_ALLOW;
		r.dirs = !strcmp(dir, "both")	 ? CGFW_DIR_BOTH :
			 !strcmp(dir, "ingress") ? CGFW_DIR_BIT(CGFW_DIR_INGRESS) :
						   CGFW_DIR_BIT(CGFW_DIR_EGRESS);
		if (strcmp(proto, "any") && cgfw_parse_proto(proto, &r.proto) < 0) {
			err = cgfw_seterr(EINVAL, "%s: rule %zu is damaged", path, i);
			goto out;
		}
		lo = json_integer_value(json_object_get(v, "port_lo"));
		hi = json_integer_value(json_object_get(v, "port_hi"));
		/* 0-0: every port; ports only with tcp or udp. */
		if (lo < 0 || lo > hi || hi > 65535 ||
		    (hi && r.proto != CGFW_PROTO_TCP && r.proto != CGFW_PROTO_UDP)) {
			err = cgfw_seterr(EINVAL, "%s: rule %zu is damaged", path, i);
			goto out;
		}
		r.port_lo = (uint16_t)lo;
		r.port_hi = (uint16_t)hi;
		rules[nr++] = r;
	}
	err = cgfw_change_rules(ch, rules, NULL, true, nr);
	if (err >= 0) {
		plan->rules_added += (size_t)err;
		err = cgfw_change_commit(ch);
	}
out:
	cgfw_change_free(ch);
	free(rules);
	free(ct);
	cgfw_policy_free(&pol);
	cgfw_state_close(st);
	json_decref(o);
	return err < 0 ? err : 0;
}
