// SPDX-License-Identifier: GPL-2.0-only
/* JSON objects for every listing, built with jansson. */
#include <jansson.h>
#include <stdio.h>
#include <time.h>

#include <cgfw/cgroup.h>

json_t *cgfw_rule_json(const struct cgfw_rule *r, const char *cgroup)
{
	char pfx[CGFW_ADDRSTRLEN], ports[16];
	json_t *o;

	cgfw_format_prefix(&r->pfx, pfx, sizeof(pfx));
	o = json_object();
	json_object_set_new(o, "cgroup", cgroup ? json_string(cgroup) : json_null());
	json_object_set_new(o, "action", json_string(r->action == CGFW_DENY ? "deny" : "allow"));
	json_object_set_new(o, "prefix", json_string(pfx));
	json_object_set_new(o, "family",
			    json_string(r->pfx.family == CGFW_FAMILY_INET ? "ipv4" : "ipv6"));
	json_object_set_new(o, "direction", json_string(cgfw_dirs_name(r->dirs)));
	json_object_set_new(o, "proto", json_string(cgfw_proto_name(r->proto)));
	if (r->proto == CGFW_PROTO_TCP || r->proto == CGFW_PROTO_UDP) {
		if (r->port_lo == 0 && r->port_hi == 65535)
			json_object_set_new(o, "ports", json_null());
		else if (r->port_lo == r->port_hi)
			json_object_set_new(o, "ports", json_integer(r->port_lo));
		else {
			snprintf(ports, sizeof(ports), "%u-%u", r->port_lo, r->port_hi);
			json_object_set_new(o, "ports", json_string(ports));
		}
	} else {
		json_object_set_new(o, "ports", json_null());
	}
	json_object_set_new(o, "origin",
			    json_string(r->origin == CGFW_ORIGIN_POLICY ? "policy" : "manual"));
	return o;
}

json_t *cgfw_seen_json(const struct cgfw_seen *s, const char *cgroup)
{
	char a[CGFW_ADDRSTRLEN];
	json_t *o = json_object();

	cgfw_format_addr(s->family, s->addr, a, sizeof(a));
	json_object_set_new(o, "cgroup", cgroup ? json_string(cgroup) : json_null());
	json_object_set_new(o, "cgroup_id", json_integer((json_int_t)s->cgid));
	json_object_set_new(o, "addr", json_string(a));
	json_object_set_new(o, "family",
			    json_string(s->family == CGFW_FAMILY_INET ? "ipv4" : "ipv6"));
	json_object_set_new(o, "direction",
			    json_string(s->dir == CGFW_DIR_INGRESS ? "ingress" : "egress"));
	json_object_set_new(o, "packets", json_integer((json_int_t)s->packets));
	json_object_set_new(o, "bytes", json_integer((json_int_t)s->bytes));
	json_object_set_new(o, "dropped", json_integer((json_int_t)s->dropped));
	json_object_set_new(o, "first_seen", cgfw_time_json(s->first_ns));
	json_object_set_new(o, "last_seen", cgfw_time_json(s->last_ns));
	return o;
}

json_t *cgfw_attachment_json(const struct cgfw_attachment *a)
{
	json_t *o = json_object();

	json_object_set_new(o, "cgroup", json_string(a->path[0] ? a->path : "/"));
	json_object_set_new(o, "cgroup_id", json_integer((json_int_t)a->id));
	json_object_set_new(o, "default_ingress",
			    json_string(a->def[CGFW_DIR_INGRESS] == CGFW_VERDICT_DENY ? "deny" :
											"allow"));
	json_object_set_new(o, "default_egress",
			    json_string(a->def[CGFW_DIR_EGRESS] == CGFW_VERDICT_DENY ? "deny" :
										       "allow"));
	json_object_set_new(o, "ingress_attached", json_boolean(a->ingress));
	json_object_set_new(o, "egress_attached", json_boolean(a->egress));
	json_object_set_new(o, "attached_at", cgfw_time_json(a->attached_ns));
	json_object_set_new(o, "mode", json_string(a->audit ? "audit" : "enforce"));
	return o;
}
