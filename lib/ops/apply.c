// SPDX-License-Identifier: GPL-2.0-only
/*
 * Applying policies. The policy's rules carry the "policy" origin bits, so
 * rules typed by hand are never touched. One apply is one change of the
 * cgroup datapath (cgfw_change_*): every current policy rule removed, every
 * desired one added, attachments, defaults and detachments, made live by one
 * switch, so packets meet the old policy or the new one. The applied policy
 * is saved in compiled form (JSON) under cgfw_var_dir() for `cgfw restore`
 * and the OCI hook, staged so that it always names the policy in force.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* ---- apply ------------------------------------------------------------------ */

struct target {
	uint64_t id;
	char rel[PATH_MAX];
	const struct cgfw_pol_workload *w;
	bool attach; /* not attached yet: the apply attaches it */
};

bool cgfw_ops_attached(struct cgfw_state *st, uint64_t id)
{
	struct cgfw_attachment a;

	return st && cgfw_attachment_get(st, id, &a) == 0;
}

static int push_rules(struct cgfw_rule **rules, bool **adds, size_t *n, size_t *cap,
		      const struct cgfw_rule *r, bool add)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 1024;
		struct cgfw_rule *m = realloc(*rules, nc * sizeof(*m));
		bool *a = realloc(*adds, nc * sizeof(*a));

		if (m)
			*rules = m;
		if (a)
			*adds = a;
		if (!m || !a)
			return -ENOMEM;
		*cap = nc;
	}
	(*rules)[*n] = *r;
	(*adds)[*n] = add;
	(*n)++;
	return 0;
}

/* One line of a rule for diffs: "cgroup egress deny 203.0.113.0/24 tcp 80-90". */
static void rule_text(const struct cgfw_rule *r, int dir, const char *cg, char *buf, size_t n)
{
	char pfx[CGFW_ADDRSTRLEN], ports[16] = "";

	cgfw_format_prefix(&r->pfx, pfx, sizeof(pfx));
	if ((r->proto == CGFW_PROTO_TCP || r->proto == CGFW_PROTO_UDP) &&
	    (r->port_lo || r->port_hi) && !(r->port_lo == 0 && r->port_hi == 65535))
		snprintf(ports, sizeof(ports), r->port_lo == r->port_hi ? " %u" : " %u-%u",
			 r->port_lo, r->port_hi);
	snprintf(buf, n, "%s %s %s %s%s%s%s", cg, dir == CGFW_DIR_INGRESS ? "ingress" : "egress",
		 r->action == CGFW_DENY ? "deny" : "allow", pfx, r->proto ? " " : "",
		 r->proto ? cgfw_proto_name(r->proto) : "", ports);
}

struct atom {
	char text[200];
};

static int cmp_atom(const void *a, const void *b)
{
	return strcmp(((const struct atom *)a)->text, ((const struct atom *)b)->text);
}

static const char *scope_path(const struct target *t, size_t nt, uint64_t id, char *buf, size_t n)
{
	for (size_t i = 0; i < nt; i++)
		if (t[i].id == id)
			return t[i].rel[0] ? t[i].rel : "/";
	snprintf(buf, n, "id:%llu", (unsigned long long)id);
	return buf;
}

/* Add +/- lines for the rule atoms that differ between old and new. */
static void diff_rules(struct cgfw_plan *plan, const struct cgfw_rule *rules, const bool *adds,
		       size_t n, const struct target *t, size_t nt,
		       const struct cgfw_attachment *att, size_t natt)
{
	struct atom *a[2] = { calloc(2 * n + 1, sizeof(struct atom)),
			      calloc(2 * n + 1, sizeof(struct atom)) };
	size_t na[2] = { 0, 0 }, i = 0, j = 0;

	if (!a[0] || !a[1])
		goto out;
	for (size_t k = 0; k < n; k++) {
		char buf[32];
		const char *cg = scope_path(t, nt, rules[k].scope, buf, sizeof(buf));

		for (size_t x = 0; x < natt && cg == buf; x++)
			if (att[x].id == rules[k].scope)
				cg = att[x].path[0] ? att[x].path : "/";
		for (int d = 0; d < CGFW_DIR_COUNT; d++) {
			int side = adds[k];

			if (!(rules[k].dirs & CGFW_DIR_BIT(d)))
				continue;
			rule_text(&rules[k], d, cg, a[side][na[side]++].text, sizeof(a[0][0].text));
		}
	}
	qsort(a[0], na[0], sizeof(struct atom), cmp_atom);
	qsort(a[1], na[1], sizeof(struct atom), cmp_atom);
	while (i < na[0] || j < na[1]) {
		int c = i >= na[0] ? 1 : j >= na[1] ? -1 : strcmp(a[0][i].text, a[1][j].text);

		if (c == 0) {
			i++;
			j++;
		} else if (c < 0) {
			plan->rules_removed++;
			cgfw_plan_note(plan, '-', "rule %s", a[0][i++].text);
		} else {
			plan->rules_added++;
			cgfw_plan_note(plan, '+', "rule %s", a[1][j++].text);
		}
	}
out:
	free(a[0]);
	free(a[1]);
}

static int apply_locked(struct cgfw_pin *pin, struct cgfw_state *st, const struct cgfw_policy *pol,
			const struct cgfw_policy *old, bool dry_run, struct cgfw_plan *plan)
{
	struct target *t = NULL;
	size_t nt = 0;
	struct cgfw_container *ct = NULL;
	size_t nct = 0;
	struct cgfw_rule *cur = NULL, *ops = NULL;
	bool *adds = NULL;
	size_t ncur = 0, nops = 0, cap = 0;
	struct cgfw_attachment *att = NULL;
	size_t natt = 0;
	uint64_t *prev_att = NULL, *new_att = NULL;
	struct cgfw_tc *tc = NULL;
	struct cgfw_change *ch = NULL;
	size_t nprev = 0, nnew = 0;
	uint64_t hash = 0;
	int err;

	err = cgfw_containers_load(&ct, &nct);
	if (!err)
		err = cgfw_store_load_attached(&prev_att, &nprev);
	if (err)
		goto out;
	t = calloc(pol->nworkloads + nct + 1, sizeof(*t));
	new_att = calloc(pol->nworkloads + nprev + 1, sizeof(*new_att));
	if (!t || !new_att) {
		err = cgfw_seterr(ENOMEM, "out of memory");
		goto out;
	}
	/* Running containers keep their workload: refuse to drop one in use. */
	for (size_t i = 0; i < nct; i++) {
		const struct cgfw_pol_workload *w = cgfw_policy_workload(pol, ct[i].workload);

		if (!cgfw_ops_attached(st, ct[i].cgid))
			continue;
		if (!w) {
			err = cgfw_seterr(
				EBUSY,
				"workload '%s' is used by running container %s; keep it in "
				"the policy until the container stops",
				ct[i].workload, ct[i].id);
			goto out;
		}
		t[nt].id = ct[i].cgid;
		snprintf(t[nt].rel, sizeof(t[nt].rel), "%s", ct[i].cgroup);
		t[nt].w = w;
		nt++;
	}
	for (size_t i = 0; i < pol->nworkloads; i++) {
		const struct cgfw_pol_workload *w = &pol->workloads[i];
		struct cgfw_cgroup cg;

		if (!w->cgroup)
			continue;
		err = cgfw_cgroup_resolve(NULL, w->cgroup, false, &cg);
		if (err) {
			err = cgfw_seterr(EINVAL, "%s:%d: workload '%s': %s",
					  w->file ? w->file : "?", w->line, w->name, cgfw_errmsg());
			goto out;
		}
		if (!cg.id) {
			plan->pending++;
			cgfw_plan_note(plan, '!',
				       "workload %s: cgroup %s does not exist yet (pending)",
				       w->name, cg.rel);
			continue;
		}
		t[nt].id = cg.id;
		snprintf(t[nt].rel, sizeof(t[nt].rel), "%s", cg.rel);
		t[nt].w = w;
		t[nt].attach = !cgfw_ops_attached(st, cg.id);
		if (t[nt].attach) {
			plan->attached++;
			cgfw_plan_note(plan, '+', "attach %s (workload %s)",
				       cg.rel[0] ? cg.rel : "/", w->name);
		}
		new_att[nnew++] = cg.id;
		nt++;
	}
	/* Cgroups an earlier apply attached that this policy no longer names. */
	for (size_t i = 0; i < nprev; i++) {
		bool keep = false;

		for (size_t k = 0; k < nt; k++)
			keep |= t[k].id == prev_att[i];
		if (!keep && cgfw_ops_attached(st, prev_att[i])) {
			struct cgfw_attachment a = {};

			cgfw_attachment_get(st, prev_att[i], &a);
			plan->detached++;
			cgfw_plan_note(plan, '-',
				       "detach %s (no longer in the policy; kept attached if it "
				       "has rules added by hand)",
				       a.path[0] ? a.path : "/");
		} else if (keep) {
			bool listed = false;

			for (size_t k = 0; k < nnew; k++)
				listed |= new_att[k] == prev_att[i];
			if (!listed)
				new_att[nnew++] = prev_att[i];
		}
	}

	/* Remove every policy rule in force, add every desired one: one batch. */
	err = st ? cgfw_rules_list(st, &cur, &ncur) : 0; /* no state yet: a diff of nothing */
	if (err)
		goto out;
	for (size_t i = 0; i < ncur; i++)
		if (cur[i].origin == CGFW_ORIGIN_POLICY &&
		    push_rules(&ops, &adds, &nops, &cap, &cur[i], false) < 0)
			goto nomem;
	for (size_t k = 0; k < nt; k++) {
		for (size_t i = 0; i < t[k].w->nrules; i++) {
			struct cgfw_rule r = t[k].w->rules[i].r;

			r.scope = t[k].id;
			r.origin = CGFW_ORIGIN_POLICY;
			if (push_rules(&ops, &adds, &nops, &cap, &r, true) < 0)
				goto nomem;
		}
	}
	err = st ? cgfw_attachments(st, &att, &natt) : 0;
	if (err)
		goto out;
	diff_rules(plan, ops, adds, nops, t, nt, att, natt);
	for (size_t k = 0; k < nt; k++) {
		struct cgfw_attachment a = {};

		if (st)
			cgfw_attachment_get(st, t[k].id, &a);
		for (int d = 0; d < CGFW_DIR_COUNT; d++) {
			uint8_t want = t[k].w->def_set[d] ? t[k].w->def[d] : CGFW_VERDICT_ALLOW;
			uint8_t have = t[k].attach ? CGFW_VERDICT_ALLOW : a.def[d];

			if (want != have)
				cgfw_plan_note(plan, '~', "default %s %s: %s -> %s",
					       t[k].rel[0] ? t[k].rel : "/",
					       d == CGFW_DIR_INGRESS ? "ingress" : "egress",
					       cgfw_verdict_name(have), cgfw_verdict_name(want));
		}
		if (t[k].w->audit != (!t[k].attach && a.audit))
			cgfw_plan_note(plan, '~', "mode %s: %s -> %s", t[k].rel[0] ? t[k].rel : "/",
				       t[k].w->audit ? "enforce" : "audit",
				       t[k].w->audit ? "audit" : "enforce");
	}
	err = cgfw_policy_apply_ifaces(NULL, pol, old, plan);
	if (err || dry_run)
		goto out;

	/*
	 * One change: attach what is new, swap the policy rules, set the
	 * defaults, detach what the policy no longer names (unless rules typed
	 * by hand still use it: then it only goes back to default allow). The
	 * saved policy is staged first and carried by the rule set's hash, so
	 * after a kill at any moment the next command knows which one is in
	 * force (cgfw_store_repair).
	 */
	err = cgfw_change_begin(st, &ch);
	for (size_t k = 0; !err && k < nt; k++) {
		struct cgfw_cgroup cg = {};

		if (!t[k].attach)
			continue;
		err = cgfw_cgroup_resolve(NULL, t[k].rel, true, &cg);
		if (!err && cg.id != t[k].id)
			err = cgfw_seterr(EAGAIN, "cgroup %s changed while applying", t[k].rel);
		if (!err)
			err = cgfw_change_attach(ch, &cg);
	}
	if (!err) {
		int changed = cgfw_change_rules(ch, ops, adds, false, nops);

		err = changed < 0 ? changed : 0;
	}
	for (size_t k = 0; !err && k < nt; k++) {
		for (int d = 0; !err && d < CGFW_DIR_COUNT; d++)
			err = cgfw_change_default(ch, t[k].id, CGFW_DIR_BIT(d),
						  t[k].w->def_set[d] ? t[k].w->def[d] :
								       CGFW_VERDICT_ALLOW);
		if (!err)
			err = cgfw_change_audit(ch, t[k].id, t[k].w->audit);
	}
	for (size_t i = 0; !err && i < nprev; i++) {
		bool keep = false, manual = false;

		for (size_t k = 0; k < nt; k++)
			keep |= t[k].id == prev_att[i];
		if (keep || !cgfw_ops_attached(st, prev_att[i]))
			continue;
		for (size_t k = 0; k < ncur; k++)
			manual |= cur[k].scope == prev_att[i] &&
				  cur[k].origin == CGFW_ORIGIN_MANUAL;
		err = manual ? cgfw_change_default(ch, prev_att[i], CGFW_DIR_BOTH,
						   CGFW_VERDICT_ALLOW) :
			       cgfw_change_detach(ch, prev_att[i]);
	}
	if (!err)
		err = cgfw_store_stage_policy(pol, new_att, nnew, &hash);
	if (!err) {
		cgfw_change_policy(ch, hash);
		err = cgfw_change_commit(ch);
		if (err)
			cgfw_store_discard_policy();
	}
	if (err) {
		char msg[1024];

		snprintf(msg, sizeof(msg), "%s", cgfw_errmsg());
		err = cgfw_seterr(err, "%s; the previous policy is still in force", msg);
		goto out;
	}
	err = cgfw_store_finish_policy();
	if (err)
		goto out;
	/* Interfaces (the plan lines were made above): the TC half, on the same
	 * root and under the same lock. */
	if (pol->nifaces || old->nifaces) {
		err = cgfw_tc_open_at(pin, &tc);
		if (!err)
			err = cgfw_policy_apply_ifaces(tc, pol, old, NULL);
	}
	goto out;

nomem:
	err = cgfw_seterr(ENOMEM, "out of memory");
	goto out;
out:
	cgfw_change_free(ch);
	cgfw_tc_close(tc);
	free(t);
	free(ct);
	free(cur);
	free(ops);
	free(adds);
	free(att);
	free(prev_att);
	free(new_att);
	return err < 0 ? err : 0;
}

int cgfw_policy_apply(const struct cgfw_policy *pol, bool dry_run, struct cgfw_plan *ret_plan)
{
	_cleanup_pin_ struct cgfw_pin *pin = NULL;
	struct cgfw_state *st = NULL;
	struct cgfw_policy old = {};
	struct cgfw_plan plan = {};
	int err;

	/* A diff reads; it never creates state that does not exist yet. */
	if (!dry_run || cgfw_state_exists()) {
		err = cgfw_pin_open(dry_run ? CGFW_OPEN_LOCK : CGFW_OPEN_CREATE | CGFW_OPEN_LOCK,
				    &pin);
		if (!err)
			err = cgfw_state_open_at(pin, &st);
		if (!err && !dry_run)
			err = cgfw_store_repair(st);
		if (err) {
			cgfw_state_close(st);
			return err;
		}
	}
	err = cgfw_policy_load_saved(&old);
	if (!err)
		err = apply_locked(pin, st, pol, &old, dry_run, &plan);
	cgfw_policy_free(&old);
	cgfw_state_close(st);
	if (err) {
		cgfw_plan_free(&plan);
		return err;
	}
	*ret_plan = plan;
	return 0;
}
