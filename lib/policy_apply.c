// SPDX-License-Identifier: GPL-2.0-only
/*
 * Applying policies. The policy's rules carry the "policy" origin bits, so
 * rules typed by hand are never touched. One apply is one rule batch: every
 * current policy rule is removed and every desired one added in the same
 * merged update, so each map key flips once from its old to its new value,
 * and a failure restores all keys. The applied policy is saved in compiled
 * form (JSON) under cgfw_var_dir() for `cgfw restore` and the OCI hook.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "policy.h"

const char *cgfw_var_dir(void)
{
	const char *d = getenv("CGFW_STATE_DIR");

	return d && *d ? d : "/var/lib/cgfw";
}

void cgfw_plan_free(struct cgfw_plan *plan)
{
	free(plan->lines);
	memset(plan, 0, sizeof(*plan));
}

#define plan_add cgfw_plan_note

void cgfw_plan_note(struct cgfw_plan *plan, char op, const char *fmt, ...)
{
	struct cgfw_plan_line *m;
	va_list ap;

	if (!plan)
		return;
	m = realloc(plan->lines, (plan->n + 1) * sizeof(*m));
	if (!m)
		return;
	plan->lines = m;
	m[plan->n].op = op;
	va_start(ap, fmt);
	vsnprintf(m[plan->n].text, sizeof(m[plan->n].text), fmt, ap);
	va_end(ap);
	plan->n++;
}

/* ---- compiled rules as JSON: ["deny", "203.0.113.0/24", "egress", "tcp", "80-90"] ---- */

static json_t *rule_to_json(const struct cgfw_rule *r)
{
	char pfx[CGFW_ADDRSTRLEN], ports[16] = "";

	cgfw_format_prefix(&r->pfx, pfx, sizeof(pfx));
	if (r->port_lo || r->port_hi)
		snprintf(ports, sizeof(ports), "%u-%u", r->port_lo, r->port_hi);
	return json_pack("[sssss]", r->action == CGFW_DENY ? "deny" : "allow", pfx,
			 r->dirs == CGFW_DIR_BOTH			   ? "both"
			 : r->dirs == CGFW_DIR_BIT(CGFW_DIR_INGRESS) ? "ingress"
								     : "egress",
			 r->proto ? cgfw_proto_name(r->proto) : "", ports);
}

static int rule_from_json(json_t *j, struct cgfw_rule *r)
{
	const char *act, *pfx, *dir, *proto, *ports;

	memset(r, 0, sizeof(*r));
	if (json_unpack(j, "[sssss]", &act, &pfx, &dir, &proto, &ports) < 0)
		return -EINVAL;
	r->action = !strcmp(act, "deny") ? CGFW_DENY : CGFW_ALLOW;
	r->dirs = !strcmp(dir, "both")	   ? CGFW_DIR_BOTH
		  : !strcmp(dir, "ingress") ? CGFW_DIR_BIT(CGFW_DIR_INGRESS)
					    : CGFW_DIR_BIT(CGFW_DIR_EGRESS);
	r->origin = CGFW_ORIGIN_POLICY;
	if (cgfw_parse_prefix(pfx, &r->pfx) < 0)
		return -EINVAL;
	if (*proto && cgfw_parse_proto(proto, &r->proto) < 0)
		return -EINVAL;
	if (*ports && sscanf(ports, "%hu-%hu", &r->port_lo, &r->port_hi) != 2)
		return -EINVAL;
	return 0;
}

static const char *verdict_str(uint8_t v)
{
	return v == CGFW_VERDICT_DENY ? "deny" : "allow";
}

static json_t *workload_to_json(const struct cgfw_pol_workload *w)
{
	json_t *o = json_object(), *rules = json_array(), *def = json_object();

	json_object_set_new(o, "name", json_string(w->name));
	json_object_set_new(o, "cgroup", w->cgroup ? json_string(w->cgroup) : json_null());
	for (int d = 0; d < CGFW_DIR_COUNT; d++)
		if (w->def_set[d])
			json_object_set_new(def, d == CGFW_DIR_INGRESS ? "ingress" : "egress",
					    json_string(verdict_str(w->def[d])));
	json_object_set_new(o, "default", def);
	for (size_t i = 0; i < w->nrules; i++)
		json_array_append_new(rules, rule_to_json(&w->rules[i].r));
	json_object_set_new(o, "rules", rules);
	json_object_set_new(o, "source", json_sprintf("%s:%d", w->file ? w->file : "?", w->line));
	return o;
}

static int workload_from_json(json_t *o, struct cgfw_pol_workload *w)
{
	json_t *rules = json_object_get(o, "rules"), *def = json_object_get(o, "default"), *v;
	const char *name = json_string_value(json_object_get(o, "name"));
	const char *cg = json_string_value(json_object_get(o, "cgroup"));
	size_t i;

	memset(w, 0, sizeof(*w));
	if (!name || !json_is_array(rules))
		return -EINVAL;
	w->name = strdup(name);
	w->cgroup = cg ? strdup(cg) : NULL;
	for (int d = 0; d < CGFW_DIR_COUNT; d++) {
		const char *s = json_string_value(
			json_object_get(def, d == CGFW_DIR_INGRESS ? "ingress" : "egress"));

		if (s) {
			w->def_set[d] = true;
			w->def[d] = !strcmp(s, "deny") ? CGFW_VERDICT_DENY : CGFW_VERDICT_ALLOW;
		}
	}
	w->rules = calloc(json_array_size(rules) + 1, sizeof(*w->rules));
	if (!w->name || !w->rules)
		return -ENOMEM;
	json_array_foreach(rules, i, v) {
		if (rule_from_json(v, &w->rules[w->nrules].r) < 0)
			return -EINVAL;
		w->nrules++;
	}
	return 0;
}

/* ---- files under the var dir ----------------------------------------------- */

static int mkdirs(const char *sub)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s", cgfw_var_dir());
	for (char *s = p + 1; *s; s++) {
		if (*s == '/') {
			*s = 0;
			mkdir(p, 0755);
			*s = '/';
		}
	}
	if (mkdir(p, 0700) < 0 && errno != EEXIST)
		return cgfw_seterr(errno, "cannot create %s: %s", p, strerror(errno));
	if (sub) {
		snprintf(p, sizeof(p), "%s/%s", cgfw_var_dir(), sub);
		if (mkdir(p, 0700) < 0 && errno != EEXIST)
			return cgfw_seterr(errno, "cannot create %s: %s", p, strerror(errno));
	}
	return 0;
}

/* Write JSON to a temporary file, fsync, rename: readers see old or new. */
int cgfw_write_json_file(const char *path, json_t *j)
{
	char tmp[PATH_MAX + 8];
	FILE *f;
	int err = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "we");
	if (!f)
		return cgfw_seterr(errno, "cannot write %s: %s", tmp, strerror(errno));
	if (json_dumpf(j, f, JSON_COMPACT) < 0 || fputc('\n', f) == EOF || fflush(f) ||
	    fsync(fileno(f)))
		err = -EIO;
	if (fclose(f) && !err)
		err = -EIO;
	if (!err && rename(tmp, path) < 0)
		err = -errno;
	if (err) {
		unlink(tmp);
		return cgfw_seterr(err, "cannot write %s: %s", path, strerror(-err));
	}
	return 0;
}

json_t *cgfw_read_json_file(const char *path, int *err)
{
	json_error_t je;
	json_t *j;

	j = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	if (!j) {
		*err = access(path, F_OK) < 0 ? -ENOENT : -EINVAL;
		if (*err == -EINVAL)
			cgfw_seterr(EINVAL, "%s:%d:%d: %s", path, je.line, je.column, je.text);
		return NULL;
	}
	*err = 0;
	return j;
}

static void saved_path(char *buf, size_t n)
{
	snprintf(buf, n, "%s/policy.json", cgfw_var_dir());
}

int cgfw_policy_load_saved(struct cgfw_policy *pol)
{
	char path[PATH_MAX];
	json_t *j, *ws, *w, *ifs;
	size_t i;
	int err;

	memset(pol, 0, sizeof(*pol));
	saved_path(path, sizeof(path));
	j = cgfw_read_json_file(path, &err);
	if (!j)
		return err == -ENOENT ? 0 : err;
	ws = json_object_get(j, "workloads");
	pol->workloads = calloc(json_array_size(ws) + 1, sizeof(*pol->workloads));
	if (!pol->workloads) {
		json_decref(j);
		return cgfw_seterr(ENOMEM, "out of memory");
	}
	json_array_foreach(ws, i, w) {
		err = workload_from_json(w, &pol->workloads[pol->nworkloads]);
		pol->nworkloads++;
		if (err) {
			json_decref(j);
			return cgfw_seterr(EINVAL, "%s: workload %zu is damaged; re-apply the policy",
					   path, i);
		}
	}
	ifs = json_object_get(j, "interfaces");
	if (json_array_size(ifs)) {
		err = cgfw_ifaces_from_json(ifs, pol);
		if (err) {
			json_decref(j);
			return err;
		}
	}
	json_decref(j);
	return 0;
}

/* ---- container records (written by the OCI hook) ---------------------------- */

int cgfw_containers_load(struct container **ret, size_t *ret_n)
{
	char dir[PATH_MAX];
	struct container *out = NULL;
	size_t n = 0;
	struct dirent *e;
	DIR *d;

	*ret = NULL;
	*ret_n = 0;
	snprintf(dir, sizeof(dir), "%s/containers", cgfw_var_dir());
	d = opendir(dir);
	if (!d)
		return 0;
	while ((e = readdir(d))) {
		char p[PATH_MAX + 256];
		const char *id, *wl, *cg;
		json_int_t cgid;
		json_t *j;
		int err;

		if (e->d_name[0] == '.' || !strstr(e->d_name, ".json") ||
		    strstr(e->d_name, ".tmp"))
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		j = cgfw_read_json_file(p, &err);
		if (!j)
			continue;
		if (json_unpack(j, "{s:s, s:s, s:s, s:I}", "id", &id, "workload", &wl, "cgroup", &cg,
				"cgroup_id", &cgid) == 0) {
			struct container *m = realloc(out, (n + 1) * sizeof(*m));

			if (m) {
				out = m;
				snprintf(out[n].id, sizeof(out[n].id), "%s", id);
				snprintf(out[n].workload, sizeof(out[n].workload), "%s", wl);
				snprintf(out[n].cgroup, sizeof(out[n].cgroup), "%s", cg);
				out[n].cgid = (uint64_t)cgid;
				n++;
			}
		}
		json_decref(j);
	}
	closedir(d);
	*ret = out;
	*ret_n = n;
	return 0;
}

/* ---- apply ------------------------------------------------------------------ */

struct target {
	uint64_t id;
	char rel[PATH_MAX];
	const struct cgfw_pol_workload *w;
	bool attach; /* not attached yet: the apply attaches it */
};

static bool attached(struct cgfw_state *st, uint64_t id)
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
			plan_add(plan, '-', "rule %s", a[0][i++].text);
		} else {
			plan->rules_added++;
			plan_add(plan, '+', "rule %s", a[1][j++].text);
		}
	}
out:
	free(a[0]);
	free(a[1]);
}

static int save_policy(const struct cgfw_policy *pol, const struct target *t, size_t nt)
{
	char path[PATH_MAX];
	json_t *j = json_object(), *ws = json_array(), *files = json_array(), *att = json_array();
	int err;

	for (size_t i = 0; i < pol->nworkloads; i++)
		json_array_append_new(ws, workload_to_json(&pol->workloads[i]));
	for (size_t i = 0; i < pol->nfiles; i++) {
		char *abs = realpath(pol->files[i], NULL);

		json_array_append_new(files, json_string(abs ? abs : pol->files[i]));
		free(abs);
	}
	for (size_t i = 0; i < nt; i++)
		if (t[i].attach)
			json_array_append_new(att, json_integer((json_int_t)t[i].id));
	json_object_set_new(j, "version", json_integer(1));
	json_object_set_new(j, "applied_at", json_integer((json_int_t)(cgfw_now_realtime() / 1000000000ull)));
	json_object_set_new(j, "files", files);
	json_object_set_new(j, "workloads", ws);
	json_object_set_new(j, "interfaces", cgfw_ifaces_to_json(pol));
	err = mkdirs(NULL);
	if (!err) {
		saved_path(path, sizeof(path));
		err = cgfw_write_json_file(path, j);
	}
	json_decref(j);
	return err;
}

/* Cgroup ids a previous apply attached (so a later apply may detach them). */
static int load_policy_attached(uint64_t **ret, size_t *ret_n)
{
	char path[PATH_MAX];
	json_t *j, *v;
	size_t i;
	int err;

	*ret = NULL;
	*ret_n = 0;
	saved_path(path, sizeof(path));
	j = cgfw_read_json_file(path, &err);
	if (!j)
		return 0;
	json_decref(j);
	snprintf(path, sizeof(path), "%s/attached.json", cgfw_var_dir());
	j = cgfw_read_json_file(path, &err);
	if (!j)
		return 0;
	*ret = calloc(json_array_size(j) + 1, sizeof(**ret));
	if (!*ret) {
		json_decref(j);
		return -ENOMEM;
	}
	json_array_foreach(j, i, v)
		(*ret)[(*ret_n)++] = (uint64_t)json_integer_value(v);
	json_decref(j);
	return 0;
}

static int save_policy_attached(const uint64_t *ids, size_t n)
{
	char path[PATH_MAX];
	json_t *j = json_array();
	int err;

	for (size_t i = 0; i < n; i++)
		json_array_append_new(j, json_integer((json_int_t)ids[i]));
	snprintf(path, sizeof(path), "%s/attached.json", cgfw_var_dir());
	err = mkdirs(NULL);
	if (!err)
		err = cgfw_write_json_file(path, j);
	json_decref(j);
	return err;
}

struct defaults_ctx {
	struct cgfw_state *st;
	const struct target *t;
	size_t nt;
};

static int set_defaults(void *arg)
{
	const struct defaults_ctx *dc = arg;

	for (size_t k = 0; k < dc->nt; k++) {
		const struct target *t = &dc->t[k];
		struct cgfw_cgroup cg = { .id = t->id };
		int err;

		snprintf(cg.abs, sizeof(cg.abs), "%s", t->rel);
		snprintf(cg.rel, sizeof(cg.rel), "%s", t->rel);
		for (int d = 0; d < CGFW_DIR_COUNT; d++) {
			err = cgfw_set_default(dc->st, &cg, CGFW_DIR_BIT(d),
					       t->w->def_set[d] ? t->w->def[d] : CGFW_VERDICT_ALLOW);
			if (err)
				return err;
		}
	}
	return 0;
}

static int apply_locked(struct cgfw_state *st, const struct cgfw_policy *pol, bool dry_run,
			struct cgfw_plan *plan)
{
	struct target *t = NULL;
	size_t nt = 0;
	struct container *ct = NULL;
	size_t nct = 0;
	struct cgfw_rule *cur = NULL, *ops = NULL;
	bool *adds = NULL;
	size_t ncur = 0, nops = 0, cap = 0;
	struct cgfw_attachment *att = NULL;
	size_t natt = 0;
	uint64_t *prev_att = NULL, *new_att = NULL;
	size_t nprev = 0, nnew = 0;
	int err;

	err = cgfw_containers_load(&ct, &nct);
	if (!err)
		err = load_policy_attached(&prev_att, &nprev);
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

		if (!attached(st, ct[i].cgid))
			continue;
		if (!w) {
			err = cgfw_seterr(EBUSY,
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
			err = cgfw_seterr(EINVAL, "%s:%d: workload '%s': %s", w->file ? w->file : "?",
					  w->line, w->name, cgfw_errmsg());
			goto out;
		}
		if (!cg.id) {
			plan->pending++;
			plan_add(plan, '!', "workload %s: cgroup %s does not exist yet (pending)",
				 w->name, cg.rel);
			continue;
		}
		t[nt].id = cg.id;
		snprintf(t[nt].rel, sizeof(t[nt].rel), "%s", cg.rel);
		t[nt].w = w;
		t[nt].attach = !attached(st, cg.id);
		if (t[nt].attach) {
			plan->attached++;
			plan_add(plan, '+', "attach %s (workload %s)", cg.rel[0] ? cg.rel : "/",
				 w->name);
		}
		new_att[nnew++] = cg.id;
		nt++;
	}
	/* Cgroups an earlier apply attached that this policy no longer names. */
	for (size_t i = 0; i < nprev; i++) {
		bool keep = false;

		for (size_t k = 0; k < nt; k++)
			keep |= t[k].id == prev_att[i];
		if (!keep && attached(st, prev_att[i])) {
			struct cgfw_attachment a = {};

			cgfw_attachment_get(st, prev_att[i], &a);
			plan->detached++;
			plan_add(plan, '-', "detach %s (no longer in the policy; kept attached if it "
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
				plan_add(plan, '~', "default %s %s: %s -> %s",
					 t[k].rel[0] ? t[k].rel : "/",
					 d == CGFW_DIR_INGRESS ? "ingress" : "egress", verdict_str(have),
					 verdict_str(want));
		}
	}
	err = cgfw_policy_apply_ifaces(pol, true, plan);
	if (err || dry_run)
		goto out;

	/* 1. attach what is new (nothing is enforced on them before step 2) */
	for (size_t k = 0; k < nt; k++) {
		struct cgfw_cgroup cg = {};

		if (!t[k].attach)
			continue;
		cg.id = t[k].id;
		snprintf(cg.rel, sizeof(cg.rel), "%s", t[k].rel);
		err = cgfw_cgroup_resolve(NULL, t[k].rel, true, &cg);
		if (!err && cg.id != t[k].id)
			err = cgfw_seterr(EAGAIN, "cgroup %s changed while applying", t[k].rel);
		if (!err)
			err = cgfw_attach(st, &cg);
		if (err)
			goto undo_attach;
	}
	/* 2. the rules, all or nothing, and 3. the default verdicts, switched
	 * while the old and the new rules are both in place */
	{
		struct defaults_ctx dc = { .st = st, .t = t, .nt = nt };

		err = cgfw_rules_update_mid(st, ops, adds, false, nops, NULL, NULL, set_defaults,
					    &dc);
	}
	if (err < 0)
		goto undo_attach;
	/* 4. interfaces (the plan lines were made above) */
	err = cgfw_policy_apply_ifaces(pol, false, NULL);
	if (err)
		goto out; /* the interface step restores its own previous state */
	/* 5. what the policy no longer names: detached, unless rules typed by
	 * hand still use it; then it only goes back to default allow. */
	for (size_t i = 0; i < nprev; i++) {
		bool keep = false, manual = false;

		for (size_t k = 0; k < nt; k++)
			keep |= t[k].id == prev_att[i];
		if (keep || !attached(st, prev_att[i]))
			continue;
		for (size_t k = 0; k < ncur; k++)
			manual |= cur[k].scope == prev_att[i] && cur[k].origin == CGFW_ORIGIN_MANUAL;
		if (manual) {
			struct cgfw_cgroup cg = { .id = prev_att[i] };

			cgfw_set_default(st, &cg, CGFW_DIR_BOTH, CGFW_VERDICT_ALLOW);
		} else {
			cgfw_detach_id(st, prev_att[i]);
		}
	}
	err = save_policy(pol, t, nt);
	if (!err)
		err = save_policy_attached(new_att, nnew);
	goto out;

nomem:
	err = cgfw_seterr(ENOMEM, "out of memory");
	goto out;
undo_attach:
	{
		char msg[1024];

		snprintf(msg, sizeof(msg), "%s", cgfw_errmsg());
		for (size_t k = 0; k < nt; k++)
			if (t[k].attach && attached(st, t[k].id))
				cgfw_detach_id(st, t[k].id);
		cgfw_seterr(err, "%s; the previous policy is still in force", msg);
	}
out:
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

int cgfw_policy_apply(const struct cgfw_policy *pol, bool dry_run, struct cgfw_plan *plan)
{
	struct cgfw_state *st = NULL;
	int err;

	memset(plan, 0, sizeof(*plan));
	/* A diff reads; it never creates state that does not exist yet. */
	if (!dry_run || cgfw_state_exists()) {
		err = cgfw_state_open(dry_run ? CGFW_OPEN_LOCK : CGFW_OPEN_CREATE | CGFW_OPEN_LOCK,
				      &st);
		if (err)
			return err;
	}
	err = apply_locked(st, pol, dry_run, plan);
	cgfw_state_close(st);
	return err;
}

int cgfw_policy_restore(struct cgfw_plan *plan)
{
	struct cgfw_policy pol;
	struct container *ct = NULL;
	size_t nct = 0;
	int err;

	err = cgfw_policy_load_saved(&pol);
	if (err)
		return err;
	/* Containers still running get their cgroups re-attached first. */
	cgfw_containers_load(&ct, &nct);
	for (size_t i = 0; i < nct; i++) {
		struct cgfw_cgroup cg;
		struct cgfw_state *st = NULL;

		if (cgfw_cgroup_resolve(NULL, ct[i].cgroup, true, &cg) < 0 || cg.id != ct[i].cgid) {
			char p[PATH_MAX + 160];

			/* the container is gone: forget it */
			snprintf(p, sizeof(p), "%s/containers/%s.json", cgfw_var_dir(), ct[i].id);
			unlink(p);
			continue;
		}
		if (cgfw_state_open(CGFW_OPEN_CREATE | CGFW_OPEN_LOCK, &st) == 0) {
			cgfw_attach(st, &cg);
			cgfw_state_close(st);
		}
	}
	free(ct);
	err = cgfw_policy_apply(&pol, false, plan);
	cgfw_policy_free(&pol);
	if (!err)
		err = cgfw_manual_restore(plan);
	return err;
}

int cgfw_policy_enforce_pending(const struct cgfw_cgroup *cg)
{
	struct cgfw_policy pol;
	struct cgfw_plan plan;
	bool match = false;
	int err;

	err = cgfw_policy_load_saved(&pol);
	if (err)
		return err;
	match = cg->id && cgfw_policy_workload_of(&pol, cg->id);
	if (match && cgfw_state_exists()) {
		struct cgfw_state *st = NULL;

		/* Already enforced (the usual case): nothing to do. */
		if (cgfw_state_open(CGFW_OPEN_LOCK | CGFW_OPEN_SHARED, &st) == 0 &&
		    attached(st, cg->id))
			match = false;
		cgfw_state_close(st);
	}
	err = match ? cgfw_policy_apply(&pol, false, &plan) : 0;
	if (match)
		cgfw_plan_free(&plan);
	cgfw_policy_free(&pol);
	return err < 0 ? err : match;
}

int cgfw_policy_show(json_t **ret)
{
	struct cgfw_policy pol;
	struct cgfw_state *st = NULL;
	struct container *ct = NULL;
	size_t nct = 0;
	json_t *o, *ws;
	int err;

	err = cgfw_policy_load_saved(&pol);
	if (err)
		return err;
	if (cgfw_state_exists())
		cgfw_state_open(CGFW_OPEN_LOCK | CGFW_OPEN_SHARED, &st);
	cgfw_containers_load(&ct, &nct);
	o = json_object();
	ws = json_array();
	for (size_t i = 0; i < pol.nworkloads; i++) {
		const struct cgfw_pol_workload *w = &pol.workloads[i];
		json_t *j = workload_to_json(w), *cs = json_array();
		const char *state = "hook-only";

		json_object_del(j, "rules");
		json_object_del(j, "source");
		json_object_set_new(j, "rules", json_integer((json_int_t)w->nrules));
		if (w->cgroup) {
			struct cgfw_cgroup cg;

			if (cgfw_cgroup_resolve(NULL, w->cgroup, false, &cg) < 0 || !cg.id)
				state = "pending";
			else if (st && attached(st, cg.id))
				state = "enforced";
			else
				state = "not attached (run cgfw restore)";
		}
		for (size_t c = 0; c < nct; c++)
			if (!strcmp(ct[c].workload, w->name))
				json_array_append_new(cs, json_pack("{s:s, s:s}", "id", ct[c].id,
								    "cgroup", ct[c].cgroup));
		json_object_set_new(j, "state", json_string(state));
		json_object_set_new(j, "containers", cs);
		json_array_append_new(ws, j);
	}
	json_object_set_new(o, "workloads", ws);
	json_object_set_new(o, "interfaces", cgfw_ifaces_to_json(&pol));
	free(ct);
	cgfw_state_close(st);
	cgfw_policy_free(&pol);
	*ret = o;
	return 0;
}
