// SPDX-License-Identifier: GPL-2.0-only
/*
 * OCI runtime hook (oci-hooks(5), runtime-spec config.md#posix-platform-hooks).
 *
 * createRuntime: the container's process exists but has not run the user's
 * program yet. Find its cgroup, attach, and enforce the workload named by the
 * annotation io.cgfw.policy; record what was done. poststop: undo it from the
 * record. The state JSON and the annotations are untrusted: ids and names are
 * checked against strict character sets, paths never contain "..", and
 * nothing outside /proc/PID/cgroup, the bundle's config.json, the cgroup
 * filesystem and cgfw's own state is read. No PATH, no shelling out.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define ANNOTATION "io.cgfw.policy"

static bool safe_id(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > 128)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' || *s == '.'))
			return false;
	return true;
}

/* The container's cgroup v2 path from /proc/PID/cgroup ("0::/path"). */
static int cgroup_of_pid(long pid, char *buf, size_t n)
{
	char p[64], line[PATH_MAX + 16];
	FILE *f;
	int err = -ENOENT;

	snprintf(p, sizeof(p), "/proc/%ld/cgroup", pid);
	f = fopen(p, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "0::", 3)) {
			line[strcspn(line, "\n")] = 0;
			if (strcmp(line + 3, "/") != 0) { /* "/" alone: not in a v2 cgroup */
				snprintf(buf, n, "%s", line + 3);
				err = 0;
			}
			break;
		}
	}
	fclose(f);
	return err;
}

/*
 * linux.cgroupsPath from the bundle: a cgroupfs path ("/machine/ctr") or a
 * systemd one ("slice:prefix:name" -> slice/prefix-name.scope).
 */
static int cgroup_of_bundle(const char *bundle, char *buf, size_t n)
{
	char path[PATH_MAX];
	json_error_t je;
	const char *cp;
	json_t *cfg;
	struct stat sb;
	int err = 0;

	if (bundle[0] != '/' || strstr(bundle, ".."))
		return cgfw_seterr(EINVAL, "bundle path '%s' is not a clean absolute path", bundle);
	snprintf(path, sizeof(path), "%s/config.json", bundle);
	if (stat(path, &sb) < 0 || !S_ISREG(sb.st_mode) || sb.st_size > (16 << 20))
		return cgfw_seterr(ENOENT, "cannot read %s", path);
	cfg = json_load_file(path, 0, &je);
	if (!cfg)
		return cgfw_seterr(EINVAL, "%s:%d: %s", path, je.line, je.text);
	cp = json_string_value(json_object_get(json_object_get(cfg, "linux"), "cgroupsPath"));
	if (!cp || !*cp || strstr(cp, "..")) {
		err = cgfw_seterr(ENOENT, "%s has no usable linux.cgroupsPath", path);
	} else if (cp[0] != '/' && strchr(cp, ':')) {
		char slice[256], prefix[256], name[256];

		if (sscanf(cp, "%255[^:]:%255[^:]:%255s", slice, prefix, name) != 3)
			err = cgfw_seterr(EINVAL, "cannot read systemd cgroupsPath '%s'", cp);
		else
			snprintf(buf, n, "%s/%s-%s.scope", slice, prefix, name);
	} else {
		snprintf(buf, n, "%s", cp);
	}
	json_decref(cfg);
	return err;
}

/* Does the process's cgroup @p belong to the bundle's cgroupsPath @b? */
static bool same_cgroup(const char *p, const char *b)
{
	size_t np, nb;

	while (*p == '/')
		p++;
	while (*b == '/')
		b++;
	np = strlen(p);
	nb = strlen(b);
	if (!nb)
		return false;
	/* The path itself, below it, or (systemd) at the end of its slices. */
	if (!strncmp(p, b, nb) && (p[nb] == 0 || p[nb] == '/'))
		return true;
	return np > nb && p[np - nb - 1] == '/' && !strcmp(p + np - nb, b);
}

/*
 * The container's cgroup v2 path. The pid's cgroup is what the kernel says,
 * but the state is untrusted: it is believed only when the bundle's
 * cgroupsPath names the same cgroup, or (no cgroupsPath) when the path
 * names the container as runtimes do. Without a pid, the bundle's path.
 */
static int container_cgroup(const char *id, long pid, const char *bundle, char *buf, size_t n)
{
	char from_bundle[PATH_MAX] = "";
	int err, berr = -ENOENT;

	if (bundle) {
		berr = cgroup_of_bundle(bundle, from_bundle, sizeof(from_bundle));
		if (berr && berr != -ENOENT)
			return cgfw_seterr(berr, "container %s: cannot find its cgroup: %s", id,
					   cgfw_errmsg());
	}
	err = pid > 0 ? cgroup_of_pid(pid, buf, n) : -ENOENT;
	if (!err) {
		if (!berr && !same_cgroup(buf, from_bundle))
			return cgfw_seterr(EINVAL,
					   "container %s: its process %ld is in cgroup %s, but its "
					   "bundle says %s",
					   id, pid, buf, from_bundle);
		if (berr && !strstr(buf, id))
			return cgfw_seterr(
				EINVAL,
				"container %s: cannot verify that cgroup %s of process %ld "
				"is the container's (no cgroupsPath in its bundle, and the "
				"path does not name the container)",
				id, buf, pid);
		return 0;
	}
	if (!berr) {
		snprintf(buf, n, "%s", from_bundle);
		return 0;
	}
	if (bundle)
		return cgfw_seterr(ENOENT, "container %s: cannot find its cgroup: %s", id,
				   cgfw_errmsg());
	return cgfw_seterr(ENOENT,
			   "container %s: cannot find its cgroup: no pid in a cgroup v2 "
			   "cgroup and no bundle",
			   id);
}

static int create_runtime(const char *id, const char *name, long pid, const char *bundle)
{
	struct cgfw_policy pol;
	const struct cgfw_pol_workload *w;
	struct cgfw_state *st = NULL;
	struct cgfw_cgroup cg;
	struct cgfw_rule *rules = NULL;
	char path[PATH_MAX], rec[PATH_MAX + 160];
	struct cgfw_attachment prev = { .def = { CGFW_VERDICT_ALLOW, CGFW_VERDICT_ALLOW } };
	struct cgfw_change *ch = NULL;
	bool was_attached;
	int err;

	err = cgfw_policy_load_saved(&pol);
	if (err)
		return err;
	w = cgfw_policy_workload(&pol, name);
	if (!w) {
		err = cgfw_seterr(EINVAL,
				  "container %s: unknown policy '%s' (annotation %s; see "
				  "'cgfw policy show')",
				  id, name, ANNOTATION);
		goto out;
	}
	err = container_cgroup(id, pid, bundle, path, sizeof(path));
	if (err)
		goto out;
	/* Both sources give the path from the cgroup2 root, with a leading '/'. */
	err = cgfw_cgroup_resolve(NULL, path[0] == '/' && path[1] ? path + 1 : path, true, &cg);
	if (err) {
		err = cgfw_seterr(err, "container %s: %s", id, cgfw_errmsg());
		goto out;
	}
	if (!cg.rel[0]) {
		err = cgfw_seterr(EINVAL,
				  "container %s: its cgroup is the cgroup2 root (%s); "
				  "refusing to enforce a workload on every process",
				  id, cg.abs);
		goto out;
	}
	err = cgfw_state_open(CGFW_OPEN_CREATE | CGFW_OPEN_LOCK, &st);
	if (!err)
		err = cgfw_store_repair(st);
	if (err)
		goto out;
	{
		json_int_t rid;
		int rwas;
		json_t *j;

		was_attached = cgfw_attachment_get(st, cg.id, &prev) == 0;
		/* Run again for the same container (hook listed for two stages):
		 * what was there before the first run is what poststop restores. */
		cgfw_store_container_path(id, rec, sizeof(rec));
		j = NULL;
		cgfw_store_container_read(id, &j);
		if (j && !json_unpack(j, "{s:I, s:b}", "cgroup_id", &rid, "was_attached", &rwas) &&
		    (uint64_t)rid == cg.id)
			was_attached = rwas;
		json_decref(j);
		err = 0;
	}
	rules = calloc(w->nrules + 1, sizeof(*rules));
	if (!rules) {
		err = cgfw_seterr(ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < w->nrules; i++) {
		rules[i] = w->rules[i].r;
		rules[i].scope = cg.id;
		rules[i].origin = CGFW_ORIGIN_POLICY;
	}
	/* The record is what poststop undoes: written before anything is enforced. */
	{
		json_t *j = json_pack("{s:s, s:s, s:s, s:I, s:b, s:i, s:i}", "id", id, "workload",
				      name, "cgroup", cg.rel, "cgroup_id", (json_int_t)cg.id,
				      "was_attached", was_attached, "prev_ingress",
				      prev.def[CGFW_DIR_INGRESS], "prev_egress",
				      prev.def[CGFW_DIR_EGRESS]);

		err = cgfw_store_container_save(id, j);
		json_decref(j);
	}
	if (err)
		goto out;
	/* Attachment, rules and defaults: one change, live before the process runs. */
	err = cgfw_change_begin(st, &ch);
	if (!err)
		err = cgfw_change_attach(ch, &cg);
	if (!err) {
		int changed = cgfw_change_rules(ch, rules, NULL, true, w->nrules);

		err = changed < 0 ? changed : 0;
	}
	for (int d = 0; !err && d < CGFW_DIR_COUNT; d++)
		err = cgfw_change_default(ch, cg.id, CGFW_DIR_BIT(d),
					  w->def_set[d] ? w->def[d] : CGFW_VERDICT_ALLOW);
	if (!err)
		err = cgfw_change_audit(ch, cg.id, w->audit);
	if (!err)
		err = cgfw_change_commit(ch);
	if (err) {
		char msg[1024];

		snprintf(msg, sizeof(msg), "%s", cgfw_errmsg());
		unlink(rec);
		cgfw_seterr(err, "container %s: %s", id, msg);
	}
out:
	cgfw_change_free(ch);
	free(rules);
	cgfw_state_close(st);
	cgfw_policy_free(&pol);
	return err < 0 ? err : 0;
}

/*
 * The cgroup was attached before the container started (a shared parent, a
 * policy workload): put back what the hook changed instead of detaching.
 * Policy rules on the cgroup go, the defaults return to what they were, and
 * if the saved policy names this cgroup, it is applied again.
 */
static int undo_on_shared(struct cgfw_state *st, uint64_t cgid, int prev_in, int prev_eg)
{
	struct cgfw_rule *all = NULL;
	struct cgfw_change *ch = NULL;
	struct cgfw_policy pol;
	size_t n = 0, m = 0;
	bool owned = false;
	int err;

	err = cgfw_rules_list(st, &all, &n);
	if (err)
		return err;
	for (size_t i = 0; i < n; i++)
		if (all[i].scope == cgid && all[i].origin == CGFW_ORIGIN_POLICY)
			all[m++] = all[i];
	err = cgfw_change_begin(st, &ch);
	if (!err) {
		int changed = cgfw_change_rules(ch, all, NULL, false, m);

		err = changed < 0 ? changed : 0;
	}
	if (!err)
		err = cgfw_change_default(ch, cgid, CGFW_DIR_BIT(CGFW_DIR_INGRESS),
					  prev_in == CGFW_VERDICT_DENY ? CGFW_VERDICT_DENY :
									 CGFW_VERDICT_ALLOW);
	if (!err)
		err = cgfw_change_default(ch, cgid, CGFW_DIR_BIT(CGFW_DIR_EGRESS),
					  prev_eg == CGFW_VERDICT_DENY ? CGFW_VERDICT_DENY :
									 CGFW_VERDICT_ALLOW);
	if (!err)
		err = cgfw_change_commit(ch);
	cgfw_change_free(ch);
	free(all);
	if (err < 0)
		return err;
	if (cgfw_policy_load_saved(&pol) < 0)
		return 0;
	owned = cgfw_policy_workload_of(&pol, cgid) != NULL;
	cgfw_policy_free(&pol);
	return owned ? 1 : 0;
}

static int poststop(const char *id)
{
	char rec[PATH_MAX + 160];
	struct cgfw_state *st = NULL;
	json_int_t cgid = 0;
	int was = 0, prev_in = CGFW_VERDICT_ALLOW, prev_eg = CGFW_VERDICT_ALLOW, err = 0;
	json_t *j = NULL;

	cgfw_store_container_path(id, rec, sizeof(rec));
	err = cgfw_store_container_read(id, &j);
	if (err)
		return err == -ENOENT ? 0 : err; /* nothing was done for it */
	if (json_unpack(j, "{s:I, s?b, s?i, s?i}", "cgroup_id", &cgid, "was_attached", &was,
			"prev_ingress", &prev_in, "prev_egress", &prev_eg) < 0) {
		json_decref(j);
		return cgfw_seterr(EINVAL, "%s is damaged", rec);
	}
	json_decref(j);
	/* The record goes first: a re-apply below must not count this container. */
	unlink(rec);
	if (cgfw_state_exists()) {
		err = cgfw_state_open(CGFW_OPEN_LOCK, &st);
		if (!err && !was) {
			err = cgfw_detach_id(st, (uint64_t)cgid);
			if (err == -ENOENT)
				err = 0;
		} else if (!err) {
			err = undo_on_shared(st, (uint64_t)cgid, prev_in, prev_eg);
		}
		cgfw_state_close(st);
		if (err == 1) {
			struct cgfw_plan plan = {};

			err = cgfw_policy_restore(&plan);
			cgfw_plan_free(&plan);
		}
	}
	return err < 0 ? err : 0;
}

int cgfw_oci_hook(const char *stage, const char *state_json, size_t len)
{
	const char *id = NULL, *status = NULL, *bundle = NULL, *name;
	json_int_t pid = 0;
	json_error_t je;
	json_t *st, *ann;
	int err;

	st = json_loadb(state_json, len, JSON_REJECT_DUPLICATES, &je);
	if (!st)
		return cgfw_seterr(EINVAL, "OCI state on stdin is not JSON: %s (line %d)", je.text,
				   je.line);
	if (json_unpack_ex(st, &je, 0, "{s:s, s?s, s?I, s?s}", "id", &id, "status", &status, "pid",
			   &pid, "bundle", &bundle) < 0) {
		err = cgfw_seterr(EINVAL, "OCI state: %s", je.text);
		goto out;
	}
	if (!safe_id(id)) {
		err = cgfw_seterr(EINVAL, "OCI state: invalid container id");
		goto out;
	}
	ann = json_object_get(st, "annotations");
	name = json_string_value(json_object_get(ann, ANNOTATION));
	if (!stage)
		stage = status && !strcmp(status, "stopped") ? "poststop" : "createRuntime";
	if (!strcmp(stage, "poststop")) {
		err = poststop(id);
		goto out;
	}
	if (strcmp(stage, "createRuntime") && strcmp(stage, "prestart") &&
	    strcmp(stage, "createContainer")) {
		err = cgfw_seterr(EINVAL, "unsupported hook stage '%s' (createRuntime or poststop)",
				  stage);
		goto out;
	}
	if (!name) {
		err = 0; /* not ours */
		goto out;
	}
	if (!safe_id(name)) {
		err = cgfw_seterr(EINVAL, "container %s: invalid policy name in %s", id,
				  ANNOTATION);
		goto out;
	}
	if (pid < 0 || pid > 4194304) {
		err = cgfw_seterr(EINVAL, "container %s: invalid pid", id);
		goto out;
	}
	err = create_runtime(id, name, (long)pid, bundle);
out:
	json_decref(st);
	return err;
}
