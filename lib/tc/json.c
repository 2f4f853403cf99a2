// SPDX-License-Identifier: GPL-2.0-only
/* JSON for the TC listings (jansson). */
#include <arpa/inet.h>
#include <jansson.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "internal.h"

static json_t *ports_json(uint16_t lo, uint16_t hi)
{
	char buf[16];

	if (lo == hi)
		return json_integer(lo);
	snprintf(buf, sizeof(buf), "%u-%u", lo, hi);
	return json_string(buf);
}

static void to_str(const struct cgfw_tc_rule *r, char *buf, size_t n)
{
	char a[CGFW_ADDRSTRLEN];

	if (!r->has_to_addr) {
		snprintf(buf, n, "%u", r->to_port);
		return;
	}
	cgfw_format_addr(r->dst.family, r->to_addr, a, sizeof(a));
	if (r->dst.family == CGFW_FAMILY_INET6)
		snprintf(buf, n, "[%s]:%u", a, r->to_port);
	else
		snprintf(buf, n, "%s:%u", a, r->to_port);
}

json_t *cgfw_tc_rule_json(const struct cgfw_tc_rule *r)
{
	char buf[CGFW_ADDRSTRLEN + 16];
	json_t *o = json_object();

	json_object_set_new(o, "id", json_integer(r->id));
	json_object_set_new(o, "kind", json_string(cgfw_tc_kind_name(r->kind)));
	cgfw_format_prefix(&r->dst, buf, sizeof(buf));
	json_object_set_new(o, "dst", json_string(buf));
	if (r->src.len) {
		cgfw_format_prefix(&r->src, buf, sizeof(buf));
		json_object_set_new(o, "src", json_string(buf));
	} else {
		json_object_set_new(o, "src", json_null());
	}
	json_object_set_new(o, "family",
			    json_string(r->dst.family == CGFW_FAMILY_INET ? "ipv4" : "ipv6"));
	json_object_set_new(o, "proto", json_string(cgfw_proto_name(r->proto)));
	json_object_set_new(o, "ports", ports_json(r->port_lo, r->port_hi));
	if (r->kind == CGFW_TC_INBOUND) {
		json_object_set_new(o, "to", json_null());
	} else {
		to_str(r, buf, sizeof(buf));
		json_object_set_new(o, "to", json_string(buf));
	}
	json_object_set_new(o, "iface", r->ifindex ? json_string(r->ifname) : json_null());
	json_object_set_new(o, "packets", json_integer((json_int_t)r->packets));
	json_object_set_new(o, "bytes", json_integer((json_int_t)r->bytes));
	return o;
}

json_t *cgfw_tc_route_json(const struct cgfw_tc_route *r)
{
	char buf[CGFW_ADDRSTRLEN];
	json_t *o = json_object();

	cgfw_format_prefix(&r->pfx, buf, sizeof(buf));
	json_object_set_new(o, "prefix", json_string(buf));
	json_object_set_new(o, "rules", json_integer(r->refs));
	json_object_set_new(o, "owned", json_boolean(r->owned));
	json_object_set_new(o, "this_netns", json_boolean(r->this_netns));
	return o;
}

json_t *cgfw_tc_iface_json(const struct cgfw_tc_iface *i)
{
	json_t *o = json_object(), *a = json_array();
	char buf[CGFW_ADDRSTRLEN];

	json_object_set_new(o, "iface", json_string(i->name));
	json_object_set_new(o, "ifindex", json_integer(i->ifindex));
	json_object_set_new(o, "netns", json_integer((json_int_t)i->netns));
	json_object_set_new(o, "this_netns", json_boolean(i->this_netns));
	json_object_set_new(o, "mode", json_string(i->mode == CGFW_TC_MODE_TCX ? "tcx" : "clsact"));
	if (i->mode == CGFW_TC_MODE_CLSACT) {
		json_object_set_new(o, "priority_ingress", json_integer(i->prio[0]));
		json_object_set_new(o, "priority_egress", json_integer(i->prio[1]));
		json_object_set_new(o, "qdisc_created", json_boolean(i->qdisc_created));
	}
	json_object_set_new(o, "stateful", json_boolean(i->flags & CGFW_TC_STATEFUL));
	json_object_set_new(o, "icmp", json_boolean(i->flags & CGFW_TC_ICMP));
	json_object_set_new(o, "ssh", json_boolean(!(i->flags & CGFW_TC_NO_SSH)));
	json_object_set_new(o, "live", json_boolean(i->live));
	for (size_t j = 0; j < i->naddrs && j < CGFW_TC_MAX_SHOWN_ADDRS; j++) {
		cgfw_format_addr(i->addrs[j].family, i->addrs[j].addr, buf, sizeof(buf));
		json_array_append_new(a, json_string(buf));
	}
	json_object_set_new(o, "addresses", a);
	return o;
}
