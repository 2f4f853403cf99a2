// SPDX-License-Identifier: GPL-2.0-only
/*
 * The saved form of an applied policy (JSON): what `cgfw restore`, the OCI
 * hook and `policy show` read back. Workloads keep their compiled rules;
 * interfaces keep the policy's own structure and go through the parser again
 * when read, so they are validated exactly as when applied.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cgfw/policy.h>

#define SAVED_VERSION 1

/* ---- compiled rules as JSON: ["deny", "203.0.113.0/24", "egress", "tcp", "80-90"] ---- */

/* [action, prefix, direction, proto, ports, line]: the line in the workload's file. */
static json_t *rule_to_json(const struct cgfw_rule *r, int line)
{
	char pfx[CGFW_ADDRSTRLEN], ports[16] = "";

	cgfw_format_prefix(&r->pfx, pfx, sizeof(pfx));
	if (r->port_lo || r->port_hi)
		snprintf(ports, sizeof(ports), "%u-%u", r->port_lo, r->port_hi);
	return json_pack("[sssssi]", r->action == CGFW_DENY ? "deny" : "allow", pfx,
			 r->dirs == CGFW_DIR_BOTH		   ? "both" :
			 r->dirs == CGFW_DIR_BIT(CGFW_DIR_INGRESS) ? "ingress" :
								     "egress",
			 r->proto ? cgfw_proto_name(r->proto) : "", ports, line);
}

static int rule_from_json(json_t *j, struct cgfw_rule *r)
{
	const char *act, *pfx, *dir, *proto, *ports;

	memset(r, 0, sizeof(*r));
	if (json_unpack(j, "[sssss]", &act, &pfx, &dir, &proto, &ports) < 0)
		return -EINVAL;
	/* Only what rule_to_json() writes: a stray word is a damaged file, not an allow. */
	if (!strcmp(act, "deny"))
		r->action = CGFW_DENY;
	else if (!strcmp(act, "allow"))
		r->action = CGFW_ALLOW;
	else
		return -EINVAL;
	if (!strcmp(dir, "both"))
		r->dirs = CGFW_DIR_BOTH;
	else if (!strcmp(dir, "ingress"))
		r->dirs = CGFW_DIR_BIT(CGFW_DIR_INGRESS);
	else if (!strcmp(dir, "egress"))
		r->dirs = CGFW_DIR_BIT(CGFW_DIR_EGRESS);
	else
		return -EINVAL;
	r->origin = CGFW_ORIGIN_POLICY;
	if (cgfw_parse_prefix(pfx, &r->pfx) < 0)
		return -EINVAL;
	if (*proto && cgfw_parse_proto(proto, &r->proto) < 0)
		return -EINVAL;
	/* "N-M" as written, with a protocol that has ports (no sscanf: 65536 is no port). */
	if (*ports && (cgfw_parse_ports(ports, &r->port_lo, &r->port_hi) < 0 ||
		       (r->proto != CGFW_PROTO_TCP && r->proto != CGFW_PROTO_UDP)))
		return -EINVAL;
	return 0;
}

json_t *cgfw_workload_json(const struct cgfw_pol_workload *w)
{
	json_t *o = json_object(), *rules = json_array(), *def = json_object();

	json_object_set_new(o, "name", json_string(w->name));
	json_object_set_new(o, "cgroup", w->cgroup ? json_string(w->cgroup) : json_null());
	for (int d = 0; d < CGFW_DIR_COUNT; d++)
		if (w->def_set[d])
			json_object_set_new(def, d == CGFW_DIR_INGRESS ? "ingress" : "egress",
					    json_string(cgfw_verdict_name(w->def[d])));
	json_object_set_new(o, "default", def);
	for (size_t i = 0; i < w->nrules; i++)
		json_array_append_new(rules, rule_to_json(&w->rules[i].r, w->rules[i].line));
	json_object_set_new(o, "rules", rules);
	json_object_set_new(o, "source", json_sprintf("%s:%d", w->file ? w->file : "?", w->line));
	if (w->file) {
		json_object_set_new(o, "file", json_string(w->file));
		json_object_set_new(o, "line", json_integer(w->line));
	}
	json_object_set_new(o, "audit", json_boolean(w->audit));
	return o;
}

static int workload_from_json(json_t *o, struct cgfw_policy *pol, struct cgfw_pol_workload *w)
{
	json_t *rules = json_object_get(o, "rules"), *def = json_object_get(o, "default"), *v;
	const char *name = json_string_value(json_object_get(o, "name"));
	const char *cg = json_string_value(json_object_get(o, "cgroup"));
	size_t i;

	memset(w, 0, sizeof(*w));
	if (!name || !json_is_array(rules))
		return -EINVAL;
	w->name = strdup(name);
	w->cgroup = cg ? strdup(cg) : NULL;
	w->audit = json_is_true(json_object_get(o, "audit"));
	w->line = (int)json_integer_value(json_object_get(o, "line"));
	if (json_string_value(json_object_get(o, "file"))) {
		/* Owned by the policy, as the parser's file names are. */
		char **f = realloc(pol->files, (pol->nfiles + 1) * sizeof(*f));

		if (!f)
			return -ENOMEM;
		pol->files = f;
		f[pol->nfiles] = strdup(json_string_value(json_object_get(o, "file")));
		if (!f[pol->nfiles])
			return -ENOMEM;
		w->file = f[pol->nfiles++];
	}
	for (int d = 0; d < CGFW_DIR_COUNT; d++) {
		const char *s = json_string_value(
			json_object_get(def, d == CGFW_DIR_INGRESS ? "ingress" : "egress"));

		if (s) {
			w->def_set[d] = true;
			w->def[d] = !strcmp(s, "deny") ? CGFW_VERDICT_DENY : CGFW_VERDICT_ALLOW;
		}
	}
	w->rules = calloc(json_array_size(rules) + 1, sizeof(*w->rules));
	if (!w->name || !w->rules)
		return -ENOMEM;
	json_array_foreach(rules, i, v) {
		if (rule_from_json(v, &w->rules[w->nrules].r) < 0)
			return -EINVAL;
		w->rules[w->nrules].file = w->file;
		w->rules[w->nrules].line = (int)json_integer_value(json_array_get(v, 5));
		w->nrules++;
	}
	return 0;
}

json_t *cgfw_port_rule_json(const struct cgfw_pol_port_rule *r, bool with_to)
{
	char dst[CGFW_ADDRSTRLEN], src[CGFW_ADDRSTRLEN] = "", to[CGFW_ADDRSTRLEN + 8] = "";
	char ports[16];
	json_t *o;

	cgfw_format_prefix(&r->dst, dst, sizeof(dst));
	if (r->has_src)
		cgfw_format_prefix(&r->src, src, sizeof(src));
	snprintf(ports, sizeof(ports), "%u-%u", r->lo, r->hi);
	o = json_pack("{s:s, s:s, s:s}", "dst", dst, "proto", cgfw_proto_name(r->proto), "ports",
		      ports);
	if (r->has_src)
		json_object_set_new(o, "src", json_string(src));
	if (with_to) {
		if (r->to_addr.family) {
			char a[CGFW_ADDRSTRLEN];

			cgfw_format_addr(r->to_addr.family, r->to_addr.addr, a, sizeof(a));
			snprintf(to, sizeof(to),
				 r->to_addr.family == CGFW_FAMILY_INET6 ? "[%s]:%u" : "%s:%u", a,
				 r->to_port);
		} else {
			snprintf(to, sizeof(to), "%u", r->to_port);
		}
		json_object_set_new(o, "to", json_string(to));
	}
	return o;
}

json_t *cgfw_ifaces_to_json(const struct cgfw_policy *pol)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < pol->nifaces; i++) {
		const struct cgfw_pol_iface *f = &pol->ifaces[i];
		json_t *o = json_object(), *t = json_array(), *in = json_array(),
		       *rd = json_array();

		json_object_set_new(o, "name", json_string(f->name));
		json_object_set_new(o, "stateful", json_boolean(f->stateful));
		json_object_set_new(o, "icmp", json_boolean(f->icmp));
		json_object_set_new(o, "ssh", json_boolean(f->ssh));
		for (size_t k = 0; k < f->ntproxy; k++)
			json_array_append_new(t, cgfw_port_rule_json(&f->tproxy[k], true));
		for (size_t k = 0; k < f->ninbound; k++)
			json_array_append_new(in, cgfw_port_rule_json(&f->inbound[k], false));
		for (size_t k = 0; k < f->nredirect; k++)
			json_array_append_new(rd, cgfw_port_rule_json(&f->redirect[k], true));
		json_object_set_new(o, "tproxy", t);
		json_object_set_new(o, "inbound", in);
		json_object_set_new(o, "redirect", rd);
		json_array_append_new(arr, o);
	}
	return arr;
}

int cgfw_ifaces_from_json(json_t *arr, struct cgfw_policy *pol)
{
	/*
	 * The saved form is the policy's own YAML-compatible structure: re-run it
	 * through the parser so the rules are validated exactly as when applied.
	 */
	char *text;
	json_t *doc;
	int err;

	doc = json_pack("{s:O}", "interfaces", arr);
	text = json_dumps(doc, JSON_COMPACT); /* JSON is YAML */
	json_decref(doc);
	if (!text)
		return cgfw_seterr(ENOMEM, "out of memory");
	{
		struct cgfw_policy tmp = {};

		err = cgfw_policy_parse_buf("saved interfaces", text, strlen(text), &tmp);
		if (err) {
			err = cgfw_seterr(EINVAL, "saved interface policy is damaged: %s",
					  tmp.nerrors ? tmp.errors[0] : "?");
		} else {
			pol->ifaces = tmp.ifaces;
			pol->nifaces = tmp.nifaces;
			tmp.ifaces = NULL;
			tmp.nifaces = 0;
		}
		cgfw_policy_free(&tmp);
	}
	free(text);
	return err;
}

json_t *cgfw_policy_to_json(const struct cgfw_policy *pol)
{
	json_t *j = json_object(), *ws = json_array(), *files = json_array();

	for (size_t i = 0; i < pol->nworkloads; i++)
		json_array_append_new(ws, cgfw_workload_json(&pol->workloads[i]));
	for (size_t i = 0; i < pol->nfiles; i++) {
		char *abs = realpath(pol->files[i], NULL);

		json_array_append_new(files, json_string(abs ? abs : pol->files[i]));
		free(abs);
	}
	json_object_set_new(j, "version", json_integer(SAVED_VERSION));
	json_object_set_new(j, "applied_at",
			    json_integer((json_int_t)(cgfw_now_realtime() / 1000000000ull)));
	json_object_set_new(j, "files", files);
	json_object_set_new(j, "workloads", ws);
	json_object_set_new(j, "interfaces", cgfw_ifaces_to_json(pol));
	return j;
}

int cgfw_policy_from_json(json_t *j, const char *name, struct cgfw_policy *ret)
{
	struct cgfw_policy pol = {};
	json_t *ws = json_object_get(j, "workloads"), *w, *ifs;
	size_t i;
	int err = 0;

	if (!json_is_object(j) || (ws && !json_is_array(ws)))
		return cgfw_seterr(EINVAL, "%s is damaged; re-apply the policy", name);
	pol.workloads = calloc(json_array_size(ws) + 1, sizeof(*pol.workloads));
	if (!pol.workloads)
		return cgfw_seterr(ENOMEM, "out of memory");
	json_array_foreach(ws, i, w) {
		/* Counted first: a half-read workload is freed with the policy. */
		err = workload_from_json(w, &pol, &pol.workloads[pol.nworkloads++]);
		if (err) {
			err = cgfw_seterr(EINVAL,
					  "%s: workload %zu is damaged; re-apply the policy", name,
					  i);
			goto out;
		}
	}
	ifs = json_object_get(j, "interfaces");
	if (json_array_size(ifs))
		err = cgfw_ifaces_from_json(ifs, &pol);
out:
	if (err) {
		cgfw_policy_free(&pol);
		return err;
	}
	*ret = pol;
	return 0;
}
