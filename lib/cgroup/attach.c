// SPDX-License-Identifier: GPL-2.0-only
/*
 * Attaching the cgroup programs: one program instance per cgroup, with the
 * cgroup id baked in, attached through a bpf_link (always multi-attach, so
 * other programs on the cgroup keep running) and pinned under links/.
 * Re-attaching swaps the program inside the existing link atomically, so
 * there is no moment with neither the old nor the new program attached.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "internal.h"
#include "cgfw_cgroup.skel.h"

/* Pin name of the link of (id, dir), relative to the root. */
static void link_name(uint64_t id, int dir, char *buf, size_t n)
{
	snprintf(buf, n, CGFW_LINKS_DIR "/cg-%llu-%s", (unsigned long long)id, cgfw_dir_name(dir));
}

static void link_path(const struct cgfw_state *st, uint64_t id, int dir, char *buf, size_t n)
{
	char name[64];

	link_name(id, dir, name, sizeof(name));
	cgfw_pin_path(st->pin, name, buf, n);
}

/* Is the pinned link for (id, dir) present and still attached to a cgroup? */
static bool link_live(const struct cgfw_state *st, uint64_t id, int dir)
{
	struct bpf_link_info info;
	char name[64];

	link_name(id, dir, name, sizeof(name));
	return cgfw_pin_link_info(st->pin, name, &info) == 0 && info.cgroup.cgroup_id == id;
}

int cgfw_attachment_get(struct cgfw_state *st, uint64_t id, struct cgfw_attachment *ret)
{
	struct cgfw_cgroup_val v;

	if (bpf_map_lookup_elem(st->cgroups_fd, &id, &v) < 0)
		return -ENOENT;
	memset(ret, 0, sizeof(*ret));
	ret->id = id;
	snprintf(ret->path, sizeof(ret->path), "%.*s", (int)sizeof(v.path), v.path);
	memcpy(ret->def, v.def, sizeof(ret->def));
	ret->attached_ns = v.attached_ns;
	ret->ingress = link_live(st, id, CGFW_DIR_INGRESS);
	ret->egress = link_live(st, id, CGFW_DIR_EGRESS);
	return 0;
}

static int cmp_att(const void *a, const void *b)
{
	return strcmp(((const struct cgfw_attachment *)a)->path,
		      ((const struct cgfw_attachment *)b)->path);
}

static int attachment_conv(const void *key, const void *val, void *out, void *arg)
{
	const struct cgfw_cgroup_val *v = val;
	struct cgfw_attachment *o = out;
	__u64 id;

	memcpy(&id, key, sizeof(id));
	o->id = id;
	snprintf(o->path, sizeof(o->path), "%.*s", (int)sizeof(v->path), v->path);
	memcpy(o->def, v->def, sizeof(o->def));
	o->attached_ns = v->attached_ns;
	o->ingress = link_live(arg, id, CGFW_DIR_INGRESS);
	o->egress = link_live(arg, id, CGFW_DIR_EGRESS);
	return 1;
}

int cgfw_attachments(struct cgfw_state *st, struct cgfw_attachment **ret, size_t *ret_n)
{
	struct cgfw_attachment *out;
	size_t n;
	int err;

	err = cgfw_map_collect(st->cgroups_fd, CGFW_CGROUPS_PIN, sizeof(__u64),
			       sizeof(struct cgfw_cgroup_val), sizeof(*out), attachment_conv, st,
			       (void **)&out, &n);
	if (err)
		return err;
	qsort(out, n, sizeof(*out), cmp_att);
	*ret = out;
	*ret_n = n;
	return 0;
}

static struct bpf_program *dir_prog(struct cgfw_cgroup_bpf *skel, int dir)
{
	return dir == CGFW_DIR_INGRESS ? skel->progs.cgfw_ingress : skel->progs.cgfw_egress;
}

int cgfw_attach(struct cgfw_state *st, const struct cgfw_cgroup *cg)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = cgfw_state_root_of(st));
	struct cgfw_cgroup_bpf *skel = NULL;
	struct bpf_link *made[CGFW_DIR_COUNT] = {};
	char made_path[CGFW_DIR_COUNT][PATH_MAX];
	struct cgfw_cgroup_val v;
	bool new_entry = false;
	int cg_fd = -1, err, dir;

	if (strlen(cg->rel) >= CGFW_CGROUP_PATH_MAX)
		return cgfw_seterr(EINVAL, "cgroup path %s is longer than %d bytes", cg->rel,
				   CGFW_CGROUP_PATH_MAX - 1);
	cg_fd = open(cg->abs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg_fd < 0)
		return cgfw_seterr(errno, "cannot open cgroup %s: %s", cg->abs, strerror(errno));

	skel = cgfw_cgroup_bpf__open_opts(&opts);
	if (!skel) {
		err = cgfw_seterr(errno, "cannot open the cgroup BPF object: %s", strerror(errno));
		goto out;
	}
	skel->rodata->cgfw_cgid = cg->id;
	err = cgfw_cgroup_bpf__load(skel);
	if (err) {
		err = cgfw_seterr(cgfw_runtime_err(err),
				  "cannot load the cgroup programs for %s (verifier or map "
				  "mismatch): %s",
				  cg->abs, strerror(-err));
		goto out;
	}

	/* The configuration goes in before the programs that read it. */
	if (bpf_map_lookup_elem(st->cgroups_fd, &cg->id, &v) < 0) {
		memset(&v, 0, sizeof(v));
		v.def[CGFW_DIR_INGRESS] = v.def[CGFW_DIR_EGRESS] = CGFW_VERDICT_ALLOW;
		v.attached_ns = cgfw_now_realtime();
		snprintf(v.path, sizeof(v.path), "%s", cg->rel);
		if (bpf_map_update_elem(st->cgroups_fd, &cg->id, &v, BPF_NOEXIST) < 0) {
			err = cgfw_seterr(errno, "cannot record cgroup %s in %s: %s", cg->abs,
					  CGFW_CGROUPS_PIN, strerror(errno));
			goto out;
		}
		new_entry = true;
	}

	for (dir = 0; dir < CGFW_DIR_COUNT; dir++) {
		char p[PATH_MAX];
		int link_fd;

		link_path(st, cg->id, dir, p, sizeof(p));
		link_fd = bpf_obj_get(p);
		if (link_fd >= 0) {
			/* Already attached: swap in the freshly loaded program. */
			err = bpf_link_update(link_fd, bpf_program__fd(dir_prog(skel, dir)), NULL);
			close(link_fd);
			if (!err && link_live(st, cg->id, dir))
				continue;
			unlink(p); /* defunct link: replace it */
		}
		made[dir] = bpf_program__attach_cgroup(dir_prog(skel, dir), cg_fd);
		if (!made[dir]) {
			err = cgfw_seterr(errno, "attaching %s program to cgroup %s failed: %s",
					  cgfw_dir_name(dir), cg->abs, strerror(errno));
			goto out;
		}
		err = bpf_link__pin(made[dir], p);
		if (err) {
			err = cgfw_seterr(err, "cannot pin %s link at %s: %s", cgfw_dir_name(dir),
					  p, strerror(-err));
			goto out;
		}
		snprintf(made_path[dir], sizeof(made_path[dir]), "%s", p);
	}
	err = 0;
out:
	if (err) {
		/* Undo what this call did; a previous attachment stays as it was. */
		for (dir = 0; dir < CGFW_DIR_COUNT; dir++) {
			if (made[dir] && bpf_link__pin_path(made[dir]))
				bpf_link__unpin(made[dir]);
		}
		if (new_entry)
			bpf_map_delete_elem(st->cgroups_fd, &cg->id);
	}
	for (dir = 0; dir < CGFW_DIR_COUNT; dir++)
		bpf_link__destroy(made[dir]); /* the pin keeps a successful link */
	cgfw_cgroup_bpf__destroy(skel);
	if (cg_fd >= 0)
		close(cg_fd);
	return err;
}

static int flush_keyed(int fd, size_t key_size, size_t val_size, uint64_t cgid)
{
	void *keys = NULL, *vals = NULL;
	size_t n = 0;
	int err;

	/* Every per-cgroup key in these maps starts with the __u64 cgroup id. */
	err = cgfw_map_dump(fd, key_size, val_size, &keys, &vals, &n);
	if (err)
		return err;
	for (size_t i = 0; i < n; i++) {
		char *k = (char *)keys + i * key_size;
		__u64 id;

		memcpy(&id, k, sizeof(id));
		if (id == cgid)
			bpf_map_delete_elem(fd, k);
	}
	free(keys);
	free(vals);
	return 0;
}

int cgfw_seen_flush(struct cgfw_state *st, uint64_t cgid)
{
	int err = flush_keyed(st->seen_fd, sizeof(struct cgfw_seen_key),
			      sizeof(struct cgfw_seen_val), cgid);

	return err ? cgfw_seterr(err, "cannot clear %s: %s", CGFW_SEEN_PIN, strerror(-err)) : 0;
}

int cgfw_detach(struct cgfw_state *st, const char *user_path, const struct cgfw_cgroup *cg)
{
	struct cgfw_attachment *all = NULL;
	uint64_t id = cg->id;
	size_t n = 0;
	int err;

	if (!id || bpf_map_lookup_elem(st->cgroups_fd, &id, &(struct cgfw_cgroup_val){}) < 0) {
		/* The directory may be gone (or re-created): look it up by path. */
		err = cgfw_attachments(st, &all, &n);
		if (err)
			return err;
		id = 0;
		for (size_t i = 0; i < n; i++)
			if (strcmp(all[i].path, cg->rel) == 0)
				id = all[i].id;
		free(all);
		if (!id)
			return cgfw_seterr(EINVAL, "cgroup %s is not attached", user_path);
	}
	return cgfw_detach_id(st, id);
}

int cgfw_detach_id(struct cgfw_state *st, uint64_t id)
{
	char name[32];
	int err, dir;

	snprintf(name, sizeof(name), "id %llu", (unsigned long long)id);
	if (bpf_map_lookup_elem(st->cgroups_fd, &id, &(struct cgfw_cgroup_val){}) < 0)
		return cgfw_seterr(ENOENT, "cgroup %s is not attached", name);
	/* Programs first: after this, nothing reads the state we remove. */
	for (dir = 0; dir < CGFW_DIR_COUNT; dir++) {
		char p[PATH_MAX];

		link_path(st, id, dir, p, sizeof(p));
		if (unlink(p) < 0 && errno != ENOENT)
			return cgfw_seterr(errno, "cannot remove link %s: %s", p, strerror(errno));
	}
	err = cgfw_rules_flush_scope(st, id);
	if (err)
		return err;
	err = cgfw_seen_flush(st, id);
	if (err)
		return err;
	err = flush_keyed(st->flows_fd, sizeof(struct cgfw_flow_key), sizeof(struct cgfw_flow_val),
			  id);
	if (err)
		return cgfw_seterr(err, "cannot clear %s: %s", CGFW_FLOWS_PIN, strerror(-err));
	if (bpf_map_delete_elem(st->cgroups_fd, &id) < 0 && errno != ENOENT)
		return cgfw_seterr(errno, "cannot remove cgroup %s from %s: %s", name,
				   CGFW_CGROUPS_PIN, strerror(errno));
	return 0;
}

int cgfw_set_default(struct cgfw_state *st, const struct cgfw_cgroup *cg, uint8_t dirs,
		     uint8_t verdict)
{
	struct cgfw_cgroup_val v;

	if (bpf_map_lookup_elem(st->cgroups_fd, &cg->id, &v) < 0)
		return cgfw_seterr(EINVAL, "cgroup %s is not attached; run 'cgfw attach %s' first",
				   cg->abs, cg->rel[0] ? cg->rel : "/");
	for (int d = 0; d < CGFW_DIR_COUNT; d++)
		if (dirs & CGFW_DIR_BIT(d))
			v.def[d] = verdict;
	if (bpf_map_update_elem(st->cgroups_fd, &cg->id, &v, BPF_EXIST) < 0)
		return cgfw_seterr(errno, "cannot set the default of %s: %s", cg->abs,
				   strerror(errno));
	return 0;
}

const char *cgfw_attachment_name(const struct cgfw_attachment *att, size_t n, uint64_t id,
				 char *buf, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (att[i].id == id)
			return att[i].path[0] ? att[i].path : "/";
	snprintf(buf, len, "id:%llu", (unsigned long long)id);
	return buf;
}
