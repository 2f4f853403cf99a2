// SPDX-License-Identifier: GPL-2.0-only
/*
 * tproxy, redirect and inbound rules (layout and precedence in
 * include/cgfw/tc_rule_map.h). A change reads the live rule set, applies
 * every rule of the batch to a copy in memory, and makes a complete new rule
 * set live with one switch (ruleset.c): a change is applied whole or not at
 * all, also when the command is killed, and a packet always sees one
 * complete rule set. tproxy rules' local routes go in before the switch and
 * the ones no rule needs come out after it (routes.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

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

static int cmp_match(const struct cgfw_tc_rule *a, const struct cgfw_tc_rule *b)
{
	int c;

	if (a->dst.family != b->dst.family)
		return a->dst.family < b->dst.family ? -1 : 1;
	if (a->proto != b->proto)
		return a->proto < b->proto ? -1 : 1;
	if ((c = memcmp(a->dst.addr, b->dst.addr, 16)))
		return c;
	if (a->dst.len != b->dst.len)
		return a->dst.len < b->dst.len ? -1 : 1;
	if (a->src.len != b->src.len)
		return a->src.len < b->src.len ? -1 : 1;
	if (a->src.len && (c = memcmp(a->src.addr, b->src.addr, 16)))
		return c;
	if (a->port_lo != b->port_lo)
		return a->port_lo < b->port_lo ? -1 : 1;
	if (a->port_hi != b->port_hi)
		return a->port_hi < b->port_hi ? -1 : 1;
	if (a->ifindex != b->ifindex)
		return a->ifindex < b->ifindex ? -1 : 1;
	return 0;
}

/* A live rule or one of the batch, in match order (batch rules in their order). */
struct item {
	const struct cgfw_tc_rule *r;
	uint64_t netns;
	size_t seq; /* 0: live; i + 1: batch rule i */
};

static int cmp_item(const void *x, const void *y)
{
	const struct item *a = x, *b = y;
	int c = cmp_match(a->r, b->r);

	if (c)
		return c;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

int cgfw_tc_rules_update(struct cgfw_tc *tc, const struct cgfw_tc_rule *rules, size_t n, bool add)
{
	struct cgfw_tc_set s = {}, out = {};
	_cleanup_free_ struct cgfw_tc_rule *norm = NULL;
	_cleanup_free_ struct item *it = NULL;
	size_t ni = 0, changed = 0;
	int err;

	if (!n)
		return 0;
	for (size_t i = 0; i < n; i++) {
		err = cgfw_tc_rule_check(&rules[i], add);
		if (err)
			return err;
	}
	err = cgfw_tc_set_read(tc, &s);
	if (err)
		return err;
	norm = malloc(n * sizeof(*norm));
	it = malloc((s.n + n) * sizeof(*it));
	out.r = malloc((s.n + n + 1) * sizeof(*out.r));
	out.netns = malloc((s.n + n + 1) * sizeof(*out.netns));
	if (!norm || !it || !out.r || !out.netns) {
		err = cgfw_seterr(ENOMEM, "out of memory for %zu rules", n);
		goto out;
	}
	for (size_t i = 0; i < s.n; i++)
		it[ni++] = (struct item){ &s.r[i], s.netns[i], 0 };
	for (size_t i = 0; i < n; i++) {
		norm[i] = rules[i];
		cgfw_tc_rule_normalize(&norm[i]);
		it[ni++] = (struct item){ &norm[i], tc->netns, i + 1 };
	}
	qsort(it, ni, sizeof(*it), cmp_item);
	out.next_id = s.next_id ? s.next_id : 1;
	out.gen = s.gen;
	/* One match at a time: its live rule, then the batch's rules of it in order. */
	for (size_t i = 0; i < ni;) {
		struct cgfw_tc_rule cur;
		uint64_t netns = 0;
		bool have = false;
		size_t j = i;

		if (it[i].seq == 0) {
			cur = *it[i].r;
			netns = it[i].netns;
			have = true;
			j++;
		}
		for (; j < ni && !cmp_match(it[j].r, it[i].r); j++) {
			const struct cgfw_tc_rule *r = it[j].r;
			char buf[256];

			if (!add) {
				if (have && cur.kind == r->kind) {
					have = false;
					changed++;
				}
				continue;
			}
			if (have && cur.kind != r->kind) {
				err = cgfw_seterr(EEXIST,
						  "a %s rule with the same match exists (%s); "
						  "delete it first",
						  cgfw_tc_kind_name(cur.kind),
						  rule_str(r, buf, sizeof(buf)));
				goto out;
			}
			if (have) {
				/* Same match and kind: a new target, id and counters kept. */
				if (cur.to_port == r->to_port &&
				    cur.has_to_addr == r->has_to_addr &&
				    !memcmp(cur.to_addr, r->to_addr, 16))
					continue;
				memcpy(cur.to_addr, r->to_addr, 16);
				cur.has_to_addr = r->has_to_addr;
				cur.to_family = r->to_family;
				cur.to_port = r->to_port;
				changed++;
				continue;
			}
			if (out.next_id == UINT32_MAX) {
				err = cgfw_seterr(ENOSPC, "rule ids exhausted; run 'cgfw reset'");
				goto out;
			}
			cur = *r;
			cur.id = out.next_id++;
			cur.packets = cur.bytes = 0;
			netns = tc->netns;
			have = true;
			changed++;
		}
		if (have) {
			out.r[out.n] = cur;
			out.netns[out.n++] = netns;
		}
		i = j;
	}
	if (!changed)
		goto out;
	/* Routes the new rules need, before a packet can be intercepted without them. */
	err = cgfw_tc_routes_sync(tc, &out, true);
	if (err < 0)
		goto out;
	err = cgfw_tc_set_commit(tc, &out);
	if (err) {
		/* The old set is in force: its routes, and no more. */
		cgfw_tc_routes_sync(tc, &s, false);
		goto out;
	}
	cgfw_tc_routes_sync(tc, &out, false);
	err = 0;
out:
	cgfw_tc_set_free(&s);
	cgfw_tc_set_free(&out);
	return err ? err : (int)(changed > INT32_MAX ? INT32_MAX : changed);
}

static int cmp_id(const void *a, const void *b)
{
	const struct cgfw_tc_rule *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

int cgfw_tc_rules_list(struct cgfw_tc *tc, uint8_t kind, struct cgfw_tc_rule **ret, size_t *ret_n)
{
	struct cgfw_tc_set s = {};
	size_t w = 0;
	int err;

	err = cgfw_tc_set_read(tc, &s);
	if (err)
		return err;
	for (size_t i = 0; i < s.n; i++)
		if (!kind || s.r[i].kind == kind)
			s.r[w++] = s.r[i];
	qsort(s.r, w, sizeof(*s.r), cmp_id);
	*ret = s.r;
	*ret_n = w;
	free(s.netns);
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
