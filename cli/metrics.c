// SPDX-License-Identifier: GPL-2.0-only
/*
 * cgfw metrics: the state's counters and levels in the Prometheus text
 * exposition format, printed once (for node_exporter's textfile collector)
 * or served at /metrics over HTTP (libmicrohttpd), every scrape reading the
 * pinned state afresh under the shared lock. The writer (lib/metrics) keeps
 * the text valid; this file reads the state and names the metrics.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cgfw/events.h>
#include <cgfw/meta_map.h>
#include <cgfw/metrics.h>

#include "cli.h"

/* Labels: L({ "name", value }, ...), ended for the writer. */
#define L(...) ((const struct cgfw_label[]){ __VA_ARGS__, { NULL, NULL } })

/* ---- what one scrape reads ---------------------------------------------------------------- */

struct cg_counters {
	bool own; /* false: the cgroup has no counters of its own (only in the totals) */
	uint64_t packets[CGFW_DIR_COUNT][8], bytes[CGFW_DIR_COUNT][8];
};

struct snapshot {
	bool cg, tc, events;
	/* cgroup datapath */
	struct cgfw_status st;
	struct cgfw_attachment *att;
	size_t natt;
	char (*names)[PATH_MAX + 32]; /* the cgroup label of each attachment */
	struct cg_counters *cnt;
	struct cgfw_rule *rules;
	struct cgfw_rule_stats *rstats;
	size_t nrules;
	/* TC datapath */
	struct cgfw_tc_stats tcs;
	struct cgfw_tc_rule *tcr;
	size_t ntcr;
	size_t nifaces;
	/* events */
	uint64_t lost;
};

static void snapshot_free(struct snapshot *s)
{
	free(s->att);
	free(s->names);
	free(s->cnt);
	free(s->rules);
	free(s->rstats);
	free(s->tcr);
	memset(s, 0, sizeof(*s));
}

/*
 * The label of each attachment: its path ("/" for the root). Two attachments
 * with one path (a cgroup removed and made again while attached) would make
 * two series the same: the one attached last keeps the path, each other one
 * says its cgroup id as well.
 */
static void name_cgroups(struct snapshot *s)
{
	for (size_t i = 0; i < s->natt; i++) {
		const char *p = s->att[i].path[0] ? s->att[i].path : "/";
		bool older = false;

		for (size_t j = 0; j < s->natt && !older; j++)
			older = j != i && !strcmp(s->att[j].path, s->att[i].path) &&
				(s->att[j].attached_ns > s->att[i].attached_ns ||
				 (s->att[j].attached_ns == s->att[i].attached_ns && j > i));
		if (older)
			snprintf(s->names[i], sizeof(s->names[i]), "%s (cgroup id %" PRIu64 ")", p,
				 s->att[i].id);
		else
			snprintf(s->names[i], sizeof(s->names[i]), "%s", p);
	}
}

static const char *cgroup_label(const struct snapshot *s, uint64_t id, char *buf, size_t n)
{
	for (size_t i = 0; i < s->natt; i++)
		if (s->att[i].id == id)
			return s->names[i];
	snprintf(buf, n, "id:%" PRIu64, id);
	return buf;
}

static int read_cgroup(struct snapshot *s)
{
	_cleanup_state_ struct cgfw_state *st = NULL;
	int err;

	if (!cgfw_state_exists())
		return 0;
	err = cgfw_state_open(CGFW_OPEN_LOCK | CGFW_OPEN_SHARED, &st);
	if (err == -ENOENT) /* reset meanwhile */
		return 0;
	if (!err)
		err = cgfw_status_get(st, &s->st);
	if (!err)
		err = cgfw_attachments(st, &s->att, &s->natt);
	if (!err)
		err = cgfw_rules_list_stats(st, &s->rules, &s->rstats, &s->nrules);
	if (err)
		return err;
	s->names = calloc(s->natt ? s->natt : 1, sizeof(*s->names));
	s->cnt = calloc(s->natt ? s->natt : 1, sizeof(*s->cnt));
	if (!s->names || !s->cnt)
		return cgfw_seterr(ENOMEM, "out of memory");
	for (size_t i = 0; i < s->natt; i++) {
		err = cgfw_cgroup_counters(st, s->att[i].id, s->cnt[i].packets, s->cnt[i].bytes);
		/* -ERANGE: counted only in the totals; -ENOENT: detached meanwhile. */
		if (err == -ERANGE || err == -ENOENT)
			continue;
		if (err)
			return err;
		s->cnt[i].own = true;
	}
	name_cgroups(s);
	s->cg = true;
	return 0;
}

static int read_tc(struct snapshot *s)
{
	_cleanup_tc_ struct cgfw_tc *tc = NULL;
	_cleanup_free_ struct cgfw_tc_iface *ifs = NULL;
	int err;

	err = cgfw_tc_open(CGFW_OPEN_LOCK | CGFW_OPEN_SHARED, &tc);
	if (err == -ENOENT)
		return 0;
	if (!err)
		err = cgfw_tc_stats_get(tc, &s->tcs);
	if (!err)
		err = cgfw_tc_rules_list(tc, 0, &s->tcr, &s->ntcr);
	if (!err)
		err = cgfw_tc_ifaces(tc, &ifs, &s->nifaces);
	if (err)
		return err;
	s->tc = true;
	return 0;
}

static int snapshot_read(struct snapshot *s)
{
	int err;

	memset(s, 0, sizeof(*s));
	err = read_cgroup(s);
	if (!err)
		err = read_tc(s);
	if (!err) {
		err = cgfw_events_lost(&s->lost);
		s->events = !err;
		if (err == -ENOENT)
			err = 0;
	}
	if (err) {
		snapshot_free(s);
		/* The kernel refusing a read is never the user's bad input. */
		return cgfw_runtime_err(err);
	}
	return 0;
}

/* ---- the exposition ------------------------------------------------------------------------- */

static double seconds(uint64_t ns)
{
	return (double)(ns / 1000000000ull) + (double)(ns % 1000000000ull) / 1e9;
}

static const char *proto_label(uint8_t proto, char *buf, size_t n)
{
	const char *name = cgfw_proto_name(proto);

	if (strcmp(name, "?"))
		return name;
	snprintf(buf, n, "%u", proto);
	return buf;
}

/* A cgroup rule's ports as `cgfw list` shows them; "" for none (every port, or no ports). */
static const char *rule_ports(const struct cgfw_rule *r, char *buf, size_t n)
{
	buf[0] = 0;
	if ((r->proto == CGFW_PROTO_TCP || r->proto == CGFW_PROTO_UDP) &&
	    !(r->port_lo == 0 && r->port_hi == 65535)) {
		if (r->port_lo == r->port_hi)
			snprintf(buf, n, "%u", r->port_lo);
		else
			snprintf(buf, n, "%u-%u", r->port_lo, r->port_hi);
	}
	return buf;
}

static const char *tc_ports(const struct cgfw_tc_rule *r, char *buf, size_t n)
{
	if (r->port_lo == r->port_hi)
		snprintf(buf, n, "%u", r->port_lo);
	else
		snprintf(buf, n, "%u-%u", r->port_lo, r->port_hi);
	return buf;
}

/* The listener (tproxy) or new destination (redirect), as `cgfw tproxy list` shows it. */
static const char *tc_to(const struct cgfw_tc_rule *r, char *buf, size_t n)
{
	char a[CGFW_ADDRSTRLEN];

	if (r->kind == CGFW_TC_INBOUND) {
		buf[0] = 0;
	} else if (!r->has_to_addr) {
		snprintf(buf, n, "%u", r->to_port);
	} else {
		cgfw_format_addr(r->dst.family, r->to_addr, a, sizeof(a));
		snprintf(buf, n, r->dst.family == CGFW_FAMILY_INET6 ? "[%s]:%u" : "%s:%u", a,
			 r->to_port);
	}
	return buf;
}

static void cgroup_metrics(struct cgfw_metrics *m, const struct snapshot *s)
{
	static const char *const family[] = { "ipv4", "ipv6" };
	const struct cgfw_status *st = &s->st;
	char v[32];

	cgfw_metrics_family(m, "cgfw_state_layout_version", CGFW_METRIC_GAUGE,
			    "Layout version of the pinned cgroup state's maps.");
	cgfw_metrics_u64(m, NULL, st->layout_version);
	cgfw_metrics_family(m, "cgfw_state_created_timestamp_seconds", CGFW_METRIC_GAUGE,
			    "When the pinned cgroup state was made, in seconds since the epoch.");
	cgfw_metrics_double(m, NULL, seconds(st->created_ns));
	cgfw_metrics_family(m, "cgfw_attached_cgroups", CGFW_METRIC_GAUGE,
			    "Cgroups the firewall is attached to.");
	cgfw_metrics_u64(m, NULL, st->attachments);

	cgfw_metrics_family(m, "cgfw_cgroup_info", CGFW_METRIC_GAUGE,
			    "An attached cgroup (always 1), with its cgroup v2 id.");
	for (size_t i = 0; i < s->natt; i++) {
		snprintf(v, sizeof(v), "%" PRIu64, s->att[i].id);
		cgfw_metrics_u64(m, L({ "cgroup", s->names[i] }, { "cgroup_id", v }), 1);
	}
	cgfw_metrics_family(m, "cgfw_cgroup_audit_mode", CGFW_METRIC_GAUGE,
			    "1 when the cgroup is in audit mode (what would be dropped passes and "
			    "is counted as audit_rule or audit_default), 0 when it is enforced.");
	for (size_t i = 0; i < s->natt; i++)
		cgfw_metrics_u64(m, L({ "cgroup", s->names[i] }), s->att[i].audit);
	cgfw_metrics_family(m, "cgfw_cgroup_default_deny", CGFW_METRIC_GAUGE,
			    "1 when the cgroup's default verdict for the direction is deny "
			    "(allowlist mode), 0 when it is allow.");
	for (size_t i = 0; i < s->natt; i++)
		for (int d = 0; d < CGFW_DIR_COUNT; d++)
			cgfw_metrics_u64(
				m, L({ "cgroup", s->names[i] }, { "direction", cgfw_dir_name(d) }),
				s->att[i].def[d] == CGFW_VERDICT_DENY);
	cgfw_metrics_family(m, "cgfw_cgroup_program_attached", CGFW_METRIC_GAUGE,
			    "1 when the cgroup's program for the direction is linked and live, 0 "
			    "when it is missing (the cgroup was removed?).");
	for (size_t i = 0; i < s->natt; i++)
		for (int d = 0; d < CGFW_DIR_COUNT; d++)
			cgfw_metrics_u64(
				m, L({ "cgroup", s->names[i] }, { "direction", cgfw_dir_name(d) }),
				d == CGFW_DIR_INGRESS ? s->att[i].ingress : s->att[i].egress);

	/* Verdict counters: per cgroup, and over all cgroups. */
	for (int bytes = 0; bytes < 2; bytes++) {
		cgfw_metrics_family(
			m, bytes ? "cgfw_bytes_total" : "cgfw_packets_total", CGFW_METRIC_COUNTER,
			bytes ? "Bytes the cgroup programs decided, by cgroup, direction and reason. "
				"Cgroups beyond the first slots have no counters of their own and are "
				"only in cgfw_all_cgroups_bytes_total." :
				"Packets the cgroup programs decided, by cgroup, direction and reason. "
				"Cgroups beyond the first slots have no counters of their own and are "
				"only in cgfw_all_cgroups_packets_total.");
		for (size_t i = 0; i < s->natt; i++) {
			if (!s->cnt[i].own)
				continue;
			for (int d = 0; d < CGFW_DIR_COUNT; d++)
				for (int r = 0; r < CGFW_R_COUNT && r < 8; r++)
					cgfw_metrics_u64(m,
							 L({ "cgroup", s->names[i] },
							   { "direction", cgfw_dir_name(d) },
							   { "reason", cgfw_reason_name(r) }),
							 bytes ? s->cnt[i].bytes[d][r] :
								 s->cnt[i].packets[d][r]);
		}
	}
	for (int bytes = 0; bytes < 2; bytes++) {
		cgfw_metrics_family(m,
				    bytes ? "cgfw_all_cgroups_bytes_total" :
					    "cgfw_all_cgroups_packets_total",
				    CGFW_METRIC_COUNTER,
				    bytes ? "Bytes the cgroup programs decided over all attached "
					    "cgroups, by direction and reason." :
					    "Packets the cgroup programs decided over all attached "
					    "cgroups, by direction and reason.");
		for (int d = 0; d < CGFW_DIR_COUNT; d++)
			for (int r = 0; r < CGFW_R_COUNT && r < 8; r++)
				cgfw_metrics_u64(m,
						 L({ "direction", cgfw_dir_name(d) },
						   { "reason", cgfw_reason_name(r) }),
						 bytes ? st->bytes[d][r] : st->packets[d][r]);
	}

	/* Rules. */
	cgfw_metrics_family(m, "cgfw_rules", CGFW_METRIC_GAUGE,
			    "Rule keys in force (host-wide and per cgroup), by address family.");
	cgfw_metrics_u64(m, L({ "family", family[0] }), st->rules4);
	cgfw_metrics_u64(m, L({ "family", family[1] }), st->rules6);
	cgfw_metrics_family(m, "cgfw_rule_prefix_lengths", CGFW_METRIC_GAUGE,
			    "Distinct prefix lengths the rules use, by address family.");
	cgfw_metrics_u64(m, L({ "family", family[0] }), st->lens4);
	cgfw_metrics_u64(m, L({ "family", family[1] }), st->lens6);
	for (int f = 0; f < 3; f++) {
		static const char *const names[] = { "cgfw_rule_packets_total",
						     "cgfw_rule_bytes_total",
						     "cgfw_rule_last_hit_timestamp_seconds" };
		static const char *const help[] = {
			"Packets each rule decided (as 'cgfw list --stats'; the rules of one "
			"address, protocol and ports share the counter). cgroup is empty for "
			"host-wide rules.",
			"Bytes each rule decided (as 'cgfw list --stats'; the rules of one "
			"address, protocol and ports share the counter).",
			"When each rule last decided a packet, in seconds since the epoch; rules "
			"never hit have no sample.",
		};

		cgfw_metrics_family(m, names[f], f == 2 ? CGFW_METRIC_GAUGE : CGFW_METRIC_COUNTER,
				    help[f]);
		for (size_t i = 0; i < s->nrules; i++) {
			const struct cgfw_rule *r = &s->rules[i];
			const struct cgfw_rule_stats *rs = &s->rstats[i];
			char cg[32], pfx[CGFW_ADDRSTRLEN], ports[16], proto[8];
			const char *scope = r->scope == CGFW_SCOPE_HOST ? "host" : "cgroup";
			const struct cgfw_label *labels;

			if (f == 2 && !rs->last_ns)
				continue;
			cgfw_format_prefix(&r->pfx, pfx, sizeof(pfx));
			labels = L({ "scope", scope },
				   { "cgroup", r->scope == CGFW_SCOPE_HOST ?
						       "" :
						       cgroup_label(s, r->scope, cg, sizeof(cg)) },
				   { "action", r->action == CGFW_DENY ? "deny" : "allow" },
				   { "direction", cgfw_dirs_name(r->dirs) }, { "prefix", pfx },
				   { "proto", proto_label(r->proto, proto, sizeof(proto)) },
				   { "ports", rule_ports(r, ports, sizeof(ports)) },
				   { "origin",
				     r->origin == CGFW_ORIGIN_POLICY ? "policy" : "manual" });
			if (f == 0)
				cgfw_metrics_u64(m, labels, rs->packets);
			else if (f == 1)
				cgfw_metrics_u64(m, labels, rs->bytes);
			else
				cgfw_metrics_double(m, labels, seconds(rs->last_ns));
		}
	}
	cgfw_metrics_family(m, "cgfw_ruleset_generation", CGFW_METRIC_GAUGE,
			    "Change number of the cgroup rule set in force (grows with every "
			    "change).");
	cgfw_metrics_u64(m, NULL, st->rs_gen);
}

/* Fill levels of both datapaths' maps: one family each for entries and limits. */
static void map_metrics(struct cgfw_metrics *m, const struct snapshot *s)
{
	for (int limit = 0; limit < 2; limit++) {
		cgfw_metrics_family(m, limit ? "cgfw_map_entries_limit" : "cgfw_map_entries",
				    CGFW_METRIC_GAUGE,
				    limit ? "Capacity of each of the state's maps, in entries." :
					    "Entries in use in each of the state's maps: seen "
					    "addresses, admitted flows, the cgroup rule set's and "
					    "the TC rule set's elements.");
		if (s->cg) {
			cgfw_metrics_u64(m, L({ "map", "seen" }),
					 limit ? s->st.seen_max : s->st.seen_entries);
			cgfw_metrics_u64(m, L({ "map", "flows" }),
					 limit ? s->st.flows_max : s->st.flows_entries);
			cgfw_metrics_u64(m, L({ "map", "ruleset" }),
					 limit ? s->st.rs_capacity : s->st.rs_elems);
		}
		if (s->tc)
			cgfw_metrics_u64(m, L({ "map", "tc_ruleset" }),
					 limit ? s->tcs.table_capacity : s->tcs.table_entries);
	}
}

static void tc_metrics(struct cgfw_metrics *m, const struct snapshot *s)
{
	static const uint8_t kinds[] = { CGFW_TC_TPROXY, CGFW_TC_REDIRECT, CGFW_TC_INBOUND };
	const struct cgfw_tc_stats *t = &s->tcs;

	cgfw_metrics_family(m, "cgfw_tc_attached_interfaces", CGFW_METRIC_GAUGE,
			    "Interfaces the TC programs are attached to (every network "
			    "namespace).");
	cgfw_metrics_u64(m, NULL, s->nifaces);
	cgfw_metrics_family(m, "cgfw_tc_rules", CGFW_METRIC_GAUGE, "TC rules, by kind.");
	for (size_t k = 0; k < CGFW_ARRAY_SIZE(kinds); k++)
		cgfw_metrics_u64(m, L({ "kind", cgfw_tc_kind_name(kinds[k]) }),
				 kinds[k] < 4 ? t->rules[kinds[k]] : 0);
	for (int bytes = 0; bytes < 2; bytes++) {
		cgfw_metrics_family(
			m, bytes ? "cgfw_tc_bytes_total" : "cgfw_tc_packets_total",
			CGFW_METRIC_COUNTER,
			bytes ? "Bytes the TC programs handled, by direction and reason." :
				"Packets the TC programs handled, by direction and "
				"reason.");
		for (int d = 0; d < 2; d++)
			for (int r = 0; r < CGFW_TC_R_COUNT; r++) {
				/* Egress only passes and restores (as 'cgfw tc list'). */
				if (d == 1 && r != CGFW_TC_R_PASS_NOMATCH &&
				    r != CGFW_TC_R_RESTORE && !t->packets[d][r])
					continue;
				cgfw_metrics_u64(m,
						 L({ "direction", d ? "egress" : "ingress" },
						   { "reason", cgfw_tc_reason_name(r) }),
						 bytes ? t->bytes[d][r] : t->packets[d][r]);
			}
	}
	for (int bytes = 0; bytes < 2; bytes++) {
		cgfw_metrics_family(
			m, bytes ? "cgfw_tc_rule_bytes_total" : "cgfw_tc_rule_packets_total",
			CGFW_METRIC_COUNTER,
			bytes ? "Bytes each TC rule matched (as 'cgfw tproxy list')." :
				"Packets each TC rule matched (as 'cgfw tproxy list').");
		for (size_t i = 0; i < s->ntcr; i++) {
			const struct cgfw_tc_rule *r = &s->tcr[i];
			char id[16], dst[CGFW_ADDRSTRLEN], src[CGFW_ADDRSTRLEN], ports[16],
				proto[8];
			char to[CGFW_ADDRSTRLEN + 16];

			snprintf(id, sizeof(id), "%u", r->id);
			cgfw_format_prefix(&r->dst, dst, sizeof(dst));
			src[0] = 0;
			if (r->src.len)
				cgfw_format_prefix(&r->src, src, sizeof(src));
			cgfw_metrics_u64(m,
					 L({ "id", id }, { "kind", cgfw_tc_kind_name(r->kind) },
					   { "dst", dst }, { "src", src },
					   { "proto", proto_label(r->proto, proto, sizeof(proto)) },
					   { "ports", tc_ports(r, ports, sizeof(ports)) },
					   { "iface", r->ifindex ? r->ifname : "" },
					   { "to", tc_to(r, to, sizeof(to)) }),
					 bytes ? r->bytes : r->packets);
		}
	}
}

/* The whole exposition of one snapshot, as a malloc()ed text. */
static int format(const struct snapshot *s, char **ret, size_t *ret_len)
{
	_cleanup_metrics_ struct cgfw_metrics *m = NULL;
	char layout[16];
	int err;

	err = cgfw_metrics_new(&m);
	if (err)
		return err;
	snprintf(layout, sizeof(layout), "%d", CGFW_LAYOUT_VERSION);
	cgfw_metrics_family(m, "cgfw_build_info", CGFW_METRIC_GAUGE,
			    "The cgfw that wrote these metrics (always 1): its version and the "
			    "state layout it reads.");
	cgfw_metrics_u64(m, L({ "version", CGFW_VERSION }, { "layout_version", layout }), 1);
	cgfw_metrics_family(m, "cgfw_state_present", CGFW_METRIC_GAUGE,
			    "1 when the datapath's pinned state exists, 0 when nothing was ever "
			    "attached (or it was reset).");
	cgfw_metrics_u64(m, L({ "datapath", "cgroup" }), s->cg);
	cgfw_metrics_u64(m, L({ "datapath", "tc" }), s->tc);
	if (s->cg)
		cgroup_metrics(m, s);
	if (s->tc)
		tc_metrics(m, s);
	if (s->cg || s->tc)
		map_metrics(m, s);
	if (s->events) {
		cgfw_metrics_family(m, "cgfw_events_lost_total", CGFW_METRIC_COUNTER,
				    "Decision events the datapath did not send (over the rate "
				    "limit, or the ring buffer was full); their packets were "
				    "handled as usual.");
		cgfw_metrics_u64(m, NULL, s->lost);
	}
	err = cgfw_metrics_error(m);
	if (err)
		return err == -EINVAL ? -EIO : err; /* a bug here, not the user's input */
	*ret = cgfw_metrics_take(m, ret_len);
	return *ret ? 0 : cgfw_metrics_error(m);
}

/* Read the state and write the exposition. */
static int collect(char **ret, size_t *ret_len)
{
	struct snapshot s;
	int err;

	err = snapshot_read(&s);
	if (err)
		return err;
	err = format(&s, ret, ret_len);
	snapshot_free(&s);
	return err;
}

/* ---- the listener ------------------------------------------------------------------------- */

static const char *listen_arg;

/*
 * ADDR:PORT, ADDR a numeric IPv4 address or an IPv6 address in brackets
 * ([::1]:9469), PORT 1..65535. Nothing is resolved: no name lookup.
 */
static int parse_listen(struct ctx *c, const char *arg, struct sockaddr_storage *ss,
			socklen_t *ret_len)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE };
	struct addrinfo *ai = NULL;
	char host[128], esc[160];
	const char *colon, *port;
	char *end;
	long p;
	int rc;

	colon = strrchr(arg, ':');
	if (arg[0] == '[') {
		const char *close = strchr(arg, ']');

		if (!close || close[1] != ':' || close - arg - 1 <= 0 ||
		    (size_t)(close - arg - 1) >= sizeof(host))
			goto bad;
		memcpy(host, arg + 1, (size_t)(close - arg - 1));
		host[close - arg - 1] = 0;
		hints.ai_family = AF_INET6;
		port = close + 2;
	} else {
		if (!colon || colon == arg || (size_t)(colon - arg) >= sizeof(host) ||
		    memchr(arg, ':', (size_t)(colon - arg)))
			goto bad;
		memcpy(host, arg, (size_t)(colon - arg));
		host[colon - arg] = 0;
		hints.ai_family = AF_INET;
		port = colon + 1;
	}
	errno = 0;
	p = strtol(port, &end, 10);
	if (!(*port >= '0' && *port <= '9') || *end || errno || p < 1 || p > 65535)
		return cli_usage(c, "invalid --listen '%s': the port must be 1..65535",
				 cgfw_escape(arg, esc, sizeof(esc)));
	rc = getaddrinfo(host, port, &hints, &ai);
	if (rc || !ai || ai->ai_addrlen > sizeof(*ss)) {
		if (ai)
			freeaddrinfo(ai);
		goto bad;
	}
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*ret_len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
bad:
	return cli_usage(c, "invalid --listen '%s' (IPV4:PORT or [IPV6]:PORT, e.g. 127.0.0.1:9469)",
			 cgfw_escape(arg, esc, sizeof(esc)));
}

static int listen_on(const struct sockaddr_storage *ss, socklen_t len, int *ret_fd)
{
	_cleanup_close_ int fd = -1;
	char esc[160];
	int one = 1, e;

	fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return cgfw_seterr(errno, "cannot listen on %s: %s",
				   cgfw_escape(listen_arg, esc, sizeof(esc)), strerror(errno));
	/* A restart finds its port free again while old connections linger (TIME_WAIT). */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)ss, len) < 0 || listen(fd, 64) < 0) {
		e = errno;
		/* An address this host does not have is the user's input; a busy port is not. */
		return cgfw_seterr(e == EADDRNOTAVAIL ? EINVAL : e, "cannot listen on %s: %s",
				   cgfw_escape(listen_arg, esc, sizeof(esc)), strerror(e));
	}
	*ret_fd = TAKE_FD(fd);
	return 0;
}

static enum MHD_Result respond(struct MHD_Connection *conn, unsigned status, char *body, size_t len,
			       const char *type)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result respond_text(struct MHD_Connection *conn, unsigned status, const char *msg)
{
	char *body = strdup(msg);

	return body ? respond(conn, status, body, strlen(body), "text/plain; charset=utf-8") :
		      MHD_NO;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_size, void **req_cls)
{
	static int started;
	char *text = NULL, msg[1200];
	size_t len = 0;
	int err;

	/* The first call only announces the request (its headers); answer on the next. */
	if (!*req_cls) {
		*req_cls = &started;
		return MHD_YES;
	}
	if (*upload_size) { /* a body nobody asked for: read and dropped */
		*upload_size = 0;
		return MHD_YES;
	}
	if (strcmp(url, "/metrics"))
		return respond_text(conn, MHD_HTTP_NOT_FOUND, "not found: cgfw serves /metrics\n");
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return respond_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
				    "method not allowed: GET or HEAD /metrics\n");
	err = collect(&text, &len);
	cli_notices(); /* what the library did meanwhile (a repair), on stderr */
	if (err) {
		snprintf(msg, sizeof(msg), "cgfw: metrics: %s\n", cgfw_errmsg());
		fputs(msg, stderr);
		return respond_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, msg);
	}
	return respond(conn, MHD_HTTP_OK, text, len, CGFW_METRICS_CONTENT_TYPE);
}

static int serve(struct ctx *c, const char *arg)
{
	struct sockaddr_storage ss;
	volatile sig_atomic_t *stop;
	struct MHD_Daemon *d;
	socklen_t len = 0;
	char esc[160];
	int fd = -1, err;

	listen_arg = arg;
	err = parse_listen(c, arg, &ss, &len);
	if (!err)
		err = listen_on(&ss, len, &fd);
	if (err)
		return err;
	/* No thread of its own: the requests are answered here, one at a time,
	 * between the waits, so a signal ends the loop at once. */
	d = MHD_start_daemon((ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0), 0, NULL, NULL,
			     on_request, NULL, MHD_OPTION_LISTEN_SOCKET, fd,
			     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
			     MHD_OPTION_CONNECTION_LIMIT, (unsigned)64, MHD_OPTION_END);
	if (!d) {
		close(fd);
		return cgfw_seterr(EIO, "cannot serve HTTP on %s (libmicrohttpd refused)",
				   cgfw_escape(arg, esc, sizeof(esc)));
	}
	signal(SIGPIPE, SIG_IGN);
	cli_catch_signals(&stop);
	fprintf(stderr, "cgfw: serving metrics on http://%s/metrics; Ctrl-C to stop\n",
		cgfw_escape(arg, esc, sizeof(esc)));
	while (!*stop) {
		/* A signal ends the wait (EINTR); at worst it is seen a moment later. */
		if (MHD_run_wait(d, 500) != MHD_YES && !*stop) {
			err = cgfw_seterr(EIO, "serving HTTP on %s failed",
					  cgfw_escape(arg, esc, sizeof(esc)));
			break;
		}
	}
	MHD_stop_daemon(d); /* closes the listening socket */
	return err;
}

int cmd_metrics(struct ctx *c)
{
	char *text = NULL;
	size_t len = 0;
	int err;

	if (json_mode)
		return cli_usage(c, "--json does not apply: metrics are in the Prometheus text "
				    "format");
	if (opt_set(c, O_LISTEN))
		return serve(c, opt_str(c, O_LISTEN));
	err = collect(&text, &len);
	if (err)
		return err;
	if (fwrite(text, 1, len, stdout) != len || fflush(stdout)) {
		err = cgfw_seterr(errno ? errno : EIO, "cannot write the metrics: %s",
				  strerror(errno ? errno : EIO));
	}
	free(text);
	return err;
}
