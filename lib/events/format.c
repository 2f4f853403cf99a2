// SPDX-License-Identifier: GPL-2.0-only
/* The decision events of both datapaths as JSON and as one line of text. */
#include <arpa/inet.h>
#include <jansson.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cgfw/events.h>

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
	case CGFW_EV_AUDIT:
		return "audit";
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

static void time_str(uint64_t mono, char *buf, size_t n, bool iso)
{
	uint64_t ns = cgfw_mono_to_realtime(mono);
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
