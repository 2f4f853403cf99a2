// SPDX-License-Identifier: GPL-2.0-only
/* The interfaces section of a policy: saved form and application. */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"

static json_t *port_rule_json(const struct cgfw_pol_port_rule *r, bool with_to)
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
			snprintf(to, sizeof(to), r->to_addr.family == CGFW_FAMILY_INET6 ? "[%s]:%u"
										     : "%s:%u",
				 a, r->to_port);
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
		json_t *o = json_object(), *t = json_array(), *in = json_array(), *rd = json_array();

		json_object_set_new(o, "name", json_string(f->name));
		json_object_set_new(o, "stateful", json_boolean(f->stateful));
		json_object_set_new(o, "icmp", json_boolean(f->icmp));
		json_object_set_new(o, "ssh", json_boolean(f->ssh));
		for (size_t k = 0; k < f->ntproxy; k++)
			json_array_append_new(t, port_rule_json(&f->tproxy[k], true));
		for (size_t k = 0; k < f->ninbound; k++)
			json_array_append_new(in, port_rule_json(&f->inbound[k], false));
		for (size_t k = 0; k < f->nredirect; k++)
			json_array_append_new(rd, port_rule_json(&f->redirect[k], true));
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

int cgfw_policy_apply_ifaces(const struct cgfw_policy *pol, bool dry_run, struct cgfw_plan *plan)
{
	if (!pol->nifaces)
		return 0;
	return cgfw_seterr(ENOTSUP, "%s:%d: interface '%s': the interfaces section is not "
				    "supported by this build yet",
			   pol->ifaces[0].file ? pol->ifaces[0].file : "?", pol->ifaces[0].line,
			   pol->ifaces[0].name);
}
