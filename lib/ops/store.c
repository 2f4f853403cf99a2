// SPDX-License-Identifier: GPL-2.0-only
/*
 * The records store under cgfw_var_dir() (/var/lib/cgfw): the applied policy
 * (policy.json), the cgroups an apply attached (attached.json), a record per
 * container the OCI hook enforced (containers/ID.json) and the manual
 * snapshot (manual.json). Every file is replaced atomically.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

/* A directory of ours: not a link, owned by us, writable by nobody else. */
static int check_dir(const char *p)
{
	_cleanup_close_ int fd = open(p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return cgfw_seterr(errno == ELOOP || errno == ENOTDIR ? EPERM : errno,
				   "refusing state directory %s: %s", p,
				   errno == ELOOP || errno == ENOTDIR ?
					   "not a directory (a symlink?)" :
					   strerror(errno));
	return cgfw_check_owned(fd, p);
}

int cgfw_store_mkdir(const char *sub)
{
	char p[PATH_MAX];
	int err;

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
	err = check_dir(p);
	if (err || !sub)
		return err;
	snprintf(p, sizeof(p), "%s/%s", cgfw_var_dir(), sub);
	if (mkdir(p, 0700) < 0 && errno != EEXIST)
		return cgfw_seterr(errno, "cannot create %s: %s", p, strerror(errno));
	return check_dir(p);
}

void cgfw_store_path(const char *name, char *buf, size_t n)
{
	snprintf(buf, n, "%s/%s", cgfw_var_dir(), name);
}

int cgfw_store_read(const char *name, json_t **ret)
{
	char path[PATH_MAX + 256];
	struct stat st;
	int err;

	/* Nothing was ever stored: not an error. */
	if (stat(cgfw_var_dir(), &st) < 0 && errno == ENOENT)
		return -ENOENT;
	err = check_dir(cgfw_var_dir());
	if (err)
		return err;
	cgfw_store_path(name, path, sizeof(path));
	return cgfw_read_json_file(path, ret);
}

int cgfw_policy_load_saved(struct cgfw_policy *ret)
{
	char path[PATH_MAX];
	json_t *j = NULL;
	int err;

	cgfw_store_path("policy.json", path, sizeof(path));
	err = cgfw_store_read("policy.json", &j);
	if (err == -ENOENT) {
		memset(ret, 0, sizeof(*ret));
		return 0;
	}
	if (err)
		return err;
	err = cgfw_policy_from_json(j, path, ret);
	json_decref(j);
	return err;
}

/* ---- the applied policy, staged --------------------------------------------------------------- */

/*
 * A policy apply writes the new policy.json and attached.json beside the old
 * ones (.next), commits the cgroup datapath with the policy's hash in its rule
 * set, then renames them into place. Whoever finds .next files later
 * (cgfw_store_repair) compares hashes: the rule set in force has the new
 * hash, so the apply went through and the renames are finished; or it does
 * not, and they are removed. So the saved policy is always the one in force.
 */
static uint64_t policy_hash(json_t *j)
{
	char *text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	uint64_t h = 0xcbf29ce484222325ull;

	if (!text)
		return 1;
	for (const char *c = text; *c; c++)
		h = (h ^ (unsigned char)*c) * 0x100000001b3ull;
	free(text);
	return h ? h : 1;
}

static json_t *attached_json(const uint64_t *ids, size_t n)
{
	json_t *j = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(j, json_integer((json_int_t)ids[i]));
	return j;
}

int cgfw_store_stage_policy(const struct cgfw_policy *pol, const uint64_t *ids, size_t n,
			    uint64_t *ret_hash)
{
	char path[PATH_MAX];
	json_t *j, *a;
	int err;

	err = cgfw_store_mkdir(NULL);
	if (err)
		return err;
	j = cgfw_policy_to_json(pol);
	a = attached_json(ids, n);
	/* The attached list is part of what the hash says is in force. */
	json_object_set(j, "_attached", a);
	*ret_hash = policy_hash(j);
	json_object_del(j, "_attached");
	cgfw_store_path("attached.json.next", path, sizeof(path));
	err = cgfw_write_json_file(path, a);
	if (!err) {
		cgfw_store_path("policy.json.next", path, sizeof(path));
		err = cgfw_write_json_file(path, j);
	}
	json_decref(j);
	json_decref(a);
	if (err)
		cgfw_store_discard_policy();
	return err;
}

int cgfw_store_finish_policy(void)
{
	char from[PATH_MAX], to[PATH_MAX];

	/* attached.json first: policy.json.next is the mark of an unfinished apply. */
	cgfw_store_path("attached.json.next", from, sizeof(from));
	cgfw_store_path("attached.json", to, sizeof(to));
	if (rename(from, to) < 0 && errno != ENOENT)
		return cgfw_seterr(errno, "cannot save %s: %s", to, strerror(errno));
	cgfw_store_path("policy.json.next", from, sizeof(from));
	cgfw_store_path("policy.json", to, sizeof(to));
	if (rename(from, to) < 0)
		return cgfw_seterr(errno, "cannot save %s: %s", to, strerror(errno));
	return 0;
}

void cgfw_store_discard_policy(void)
{
	char path[PATH_MAX];

	cgfw_store_path("policy.json.next", path, sizeof(path));
	unlink(path);
	cgfw_store_path("attached.json.next", path, sizeof(path));
	unlink(path);
}

bool cgfw_store_staged(void)
{
	char p1[PATH_MAX], p2[PATH_MAX];

	cgfw_store_path("policy.json.next", p1, sizeof(p1));
	cgfw_store_path("attached.json.next", p2, sizeof(p2));
	return access(p1, F_OK) == 0 || access(p2, F_OK) == 0;
}

int cgfw_store_repair(struct cgfw_state *st)
{
	json_t *j = NULL, *a = NULL;
	uint64_t live = 0, staged;
	int err;

	err = cgfw_store_read("policy.json.next", &j);
	if (err == -ENOENT) {
		if (cgfw_store_read("attached.json.next", &a) == 0) {
			/* Left by an apply that died before writing the policy: stale. */
			json_decref(a);
			cgfw_store_discard_policy();
		}
		return 0;
	}
	if (err) {
		/* Damaged (cut short when the command died): it never went live. */
		cgfw_store_discard_policy();
		cgfw_notice("an interrupted policy apply left a damaged file; the policy in force "
			    "is the previous one");
		return 0;
	}
	/* attached.json.next is renamed first: when it is gone, attached.json is it. */
	if (cgfw_store_read("attached.json.next", &a) < 0 &&
	    cgfw_store_read("attached.json", &a) < 0)
		a = json_array();
	json_object_set(j, "_attached", a);
	staged = policy_hash(j);
	json_decref(j);
	json_decref(a);
	err = cgfw_rules_policy(st, &live);
	if (err)
		return err;
	if (live == staged) {
		err = cgfw_store_finish_policy();
		if (!err)
			cgfw_notice(
				"an interrupted policy apply was completed: the new policy is in "
				"force and saved");
		return err;
	}
	cgfw_store_discard_policy();
	cgfw_notice("an interrupted policy apply was rolled back: the previous policy is in force");
	return 0;
}

int cgfw_store_load_attached(uint64_t **ret, size_t *ret_n)
{
	char path[PATH_MAX];
	_cleanup_free_ uint64_t *ids = NULL;
	json_t *j = NULL, *v;
	size_t i, n = 0;
	int err;

	/* Without an applied policy, an old attached list means nothing. */
	cgfw_store_path("policy.json", path, sizeof(path));
	if (access(path, F_OK) < 0) {
		*ret = NULL;
		*ret_n = 0;
		return 0;
	}
	err = cgfw_store_read("attached.json", &j);
	if (err == -ENOENT) {
		*ret = NULL;
		*ret_n = 0;
		return 0;
	}
	if (err)
		return err;
	ids = calloc(json_array_size(j) + 1, sizeof(*ids));
	if (!ids) {
		json_decref(j);
		return cgfw_seterr(ENOMEM, "out of memory");
	}
	json_array_foreach(j, i, v)
		ids[n++] = (uint64_t)json_integer_value(v);
	json_decref(j);
	*ret = TAKE_PTR(ids);
	*ret_n = n;
	return 0;
}

/* ---- container records (written by the OCI hook) ------------------------------------- */

void cgfw_store_container_path(const char *id, char *buf, size_t n)
{
	snprintf(buf, n, "%s/containers/%s.json", cgfw_var_dir(), id);
}

int cgfw_store_container_read(const char *id, json_t **ret)
{
	char name[160];

	snprintf(name, sizeof(name), "containers/%s.json", id);
	return cgfw_store_read(name, ret);
}

int cgfw_store_container_save(const char *id, json_t *rec)
{
	char path[PATH_MAX + 160];
	int err;

	err = cgfw_store_mkdir("containers");
	if (err)
		return err;
	cgfw_store_container_path(id, path, sizeof(path));
	return cgfw_write_json_file(path, rec);
}

static bool is_record(const char *name)
{
	size_t n = strlen(name);

	/* ID.json; the atomic writer's ID.json.tmp is not one. */
	return n > 5 && !strcmp(name + n - 5, ".json");
}

int cgfw_containers_load(struct cgfw_container **ret, size_t *ret_n)
{
	char dir[PATH_MAX];
	struct cgfw_container *out = NULL;
	size_t n = 0;
	struct dirent *e;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/containers", cgfw_var_dir());
	d = opendir(dir);
	if (!d) {
		*ret = NULL;
		*ret_n = 0;
		return 0;
	}
	while ((e = readdir(d))) {
		char p[PATH_MAX + 256];
		const char *id, *wl, *cg;
		json_int_t cgid;
		json_t *j = NULL;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || !is_record(e->d_name))
			continue;
		snprintf(p, sizeof(p), "containers/%s", e->d_name);
		if (cgfw_store_read(p, &j) < 0)
			continue;
		/* A record names its own file, ID.json (restore removes it), or it is damaged. */
		if (json_unpack(j, "{s:s, s:s, s:s, s:I}", "id", &id, "workload", &wl, "cgroup",
				&cg, "cgroup_id", &cgid) == 0 &&
		    strlen(id) == strlen(e->d_name) - 5 && !strncmp(id, e->d_name, strlen(id)) &&
		    strlen(id) < sizeof(out->id)) {
			struct cgfw_container *m = realloc(out, (n + 1) * sizeof(*m));

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
