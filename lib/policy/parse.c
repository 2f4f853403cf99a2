// SPDX-License-Identifier: GPL-2.0-only
/*
 * Policy parser: libyaml builds the node tree, we walk it and validate every
 * field, collecting every error as FILE:LINE:COL: message.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include <cgfw/ruleset_map.h>

#include <cgfw/policy.h>

/*
 * Bounds: a policy is read in time and memory linear in its size, whatever
 * it holds (deep nesting, aliases of aliases, huge lists).
 */
#define POLICY_MAX_BYTES   (16u << 20) /* checked before reading */
#define POLICY_MAX_DEPTH   32	       /* nested mappings and lists */
#define POLICY_MAX_ALIASES 1024	       /* *alias references */
#define POLICY_MAX_ITEMS   (4u << 20)  /* rules and entries, aliases and list files expanded */

struct ctx {
	struct cgfw_policy *pol;
	yaml_document_t *doc;
	const char *file; /* owned by pol->files */
	const char *dir;  /* directory of the file, for relative list files */
	size_t items;	  /* rules and entries read so far, for POLICY_MAX_ITEMS */
	bool over;	  /* POLICY_MAX_ITEMS reached: reported once, reading stops */
};

static void add_error(struct cgfw_policy *pol, const char *file, int line, int col, const char *fmt,
		      ...) __attribute__((format(printf, 5, 6)));

static void add_error(struct cgfw_policy *pol, const char *file, int line, int col, const char *fmt,
		      ...)
{
	char msg[512], *full;
	char **e;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (asprintf(&full, "%s:%d:%d: %s", file, line, col, msg) < 0)
		return;
	/* One line per error, whatever the file's values contain. */
	for (char *p = full; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f)
			*p = ' ';
	e = realloc(pol->errors, (pol->nerrors + 1) * sizeof(*e));
	if (!e) {
		free(full);
		return;
	}
	pol->errors = e;
	pol->errors[pol->nerrors++] = full;
}

#define ERR(c, node, ...)                                                \
	add_error((c)->pol, (c)->file, (int)(node)->start_mark.line + 1, \
		  (int)(node)->start_mark.column + 1, __VA_ARGS__)

static yaml_node_t *node(struct ctx *c, int id)
{
	return yaml_document_get_node(c->doc, id);
}

static const char *scalar(yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static bool want_scalar(struct ctx *c, yaml_node_t *n, const char *what, const char **ret)
{
	*ret = scalar(n);
	if (!*ret) {
		ERR(c, n, "%s must be a single value", what);
		return false;
	}
	return true;
}

static bool parse_bool(struct ctx *c, yaml_node_t *n, const char *what, bool *ret)
{
	const char *s;

	if (!want_scalar(c, n, what, &s))
		return false;
	if (!strcmp(s, "true") || !strcmp(s, "yes") || !strcmp(s, "on"))
		*ret = true;
	else if (!strcmp(s, "false") || !strcmp(s, "no") || !strcmp(s, "off"))
		*ret = false;
	else {
		ERR(c, n, "%s must be true or false, not '%s'", what, s);
		return false;
	}
	return true;
}

static bool parse_verdict(struct ctx *c, yaml_node_t *n, uint8_t *ret)
{
	const char *s;

	if (!want_scalar(c, n, "default", &s))
		return false;
	if (!strcmp(s, "allow"))
		*ret = CGFW_VERDICT_ALLOW;
	else if (!strcmp(s, "deny"))
		*ret = CGFW_VERDICT_DENY;
	else {
		ERR(c, n, "default must be allow or deny, not '%s'", s);
		return false;
	}
	return true;
}

static bool parse_prefix_node(struct ctx *c, yaml_node_t *n, const char *what,
			      struct cgfw_prefix *ret)
{
	const char *s;

	if (!want_scalar(c, n, what, &s))
		return false;
	if (cgfw_parse_prefix(s, ret) < 0) {
		ERR(c, n, "%s", cgfw_errmsg());
		return false;
	}
	return true;
}

static bool parse_ports_node(struct ctx *c, yaml_node_t *n, uint16_t *lo, uint16_t *hi)
{
	const char *s;

	if (!want_scalar(c, n, "ports", &s))
		return false;
	if (cgfw_parse_ports(s, lo, hi) < 0) {
		ERR(c, n, "%s", cgfw_errmsg());
		return false;
	}
	return true;
}

static bool parse_proto_node(struct ctx *c, yaml_node_t *n, uint8_t *ret)
{
	const char *s;

	if (!want_scalar(c, n, "proto", &s))
		return false;
	if (cgfw_parse_proto(s, ret) < 0) {
		ERR(c, n, "%s", cgfw_errmsg());
		return false;
	}
	return true;
}

/* Count one more rule or entry; false (and one error) once the policy is too large. */
static bool budget(struct ctx *c, yaml_node_t *n, size_t more)
{
	if (c->over)
		return false;
	c->items += more;
	if (c->items <= POLICY_MAX_ITEMS)
		return true;
	c->over = true;
	ERR(c, n,
	    "policy too large: more than %u rules and entries (aliases and list files "
	    "expanded)",
	    POLICY_MAX_ITEMS);
	return false;
}

static void push_rule(struct cgfw_pol_workload *w, const struct cgfw_pol_rule *r)
{
	/* Room doubles: a workload of a million rules is read in linear time. */
	if ((w->nrules & (w->nrules - 1)) == 0) {
		size_t cap = w->nrules ? w->nrules * 2 : 1;
		struct cgfw_pol_rule *m = realloc(w->rules, cap * sizeof(*m));

		if (!m)
			return;
		w->rules = m;
	}
	w->rules[w->nrules++] = *r;
}

/* A list file: one address or prefix per line, relative to the policy file. */
static void load_list(struct ctx *c, yaml_node_t *n, struct cgfw_pol_workload *w,
		      const struct cgfw_pol_rule *tmpl)
{
	const char *s;
	char path[4096];
	struct cgfw_rule *rules = NULL;
	size_t nr = 0;

	if (!want_scalar(c, n, "file", &s))
		return;
	if (s[0] == '/')
		snprintf(path, sizeof(path), "%s", s);
	else
		snprintf(path, sizeof(path), "%s/%s", c->dir, s);
	if (cgfw_rules_from_file(path, &tmpl->r, &rules, &nr) < 0) {
		ERR(c, n, "%s", cgfw_errmsg());
		return;
	}
	if (!budget(c, n, nr)) {
		free(rules);
		return;
	}
	for (size_t i = 0; i < nr; i++) {
		struct cgfw_pol_rule r = *tmpl;

		r.r = rules[i];
		push_rule(w, &r);
	}
	free(rules);
}

static void parse_rule(struct ctx *c, yaml_node_t *n, uint8_t dirs, struct cgfw_pol_workload *w)
{
	struct cgfw_pol_rule r = { .file = c->file };
	yaml_node_t *addr = NULL, *list = NULL, *ports = NULL;
	yaml_node_pair_t *p;
	bool ok = true;

	r.line = (int)n->start_mark.line + 1;
	r.col = (int)n->start_mark.column + 1;
	r.r.dirs = dirs;
	r.r.origin = CGFW_ORIGIN_POLICY;
	if (!budget(c, n, 1))
		return;
	if (n->type != YAML_MAPPING_NODE) {
		ERR(c, n, "a rule is a mapping like '- allow: 192.0.2.0/24'");
		return;
	}
	for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node(c, p->key), *v = node(c, p->value);
		const char *key = scalar(k);

		if (!key) {
			ERR(c, k, "rule keys must be plain words");
			ok = false;
		} else if (!strcmp(key, "allow") || !strcmp(key, "deny") ||
			   !strcmp(key, "allow_file") || !strcmp(key, "deny_file")) {
			if (r.r.action) {
				ERR(c, k,
				    "a rule has exactly one of allow, deny, allow_file, deny_file");
				ok = false;
			}
			r.r.action = key[0] == 'a' ? CGFW_ALLOW : CGFW_DENY;
			if (strchr(key, '_'))
				list = v;
			else
				addr = v;
		} else if (!strcmp(key, "proto")) {
			ok &= parse_proto_node(c, v, &r.r.proto);
		} else if (!strcmp(key, "ports") || !strcmp(key, "port")) {
			ports = v;
		} else {
			ERR(c, k,
			    "unknown rule key '%s' (allow, deny, allow_file, deny_file, proto, ports)",
			    key);
			ok = false;
		}
	}
	if (!r.r.action) {
		ERR(c, n, "a rule needs allow, deny, allow_file or deny_file");
		return;
	}
	if (ports) {
		if (r.r.proto != CGFW_PROTO_TCP && r.r.proto != CGFW_PROTO_UDP) {
			ERR(c, ports, "ports need proto: tcp or proto: udp");
			ok = false;
		} else {
			ok &= parse_ports_node(c, ports, &r.r.port_lo, &r.r.port_hi);
		}
	}
	if (addr)
		ok &= parse_prefix_node(c, addr, "address", &r.r.pfx);
	if (!ok)
		return;
	if (list)
		load_list(c, list, w, &r);
	else
		push_rule(w, &r);
}

static void parse_rules(struct ctx *c, yaml_node_t *n, uint8_t dirs, struct cgfw_pol_workload *w)
{
	if (n->type != YAML_SEQUENCE_NODE) {
		ERR(c, n, "rules are a list ('- allow: ...')");
		return;
	}
	for (yaml_node_item_t *i = n->data.sequence.items.start;
	     i < n->data.sequence.items.top && !c->over; i++)
		parse_rule(c, node(c, *i), dirs, w);
}

static bool valid_name(const char *s)
{
	if (!*s || strlen(s) > 128)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' || *s == '.'))
			return false;
	return true;
}

/* Rules of one (protocol, prefix), then by port range, then in file order. */
static int cmp_port_rule(const void *x, const void *y, void *arg)
{
	const struct cgfw_pol_rule *rules = arg;
	const struct cgfw_rule *a = &rules[*(const size_t *)x].r, *b = &rules[*(const size_t *)y].r;
	int d;

	if (a->proto != b->proto)
		return a->proto - b->proto;
	if (a->pfx.family != b->pfx.family)
		return a->pfx.family - b->pfx.family;
	if (a->pfx.len != b->pfx.len)
		return a->pfx.len - b->pfx.len;
	d = memcmp(a->pfx.addr, b->pfx.addr, 16);
	if (d)
		return d;
	return *(const size_t *)x < *(const size_t *)y ? -1 : 1;
}

static void port_range(const struct cgfw_rule *r, uint16_t *lo, uint16_t *hi)
{
	*lo = r->port_lo;
	*hi = r->port_hi;
	if (r->proto == CGFW_PROTO_ICMP || (!*lo && !*hi)) {
		*lo = 0;
		*hi = 65535;
	}
}

/*
 * The datapath keeps at most CGFW_PORT_ENTRIES port ranges per (prefix,
 * protocol): say so at check time, at the first rule that goes over. Sorted,
 * so a workload of a hundred thousand rules is checked in n log n.
 */
static bool same_key(const struct cgfw_rule *a, const struct cgfw_rule *b)
{
	return a->proto == b->proto && a->pfx.family == b->pfx.family && a->pfx.len == b->pfx.len &&
	       !memcmp(a->pfx.addr, b->pfx.addr, 16);
}

static void check_port_ranges(struct ctx *c, const struct cgfw_pol_workload *w)
{
	_cleanup_free_ size_t *idx = NULL;
	size_t n = 0, over = SIZE_MAX;

	for (size_t i = 0; i < w->nrules; i++)
		n += w->rules[i].r.proto != 0;
	if (!n || !(idx = malloc(n * sizeof(*idx))))
		return;
	n = 0;
	for (size_t i = 0; i < w->nrules; i++)
		if (w->rules[i].r.proto)
			idx[n++] = i;
	qsort_r(idx, n, sizeof(*idx), cmp_port_rule, w->rules);
	for (size_t g = 0, end; g < n; g = end) {
		uint16_t lo[CGFW_PORT_ENTRIES], hi[CGFW_PORT_ENTRIES];
		size_t distinct = 0;

		/* One (protocol, prefix), its rules in file order. */
		for (end = g; end < n && same_key(&w->rules[idx[g]].r, &w->rules[idx[end]].r);
		     end++) {
			uint16_t l, h;
			bool dup = false;

			port_range(&w->rules[idx[end]].r, &l, &h);
			for (size_t d = 0; d < distinct && !dup; d++)
				dup = lo[d] == l && hi[d] == h;
			if (dup)
				continue;
			if (distinct < CGFW_PORT_ENTRIES) {
				lo[distinct] = l;
				hi[distinct++] = h;
			} else if (idx[end] < over) {
				over = idx[end];
			}
		}
	}
	if (over != SIZE_MAX) {
		const struct cgfw_pol_rule *r = &w->rules[over];
		char pfx[CGFW_ADDRSTRLEN];

		cgfw_format_prefix(&r->r.pfx, pfx, sizeof(pfx));
		add_error(c->pol, r->file, r->line, r->col,
			  "more than %d port ranges for %s %s in one workload", CGFW_PORT_ENTRIES,
			  pfx, cgfw_proto_name(r->r.proto));
	}
}

static void parse_workload(struct ctx *c, yaml_node_t *n)
{
	struct cgfw_pol_workload w = { .file = c->file };
	struct cgfw_policy *pol = c->pol;
	yaml_node_pair_t *p;
	bool named = false; /* a name or cgroup was given, valid or not */
	const char *s;

	w.line = (int)n->start_mark.line + 1;
	if (n->type != YAML_MAPPING_NODE) {
		ERR(c, n, "a workload is a mapping with name, cgroup, default, egress, ingress");
		return;
	}
	for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node(c, p->key), *v = node(c, p->value);
		const char *key = scalar(k);

		if (!key) {
			ERR(c, k, "workload keys must be plain words");
		} else if (!strcmp(key, "name")) {
			named = true;
			if (want_scalar(c, v, "name", &s)) {
				if (!valid_name(s))
					ERR(c, v,
					    "invalid workload name '%s' (letters, digits, - _ .)",
					    s);
				else {
					free(w.name);
					w.name = strdup(s);
				}
			}
		} else if (!strcmp(key, "cgroup")) {
			named = true;
			if (want_scalar(c, v, "cgroup", &s)) {
				struct cgfw_cgroup cg;

				/* Syntax only here: the cgroup may not exist yet (pending). */
				if (strstr(s, "..") || !*s)
					ERR(c, v, "invalid cgroup path '%s'", s);
				else if (s[0] == '/' &&
					 cgfw_cgroup_resolve(NULL, s, false, &cg) < 0)
					ERR(c, v, "%s", cgfw_errmsg());
				else {
					free(w.cgroup);
					w.cgroup = strdup(s);
				}
			}
		} else if (!strcmp(key, "default")) {
			if (v->type == YAML_MAPPING_NODE) {
				for (yaml_node_pair_t *q = v->data.mapping.pairs.start;
				     q < v->data.mapping.pairs.top; q++) {
					const char *d = scalar(node(c, q->key));
					int dir = d && !strcmp(d, "ingress") ? CGFW_DIR_INGRESS :
						  d && !strcmp(d, "egress")  ? CGFW_DIR_EGRESS :
									       -1;

					if (dir < 0)
						ERR(c, node(c, q->key),
						    "default takes ingress and egress");
					else if (parse_verdict(c, node(c, q->value), &w.def[dir]))
						w.def_set[dir] = true;
				}
			} else if (parse_verdict(c, v, &w.def[0])) {
				w.def[1] = w.def[0];
				w.def_set[0] = w.def_set[1] = true;
			}
		} else if (!strcmp(key, "audit")) {
			parse_bool(c, v, "audit", &w.audit);
		} else if (!strcmp(key, "egress")) {
			parse_rules(c, v, CGFW_DIR_BIT(CGFW_DIR_EGRESS), &w);
		} else if (!strcmp(key, "ingress")) {
			parse_rules(c, v, CGFW_DIR_BIT(CGFW_DIR_INGRESS), &w);
		} else if (!strcmp(key, "rules")) {
			parse_rules(c, v, CGFW_DIR_BOTH, &w);
		} else {
			ERR(c, k,
			    "unknown workload key '%s' (name, cgroup, default, audit, egress, ingress, "
			    "rules)",
			    key);
		}
	}
	check_port_ranges(c, &w);
	if (!w.name && !w.cgroup) {
		if (!named)
			ERR(c, n, "a workload needs a name or a cgroup");
	} else {
		if (!w.name)
			w.name = strdup(w.cgroup);
		for (size_t i = 0; i < pol->nworkloads; i++) {
			/* earlier workloads with errors may have no name */
			if (pol->workloads[i].name && !strcmp(pol->workloads[i].name, w.name)) {
				ERR(c, n, "workload '%s' is already defined at %s:%d", w.name,
				    pol->workloads[i].file, pol->workloads[i].line);
				break;
			}
			if (w.cgroup && pol->workloads[i].cgroup &&
			    !strcmp(pol->workloads[i].cgroup, w.cgroup)) {
				ERR(c, n, "cgroup '%s' already has workload '%s' at %s:%d",
				    w.cgroup, pol->workloads[i].name, pol->workloads[i].file,
				    pol->workloads[i].line);
				break;
			}
		}
	}
	{
		struct cgfw_pol_workload *m =
			realloc(pol->workloads, (pol->nworkloads + 1) * sizeof(*m));

		if (!m) {
			free(w.name);
			free(w.cgroup);
			free(w.rules);
			return;
		}
		pol->workloads = m;
		pol->workloads[pol->nworkloads++] = w;
	}
}

static bool parse_to(struct ctx *c, yaml_node_t *v, struct cgfw_pol_port_rule *r)
{
	const char *s, *colon;
	char addr[CGFW_ADDRSTRLEN];
	uint16_t lo, hi;

	if (!want_scalar(c, v, "to", &s))
		return false;
	/* PORT, ADDR:PORT or [V6ADDR]:PORT */
	colon = strrchr(s, ':');
	if (!colon) {
		if (cgfw_parse_ports(s, &lo, &hi) < 0 || lo != hi) {
			ERR(c, v, "invalid target '%s' (PORT or ADDR:PORT)", s);
			return false;
		}
		r->to_port = lo;
		return true;
	}
	if ((size_t)(colon - s) >= sizeof(addr)) {
		ERR(c, v, "invalid target '%s'", s);
		return false;
	}
	if (s[0] == '[' && colon > s && colon[-1] == ']') {
		memcpy(addr, s + 1, (size_t)(colon - s - 2));
		addr[colon - s - 2] = 0;
	} else {
		memcpy(addr, s, (size_t)(colon - s));
		addr[colon - s] = 0;
	}
	if (cgfw_parse_addr(addr, &r->to_addr) < 0 || cgfw_parse_ports(colon + 1, &lo, &hi) < 0 ||
	    lo != hi) {
		ERR(c, v, "invalid target '%s' (PORT, ADDR:PORT or [ADDR]:PORT)", s);
		return false;
	}
	r->to_port = lo;
	return true;
}

/* kind: 't'proxy, 'i'nbound, 'r'edirect */
static void parse_port_rules(struct ctx *c, yaml_node_t *n, char kind,
			     struct cgfw_pol_port_rule **list, size_t *cnt)
{
	if (n->type != YAML_SEQUENCE_NODE) {
		ERR(c, n, "expected a list of rules");
		return;
	}
	for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top;
	     i++) {
		yaml_node_t *e = node(c, *i);
		struct cgfw_pol_port_rule r = {};
		bool ok = true, has_dst = false, has_proto = false, has_ports = false,
		     has_to = false;

		if (!budget(c, e, 1))
			return;
		r.line = (int)e->start_mark.line + 1;
		r.col = (int)e->start_mark.column + 1;
		if (e->type != YAML_MAPPING_NODE) {
			ERR(c, e, "a rule is a mapping with dst, proto, ports%s",
			    kind == 'i' ? "" : ", to");
			continue;
		}
		for (yaml_node_pair_t *p = e->data.mapping.pairs.start;
		     p < e->data.mapping.pairs.top; p++) {
			yaml_node_t *k = node(c, p->key), *v = node(c, p->value);
			const char *key = scalar(k);

			if (!key) {
				ERR(c, k, "rule keys must be plain words");
				ok = false;
			} else if (!strcmp(key, "dst")) {
				has_dst = true;
				ok &= parse_prefix_node(c, v, "dst", &r.dst);
			} else if (!strcmp(key, "src") && kind == 't') {
				ok &= r.has_src = parse_prefix_node(c, v, "src", &r.src);
			} else if (!strcmp(key, "proto")) {
				bool good = parse_proto_node(c, v, &r.proto);

				has_proto = true;
				ok &= good;
				if (good && r.proto == CGFW_PROTO_ICMP) {
					ERR(c, v, "proto must be tcp or udp here");
					ok = false;
				}
			} else if (!strcmp(key, "ports") || !strcmp(key, "port")) {
				has_ports = true;
				ok &= parse_ports_node(c, v, &r.lo, &r.hi);
			} else if (!strcmp(key, "to") && kind != 'i') {
				has_to = true;
				ok &= parse_to(c, v, &r);
			} else {
				ERR(c, k, "unknown key '%s'", key);
				ok = false;
			}
		}
		if (!has_dst)
			ERR(c, e, "missing dst"), ok = false;
		if (!has_proto)
			ERR(c, e, "missing proto (tcp or udp)"), ok = false;
		if (!has_ports)
			ERR(c, e, "missing ports"), ok = false;
		if (kind != 'i' && !has_to)
			ERR(c, e, "missing to (PORT or ADDR:PORT)"), ok = false;
		if (ok && r.has_src && r.src.family != r.dst.family)
			ERR(c, e, "src and dst must be the same address family"), ok = false;
		if (ok) {
			if ((*cnt & (*cnt - 1)) == 0) {
				size_t cap = *cnt ? *cnt * 2 : 1;
				struct cgfw_pol_port_rule *m = realloc(*list, cap * sizeof(*m));

				if (!m)
					continue;
				*list = m;
			}
			(*list)[(*cnt)++] = r;
		}
	}
}

static void parse_iface(struct ctx *c, yaml_node_t *n)
{
	struct cgfw_pol_iface f = { .file = c->file, .ssh = true };
	struct cgfw_policy *pol = c->pol;
	bool named = false;
	const char *s;

	f.line = (int)n->start_mark.line + 1;
	if (n->type != YAML_MAPPING_NODE) {
		ERR(c, n,
		    "an interface is a mapping with name, stateful, tproxy, inbound, redirect");
		return;
	}
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = node(c, p->key), *v = node(c, p->value);
		const char *key = scalar(k);

		if (!key)
			ERR(c, k, "interface keys must be plain words");
		else if (!strcmp(key, "name")) {
			named = true;
			if (want_scalar(c, v, "name", &s)) {
				if (strlen(s) >= 16 || !*s || strchr(s, '/') || strchr(s, ' '))
					ERR(c, v, "invalid interface name '%s'", s);
				else {
					free(f.name);
					f.name = strdup(s);
				}
			}
		} else if (!strcmp(key, "stateful"))
			parse_bool(c, v, "stateful", &f.stateful);
		else if (!strcmp(key, "icmp"))
			parse_bool(c, v, "icmp", &f.icmp);
		else if (!strcmp(key, "ssh"))
			parse_bool(c, v, "ssh", &f.ssh);
		else if (!strcmp(key, "tproxy"))
			parse_port_rules(c, v, 't', &f.tproxy, &f.ntproxy);
		else if (!strcmp(key, "inbound"))
			parse_port_rules(c, v, 'i', &f.inbound, &f.ninbound);
		else if (!strcmp(key, "redirect"))
			parse_port_rules(c, v, 'r', &f.redirect, &f.nredirect);
		else
			ERR(c, k,
			    "unknown interface key '%s' (name, stateful, icmp, ssh, tproxy, inbound, redirect)",
			    key);
	}
	if (!f.name) {
		if (!named)
			ERR(c, n, "an interface needs a name");
	} else {
		for (size_t i = 0; i < pol->nifaces; i++)
			if (pol->ifaces[i].name && !strcmp(pol->ifaces[i].name, f.name))
				ERR(c, n, "interface '%s' is already defined at %s:%d", f.name,
				    pol->ifaces[i].file, pol->ifaces[i].line);
	}
	{
		struct cgfw_pol_iface *m = realloc(pol->ifaces, (pol->nifaces + 1) * sizeof(*m));

		if (!m)
			return;
		pol->ifaces = m;
		pol->ifaces[pol->nifaces++] = f;
	}
}

static void parse_root(struct ctx *c, yaml_node_t *root)
{
	if (!root || (root->type == YAML_SCALAR_NODE && !root->data.scalar.length))
		return; /* empty file or empty document: an empty policy */
	if (root->type != YAML_MAPPING_NODE) {
		ERR(c, root, "a policy file is a mapping with 'workloads' and 'interfaces'");
		return;
	}
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = node(c, p->key), *v = node(c, p->value);
		const char *key = scalar(k);

		if (key && !strcmp(key, "workloads")) {
			if (v->type != YAML_SEQUENCE_NODE) {
				ERR(c, v, "workloads is a list ('- name: ...')");
				continue;
			}
			for (yaml_node_item_t *i = v->data.sequence.items.start;
			     i < v->data.sequence.items.top && budget(c, v, 1); i++)
				parse_workload(c, node(c, *i));
		} else if (key && !strcmp(key, "interfaces")) {
			if (v->type != YAML_SEQUENCE_NODE) {
				ERR(c, v, "interfaces is a list ('- name: ...')");
				continue;
			}
			for (yaml_node_item_t *i = v->data.sequence.items.start;
			     i < v->data.sequence.items.top && budget(c, v, 1); i++)
				parse_iface(c, node(c, *i));
		} else if (key && !strcmp(key, "version")) {
			const char *s = scalar(v);

			if (!s || strcmp(s, "1"))
				ERR(c, v, "unsupported policy version (this cgfw reads version 1)");
		} else {
			ERR(c, k, "unknown top-level key '%s' (version, workloads, interfaces)",
			    key ? key : "?");
		}
	}
}

static const char *keep_name(struct cgfw_policy *pol, const char *name)
{
	char **m = realloc(pol->files, (pol->nfiles + 1) * sizeof(*m));

	if (!m)
		return name;
	pol->files = m;
	pol->files[pol->nfiles] = strdup(name);
	return pol->files[pol->nfiles] ? pol->files[pol->nfiles++] : name;
}

static void yaml_error(struct cgfw_policy *pol, const char *file, const yaml_parser_t *parser)
{
	add_error(pol, file, (int)parser->problem_mark.line + 1,
		  (int)parser->problem_mark.column + 1, "YAML: %s%s%s",
		  parser->problem ? parser->problem : "syntax error", parser->context ? " " : "",
		  parser->context ? parser->context : "");
}

/*
 * Before building the document: one YAML document, nested at most
 * POLICY_MAX_DEPTH deep, at most POLICY_MAX_ALIASES aliases. The events come
 * in one linear pass, so what libyaml and the walk below do next is bounded.
 */
static bool prescan(struct cgfw_policy *pol, const char *file, const char *buf, size_t len)
{
	yaml_parser_t parser;
	unsigned depth = 0, aliases = 0, docs = 0;
	bool ok = true, done = false;

	if (!yaml_parser_initialize(&parser)) {
		add_error(pol, file, 0, 0, "cannot initialise the YAML parser");
		return false;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	while (ok && !done) {
		yaml_event_t ev;
		int line, col;

		if (!yaml_parser_parse(&parser, &ev)) {
			yaml_error(pol, file, &parser);
			ok = false;
			break;
		}
		line = (int)ev.start_mark.line + 1;
		col = (int)ev.start_mark.column + 1;
		switch (ev.type) {
		case YAML_DOCUMENT_START_EVENT:
			if (++docs > 1) {
				add_error(pol, file, line, col,
					  "a second YAML document starts here: a policy file holds "
					  "one document");
				ok = false;
			}
			break;
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			if (++depth > POLICY_MAX_DEPTH) {
				add_error(pol, file, line, col, "nested deeper than %d levels",
					  POLICY_MAX_DEPTH);
				ok = false;
			}
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			depth--;
			break;
		case YAML_ALIAS_EVENT:
			if (++aliases > POLICY_MAX_ALIASES) {
				add_error(pol, file, line, col, "more than %d aliases",
					  POLICY_MAX_ALIASES);
				ok = false;
			}
			break;
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	return ok;
}

static int cmp_key(const void *x, const void *y)
{
	const yaml_node_t *const *a = x, *const *b = y;
	int d = strcmp(scalar((yaml_node_t *)*a), scalar((yaml_node_t *)*b));

	if (d)
		return d;
	return (*a)->start_mark.index < (*b)->start_mark.index ? -1 : 1;
}

/* Duplicate keys would let the last one win silently: each is an error. */
static void check_duplicates(struct ctx *c)
{
	for (yaml_node_t *n = c->doc->nodes.start; n < c->doc->nodes.top; n++) {
		size_t k = 0,
		       cnt = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
		_cleanup_free_ yaml_node_t **keys = NULL;

		if (n->type != YAML_MAPPING_NODE || cnt < 2)
			continue;
		keys = malloc(cnt * sizeof(*keys));
		if (!keys)
			return;
		for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
		     p < n->data.mapping.pairs.top; p++) {
			yaml_node_t *key = node(c, p->key);

			if (scalar(key))
				keys[k++] = key;
		}
		qsort(keys, k, sizeof(*keys), cmp_key);
		for (size_t i = 1; i < k; i++)
			if (!strcmp(scalar(keys[i]), scalar(keys[i - 1])))
				ERR(c, keys[i], "duplicate key '%s' (first at line %d, column %d)",
				    scalar(keys[i]), (int)keys[i - 1]->start_mark.line + 1,
				    (int)keys[i - 1]->start_mark.column + 1);
	}
}

static void parse_one(struct cgfw_policy *pol, const char *name, const char *buf, size_t len)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	struct ctx c = { .pol = pol };
	char dirbuf[4096];
	size_t errors = pol->nerrors;

	c.file = keep_name(pol, name);
	snprintf(dirbuf, sizeof(dirbuf), "%s", name);
	c.dir = dirname(dirbuf);
	if (!prescan(pol, c.file, buf, len))
		return;
	if (!yaml_parser_initialize(&parser)) {
		add_error(pol, c.file, 0, 0, "cannot initialise the YAML parser");
		return;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	if (!yaml_parser_load(&parser, &doc)) {
		yaml_error(pol, c.file, &parser);
		yaml_parser_delete(&parser);
		return;
	}
	c.doc = &doc;
	check_duplicates(&c);
	if (pol->nerrors == errors)
		parse_root(&c, yaml_document_get_root_node(&doc));
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
}

int cgfw_policy_parse_buf(const char *name, const char *buf, size_t len, struct cgfw_policy *pol)
{
	if (len > POLICY_MAX_BYTES)
		add_error(pol, name, 0, 0, "policy larger than %u MiB", POLICY_MAX_BYTES >> 20);
	else
		parse_one(pol, name, buf, len);
	return pol->nerrors ? -EINVAL : 0;
}

/* A policy file: a regular file of at most POLICY_MAX_BYTES, checked before reading. */
static int read_policy(struct cgfw_policy *pol, const char *path, char **ret, size_t *ret_len)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	_cleanup_free_ char *buf = NULL;
	struct stat st;
	size_t len = 0;

	if (fd < 0) {
		add_error(pol, path, 0, 0, "cannot open: %s", strerror(errno));
		return -EINVAL;
	}
	if (fstat(fd, &st) < 0) {
		add_error(pol, path, 0, 0, "cannot stat: %s", strerror(errno));
		return -EINVAL;
	}
	if (!S_ISREG(st.st_mode)) {
		add_error(pol, path, 0, 0, "not a regular file (a policy is a YAML file)");
		return -EINVAL;
	}
	if (st.st_size > POLICY_MAX_BYTES) {
		add_error(pol, path, 0, 0, "policy file larger than %u MiB",
			  POLICY_MAX_BYTES >> 20);
		return -EINVAL;
	}
	/* One byte more than the size: a file that grew while read is refused too. */
	buf = malloc((size_t)st.st_size + 2);
	if (!buf) {
		add_error(pol, path, 0, 0, "out of memory");
		return -ENOMEM;
	}
	for (;;) {
		ssize_t got = read(fd, buf + len, (size_t)st.st_size + 1 - len);

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			add_error(pol, path, 0, 0, "cannot read: %s", strerror(errno));
			return -EINVAL;
		}
		if (got == 0)
			break;
		len += (size_t)got;
		if (len > (size_t)st.st_size) {
			add_error(pol, path, 0, 0, "changed while being read");
			return -EINVAL;
		}
	}
	buf[len] = 0;
	*ret = TAKE_PTR(buf);
	*ret_len = len;
	return 0;
}

int cgfw_policy_parse(const char *const *files, size_t n, struct cgfw_policy *pol)
{
	for (size_t i = 0; i < n; i++) {
		char *buf = NULL;
		size_t len = 0;

		if (read_policy(pol, files[i], &buf, &len) == 0)
			parse_one(pol, files[i], buf, len);
		free(buf);
	}
	return pol->nerrors ? -EINVAL : 0;
}

const struct cgfw_pol_workload *cgfw_policy_workload(const struct cgfw_policy *pol,
						     const char *name)
{
	for (size_t i = 0; i < pol->nworkloads; i++)
		if (pol->workloads[i].name && !strcmp(pol->workloads[i].name, name))
			return &pol->workloads[i];
	return NULL;
}

const struct cgfw_pol_workload *cgfw_policy_workload_of(const struct cgfw_policy *pol,
							uint64_t cgid)
{
	for (size_t i = 0; i < pol->nworkloads; i++) {
		struct cgfw_cgroup cg;

		if (pol->workloads[i].cgroup &&
		    cgfw_cgroup_resolve(NULL, pol->workloads[i].cgroup, false, &cg) == 0 && cg.id &&
		    cg.id == cgid)
			return &pol->workloads[i];
	}
	return NULL;
}

void cgfw_policy_free(struct cgfw_policy *pol)
{
	for (size_t i = 0; i < pol->nworkloads; i++) {
		free(pol->workloads[i].name);
		free(pol->workloads[i].cgroup);
		free(pol->workloads[i].rules);
	}
	free(pol->workloads);
	for (size_t i = 0; i < pol->nifaces; i++) {
		free(pol->ifaces[i].name);
		free(pol->ifaces[i].tproxy);
		free(pol->ifaces[i].inbound);
		free(pol->ifaces[i].redirect);
	}
	free(pol->ifaces);
	for (size_t i = 0; i < pol->nfiles; i++)
		free(pol->files[i]);
	free(pol->files);
	for (size_t i = 0; i < pol->nerrors; i++)
		free(pol->errors[i]);
	free(pol->errors);
	memset(pol, 0, sizeof(*pol));
}
