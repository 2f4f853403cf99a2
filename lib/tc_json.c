// SPDX-License-Identifier: GPL-2.0-only
/* JSON and text for the TC listings and the monitor's events (jansson). */
#include <arpa/inet.h>
#include <jansson.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "tc_internal.h"

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

static const char *source_name(uint8_t s)
{
	switch (s) {
	case CGFW_EV_TC_INGRESS:
		return "tc-ingress";
	case CGFW_EV_TC_EGRESS:
		return "tc-egress";
	case CGFW_EV_CGROUP_INGRESS:
		return "cgroup-ingress";
	case CGFW_EV_CGROUP_EGRESS:
		return "cgroup-egress";
	default:
		return "?";
	}
}

static const char *action_name(uint8_t a)
{
	switch (a) {
	case CGFW_EV_DROP:
		return "drop";
	case CGFW_EV_INTERCEPT:
		return "intercept";
	case CGFW_EV_REDIRECT:
		return "redirect";
	default:
		return "?";
	}
}

static bool is_cgroup(const struct cgfw_event *e)
{
	return e->source == CGFW_EV_CGROUP_INGRESS || e->source == CGFW_EV_CGROUP_EGRESS;
}

static const char *reason_name(const struct cgfw_event *e)
{
	return is_cgroup(e) ? cgfw_reason_name(e->reason) : cgfw_tc_reason_name(e->reason);
}

static const char *proto_name(uint8_t p)
{
	switch (p) {
	case CGFW_PROTO_TCP:
		return "tcp";
	case CGFW_PROTO_UDP:
		return "udp";
	case CGFW_PROTO_ICMP:
		return "icmp";
	case CGFW_PROTO_ICMPV6:
		return "icmpv6";
	default:
		return NULL;
	}
}

static uint64_t mono_to_realtime(uint64_t mono)
{
	struct timespec m, r;
	uint64_t mn, rn;

	clock_gettime(CLOCK_MONOTONIC, &m);
	clock_gettime(CLOCK_REALTIME, &r);
	mn = (uint64_t)m.tv_sec * 1000000000ull + (uint64_t)m.tv_nsec;
	rn = (uint64_t)r.tv_sec * 1000000000ull + (uint64_t)r.tv_nsec;
	return mono > mn ? rn : rn - (mn - mono);
}

static void time_str(uint64_t mono, char *buf, size_t n, bool iso)
{
	uint64_t ns = mono_to_realtime(mono);
	time_t t = (time_t)(ns / 1000000000ull);
	struct tm tm;
	char b[32];

	if (iso) {
		gmtime_r(&t, &tm);
		strftime(b, sizeof(b), "%Y-%m-%dT%H:%M:%S", &tm);
		snprintf(buf, n, "%s.%06uZ", b, (unsigned)(ns % 1000000000ull / 1000));
	} else {
		localtime_r(&t, &tm);
		strftime(b, sizeof(b), "%H:%M:%S", &tm);
		snprintf(buf, n, "%s.%03u", b, (unsigned)(ns % 1000000000ull / 1000000));
	}
}

json_t *cgfw_event_json(const struct cgfw_event *e, const char *cgroup)
{
	json_t *o = json_object();
	char buf[CGFW_ADDRSTRLEN], ifn[IF_NAMESIZE];
	const char *pn = proto_name(e->proto);

	time_str(e->ts_ns, buf, sizeof(buf), true);
	json_object_set_new(o, "time", json_string(buf));
	json_object_set_new(o, "source", json_string(source_name(e->source)));
	json_object_set_new(o, "action", json_string(action_name(e->action)));
	json_object_set_new(o, "reason", json_string(reason_name(e)));
	if (is_cgroup(e)) {
		json_object_set_new(o, "cgroup", cgroup ? json_string(cgroup) : json_null());
		json_object_set_new(o, "cgroup_id", json_integer((json_int_t)e->cgid));
	} else {
		json_object_set_new(o, "iface",
				    if_indextoname(e->ifindex, ifn) ? json_string(ifn) :
								      json_null());
		json_object_set_new(o, "ifindex", json_integer(e->ifindex));
		json_object_set_new(o, "rule", e->rule_id ? json_integer(e->rule_id) : json_null());
	}
	if (e->family) {
		json_object_set_new(o, "family",
				    json_string(e->family == CGFW_FAMILY_INET ? "ipv4" : "ipv6"));
		json_object_set_new(o, "proto", pn ? json_string(pn) : json_integer(e->proto));
		cgfw_format_addr(e->family, e->saddr, buf, sizeof(buf));
		json_object_set_new(o, "src", json_string(buf));
		cgfw_format_addr(e->family, e->daddr, buf, sizeof(buf));
		json_object_set_new(o, "dst", json_string(buf));
		if (e->proto == CGFW_PROTO_TCP || e->proto == CGFW_PROTO_UDP) {
			json_object_set_new(o, "sport", json_integer(ntohs(e->sport)));
			json_object_set_new(o, "dport", json_integer(ntohs(e->dport)));
		}
		if (e->action == CGFW_EV_INTERCEPT || e->action == CGFW_EV_REDIRECT) {
			cgfw_format_addr(e->family, e->to_addr, buf, sizeof(buf));
			json_object_set_new(o, "to_addr", json_string(buf));
			json_object_set_new(o, "to_port", json_integer(ntohs(e->to_port)));
		}
	}
	json_object_set_new(o, "len", json_integer(e->len));
	return o;
}

void cgfw_event_format(const struct cgfw_event *e, const char *cgroup, char *buf, size_t n)
{
	char t[32], s[CGFW_ADDRSTRLEN], d[CGFW_ADDRSTRLEN], x[CGFW_ADDRSTRLEN + 16] = "";
	char where[PATH_MAX + 32], ifn[IF_NAMESIZE], pbuf[8];
	const char *pn = proto_name(e->proto);
	bool ports = e->proto == CGFW_PROTO_TCP || e->proto == CGFW_PROTO_UDP;

	time_str(e->ts_ns, t, sizeof(t), false);
	if (is_cgroup(e))
		snprintf(where, sizeof(where), "cgroup %s", cgroup ? cgroup : "?");
	else
		snprintf(where, sizeof(where), "%s", if_indextoname(e->ifindex, ifn) ? ifn : "?");
	if (!pn) {
		snprintf(pbuf, sizeof(pbuf), "%u", e->proto);
		pn = pbuf;
	}
	if (!e->family) {
		snprintf(buf, n, "%s %-14s %s %s %s (not IP)", t, source_name(e->source), where,
			 action_name(e->action), reason_name(e));
		return;
	}
	cgfw_format_addr(e->family, e->saddr, s, sizeof(s));
	cgfw_format_addr(e->family, e->daddr, d, sizeof(d));
	if (e->action == CGFW_EV_INTERCEPT || e->action == CGFW_EV_REDIRECT) {
		char a[CGFW_ADDRSTRLEN];

		cgfw_format_addr(e->family, e->to_addr, a, sizeof(a));
		snprintf(x, sizeof(x), " => %s%s%s:%u", e->family == CGFW_FAMILY_INET6 ? "[" : "",
			 a, e->family == CGFW_FAMILY_INET6 ? "]" : "", ntohs(e->to_port));
	}
	if (ports)
		snprintf(buf, n, "%s %-14s %s %s %s %s %s:%u -> %s:%u%s%s", t,
			 source_name(e->source), where, action_name(e->action), reason_name(e), pn,
			 s, ntohs(e->sport), d, ntohs(e->dport), x, e->rule_id ? "" : "");
	else
		snprintf(buf, n, "%s %-14s %s %s %s %s %s -> %s", t, source_name(e->source), where,
			 action_name(e->action), reason_name(e), pn, s, d);
	if (e->rule_id) {
		size_t l = strlen(buf);

		snprintf(buf + l, n - l, " (rule %u)", e->rule_id);
	}
}
