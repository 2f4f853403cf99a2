// SPDX-License-Identifier: GPL-2.0-only
/*
 * tproxy, redirect and inbound rules in the TC rule table (layout and
 * precedence in include/cgfw/tc_rule_map.h).
 *
 * A change is grouped by head key (destination prefix and protocol). For each
 * key the current entries are decoded, the change applied, and a new layout
 * written under a new generation: sub-keys first, then the heads in one
 * batch, then the prefix-length list, then the old sub-keys and emptied heads
 * are deleted. A failure part way restores the heads, so a change is applied
 * whole or not at all; a packet always sees one complete layout per key.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "tc_internal.h"

#define BATCH 65536

/* ---- parsing ------------------------------------------------------------------ */

static int parse_to(struct cgfw_tc_rule *r, const char *val)
{
	char buf[CGFW_ADDRSTRLEN + 16];
	const char *port = val, *colon;
	struct cgfw_prefix a;
	uint16_t lo, hi;

	if (strlen(val) >= sizeof(buf))
		return cgfw_seterr(EINVAL, "invalid --to '%.40s...'", val);
	r->has_to_addr = false;
	memset(r->to_addr, 0, sizeof(r->to_addr));
	if (val[0] == '[') {
		const char *end = strchr(val, ']');

		if (!end || end[1] != ':')
			return cgfw_seterr(EINVAL, "invalid --to '%s' (use [IPV6]:PORT)", val);
		memcpy(buf, val + 1, (size_t)(end - val - 1));
		buf[end - val - 1] = 0;
		port = end + 2;
	} else if ((colon = strchr(val, ':'))) {
		if (strchr(colon + 1, ':'))
			return cgfw_seterr(EINVAL,
					   "invalid --to '%s' (IPv6 needs brackets: "
					   "[IPV6]:PORT)",
					   val);
		memcpy(buf, val, (size_t)(colon - val));
		buf[colon - val] = 0;
		port = colon + 1;
	} else {
		buf[0] = 0;
	}
	if (buf[0]) {
		if (cgfw_parse_addr(buf, &a) < 0)
			return cgfw_seterr(EINVAL, "invalid address '%s' in --to '%s'", buf, val);
		r->has_to_addr = true;
		r->to_family = a.family;
		memcpy(r->to_addr, a.addr, 16);
	}
	if (cgfw_parse_ports(port, &lo, &hi) < 0 || lo != hi)
		return cgfw_seterr(EINVAL, "invalid port in --to '%s' (1-65535)", val);
	r->to_port = lo;
	return 0;
}

int cgfw_tc_rule_set(struct cgfw_tc_rule *r, const char *opt, const char *val)
{
	if (!val)
		return cgfw_seterr(EINVAL, "--%s needs a value", opt);
	if (!strcmp(opt, "dst")) {
		if (cgfw_parse_prefix(val, &r->dst) < 0)
			return cgfw_seterr(EINVAL, "invalid --dst '%s': %s", val, cgfw_errmsg());
		r->seen |= CGFW_TC_OPT_DST;
	} else if (!strcmp(opt, "src")) {
		if (cgfw_parse_prefix(val, &r->src) < 0)
			return cgfw_seterr(EINVAL, "invalid --src '%s': %s", val, cgfw_errmsg());
		r->seen |= CGFW_TC_OPT_SRC;
	} else if (!strcmp(opt, "proto")) {
		if (!strcmp(val, "tcp"))
			r->proto = CGFW_PROTO_TCP;
		else if (!strcmp(val, "udp"))
			r->proto = CGFW_PROTO_UDP;
		else
			return cgfw_seterr(EINVAL, "invalid --proto '%s' (tcp or udp)", val);
		r->seen |= CGFW_TC_OPT_PROTO;
	} else if (!strcmp(opt, "ports") || !strcmp(opt, "port")) {
		if (cgfw_parse_ports(val, &r->port_lo, &r->port_hi) < 0)
			return cgfw_seterr(EINVAL, "invalid --ports '%s' (N or N-M, 1-65535)", val);
		r->seen |= CGFW_TC_OPT_PORTS;
	} else if (!strcmp(opt, "to")) {
		int err = parse_to(r, val);

		if (err)
			return err;
		r->seen |= CGFW_TC_OPT_TO;
	} else if (!strcmp(opt, "iface")) {
		unsigned idx = strlen(val) < IF_NAMESIZE ? if_nametoindex(val) : 0;

		if (!idx)
			return cgfw_seterr(EINVAL,
					   "invalid --iface '%s': no such interface in this "
					   "network namespace",
					   val);
		r->ifindex = idx;
		snprintf(r->ifname, sizeof(r->ifname), "%s", val);
		r->seen |= CGFW_TC_OPT_IFACE;
	} else {
		return cgfw_seterr(EINVAL, "unknown option '--%s'", opt);
	}
	return 0;
}

int cgfw_tc_rule_check(const struct cgfw_tc_rule *r, bool add)
{
	const char *k = cgfw_tc_kind_name(r->kind);

	if (r->kind < CGFW_TC_TPROXY || r->kind > CGFW_TC_INBOUND)
		return cgfw_seterr(EINVAL, "invalid rule kind %u", r->kind);
	if (!(r->seen & CGFW_TC_OPT_DST))
		return cgfw_seterr(EINVAL, "%s: --dst PREFIX is required", k);
	if (!(r->seen & CGFW_TC_OPT_PROTO))
		return cgfw_seterr(EINVAL, "%s: --proto tcp|udp is required", k);
	if (!(r->seen & CGFW_TC_OPT_PORTS))
		return cgfw_seterr(EINVAL, "%s: --ports LOW[-HIGH] is required", k);
	if ((r->seen & CGFW_TC_OPT_SRC) && r->src.family != r->dst.family)
		return cgfw_seterr(EINVAL, "%s: --src and --dst are of different address families",
				   k);
	if (!add)
		return 0;
	if (r->kind == CGFW_TC_INBOUND && (r->seen & CGFW_TC_OPT_TO))
		return cgfw_seterr(EINVAL,
				   "inbound: --to does not apply (inbound rules only admit)");
	if (r->kind != CGFW_TC_INBOUND && !(r->seen & CGFW_TC_OPT_TO))
		return cgfw_seterr(EINVAL, "%s: --to %s is required", k,
				   r->kind == CGFW_TC_TPROXY ? "[ADDR:]PORT" : "ADDR:PORT");
	if (r->kind == CGFW_TC_REDIRECT && !r->has_to_addr)
		return cgfw_seterr(EINVAL, "redirect: --to needs an address (ADDR:PORT)");
	if (r->has_to_addr && r->to_family != r->dst.family)
		return cgfw_seterr(EINVAL, "%s: --to and --dst are of different address families",
				   k);
	return 0;
}

/* Split a line into options ("--dst X", "--dst=X") and set each. */
static int parse_line(char *s, struct cgfw_tc_rule *r)
{
	char *save = NULL, *tok = strtok_r(s, " \t", &save);

	while (tok) {
		char *opt = tok, *val, *eq;
		int err;

		if (strncmp(opt, "--", 2) != 0)
			return cgfw_seterr(EINVAL, "expected an option, got '%s'", tok);
		opt += 2;
		eq = strchr(opt, '=');
		if (eq) {
			*eq = 0;
			val = eq + 1;
		} else {
			val = strtok_r(NULL, " \t", &save);
		}
		err = cgfw_tc_rule_set(r, opt, val);
		if (err)
			return err;
		tok = strtok_r(NULL, " \t", &save);
	}
	return 0;
}

int cgfw_tc_rules_from_file(const char *path, const struct cgfw_tc_rule *tmpl, bool add,
			    struct cgfw_tc_rule **ret, size_t *ret_n)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "re") : stdin;
	struct cgfw_tc_rule *out = NULL;
	size_t n = 0, cap = 0, lineno = 0, len = 0;
	char *line = NULL;
	int err = 0;

	if (!f)
		return cgfw_seterr(errno == ENOENT ? EINVAL : errno, "cannot open %s: %s", path,
				   strerror(errno));
	while (getline(&line, &len, f) >= 0) {
		struct cgfw_tc_rule r = *tmpl;
		char *s = line, *e = strchr(line, '#');

		lineno++;
		if (e)
			*e = 0;
		s[strcspn(s, "\r\n")] = 0;
		while (isspace((unsigned char)*s))
			s++;
		if (!*s)
			continue;
		err = parse_line(s, &r);
		if (!err)
			err = cgfw_tc_rule_check(&r, add);
		if (err) {
			err = cgfw_seterr(EINVAL, "%s:%zu: %s", path, lineno, cgfw_errmsg());
			goto out;
		}
		if (n == cap) {
			struct cgfw_tc_rule *m =
				realloc(out, (cap = cap ? cap * 2 : 4096) * sizeof(*m));

			if (!m) {
				err = cgfw_seterr(ENOMEM, "out of memory reading %s", path);
				goto out;
			}
			out = m;
		}
		out[n++] = r;
	}
	if (ferror(f))
		err = cgfw_seterr(EIO, "cannot read %s: %s", path, strerror(errno));
out:
	free(line);
	if (f != stdin)
		fclose(f);
	if (err) {
		free(out);
		return err;
	}
	*ret = out;
	*ret_n = n;
	return 0;
}

/* ---- encoding ------------------------------------------------------------------ */

static void head_key(const struct cgfw_tc_rule *r, struct cgfw_tc_key *k)
{
	memset(k, 0, sizeof(*k));
	k->family = r->dst.family;
	k->prefixlen = r->dst.len;
	k->proto = r->proto;
	k->type = CGFW_TC_KEY_HEAD;
	cgfw_mask(r->dst.family, r->dst.len, r->dst.addr, k->addr);
}

static void rule_entry(const struct cgfw_tc_rule *r, struct cgfw_tc_entry *e)
{
	memset(e, 0, sizeof(*e));
	e->id = r->id;
	e->ifindex = r->ifindex;
	e->port_lo = r->port_lo;
	e->port_hi = r->port_hi;
	e->to_port = htons(r->to_port);
	e->kind = r->kind;
	if (r->seen & CGFW_TC_OPT_SRC || r->src.len) {
		e->src_len = r->src.len;
		cgfw_mask(r->dst.family, r->src.len, r->src.addr, e->src);
	}
	if (r->has_to_addr)
		memcpy(e->to_addr, r->to_addr, 16);
}

static void entry_rule(const struct cgfw_tc_key *k, const struct cgfw_tc_entry *e,
		       struct cgfw_tc_rule *r)
{
	memset(r, 0, sizeof(*r));
	r->id = e->id;
	r->kind = e->kind;
	r->proto = k->proto;
	r->port_lo = e->port_lo;
	r->port_hi = e->port_hi;
	r->dst.family = k->family;
	r->dst.len = k->prefixlen;
	memcpy(r->dst.addr, k->addr, 16);
	r->src.family = k->family;
	r->src.len = e->src_len;
	memcpy(r->src.addr, e->src, 16);
	r->to_port = ntohs(e->to_port);
	r->has_to_addr = memcmp(e->to_addr, (uint8_t[16]){ 0 }, 16) != 0;
	r->to_family = k->family;
	memcpy(r->to_addr, e->to_addr, 16);
	r->ifindex = e->ifindex;
	if (e->ifindex && !if_indextoname(e->ifindex, r->ifname))
		snprintf(r->ifname, sizeof(r->ifname), "#%u", e->ifindex);
	r->packets = e->packets;
	r->bytes = e->bytes;
	r->seen = CGFW_TC_OPT_DST | CGFW_TC_OPT_PROTO | CGFW_TC_OPT_PORTS |
		  (e->src_len ? CGFW_TC_OPT_SRC : 0) | (e->ifindex ? CGFW_TC_OPT_IFACE : 0) |
		  (e->kind != CGFW_TC_INBOUND ? CGFW_TC_OPT_TO : 0);
}

/* The precedence of tc_rule_map.h as one number, as the datapath computes it. */
static uint64_t rank(const struct cgfw_tc_entry *e)
{
	return ((uint64_t)e->src_len << 40) | ((uint64_t)(e->ifindex != 0) << 32) |
	       ((uint64_t)(0xffff - (uint16_t)(e->port_hi - e->port_lo)) << 16) |
	       (uint64_t)(0xffff - e->port_lo);
}

static bool same_match(const struct cgfw_tc_entry *a, const struct cgfw_tc_entry *b)
{
	return a->src_len == b->src_len && !memcmp(a->src, b->src, 16) &&
	       a->port_lo == b->port_lo && a->port_hi == b->port_hi && a->ifindex == b->ifindex;
}

static int cmp_rank(const void *x, const void *y)
{
	const struct cgfw_tc_entry *a = x, *b = y;
	uint64_t ra = rank(a), rb = rank(b);

	if (ra != rb)
		return ra > rb ? -1 : 1;
	return a->id < b->id ? -1 : a->id > b->id;
}

/* ---- one head key at a time ----------------------------------------------------------- */

struct kset {
	struct cgfw_tc_key head;
	bool existed;
	struct cgfw_tc_val *old; /* the current head, when it exists */
	struct cgfw_tc_entry *e;
	size_t n, cap;
	struct cgfw_tc_key *oldsub; /* sub-keys of the current layout */
	size_t noldsub, capsub;
	bool changed;
};

typedef int (*lookup_fn)(void *ctx, const struct cgfw_tc_key *k, struct cgfw_tc_val *v);

static int fd_lookup(void *ctx, const struct cgfw_tc_key *k, struct cgfw_tc_val *v)
{
	return bpf_map_lookup_elem(*(int *)ctx, k, v) < 0 ? -errno : 0;
}

static int push_entry(struct kset *ks, const struct cgfw_tc_entry *e)
{
	if (ks->n == ks->cap) {
		struct cgfw_tc_entry *m =
			realloc(ks->e, (ks->cap = ks->cap ? ks->cap * 2 : 1) * sizeof(*m));

		if (!m)
			return -ENOMEM;
		ks->e = m;
	}
	ks->e[ks->n++] = *e;
	return 0;
}

static int push_sub(struct kset *ks, const struct cgfw_tc_key *k)
{
	if (ks->noldsub == ks->capsub) {
		struct cgfw_tc_key *m =
			realloc(ks->oldsub, (ks->capsub = ks->capsub * 2 + 8) * sizeof(*m));

		if (!m)
			return -ENOMEM;
		ks->oldsub = m;
	}
	ks->oldsub[ks->noldsub++] = *k;
	return 0;
}

static int push_vals(struct kset *ks, const struct cgfw_tc_val *v)
{
	for (unsigned i = 0; i < v->n && i < CGFW_TC_INLINE; i++)
		if (push_entry(ks, &v->e[i]))
			return -ENOMEM;
	return 0;
}

/* Every entry of a head's current layout, and its sub-keys. */
static int decode(lookup_fn fn, void *ctx, struct kset *ks)
{
	const struct cgfw_tc_val *h = ks->old;
	struct cgfw_tc_key k = ks->head;
	struct cgfw_tc_val v;
	int err;

	if (!ks->existed)
		return 0;
	if ((err = push_vals(ks, h)))
		return err;
	k.gen = h->gen;
	for (unsigned c = 1; c <= h->nchunks; c++) {
		k.type = CGFW_TC_KEY_CHUNK;
		k.sub = (uint16_t)c;
		if (fn(ctx, &k, &v) == 0 && ((err = push_vals(ks, &v)) || (err = push_sub(ks, &k))))
			return err;
	}
	for (unsigned pl = 1; pl <= h->nportlists; pl++) {
		struct cgfw_tc_val list;

		k.type = CGFW_TC_KEY_PORTLIST;
		k.sub = (uint16_t)pl;
		if (fn(ctx, &k, &list) != 0)
			continue;
		if ((err = push_sub(ks, &k)))
			return err;
		for (unsigned i = 0; i < list.n && i < CGFW_TC_PORTLIST_N; i++) {
			struct cgfw_tc_key pk = k;

			pk.type = CGFW_TC_KEY_PORT;
			pk.sub = list.ports[i];
			if (fn(ctx, &pk, &v) == 0 &&
			    ((err = push_vals(ks, &v)) || (err = push_sub(ks, &pk))))
				return err;
		}
	}
	return 0;
}

/*
 * Writes of one change, streamed: (key, value) pairs collect in a buffer that
 * goes to the kernel in batches, and only the keys written are kept, for the
 * rollback. With no fd the plan only counts. User space thus needs about 200
 * bytes per rule however large the change, and kernel memory is what runs
 * out first.
 */
#define PLAN_BUF 8192

static int write_batch(int fd, const struct cgfw_tc_key *k, const struct cgfw_tc_val *v, size_t n,
		       size_t *ret_done);
static void delete_keys(int fd, const struct cgfw_tc_key *k, size_t n);

struct plan {
	int fd; /* -1: count only */
	struct cgfw_tc_key k[PLAN_BUF];
	struct cgfw_tc_val v[PLAN_BUF];
	size_t n; /* buffered */
	struct cgfw_tc_key *done; /* written, for the rollback */
	size_t ndone, capdone;
	size_t count; /* planned in all */
};

static int plan_flush(struct plan *p)
{
	size_t done = 0;
	int err;

	if (p->fd < 0 || !p->n)
		return 0;
	err = write_batch(p->fd, p->k, p->v, p->n, &done);
	if (p->ndone + done > p->capdone) {
		size_t cap = (p->ndone + done) * 2 + 1024;
		struct cgfw_tc_key *m = realloc(p->done, cap * sizeof(*m));

		if (!m) {
			/* Cannot even remember them: take them back now. */
			delete_keys(p->fd, p->k, done);
			return err ? err : -ENOMEM;
		}
		p->done = m;
		p->capdone = cap;
	}
	memcpy(p->done + p->ndone, p->k, done * sizeof(*p->k));
	p->ndone += done;
	p->n = 0;
	return err;
}

static int plan_write(struct plan *p, const struct cgfw_tc_key *k, const struct cgfw_tc_val *v)
{
	p->count++;
	if (p->fd < 0)
		return 0;
	p->k[p->n] = *k;
	p->v[p->n++] = *v;
	return p->n == PLAN_BUF ? plan_flush(p) : 0;
}

struct keylist {
	struct cgfw_tc_key *k;
	size_t n, cap;
};

static int keylist_add(struct keylist *l, const struct cgfw_tc_key *k)
{
	if (l->n == l->cap) {
		struct cgfw_tc_key *m = realloc(l->k, (l->cap = l->cap * 2 + 1024) * sizeof(*m));

		if (!m)
			return -ENOMEM;
		l->k = m;
	}
	l->k[l->n++] = *k;
	return 0;
}

struct portref {
	uint16_t port;
	uint32_t idx; /* position in the rank order */
};

static int cmp_portref(const void *x, const void *y)
{
	const struct portref *a = x, *b = y;

	if (a->port != b->port)
		return a->port < b->port ? -1 : 1;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/*
 * Lay out a key's entries (in rank order) as sub-keys of generation @gen,
 * planned in @p (NULL: not planned), and the head that refers to them, in
 * *ret_head. The layout is a function of the entries alone, so the head can
 * be computed again after the sub-keys went out.
 */
static int layout(struct kset *ks, uint16_t gen, struct plan *p, struct cgfw_tc_val *ret_head)
{
	struct cgfw_tc_val head = { .gen = gen }, v;
	struct cgfw_tc_key k = ks->head;
	struct portref *singles = NULL;
	bool *ported = NULL;
	uint16_t *ports = NULL;
	size_t ns = 0, nports = 0, m = 0, chunk = 0;
	int err = -ENOMEM;

	k.gen = gen;
	if (ks->n > CGFW_TC_INLINE) {
		/* Single ports go to PORT sub-keys, up to CGFW_TC_INLINE per port. */
		singles = calloc(ks->n, sizeof(*singles));
		ported = calloc(ks->n, sizeof(*ported));
		ports = calloc(ks->n, sizeof(*ports));
		if (!singles || !ported || !ports)
			goto out;
		for (size_t i = 0; i < ks->n; i++)
			if (ks->e[i].port_lo == ks->e[i].port_hi)
				singles[ns++] = (struct portref){ ks->e[i].port_lo, (uint32_t)i };
		qsort(singles, ns, sizeof(*singles), cmp_portref);
		for (size_t i = 0; i < ns;) {
			size_t j = i;

			memset(&v, 0, sizeof(v));
			for (; j < ns && singles[j].port == singles[i].port; j++) {
				if (v.n < CGFW_TC_INLINE) {
					v.e[v.n++] = ks->e[singles[j].idx];
					ported[singles[j].idx] = true;
				}
			}
			k.type = CGFW_TC_KEY_PORT;
			k.sub = singles[i].port;
			if (p && (err = plan_write(p, &k, &v)))
				goto out;
			ports[nports++] = singles[i].port;
			head.portmask[(singles[i].port / 64) % 4] |= 1ull << (singles[i].port % 64);
			i = j;
		}
		if (nports > 0xffffu / CGFW_TC_PORTLIST_N * CGFW_TC_PORTLIST_N) {
			err = -E2BIG;
			goto out;
		}
		for (size_t i = 0; i < nports; i += CGFW_TC_PORTLIST_N) {
			memset(&v, 0, sizeof(v));
			for (size_t j = i; j < nports && j < i + CGFW_TC_PORTLIST_N; j++)
				v.ports[v.n++] = ports[j];
			k.type = CGFW_TC_KEY_PORTLIST;
			k.sub = (uint16_t)(i / CGFW_TC_PORTLIST_N + 1);
			if (p && (err = plan_write(p, &k, &v)))
				goto out;
			head.nportlists++;
		}
		if (nports)
			head.flags |= CGFW_TC_F_PORTIDX;
	}
	/* The rest, in rank order: CGFW_TC_INLINE in the head, then chunks. */
	memset(&v, 0, sizeof(v));
	for (size_t i = 0; i < ks->n; i++) {
		if (ported && ported[i])
			continue;
		if (m < CGFW_TC_INLINE) {
			head.e[head.n++] = ks->e[i];
		} else {
			v.e[v.n++] = ks->e[i];
			if (v.n == CGFW_TC_INLINE) {
				if (++chunk > 0xffff) {
					err = -E2BIG;
					goto out;
				}
				k.type = CGFW_TC_KEY_CHUNK;
				k.sub = (uint16_t)chunk;
				if (p && (err = plan_write(p, &k, &v)))
					goto out;
				memset(&v, 0, sizeof(v));
			}
		}
		m++;
	}
	if (v.n) {
		if (++chunk > 0xffff) {
			err = -E2BIG;
			goto out;
		}
		k.type = CGFW_TC_KEY_CHUNK;
		k.sub = (uint16_t)chunk;
		if (p && (err = plan_write(p, &k, &v)))
			goto out;
	}
	head.nchunks = (uint16_t)chunk;
	*ret_head = head;
	err = 0;
out:
	free(singles);
	free(ported);
	free(ports);
	return err;
}

/* ---- applying a change ------------------------------------------------------------------- */

struct op {
	struct cgfw_tc_key key;
	size_t idx;
};

static int cmp_op(const void *x, const void *y)
{
	const struct op *a = x, *b = y;
	int c = memcmp(&a->key, &b->key, sizeof(a->key));

	if (c)
		return c;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

static int write_batch(int fd, const struct cgfw_tc_key *k, const struct cgfw_tc_val *v, size_t n,
		       size_t *ret_done)
{
	size_t done = 0;

	while (done < n) {
		LIBBPF_OPTS(bpf_map_batch_opts, opts);
		__u32 cnt = (__u32)(n - done < BATCH ? n - done : BATCH);

		if (bpf_map_update_batch(fd, k + done, v + done, &cnt, &opts) < 0) {
			int err = -errno;

			*ret_done = done + cnt;
			return err;
		}
		done += cnt;
	}
	*ret_done = done;
	return 0;
}

static void delete_keys(int fd, const struct cgfw_tc_key *k, size_t n)
{
	size_t i = 0;

	while (i < n) {
		LIBBPF_OPTS(bpf_map_batch_opts, opts);
		__u32 cnt = (__u32)(n - i < BATCH ? n - i : BATCH);

		if (bpf_map_delete_batch(fd, k + i, &cnt, &opts) < 0 && i + cnt < n) {
			/* A key already gone stops the batch: skip it and go on. */
			bpf_map_delete_elem(fd, &k[i + cnt]);
			cnt++;
		}
		i += cnt;
	}
}

static __u32 *lens_slot(struct cgfw_tc_lens_val *l, const struct cgfw_tc_key *k)
{
	return k->family == CGFW_FAMILY_INET ? &l->count4[k->prefixlen & 63] :
					       &l->count6[k->prefixlen];
}

/* Routes for tproxy prefixes, per network namespace, reference-counted. */
struct rdelta {
	struct cgfw_tc_route_key key;
	int delta;
	uint32_t refs;
	bool owned, existed, added;
};

static int cmp_rdelta(const void *x, const void *y)
{
	return memcmp(&((const struct rdelta *)x)->key, &((const struct rdelta *)y)->key,
		      sizeof(struct cgfw_tc_route_key));
}

static void route_key(struct cgfw_tc *tc, const struct cgfw_tc_key *hk, struct cgfw_tc_route_key *k)
{
	memset(k, 0, sizeof(*k));
	k->netns = tc->netns;
	k->family = hk->family;
	k->prefixlen = hk->prefixlen;
	memcpy(k->addr, hk->addr, 16);
}

static void key_prefix(const struct cgfw_tc_route_key *k, struct cgfw_prefix *p)
{
	memset(p, 0, sizeof(*p));
	p->family = k->family;
	p->len = k->prefixlen;
	memcpy(p->addr, k->addr, 16);
}

/* Merge per-rule deltas into one per prefix; read the current references. */
static int routes_prepare(struct cgfw_tc *tc, struct rdelta *rd, size_t *n)
{
	size_t m = 0;

	qsort(rd, *n, sizeof(*rd), cmp_rdelta);
	for (size_t i = 0; i < *n; i++) {
		if (m && !memcmp(&rd[m - 1].key, &rd[i].key, sizeof(rd[i].key))) {
			rd[m - 1].delta += rd[i].delta;
			continue;
		}
		rd[m++] = rd[i];
	}
	*n = m;
	for (size_t i = 0; i < m; i++) {
		struct cgfw_tc_route_val v;

		if (bpf_map_lookup_elem(tc->routes_fd, &rd[i].key, &v) == 0) {
			rd[i].existed = true;
			rd[i].refs = v.refs;
			rd[i].owned = v.owned;
		}
	}
	return 0;
}

/* Add the routes that go from no rule to some; undo on failure. */
static int routes_add(struct rdelta *rd, size_t n)
{
	struct cgfw_prefix *p = calloc(n ? n : 1, sizeof(*p));
	int *errs = calloc(n ? n : 1, sizeof(*errs));
	size_t *idx = calloc(n ? n : 1, sizeof(*idx));
	size_t m = 0;
	int err = 0;

	if (!p || !errs || !idx) {
		err = cgfw_seterr(ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		if (rd[i].refs == 0 && (int64_t)rd[i].refs + rd[i].delta > 0) {
			key_prefix(&rd[i].key, &p[m]);
			idx[m++] = i;
		}
	err = cgfw_nl_local_routes(true, p, m, errs);
	if (err)
		goto out;
	{
		/*
		 * A route that exists may be cgfw's own (proto 207) left by a run that
		 * died before recording it: a delete that names our protocol only takes
		 * such a route; then it is added again, and owned. Anybody else's
		 * route stays, used but never removed.
		 */
		struct cgfw_prefix *q = calloc(m ? m : 1, sizeof(*q));
		size_t *qi = calloc(m ? m : 1, sizeof(*qi));
		int *qe = calloc(m ? m : 1, sizeof(*qe));
		size_t nq = 0;

		for (size_t j = 0; q && qi && qe && j < m; j++)
			if (errs[j] == -EEXIST) {
				qi[nq] = j;
				q[nq++] = p[j];
			}
		if (nq && cgfw_nl_local_routes(false, q, nq, qe) == 0) {
			size_t nr = 0;

			for (size_t j = 0; j < nq; j++)
				if (qe[j] == 0) {
					qi[nr] = qi[j];
					q[nr++] = q[j];
				}
			if (nr && cgfw_nl_local_routes(true, q, nr, qe) == 0)
				for (size_t j = 0; j < nr; j++)
					errs[qi[j]] = qe[j];
		}
		free(q);
		free(qi);
		free(qe);
	}
	for (size_t j = 0; j < m; j++) {
		if (errs[j] == 0) {
			rd[idx[j]].added = rd[idx[j]].owned = true;
		} else if (errs[j] == -EEXIST) {
			rd[idx[j]].owned = false; /* somebody's route: use it, never remove it */
		} else if (!err) {
			char buf[CGFW_ADDRSTRLEN];

			cgfw_format_prefix(&p[j], buf, sizeof(buf));
			err = cgfw_seterr(errs[j] < 0 ? errs[j] : EIO,
					  "cannot add the local route for %s: %s", buf,
					  strerror(errs[j] < 0 ? -errs[j] : EIO));
		}
	}
	if (err) {
		/* Take back the ones this call added. */
		size_t k = 0;

		for (size_t j = 0; j < m; j++)
			if (rd[idx[j]].added)
				p[k++] = p[j];
		cgfw_nl_local_routes(false, p, k, errs);
	}
out:
	free(p);
	free(errs);
	free(idx);
	return err;
}

/* After the rules: record the references, remove routes no rule needs any more. */
static void routes_commit(struct cgfw_tc *tc, struct rdelta *rd, size_t n)
{
	struct cgfw_prefix *p = calloc(n ? n : 1, sizeof(*p));
	int *errs = calloc(n ? n : 1, sizeof(*errs));
	size_t m = 0;

	for (size_t i = 0; i < n; i++) {
		int64_t refs = (int64_t)rd[i].refs + rd[i].delta;

		if (refs > 0) {
			struct cgfw_tc_route_val v = { .refs = (uint32_t)refs,
						       .owned = rd[i].owned };

			bpf_map_update_elem(tc->routes_fd, &rd[i].key, &v, BPF_ANY);
			continue;
		}
		if (rd[i].existed)
			bpf_map_delete_elem(tc->routes_fd, &rd[i].key);
		if (rd[i].owned && p)
			key_prefix(&rd[i].key, &p[m++]);
	}
	if (p && errs)
		cgfw_nl_local_routes(false, p, m, errs);
	free(p);
	free(errs);
}

static void routes_undo(struct rdelta *rd, size_t n)
{
	struct cgfw_prefix *p = calloc(n ? n : 1, sizeof(*p));
	int *errs = calloc(n ? n : 1, sizeof(*errs));
	size_t m = 0;

	for (size_t i = 0; p && errs && i < n; i++)
		if (rd[i].added)
			key_prefix(&rd[i].key, &p[m++]);
	if (p && errs)
		cgfw_nl_local_routes(false, p, m, errs);
	free(p);
	free(errs);
}

static const char *rule_str(const struct cgfw_tc_rule *r, char *buf, size_t n)
{
	char d[CGFW_ADDRSTRLEN], s[CGFW_ADDRSTRLEN] = "";

	cgfw_format_prefix(&r->dst, d, sizeof(d));
	if (r->src.len)
		cgfw_format_prefix(&r->src, s, sizeof(s));
	snprintf(buf, n, "--dst %s%s%s --proto %s --ports %u-%u%s%s", d, s[0] ? " --src " : "", s,
		 cgfw_proto_name(r->proto), r->port_lo, r->port_hi, r->ifname[0] ? " --iface " : "",
		 r->ifname);
	return buf;
}

static uint16_t next_gen(const struct kset *k)
{
	uint16_t gen = (uint16_t)(k->existed ? k->old->gen + 1 : 1);

	return gen ? gen : 1;
}

static void kset_free(struct kset *ks, size_t n)
{
	for (size_t i = 0; ks && i < n; i++) {
		free(ks[i].e);
		free(ks[i].oldsub);
		free(ks[i].old);
	}
	free(ks);
}

/* Put back the heads this call overwrote, drop the ones it made (the first @n changed). */
static void restore_heads(int fd, struct kset *ks, size_t nks, size_t n)
{
	for (size_t i = 0, done = 0; i < nks && done < n; i++) {
		if (!ks[i].changed || !ks[i].n)
			continue;
		if (ks[i].existed)
			bpf_map_update_elem(fd, &ks[i].head, ks[i].old, BPF_ANY);
		else
			bpf_map_delete_elem(fd, &ks[i].head);
		done++;
	}
}

int cgfw_tc_rules_update(struct cgfw_tc *tc, const struct cgfw_tc_rule *rules, size_t n, bool add)
{
	struct cgfw_tc_meta_val meta;
	struct cgfw_tc_lens_val lens;
	struct op *ops = NULL;
	struct kset *ks = NULL;
	struct plan *sub = NULL, *heads = NULL;
	struct keylist del = {};
	struct rdelta *rd = NULL;
	size_t nks = 0, nrd = 0, changed = 0, created = 0, nheaddel = 0, nsub_planned;
	uint32_t next_id, max;
	bool routes_added = false, lens_created = false;
	int fd, err = 0;

	if (!n)
		return 0;
	err = cgfw_tc_meta_read(tc, &meta);
	if (!err)
		err = cgfw_tc_lens_read(tc, &lens);
	if (!err)
		err = cgfw_tc_table(tc, &fd, &max);
	if (err)
		return err;
	next_id = meta.next_rule_id ? meta.next_rule_id : 1;
	ops = malloc(n * sizeof(*ops));
	rd = calloc(n, sizeof(*rd));
	sub = calloc(1, sizeof(*sub));
	heads = calloc(1, sizeof(*heads));
	if (!ops || !rd || !sub || !heads) {
		err = cgfw_seterr(ENOMEM, "out of memory for %zu rules", n);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		err = cgfw_tc_rule_check(&rules[i], add);
		if (err)
			goto out;
		head_key(&rules[i], &ops[i].key);
		ops[i].idx = i;
	}
	qsort(ops, n, sizeof(*ops), cmp_op);
	for (size_t i = 0; i < n; i++)
		nks += !i || memcmp(&ops[i].key, &ops[i - 1].key, sizeof(ops[i].key));
	ks = calloc(nks, sizeof(*ks));
	if (!ks) {
		err = cgfw_seterr(ENOMEM, "out of memory for %zu rules", n);
		goto out;
	}

	/* Per head key: decode what is there, apply the rules in order. */
	for (size_t i = 0, g = 0; i < n; g++) {
		struct kset *k = &ks[g];
		struct cgfw_tc_val head;
		size_t j = i;

		k->head = ops[i].key;
		if (bpf_map_lookup_elem(fd, &k->head, &head) == 0) {
			k->existed = true;
			k->old = malloc(sizeof(*k->old));
			if (!k->old) {
				err = cgfw_seterr(ENOMEM, "out of memory");
				goto out;
			}
			*k->old = head;
		} else if (errno != ENOENT) {
			err = cgfw_seterr(errno, "cannot read the TC rule table: %s",
					  strerror(errno));
			goto out;
		}
		if ((err = decode(fd_lookup, &fd, k))) {
			err = cgfw_seterr(err, "cannot read the TC rule table: %s", strerror(-err));
			goto out;
		}
		for (; j < n && !memcmp(&ops[j].key, &k->head, sizeof(k->head)); j++) {
			const struct cgfw_tc_rule *r = &rules[ops[j].idx];
			struct cgfw_tc_entry e;
			size_t at = k->n;
			char buf[256];

			rule_entry(r, &e);
			for (size_t x = 0; x < k->n; x++)
				if (same_match(&k->e[x], &e))
					at = x;
			if (!add) {
				if (at == k->n || k->e[at].kind != r->kind)
					continue; /* nothing to delete */
				if (r->kind == CGFW_TC_TPROXY) {
					route_key(tc, &k->head, &rd[nrd].key);
					rd[nrd++].delta = -1;
				}
				k->e[at] = k->e[--k->n];
				k->changed = true;
				changed++;
				continue;
			}
			if (at < k->n && k->e[at].kind != r->kind) {
				err = cgfw_seterr(EEXIST,
						  "a %s rule with the same match exists (%s); "
						  "delete it first",
						  cgfw_tc_kind_name(k->e[at].kind),
						  rule_str(r, buf, sizeof(buf)));
				goto out;
			}
			if (at < k->n) {
				/* Same match and kind: a new target, counters kept. */
				if (k->e[at].to_port == e.to_port &&
				    !memcmp(k->e[at].to_addr, e.to_addr, 16))
					continue;
				memcpy(k->e[at].to_addr, e.to_addr, 16);
				k->e[at].to_port = e.to_port;
			} else {
				if (next_id == UINT32_MAX) {
					err = cgfw_seterr(ENOSPC,
							  "rule ids exhausted; run 'cgfw reset'");
					goto out;
				}
				e.id = next_id++;
				if ((err = push_entry(k, &e))) {
					err = cgfw_seterr(ENOMEM, "out of memory");
					goto out;
				}
				if (r->kind == CGFW_TC_TPROXY) {
					route_key(tc, &k->head, &rd[nrd].key);
					rd[nrd++].delta = 1;
				}
			}
			k->changed = true;
			changed++;
		}
		i = j;
	}

	/* Count what the new layouts need, and what goes; check each can be laid out. */
	sub->fd = -1;
	for (size_t i = 0; i < nks; i++) {
		struct kset *k = &ks[i];
		struct cgfw_tc_val head;

		if (!k->changed)
			continue;
		qsort(k->e, k->n, sizeof(*k->e), cmp_rank);
		if (k->n) {
			err = layout(k, next_gen(k), sub, &head);
			if (err) {
				char buf[CGFW_ADDRSTRLEN];
				struct cgfw_prefix d = { .family = k->head.family,
							 .len = k->head.prefixlen };

				memcpy(d.addr, k->head.addr, 16);
				cgfw_format_prefix(&d, buf, sizeof(buf));
				err = err == -E2BIG ?
					      cgfw_seterr(ENOSPC, "too many rules for %s %s",
							  cgfw_proto_name(k->head.proto), buf) :
					      cgfw_seterr(ENOMEM, "out of memory");
				goto out;
			}
			if (!k->existed) {
				created++;
				lens_created |= (*lens_slot(&lens, &k->head))++ == 0;
			}
		} else if (k->existed) {
			nheaddel++;
		}
	}
	nsub_planned = sub->count;

	/* Routes before the rules that need them. */
	routes_prepare(tc, rd, &nrd);
	if (add) {
		err = routes_add(rd, nrd);
		if (err)
			goto out;
		routes_added = true;
	}

	/* Room for the new keys next to the old ones until these are deleted. */
	if ((uint64_t)meta.table_entries + nsub_planned + created > max) {
		uint64_t want = (uint64_t)meta.table_entries + nsub_planned + created;

		err = cgfw_tc_table_grow(tc, want > UINT32_MAX ? UINT32_MAX : (uint32_t)want);
		if (!err)
			err = cgfw_tc_table(tc, &fd, &max);
		if (err)
			goto out;
	}

	/* 1. New sub-keys: no packet reaches them before their head. */
	sub->fd = fd;
	sub->count = 0;
	for (size_t i = 0; i < nks && !err; i++) {
		struct cgfw_tc_val head;

		if (ks[i].changed && ks[i].n)
			err = layout(&ks[i], next_gen(&ks[i]), sub, &head);
	}
	if (!err)
		err = plan_flush(sub);
	if (err == -E2BIG) {
		/* The entry count drifted (a crash left keys behind): grow once, write again. */
		delete_keys(fd, sub->done, sub->ndone);
		sub->ndone = sub->n = sub->count = 0;
		err = cgfw_tc_table_grow(tc, max * 2);
		if (!err)
			err = cgfw_tc_table(tc, &fd, &max);
		sub->fd = fd;
		for (size_t i = 0; i < nks && !err; i++) {
			struct cgfw_tc_val head;

			if (ks[i].changed && ks[i].n)
				err = layout(&ks[i], next_gen(&ks[i]), sub, &head);
		}
		if (!err)
			err = plan_flush(sub);
	}
	if (err) {
		delete_keys(fd, sub->done, sub->ndone);
		err = cgfw_seterr(err, "writing the TC rule table failed after %zu entries: %s%s",
				  sub->ndone, strerror(-err),
				  err == -ENOMEM || err == -E2BIG ? " (out of kernel memory)" : "");
		goto out;
	}

	/* 2. The heads, each switching its key to the new layout in one update. */
	heads->fd = fd;
	for (size_t i = 0; i < nks && !err; i++) {
		struct cgfw_tc_val head;

		if (!ks[i].changed || !ks[i].n)
			continue;
		err = layout(&ks[i], next_gen(&ks[i]), NULL, &head);
		if (!err)
			err = plan_write(heads, &ks[i].head, &head);
	}
	if (!err)
		err = plan_flush(heads);
	/* 3. The lengths in use, with the new ones. */
	if (!err && lens_created)
		err = cgfw_tc_lens_publish(tc, &lens);
	if (err) {
		restore_heads(fd, ks, nks, heads->ndone);
		delete_keys(fd, sub->done, sub->ndone);
		err = cgfw_seterr(err, "writing the TC rule table failed: %s%s", strerror(-err),
				  err == -ENOMEM || err == -E2BIG ? " (out of kernel memory)" : "");
		goto out;
	}
	/* 4. Emptied heads and old layouts last: no packet reaches them any more. */
	for (size_t i = 0; i < nks && !err; i++) {
		if (!ks[i].changed)
			continue;
		if (!ks[i].n && ks[i].existed) {
			__u32 *cnt = lens_slot(&lens, &ks[i].head);

			if (*cnt)
				(*cnt)--;
			err = keylist_add(&del, &ks[i].head);
		}
		for (size_t x = 0; !err && x < ks[i].noldsub; x++)
			err = keylist_add(&del, &ks[i].oldsub[x]);
	}
	delete_keys(fd, del.k, del.n); /* out of memory above: leftovers, never seen */
	err = 0;
	if (nheaddel || created)
		cgfw_tc_lens_publish(tc, &lens);
	routes_commit(tc, rd, nrd);
	routes_added = false;
	meta.next_rule_id = next_id;
	{
		int64_t entries = (int64_t)meta.table_entries + (int64_t)sub->ndone +
				  (int64_t)created - (int64_t)del.n;

		meta.table_entries = entries < 0 ? 0 : (uint32_t)entries;
	}
	cgfw_tc_meta_write(tc, &meta);
out:
	if (err && routes_added)
		routes_undo(rd, nrd);
	kset_free(ks, nks);
	free(ops);
	free(rd);
	if (sub)
		free(sub->done);
	if (heads)
		free(heads->done);
	free(sub);
	free(heads);
	free(del.k);
	return err ? err : (int)(changed > INT32_MAX ? INT32_MAX : changed);
}

/* ---- listing --------------------------------------------------------------------------------- */

struct image {
	struct cgfw_tc_key *k;
	struct cgfw_tc_val *v;
	size_t n;
};

static int cmp_key(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct cgfw_tc_key));
}

static int image_lookup(void *ctx, const struct cgfw_tc_key *k, struct cgfw_tc_val *v)
{
	struct image *im = ctx;
	struct cgfw_tc_key *hit = bsearch(k, im->k, im->n, sizeof(*k), cmp_key);

	if (!hit)
		return -ENOENT;
	*v = im->v[hit - im->k];
	return 0;
}

static int cmp_id(const void *a, const void *b)
{
	const struct cgfw_tc_rule *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

int cgfw_tc_rules_list(struct cgfw_tc *tc, uint8_t kind, struct cgfw_tc_rule **ret, size_t *ret_n)
{
	struct image im = {};
	struct cgfw_tc_rule *out = NULL;
	size_t n = 0, cap = 0;
	int fd, err;

	err = cgfw_tc_table(tc, &fd, NULL);
	if (err)
		return err;
	err = cgfw_map_dump(fd, sizeof(*im.k), sizeof(*im.v), (void **)&im.k, (void **)&im.v,
			    &im.n);
	if (err)
		return cgfw_seterr(err, "cannot read the TC rule table: %s", strerror(-err));
	/* Sort keys and values together, then decode each head from the image. */
	{
		size_t *perm = malloc((im.n ? im.n : 1) * sizeof(*perm));
		struct cgfw_tc_key *k2 = malloc((im.n ? im.n : 1) * sizeof(*k2));
		struct cgfw_tc_val *v2 = malloc((im.n ? im.n : 1) * sizeof(*v2));
		struct {
			struct cgfw_tc_key k;
			size_t i;
		} *tmp = malloc((im.n ? im.n : 1) * sizeof(*tmp));

		if (!perm || !k2 || !v2 || !tmp) {
			free(perm);
			free(k2);
			free(v2);
			free(tmp);
			err = cgfw_seterr(ENOMEM, "out of memory");
			goto out;
		}
		for (size_t i = 0; i < im.n; i++) {
			tmp[i].k = im.k[i];
			tmp[i].i = i;
		}
		qsort(tmp, im.n, sizeof(*tmp), cmp_key); /* the key leads the struct */
		for (size_t i = 0; i < im.n; i++) {
			k2[i] = tmp[i].k;
			v2[i] = im.v[tmp[i].i];
		}
		free(perm);
		free(tmp);
		free(im.k);
		free(im.v);
		im.k = k2;
		im.v = v2;
	}
	for (size_t i = 0; i < im.n; i++) {
		struct kset ks = {};

		if (im.k[i].type != CGFW_TC_KEY_HEAD)
			continue;
		ks.head = im.k[i];
		ks.old = &im.v[i];
		ks.existed = true;
		err = decode(image_lookup, &im, &ks);
		for (size_t e = 0; !err && e < ks.n; e++) {
			if (kind && ks.e[e].kind != kind)
				continue;
			if (n == cap) {
				struct cgfw_tc_rule *m =
					realloc(out, (cap = cap * 2 + 256) * sizeof(*m));

				if (!m) {
					err = -ENOMEM;
					break;
				}
				out = m;
			}
			entry_rule(&ks.head, &ks.e[e], &out[n++]);
		}
		free(ks.e);
		free(ks.oldsub);
		ks.old = NULL;
		if (err) {
			err = cgfw_seterr(ENOMEM, "out of memory");
			goto out;
		}
	}
	qsort(out, n, sizeof(*out), cmp_id);
out:
	free(im.k);
	free(im.v);
	if (err) {
		free(out);
		return err;
	}
	*ret = out;
	*ret_n = n;
	return 0;
}

int cgfw_tc_rules_flush(struct cgfw_tc *tc, uint8_t kind)
{
	struct cgfw_tc_rule *rules = NULL;
	size_t n = 0;
	int err;

	err = cgfw_tc_rules_list(tc, kind, &rules, &n);
	if (!err)
		err = cgfw_tc_rules_update(tc, rules, n, false);
	free(rules);
	return err;
}

int cgfw_tc_routes(struct cgfw_tc *tc, struct cgfw_tc_route **ret, size_t *ret_n)
{
	struct cgfw_tc_route_key *keys = NULL;
	struct cgfw_tc_route_val *vals = NULL;
	struct cgfw_tc_route *out;
	size_t n = 0;
	int err;

	err = cgfw_map_dump(tc->routes_fd, sizeof(*keys), sizeof(*vals), (void **)&keys,
			    (void **)&vals, &n);
	if (err)
		return cgfw_seterr(err, "cannot read %s: %s", CGFW_TC_ROUTES_PIN, strerror(-err));
	out = calloc(n ? n : 1, sizeof(*out));
	if (!out) {
		free(keys);
		free(vals);
		return cgfw_seterr(ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		key_prefix(&keys[i], &out[i].pfx);
		out[i].refs = vals[i].refs;
		out[i].owned = vals[i].owned;
		out[i].this_netns = keys[i].netns == tc->netns;
	}
	free(keys);
	free(vals);
	*ret = out;
	*ret_n = n;
	return 0;
}
