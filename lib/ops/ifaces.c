// SPDX-License-Identifier: GPL-2.0-only
/* The interfaces section of a policy: saved form and application. */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include <net/if.h>

#include "internal.h"

static uint8_t kind_of(char k)
{
	return k == 't' ? CGFW_TC_TPROXY : k == 'i' ? CGFW_TC_INBOUND : CGFW_TC_REDIRECT;
}

static uint32_t iface_flags(const struct cgfw_pol_iface *f)
{
	return (f->stateful ? CGFW_TC_STATEFUL : 0) | (f->icmp ? CGFW_TC_ICMP : 0) |
	       (f->ssh ? 0 : CGFW_TC_NO_SSH);
}

/* A policy's port rule as a TC rule bound to its interface. */
static int to_tc_rule(const struct cgfw_pol_iface *f, const struct cgfw_pol_port_rule *p, char kind,
		      struct cgfw_tc_rule *r)
{
	memset(r, 0, sizeof(*r));
	r->kind = kind_of(kind);
	r->proto = p->proto;
	r->port_lo = p->lo;
	r->port_hi = p->hi;
	r->dst = p->dst;
	if (p->has_src)
		r->src = p->src;
	else
		r->src.family = p->dst.family;
	if (p->to_addr.family) {
		r->has_to_addr = true;
		r->to_family = p->to_addr.family;
		memcpy(r->to_addr, p->to_addr.addr, 16);
	}
	r->to_port = p->to_port;
	r->seen = CGFW_TC_OPT_DST | CGFW_TC_OPT_PROTO | CGFW_TC_OPT_PORTS |
		  (p->has_src ? CGFW_TC_OPT_SRC : 0) | (kind != 'i' ? CGFW_TC_OPT_TO : 0);
	if (cgfw_tc_rule_set(r, "iface", f->name) < 0)
		return cgfw_seterr(EINVAL, "%s:%d: interface '%s': %s", f->file ? f->file : "?",
				   p->line, f->name, cgfw_errmsg());
	return cgfw_tc_rule_check(r, true) < 0 ?
		       cgfw_seterr(EINVAL, "%s:%d: %s", f->file ? f->file : "?", p->line,
				   cgfw_errmsg()) :
		       0;
}

static void rule_line(const struct cgfw_pol_iface *f, const struct cgfw_pol_port_rule *p, char kind,
		      char *buf, size_t n)
{
	json_t *j = cgfw_port_rule_json(p, kind != 'i');
	char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);

	snprintf(buf, n, "%s %s %s", f->name,
		 kind == 't' ? "tproxy" :
		 kind == 'i' ? "inbound" :
			       "redirect",
		 s ? s : "?");
	free(s);
	json_decref(j);
}

struct tc_item {
	char line[220];
	const struct cgfw_pol_iface *f;
	const struct cgfw_pol_port_rule *p;
	char kind;
};

static size_t collect(const struct cgfw_policy *pol, struct tc_item **ret)
{
	size_t n = 0, cap = 0;
	struct tc_item *out = NULL;

	for (size_t i = 0; i < pol->nifaces; i++) {
		const struct cgfw_pol_iface *f = &pol->ifaces[i];
		struct {
			char kind;
			const struct cgfw_pol_port_rule *list;
			size_t n;
		} groups[] = { { 't', f->tproxy, f->ntproxy },
			       { 'i', f->inbound, f->ninbound },
			       { 'r', f->redirect, f->nredirect } };

		for (size_t g = 0; g < 3; g++) {
			for (size_t k = 0; k < groups[g].n; k++) {
				if (n == cap) {
					struct tc_item *m =
						realloc(out, (cap = cap * 2 + 16) * sizeof(*m));

					if (!m)
						break;
					out = m;
				}
				out[n].f = f;
				out[n].p = &groups[g].list[k];
				out[n].kind = groups[g].kind;
				rule_line(f, out[n].p, out[n].kind, out[n].line,
					  sizeof(out[n].line));
				n++;
			}
		}
	}
	*ret = out;
	return n;
}

static bool has_line(const struct tc_item *items, size_t n, const char *line)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(items[i].line, line))
			return true;
	return false;
}

static const struct cgfw_pol_iface *find_iface(const struct cgfw_policy *pol, const char *name)
{
	for (size_t i = 0; i < pol->nifaces; i++)
		if (!strcmp(pol->ifaces[i].name, name))
			return &pol->ifaces[i];
	return NULL;
}

/*
 * The interfaces section relative to the previously applied one: attach new
 * interfaces (or update their flags), add the new rules, remove the rules and
 * interfaces the previous policy had and this one does not. Rules typed by
 * hand with `cgfw tproxy/inbound/redirect` are left alone unless the policy
 * names the same match (then the policy's target wins).
 */
int cgfw_policy_apply_ifaces(struct cgfw_tc *tc, const struct cgfw_policy *pol,
			     const struct cgfw_policy *old, struct cgfw_plan *plan)
{
	struct tc_item *now = NULL, *was = NULL;
	size_t nnow, nwas;
	struct cgfw_tc_rule *add = NULL, *del = NULL;
	size_t nadd = 0, ndel = 0;
	bool *attached_new = NULL;
	int err = 0;

	if (!pol->nifaces && !old->nifaces)
		return 0;
	nnow = collect(pol, &now);
	nwas = collect(old, &was);
	add = calloc(nnow + 1, sizeof(*add));
	del = calloc(nwas + 1, sizeof(*del));
	attached_new = calloc(pol->nifaces + 1, sizeof(*attached_new));
	if (!add || !del || !attached_new) {
		err = cgfw_seterr(ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < pol->nifaces; i++) {
		const struct cgfw_pol_iface *f = &pol->ifaces[i], *o = find_iface(old, f->name);

		if (!if_nametoindex(f->name)) {
			err = cgfw_seterr(EINVAL,
					  "%s:%d: interface '%s' does not exist in this "
					  "network namespace",
					  f->file ? f->file : "?", f->line, f->name);
			goto out;
		}
		if (!o)
			cgfw_plan_note(plan, '+', "tc attach %s%s%s%s", f->name,
				       f->stateful ? " stateful" : "", f->icmp ? " icmp" : "",
				       f->ssh ? "" : " no-ssh");
		else if (iface_flags(o) != iface_flags(f))
			cgfw_plan_note(plan, '~', "tc attach %s: flags change", f->name);
	}
	for (size_t i = 0; i < old->nifaces; i++)
		if (!find_iface(pol, old->ifaces[i].name))
			cgfw_plan_note(plan, '-', "tc detach %s", old->ifaces[i].name);
	for (size_t i = 0; i < nnow; i++) {
		err = to_tc_rule(now[i].f, now[i].p, now[i].kind, &add[nadd]);
		if (err)
			goto out;
		nadd++;
		if (!has_line(was, nwas, now[i].line)) {
			if (plan)
				plan->rules_added++;
			cgfw_plan_note(plan, '+', "%s", now[i].line);
		}
	}
	for (size_t i = 0; i < nwas; i++) {
		if (has_line(now, nnow, was[i].line))
			continue;
		if (plan)
			plan->rules_removed++;
		cgfw_plan_note(plan, '-', "%s", was[i].line);
		/* an interface that is gone takes its rules with it */
		if (if_nametoindex(was[i].f->name) &&
		    to_tc_rule(was[i].f, was[i].p, was[i].kind, &del[ndel]) == 0)
			ndel++;
	}
	if (!tc)
		goto out; /* plan only */
	for (size_t i = 0; i < pol->nifaces; i++) {
		const struct cgfw_pol_iface *f = &pol->ifaces[i];
		struct cgfw_tc_attach_opts o = { .flags = iface_flags(f) };
		struct cgfw_tc_iface info;
		struct cgfw_tc_iface *cur = NULL;
		size_t ncur = 0;
		bool was_attached = false;

		if (cgfw_tc_ifaces(tc, &cur, &ncur) == 0)
			for (size_t k = 0; k < ncur; k++)
				was_attached |= cur[k].this_netns && !strcmp(cur[k].name, f->name);
		free(cur);
		err = cgfw_tc_attach(tc, f->name, &o, &info);
		if (err)
			goto undo;
		attached_new[i] = !was_attached;
	}
	err = cgfw_tc_rules_update(tc, add, nadd, true);
	if (err < 0)
		goto undo;
	if (ndel) {
		err = cgfw_tc_rules_update(tc, del, ndel, false);
		if (err < 0)
			goto out; /* the new rules are in; stale ones stay, and the error says so */
	}
	for (size_t i = 0; i < old->nifaces; i++)
		if (!find_iface(pol, old->ifaces[i].name) && if_nametoindex(old->ifaces[i].name))
			cgfw_tc_detach(tc, old->ifaces[i].name);
	err = 0;
	goto out;
undo: {
	char msg[1024];

	snprintf(msg, sizeof(msg), "%s", cgfw_errmsg());
	for (size_t i = 0; i < pol->nifaces; i++)
		if (attached_new[i])
			cgfw_tc_detach(tc, pol->ifaces[i].name);
	cgfw_seterr(err, "%s", msg);
}
out:
	free(now);
	free(was);
	free(add);
	free(del);
	free(attached_new);
	return err < 0 ? err : 0;
}
