// SPDX-License-Identifier: GPL-2.0-only
/*
 * Attaching the cgroup programs: one program instance per cgroup, with the
 * cgroup id and its scope slot baked in, attached through a bpf_link (always
 * multi-attach, so other programs on the cgroup keep running) and pinned
 * under links/. Re-attaching swaps the program inside the existing link
 * atomically, so there is no moment with neither program attached.
 *
 * The live rule set says which cgroups are attached (their scope entries);
 * the registry and the links follow it. Attach: reserve a slot in the
 * registry, switch to a rule set with the cgroup's scope, then link the
 * programs. Detach: switch to a rule set without it, then unlink and forget
 * it. A command killed in between leaves the rule set old or new, and the
 * next one makes the rest match it (cgfw_state_repair).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
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

static bool link_pinned(const struct cgfw_state *st, uint64_t id, int dir)
{
	char p[PATH_MAX];
	struct stat sb;

	link_path(st, id, dir, p, sizeof(p));
	return lstat(p, &sb) == 0;
}

/* ---- program instances ------------------------------------------------------------------- */

/*
 * Whether to try the rule walks inline first. 6.1's verifier gives up on
 * them (E2BIG, after searching to its instruction limit: tens of seconds
 * under emulation), so kernels before 6.6 are not asked.
 */
static bool walks_inline(void)
{
	const char *env = getenv("CGFW_WALK_CALLS");
	unsigned int maj = 0, min = 0;
	struct utsname u;

	if (env && *env && strcmp(env, "0"))
		return false;
	if (uname(&u) < 0 || sscanf(u.release, "%u.%u", &maj, &min) != 2)
		return false;
	return maj > 6 || (maj == 6 && min >= 6);
}

int cgfw_cgroup_open_load(const char *pin_root, int (*prep)(struct cgfw_cgroup_bpf *, void *),
			  void *arg, struct cgfw_cgroup_bpf **ret)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = pin_root);
	int err = 0;

	for (int calls = !walks_inline(); calls <= 1; calls++) {
		struct cgfw_cgroup_bpf *skel = cgfw_cgroup_bpf__open_opts(&opts);

		if (!skel)
			return -errno;
		skel->rodata->cgfw_walk_calls = (__u32)calls;
		err = prep ? prep(skel, arg) : 0;
		if (!err)
			err = cgfw_cgroup_bpf__load(skel);
		if (!err) {
			*ret = skel;
			return 0;
		}
		cgfw_cgroup_bpf__destroy(skel);
	}
	return err;
}

struct inst_args {
	const struct cgfw_state *st;
	uint64_t cgid;
	uint32_t slot;
};

static int prep_inst(struct cgfw_cgroup_bpf *skel, void *arg)
{
	const struct inst_args *a = arg;

	skel->rodata->cgfw_cgid = a->cgid;
	skel->rodata->cgfw_slot = a->slot;
	skel->rodata->cgfw_tick_ns = cgfw_clock_tick_ns(a->st->hz);
	return 0;
}

int cgfw_cgroup_skel_load(struct cgfw_state *st, uint64_t cgid, uint32_t slot, void **ret_skel)
{
	struct inst_args a = { st, cgid, slot };
	struct cgfw_cgroup_bpf *skel;
	int err;

	err = cgfw_cgroup_open_load(cgfw_state_root_of(st), prep_inst, &a, &skel);
	if (err)
		return cgfw_seterr(cgfw_runtime_err(err),
				   "cannot load the cgroup programs (verifier or map mismatch; "
				   "CGFW_DEBUG=1 shows libbpf's log): %s",
				   strerror(-err));
	*ret_skel = skel;
	return 0;
}

void cgfw_cgroup_skel_free(void *skel)
{
	cgfw_cgroup_bpf__destroy(skel);
}

int cgfw_cgroup_prog_load(struct cgfw_state *st, uint64_t cgid, struct cgfw_cgroup_prog **ret)
{
	struct cgfw_cgroup_val v;
	struct cgfw_cgroup_prog *p;
	struct cgfw_cgroup_bpf *skel;
	int err;

	if (bpf_map_lookup_elem(st->cgroups_fd, &cgid, &v) < 0)
		return cgfw_seterr(EINVAL, "cgroup id %llu is not registered",
				   (unsigned long long)cgid);
	p = calloc(1, sizeof(*p));
	if (!p)
		return cgfw_seterr(ENOMEM, "out of memory");
	err = cgfw_cgroup_skel_load(st, cgid, v.slot, &p->skel);
	if (err) {
		free(p);
		return err;
	}
	skel = p->skel;
	p->ingress_fd = bpf_program__fd(skel->progs.cgfw_ingress);
	p->egress_fd = bpf_program__fd(skel->progs.cgfw_egress);
	*ret = p;
	return 0;
}

void cgfw_cgroup_prog_free(struct cgfw_cgroup_prog *p)
{
	if (!p)
		return;
	cgfw_cgroup_skel_free(p->skel);
	free(p);
}

static struct bpf_program *dir_prog(struct cgfw_cgroup_bpf *skel, int dir)
{
	return dir == CGFW_DIR_INGRESS ? skel->progs.cgfw_ingress : skel->progs.cgfw_egress;
}

/* ---- the registry --------------------------------------------------------------------------- */

struct reg {
	uint64_t cgid;
	struct cgfw_cgroup_val v;
};

static int reg_conv(const void *key, const void *val, void *out, void *arg)
{
	struct reg *r = out;

	memcpy(&r->cgid, key, sizeof(r->cgid));
	memcpy(&r->v, val, sizeof(r->v));
	return 1;
}

static int registry(struct cgfw_state *st, struct reg **ret, size_t *ret_n)
{
	return cgfw_map_collect(st->cgroups_fd, CGFW_CGROUPS_PIN, sizeof(__u64),
				sizeof(struct cgfw_cgroup_val), sizeof(struct reg), reg_conv, NULL,
				(void **)ret, ret_n);
}

/* The lowest slot neither the registry nor the rule set uses. */
static int free_slot(struct cgfw_state *st, const struct rs *rs, uint32_t *ret)
{
	_cleanup_free_ struct reg *reg = NULL;
	_cleanup_free_ uint8_t *used = calloc(CGFW_RS_SLOTS_MAX, 1);
	size_t n = 0;
	int err;

	if (!used)
		return cgfw_seterr(ENOMEM, "out of memory");
	err = registry(st, &reg, &n);
	if (err)
		return err;
	for (size_t i = 0; i < n; i++)
		used[reg[i].v.slot % CGFW_RS_SLOTS_MAX] = 1;
	for (size_t s = 0; s < rs->nscopes; s++)
		used[s] |= rs->scopes[s].used;
	for (uint32_t s = 1; s < CGFW_RS_SLOTS_MAX; s++)
		if (!used[s]) {
			*ret = s;
			return 0;
		}
	return cgfw_seterr(ENOSPC, "no free scope slot (at most %u attached cgroups)",
			   CGFW_RS_SLOTS_MAX - 1);
}

/* ---- links ------------------------------------------------------------------------------------ */

/*
 * Put the programs of (@cgid, @slot) on the cgroup at @abs, or swap them into
 * the links that are there. On failure, links this call made are removed.
 */
static int link_programs(struct cgfw_state *st, uint64_t cgid, uint32_t slot, const char *abs)
{
	struct cgfw_cgroup_bpf *skel = NULL;
	struct bpf_link *made[CGFW_DIR_COUNT] = {};
	_cleanup_close_ int cg_fd = -1;
	int err, dir;

	err = cgfw_cgroup_skel_load(st, cgid, slot, (void **)&skel);
	if (err)
		return err;
	for (dir = 0; dir < CGFW_DIR_COUNT; dir++) {
		char p[PATH_MAX];
		int link_fd;

		link_path(st, cgid, dir, p, sizeof(p));
		link_fd = bpf_obj_get(p);
		if (link_fd >= 0) {
			/* Already attached: swap in the freshly loaded program. */
			err = bpf_link_update(link_fd, bpf_program__fd(dir_prog(skel, dir)), NULL);
			close(link_fd);
			if (!err && link_live(st, cgid, dir))
				continue;
			unlink(p); /* defunct link: replace it */
		}
		if (cg_fd < 0 && abs) {
			cg_fd = open(abs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (cg_fd < 0) {
				err = cgfw_seterr(errno, "cannot open cgroup %s: %s", abs,
						  strerror(errno));
				goto out;
			}
		}
		if (cg_fd < 0) {
			err = cgfw_seterr(ENOENT, "cgroup id %llu has no directory to attach to",
					  (unsigned long long)cgid);
			goto out;
		}
		made[dir] = bpf_program__attach_cgroup(dir_prog(skel, dir), cg_fd);
		if (!made[dir]) {
			err = cgfw_seterr(errno, "attaching %s program to cgroup %s failed: %s",
					  cgfw_dir_name(dir), abs, strerror(errno));
			goto out;
		}
		err = bpf_link__pin(made[dir], p);
		if (err) {
			err = cgfw_seterr(err, "cannot pin %s link at %s: %s", cgfw_dir_name(dir),
					  p, strerror(-err));
			goto out;
		}
	}
	err = 0;
out:
	for (dir = 0; dir < CGFW_DIR_COUNT; dir++) {
		if (err && made[dir] && bpf_link__pin_path(made[dir]))
			bpf_link__unpin(made[dir]);
		bpf_link__destroy(made[dir]); /* the pin keeps a successful link */
	}
	cgfw_cgroup_bpf__destroy(skel);
	return err;
}

static int unlink_programs(struct cgfw_state *st, uint64_t cgid)
{
	for (int dir = 0; dir < CGFW_DIR_COUNT; dir++) {
		char p[PATH_MAX];

		link_path(st, cgid, dir, p, sizeof(p));
		if (unlink(p) < 0 && errno != ENOENT)
			return cgfw_seterr(errno, "cannot remove link %s: %s", p, strerror(errno));
	}
	return 0;
}

/* The cgroup directory of a registered path: "" when it is gone. */
static void reg_abs(const struct cgfw_cgroup_val *v, char *buf, size_t n)
{
	struct cgfw_cgroup cg;
	char rel[CGFW_CGROUP_PATH_MAX + 1];

	snprintf(rel, sizeof(rel), "%.*s", (int)sizeof(v->path), v->path);
	if (cgfw_cgroup_resolve(NULL, rel[0] ? rel : "/", true, &cg) == 0)
		snprintf(buf, n, "%s", cg.abs);
	else
		buf[0] = 0;
}

/* ---- attach, detach, defaults ------------------------------------------------------------------ */

int cgfw_register(struct cgfw_state *st, const struct rs *rs, const struct cgfw_cgroup *cg,
		  uint32_t *ret_slot, bool *ret_new)
{
	struct cgfw_cgroup_val v;
	uint32_t slot = 0;
	int err;

	if (strlen(cg->rel) >= CGFW_CGROUP_PATH_MAX)
		return cgfw_seterr(EINVAL, "cgroup path %s is longer than %d bytes", cg->rel,
				   CGFW_CGROUP_PATH_MAX - 1);
	if (bpf_map_lookup_elem(st->cgroups_fd, &cg->id, &v) == 0) {
		*ret_slot = v.slot;
		*ret_new = false;
		return 0;
	}
	err = free_slot(st, rs, &slot);
	if (err)
		return err;
	memset(&v, 0, sizeof(v));
	v.slot = (uint16_t)slot;
	v.attached_ns = cgfw_now_realtime();
	snprintf(v.path, sizeof(v.path), "%s", cg->rel);
	/* The slot's counters start from zero (no program counts there: the slot is free). */
	if (slot < CGFW_CGSTATS_SLOTS) {
		int ncpu = libbpf_num_possible_cpus();
		_cleanup_free_ struct cgfw_cgstat_val *zero =
			ncpu > 0 ? calloc((size_t)ncpu, sizeof(*zero)) : NULL;

		if (!zero || bpf_map_update_elem(st->cgstats_fd, &slot, zero, BPF_ANY) < 0)
			return cgfw_seterr(zero ? errno : ENOMEM, "cannot reset %s: %s",
					   CGFW_CGSTATS_PIN, strerror(zero ? errno : ENOMEM));
	}
	/* Recorded before the switch: a command that dies next leaves it to repair. */
	if (bpf_map_update_elem(st->cgroups_fd, &cg->id, &v, BPF_NOEXIST) < 0)
		return cgfw_seterr(errno, "cannot record cgroup %s in %s: %s", cg->abs,
				   CGFW_CGROUPS_PIN, strerror(errno));
	*ret_slot = slot;
	*ret_new = true;
	return 0;
}

int cgfw_link(struct cgfw_state *st, uint64_t id, uint32_t slot, const char *abs)
{
	return link_programs(st, id, slot, abs && abs[0] ? abs : NULL);
}

int cgfw_unlink(struct cgfw_state *st, uint64_t id)
{
	return unlink_programs(st, id);
}

int cgfw_attach(struct cgfw_state *st, const struct cgfw_cgroup *cg)
{
	struct cgfw_change *c = NULL;
	int err;

	err = cgfw_change_begin(st, &c);
	if (!err)
		err = cgfw_change_attach(c, cg);
	if (!err)
		err = cgfw_change_commit(c);
	cgfw_change_free(c);
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

/* What is left of a detached cgroup once its programs and rules are gone. */
int cgfw_forget(struct cgfw_state *st, uint64_t id)
{
	int err;

	err = cgfw_seen_flush(st, id);
	if (err)
		return err;
	err = flush_keyed(st->flows_fd, sizeof(struct cgfw_flow_key), sizeof(struct cgfw_flow_val),
			  id);
	if (err)
		return cgfw_seterr(err, "cannot clear %s: %s", CGFW_FLOWS_PIN, strerror(-err));
	if (bpf_map_delete_elem(st->cgroups_fd, &id) < 0 && errno != ENOENT)
		return cgfw_seterr(errno, "cannot remove cgroup id %llu from %s: %s",
				   (unsigned long long)id, CGFW_CGROUPS_PIN, strerror(errno));
	return 0;
}

int cgfw_detach_id(struct cgfw_state *st, uint64_t id)
{
	struct cgfw_cgroup_val v;
	struct cgfw_change *c = NULL;
	int err;

	if (bpf_map_lookup_elem(st->cgroups_fd, &id, &v) < 0)
		return cgfw_seterr(ENOENT, "cgroup id %llu is not attached",
				   (unsigned long long)id);
	err = cgfw_change_begin(st, &c);
	if (!err)
		err = cgfw_rs_slot(&c->rs, id) > 0 ? cgfw_change_detach(c, id) : 0;
	if (!err)
		err = c->ndet ? cgfw_change_commit(c) : 0;
	cgfw_change_free(c);
	/* Not in the rule set (an attach that never switched): links and leftovers go. */
	if (!err)
		err = unlink_programs(st, id);
	return err ? err : cgfw_forget(st, id);
}

int cgfw_detach(struct cgfw_state *st, const char *user_path, const struct cgfw_cgroup *cg)
{
	_cleanup_free_ struct reg *reg = NULL;
	struct cgfw_cgroup_val v;
	uint64_t id = cg->id;
	size_t n = 0;
	int err;

	if (!id || bpf_map_lookup_elem(st->cgroups_fd, &id, &v) < 0) {
		/* The directory may be gone (or re-created): look it up by path. */
		err = registry(st, &reg, &n);
		if (err)
			return err;
		id = 0;
		for (size_t i = 0; i < n; i++)
			if (strncmp(reg[i].v.path, cg->rel, sizeof(reg[i].v.path)) == 0)
				id = reg[i].cgid;
		if (!id)
			return cgfw_seterr(EINVAL, "cgroup %s is not attached", user_path);
	}
	return cgfw_detach_id(st, id);
}

int cgfw_set_default(struct cgfw_state *st, const struct cgfw_cgroup *cg, uint8_t dirs,
		     uint8_t verdict)
{
	struct cgfw_change *c = NULL;
	int err;

	err = cgfw_change_begin(st, &c);
	if (err)
		return err;
	if (cgfw_rs_slot(&c->rs, cg->id) <= 0)
		err = cgfw_seterr(EINVAL, "cgroup %s is not attached; run 'cgfw attach %s' first",
				  cg->abs[0] ? cg->abs : "?", cg->rel[0] ? cg->rel : "/");
	if (!err)
		err = cgfw_change_default(c, cg->id, dirs, verdict);
	if (!err)
		err = cgfw_change_commit(c);
	cgfw_change_free(c);
	return err;
}

/* ---- listings ------------------------------------------------------------------------------------ */

int cgfw_attachment_get(struct cgfw_state *st, uint64_t id, struct cgfw_attachment *ret)
{
	struct cgfw_attachment *all = NULL;
	size_t n = 0;
	int err;

	err = cgfw_attachments(st, &all, &n);
	if (err)
		return err;
	err = -ENOENT;
	for (size_t i = 0; i < n; i++)
		if (all[i].id == id) {
			*ret = all[i];
			err = 0;
		}
	free(all);
	return err;
}

static int cmp_att(const void *a, const void *b)
{
	return strcmp(((const struct cgfw_attachment *)a)->path,
		      ((const struct cgfw_attachment *)b)->path);
}

int cgfw_attachments(struct cgfw_state *st, struct cgfw_attachment **ret, size_t *ret_n)
{
	_cleanup_free_ struct reg *reg = NULL;
	struct cgfw_attachment *out;
	struct rs rs = {};
	size_t n = 0, m = 0;
	int err;

	err = registry(st, &reg, &n);
	if (!err)
		err = cgfw_rs_read(st, &rs);
	if (err)
		return err;
	out = calloc(n ? n : 1, sizeof(*out));
	if (!out) {
		cgfw_rs_free(&rs);
		return cgfw_seterr(ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		int slot = cgfw_rs_slot(&rs, reg[i].cgid);
		struct cgfw_attachment *o = &out[m];

		/* Attached is what the live rule set says. */
		if (slot <= 0)
			continue;
		o->id = reg[i].cgid;
		snprintf(o->path, sizeof(o->path), "%.*s", (int)sizeof(reg[i].v.path),
			 reg[i].v.path);
		memcpy(o->def, rs.scopes[slot].def, sizeof(o->def));
		o->audit = rs.scopes[slot].audit;
		o->slot = (uint32_t)slot;
		o->attached_ns = reg[i].v.attached_ns;
		o->ingress = link_live(st, o->id, CGFW_DIR_INGRESS);
		o->egress = link_live(st, o->id, CGFW_DIR_EGRESS);
		m++;
	}
	cgfw_rs_free(&rs);
	qsort(out, m, sizeof(*out), cmp_att);
	*ret = out;
	*ret_n = m;
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

/* ---- repair ----------------------------------------------------------------------------------------- */

/* Do a cgroup's linked programs read this cgfw_rs (not one it replaced)? */
static bool links_current(struct cgfw_state *st, uint64_t id)
{
	struct bpf_map_info mi;
	__u32 mlen = sizeof(mi);

	memset(&mi, 0, sizeof(mi));
	if (bpf_obj_get_info_by_fd(st->rs_fd, &mi, &mlen) < 0)
		return true;
	for (int dir = 0; dir < CGFW_DIR_COUNT; dir++) {
		struct bpf_link_info li;
		struct bpf_prog_info pi;
		__u32 ids[64], plen = sizeof(pi);
		char name[64];
		bool found = false;
		int fd;

		link_name(id, dir, name, sizeof(name));
		if (cgfw_pin_link_info(st->pin, name, &li) < 0)
			return false;
		fd = bpf_prog_get_fd_by_id(li.prog_id);
		if (fd < 0)
			return false;
		memset(&pi, 0, sizeof(pi));
		pi.nr_map_ids = CGFW_ARRAY_SIZE(ids);
		pi.map_ids = (__u64)(unsigned long)ids;
		if (bpf_obj_get_info_by_fd(fd, &pi, &plen) == 0)
			for (__u32 k = 0; k < pi.nr_map_ids && k < CGFW_ARRAY_SIZE(ids); k++)
				found |= ids[k] == mi.id;
		close(fd);
		if (!found)
			return false;
	}
	return true;
}

int cgfw_reload_programs(struct cgfw_state *st)
{
	_cleanup_free_ struct reg *reg = NULL;
	size_t n = 0;
	int err;

	err = registry(st, &reg, &n);
	for (size_t i = 0; !err && i < n; i++) {
		if (!link_pinned(st, reg[i].cgid, CGFW_DIR_INGRESS) &&
		    !link_pinned(st, reg[i].cgid, CGFW_DIR_EGRESS))
			continue;
		err = link_programs(st, reg[i].cgid, reg[i].v.slot, NULL);
	}
	return err;
}

/*
 * What should be, from the live rule set: a registered cgroup with a scope
 * entry has its links; one without (its attach never switched, or its
 * detach did) has none and is forgotten; a scope entry nobody registered is
 * dropped; links load the current rule set's map.
 */
struct fix {
	uint64_t id;
	enum { LINK, FORGET, RELOAD } what;
	uint32_t slot;
	struct cgfw_cgroup_val v;
};

static int plan_repair(struct cgfw_state *st, const struct rs *rs, struct fix **ret, size_t *ret_n,
		       bool *ret_drop)
{
	_cleanup_free_ struct reg *reg = NULL;
	struct fix *fx;
	size_t n = 0, k = 0;
	int err;

	*ret_drop = false;
	err = registry(st, &reg, &n);
	if (err)
		return err;
	fx = calloc(n + 1, sizeof(*fx));
	if (!fx)
		return cgfw_seterr(ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		int slot = cgfw_rs_slot(rs, reg[i].cgid);
		bool in = link_pinned(st, reg[i].cgid, CGFW_DIR_INGRESS),
		     eg = link_pinned(st, reg[i].cgid, CGFW_DIR_EGRESS);

		char abs[PATH_MAX];

		if (slot <= 0) {
			fx[k++] = (struct fix){ reg[i].cgid, FORGET, 0, reg[i].v };
		} else if (!in || !eg) {
			/* A cgroup whose directory is gone has nothing to link to: it is
			 * listed as missing until detached. */
			reg_abs(&reg[i].v, abs, sizeof(abs));
			if (abs[0])
				fx[k++] =
					(struct fix){ reg[i].cgid, LINK, (uint32_t)slot, reg[i].v };
		} else if (!links_current(st, reg[i].cgid))
			fx[k++] = (struct fix){ reg[i].cgid, RELOAD, (uint32_t)slot, reg[i].v };
	}
	for (size_t s = 1; s < rs->nscopes; s++) {
		bool known = false;

		for (size_t i = 0; i < n && !known; i++)
			known = rs->scopes[s].used && reg[i].cgid == rs->scopes[s].cgid;
		if (rs->scopes[s].used && !known)
			*ret_drop = true;
	}
	*ret = fx;
	*ret_n = k;
	return 0;
}

int cgfw_state_repair(struct cgfw_state *st)
{
	_cleanup_free_ struct fix *fx = NULL;
	struct rs rs = {};
	size_t n = 0, done = 0;
	bool drop = false, upgraded = false;
	int err;

	err = cgfw_rs_read(st, &rs);
	if (!err)
		err = plan_repair(st, &rs, &fx, &n, &drop);
	if (err || (!n && !drop))
		goto out;
	/* A reader found what a killed command left: repair under the exclusive lock. */
	if (!st->locked) {
		free(TAKE_PTR(fx));
		cgfw_rs_free(&rs);
		err = cgfw_pin_lock_upgrade(st->pin);
		if (err)
			return err;
		upgraded = true;
		err = cgfw_rs_read(st, &rs);
		if (!err)
			err = plan_repair(st, &rs, &fx, &n, &drop);
		if (err || (!n && !drop))
			goto out;
	}
	if (drop) {
		/* Scope entries of an attach that died before it registered (never the
		 * case with this order) or of a registry entry someone removed. */
		_cleanup_free_ struct reg *reg = NULL;
		size_t nr = 0;

		err = registry(st, &reg, &nr);
		for (size_t s = 1; !err && s < rs.nscopes; s++) {
			bool known = false;

			for (size_t i = 0; i < nr && !known; i++)
				known = reg[i].cgid == rs.scopes[s].cgid;
			if (rs.scopes[s].used && !known)
				cgfw_rs_scope_drop(&rs, (uint32_t)s);
		}
		if (!err)
			err = cgfw_rs_commit(st, &rs);
		if (err)
			goto out;
		cgfw_notice("a change to the cgroup rule set was interrupted: its leftovers are "
			    "removed");
	}
	for (size_t i = 0; i < n && !err; i++) {
		char abs[PATH_MAX];

		switch (fx[i].what) {
		case FORGET:
			err = unlink_programs(st, fx[i].id);
			if (!err)
				err = cgfw_forget(st, fx[i].id);
			break;
		case LINK:
			reg_abs(&fx[i].v, abs, sizeof(abs));
			err = link_programs(st, fx[i].id, fx[i].slot, abs[0] ? abs : NULL);
			break;
		case RELOAD:
			err = link_programs(st, fx[i].id, fx[i].slot, NULL);
			break;
		}
		if (err == -ENOENT) /* the cgroup's directory went meanwhile */
			err = 0;
		else if (!err)
			done++;
	}
	if (!err && done)
		cgfw_notice(
			"a command killed during a change left %zu cgroup%s out of step with the "
			"rule set in force: %s linked or unlinked to match it",
			done, done == 1 ? "" : "s", done == 1 ? "it is now" : "they are now");
out:
	cgfw_rs_free(&rs);
	if (upgraded)
		cgfw_pin_lock_restore(st->pin);
	return err;
}
