// SPDX-License-Identifier: GPL-2.0-only
/*
 * Pinned state under one bpffs root (/sys/fs/bpf/cgfw by default): the maps,
 * the links under links/, a layout version in cgfw_meta. Every change holds an
 * exclusive flock() on the root directory, so a second cgfw never sees half
 * of a change.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "internal.h"
#include "tc.h"
#include "cgfw_cgroup.skel.h"

#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif

#define DEFAULT_BPFFS "/sys/fs/bpf"
#define DEFAULT_ROOT  DEFAULT_BPFFS "/cgfw"

const char *cgfw_state_root(void)
{
	const char *r = getenv("CGFW_BPFFS_ROOT");

	return r && *r ? r : DEFAULT_ROOT;
}

uint64_t cgfw_now_realtime(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t cgfw_boot_to_realtime(uint64_t boot_ns)
{
	struct timespec b, r;
	uint64_t bn, rn;

	if (!boot_ns)
		return 0;
	clock_gettime(CLOCK_BOOTTIME, &b);
	clock_gettime(CLOCK_REALTIME, &r);
	bn = (uint64_t)b.tv_sec * 1000000000ull + (uint64_t)b.tv_nsec;
	rn = (uint64_t)r.tv_sec * 1000000000ull + (uint64_t)r.tv_nsec;
	return boot_ns > bn ? rn : rn - (bn - boot_ns);
}

static bool is_bpffs(const char *path)
{
	struct statfs s;

	return statfs(path, &s) == 0 && (unsigned long)s.f_type == BPF_FS_MAGIC;
}

static bool other_mount_ns(void)
{
	struct stat a, b;

	if (stat("/proc/self/ns/mnt", &a) < 0 || stat("/proc/1/ns/mnt", &b) < 0)
		return false;
	return a.st_ino != b.st_ino;
}

/*
 * `ip netns exec NAME` runs in a private mount namespace with a fresh sysfs on
 * /sys, which hides the host's bpffs. Seen either as another mount namespace
 * than PID 1's, or (when /proc/1 cannot be read) as running in one of the
 * named network namespaces of /run/netns without a bpffs.
 */
static bool ip_netns_exec(void)
{
	struct stat self, s;
	struct dirent *e;
	bool found = false;
	DIR *d;

	if (other_mount_ns())
		return true;
	if (stat("/proc/self/ns/net", &self) < 0 || !(d = opendir("/run/netns")))
		return false;
	while (!found && (e = readdir(d))) {
		char p[PATH_MAX];

		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "/run/netns/%s", e->d_name);
		found = stat(p, &s) == 0 && s.st_ino == self.st_ino && s.st_dev == self.st_dev;
	}
	closedir(d);
	return found;
}

/* Make sure the directory that holds the root is on bpffs, mounting it if absent. */
static int ensure_bpffs(const char *root, bool create)
{
	char parent[PATH_MAX];
	char *slash;

	snprintf(parent, sizeof(parent), "%s", root);
	slash = strrchr(parent, '/');
	if (!slash || slash == parent)
		return cgfw_seterr(EINVAL, "state root %s must be a directory on a bpffs mount", root);
	*slash = 0;
	if (is_bpffs(parent))
		return 0;
	if (!strncmp(parent, DEFAULT_BPFFS, strlen(DEFAULT_BPFFS)) && ip_netns_exec()) {
		/* `ip netns exec` remounts /sys, hiding the host's bpffs: a fresh
		 * bpffs here would hold state nobody else sees. Checked before
		 * anything else, so reads say so too instead of "nothing attached". */
		return cgfw_seterr(EPERM,
				   "no bpffs at %s in this mount namespace (ip netns exec remounts /sys "
				   "and hides it; use nsenter --net=/run/netns/NAME instead)",
				   parent);
	}
	if (strcmp(parent, DEFAULT_BPFFS) != 0)
		return cgfw_seterr(ENOTSUP, "%s is not on a bpffs mount (from $CGFW_BPFFS_ROOT)",
				   root);
	if (!create)
		return cgfw_seterr(ENOENT, "no bpffs at %s: nothing is attached", DEFAULT_BPFFS);
	if (mount("bpf", DEFAULT_BPFFS, "bpf", 0, "mode=0700") < 0)
		return cgfw_seterr(errno, "cannot mount bpffs at %s: %s", DEFAULT_BPFFS,
				   strerror(errno));
	return 0;
}

static int obj_get(struct cgfw_state *st, const char *name, int *fd)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", st->root, name);
	*fd = bpf_obj_get(path);
	return *fd < 0 ? -errno : 0;
}

static int open_maps(struct cgfw_state *st)
{
	struct {
		const char *name;
		int *fd;
	} maps[] = {
		{ CGFW_RULES_PIN, &st->rules_fd },   { CGFW_PRULES_PIN, &st->prules_fd },
		{ CGFW_LENS_PIN, &st->lens_fd },     { CGFW_CGROUPS_PIN, &st->cgroups_fd },
		{ CGFW_SEEN_PIN, &st->seen_fd },     { CGFW_FLOWS_PIN, &st->flows_fd },
		{ CGFW_STATS_PIN, &st->stats_fd },   { CGFW_META_PIN, &st->meta_fd },
	};

	for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		int err = obj_get(st, maps[i].name, maps[i].fd);

		if (err)
			return err;
	}
	return 0;
}

/* Create every map by loading the cgroup object once with pinning by name. */
static int create_maps(struct cgfw_state *st)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = st->root);
	struct cgfw_cgroup_bpf *skel;
	struct cgfw_meta_val meta = { .layout_version = CGFW_LAYOUT_VERSION };
	struct cgfw_lens_val lens;
	__u32 k;
	int err;

	skel = cgfw_cgroup_bpf__open_opts(&opts);
	if (!skel)
		return cgfw_seterr(errno, "cannot open the cgroup BPF object: %s", strerror(errno));
	err = cgfw_cgroup_bpf__load(skel);
	cgfw_cgroup_bpf__destroy(skel);
	if (err)
		return cgfw_seterr(err, "cannot create the maps under %s: %s", st->root,
				   strerror(-err));
	err = open_maps(st);
	if (err)
		return cgfw_seterr(err, "maps under %s vanished after creation: %s", st->root,
				   strerror(-err));
	/* The lengths list starts empty, slot 1 active. */
	memset(&lens, 0, sizeof(lens));
	for (k = 1; k < CGFW_LENS_SLOTS; k++)
		if (bpf_map_update_elem(st->lens_fd, &k, &lens, BPF_ANY) < 0)
			return cgfw_seterr(errno, "cannot initialise %s: %s", CGFW_LENS_PIN,
					   strerror(errno));
	lens.active = 1;
	k = 0;
	if (bpf_map_update_elem(st->lens_fd, &k, &lens, BPF_ANY) < 0)
		return cgfw_seterr(errno, "cannot initialise %s: %s", CGFW_LENS_PIN, strerror(errno));
	/* Written last: a state without a version is an unfinished one. */
	meta.created_ns = cgfw_now_realtime();
	if (bpf_map_update_elem(st->meta_fd, &k, &meta, BPF_ANY) < 0)
		return cgfw_seterr(errno, "cannot write %s: %s", CGFW_META_PIN, strerror(errno));
	return 0;
}

static void close_fds(struct cgfw_state *st)
{
	int *fds[] = { &st->rules_fd, &st->prules_fd, &st->lens_fd, &st->cgroups_fd,
		       &st->seen_fd,  &st->flows_fd,  &st->meta_fd, &st->stats_fd };

	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

bool cgfw_state_exists(void)
{
	char path[PATH_MAX];
	struct stat s;

	snprintf(path, sizeof(path), "%s/%s", cgfw_state_root(), CGFW_META_PIN);
	return stat(path, &s) == 0;
}

int cgfw_state_open(unsigned flags, struct cgfw_state **ret)
{
	struct cgfw_state *st;
	struct cgfw_meta_val meta = {};
	char links[PATH_MAX + 8];
	bool create = flags & CGFW_OPEN_CREATE;
	__u32 zero = 0;
	int err;

	*ret = NULL;
	st = calloc(1, sizeof(*st));
	if (!st)
		return cgfw_seterr(ENOMEM, "out of memory");
	st->dir_fd = -1;
	st->rules_fd = st->prules_fd = st->lens_fd = st->cgroups_fd = -1;
	st->seen_fd = st->flows_fd = st->meta_fd = st->stats_fd = -1;
	snprintf(st->root, sizeof(st->root), "%s", cgfw_state_root());

	libbpf_set_print(NULL);
	err = ensure_bpffs(st->root, create);
	if (err)
		goto fail;
	if (create && mkdir(st->root, 0700) < 0 && errno != EEXIST) {
		err = cgfw_seterr(errno, "cannot create %s: %s", st->root, strerror(errno));
		goto fail;
	}
	st->dir_fd = open(st->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (st->dir_fd < 0) {
		err = errno == ENOENT
			      ? cgfw_seterr(ENOENT, "no cgfw state at %s: nothing is attached", st->root)
			      : cgfw_seterr(errno, "cannot open %s: %s", st->root, strerror(errno));
		goto fail;
	}
	{
		struct stat sb;

		/* bpffs is often world-writable (1777): never trust a root someone
		 * else made. */
		if (fstat(st->dir_fd, &sb) == 0 && sb.st_uid != geteuid()) {
			err = cgfw_seterr(EPERM, "refusing state root %s: owned by uid %u, not %u "
						 "(remove it if it is not yours)",
					  st->root, sb.st_uid, geteuid());
			goto fail;
		}
	}
	if (((flags & CGFW_OPEN_LOCK) || create) && !(flags & CGFW_OPEN_HELD)) {
		int op = (flags & CGFW_OPEN_SHARED) && !create ? LOCK_SH : LOCK_EX;

		if (flock(st->dir_fd, op) < 0) {
			err = cgfw_seterr(errno, "cannot lock %s: %s", st->root, strerror(errno));
			goto fail;
		}
	}
	err = open_maps(st);
	if (err == 0 && bpf_map_lookup_elem(st->meta_fd, &zero, &meta) == 0 &&
	    meta.layout_version == 0)
		err = -ENOENT; /* created, but not finished */
	if (err == -ENOENT && create) {
		close_fds(st);
		err = create_maps(st);
	} else if (err == -ENOENT) {
		err = cgfw_seterr(ENOENT, "no cgfw state at %s: nothing is attached", st->root);
	} else if (err) {
		err = cgfw_seterr(err, "cannot open the maps under %s: %s", st->root,
				  strerror(-err));
	}
	if (err)
		goto fail;
	if (bpf_map_lookup_elem(st->meta_fd, &zero, &meta) < 0 ||
	    meta.layout_version != CGFW_LAYOUT_VERSION) {
		err = cgfw_seterr(EPROTO,
				  "the state under %s has layout version %u, this cgfw uses %u; "
				  "run 'cgfw reset' to start over",
				  st->root, meta.layout_version, CGFW_LAYOUT_VERSION);
		goto fail;
	}
	snprintf(links, sizeof(links), "%s/" CGFW_LINKS_DIR, st->root);
	if (create && mkdir(links, 0700) < 0 && errno != EEXIST) {
		err = cgfw_seterr(errno, "cannot create %s: %s", links, strerror(errno));
		goto fail;
	}
	*ret = st;
	return 0;
fail:
	cgfw_state_close(st);
	return err;
}

void cgfw_state_close(struct cgfw_state *st)
{
	if (!st)
		return;
	close_fds(st);
	if (st->dir_fd >= 0)
		close(st->dir_fd); /* releases the flock */
	free(st);
}

int cgfw_map_dump(int fd, size_t key_size, size_t val_size, void **ret_keys, void **ret_vals,
		  size_t *ret_n)
{
	size_t cap = 1024, n = 0;
	char *keys = malloc(cap * key_size), *vals = malloc(cap * val_size);
	__u64 in_batch = 0, out_batch = 0;
	bool first = true;
	int err = 0;

	if (!keys || !vals) {
		err = -ENOMEM;
		goto out;
	}
	for (;;) {
		LIBBPF_OPTS(bpf_map_batch_opts, opts);
		__u32 count = 4096;

		if (n + count > cap) {
			char *k2, *v2;

			cap = (n + count) * 2;
			k2 = realloc(keys, cap * key_size);
			if (k2)
				keys = k2;
			v2 = realloc(vals, cap * val_size);
			if (v2)
				vals = v2;
			if (!k2 || !v2) {
				err = -ENOMEM;
				goto out;
			}
		}
		err = bpf_map_lookup_batch(fd, first ? NULL : &in_batch, &out_batch,
					   keys + n * key_size, vals + n * val_size, &count, &opts);
		if (err < 0)
			err = -errno;
		n += count;
		first = false;
		if (err == -ENOENT) {
			err = 0;
			break;
		}
		if (err)
			goto out;
		in_batch = out_batch;
	}
out:
	if (err) {
		free(keys);
		free(vals);
		return err;
	}
	*ret_keys = keys;
	*ret_vals = vals;
	*ret_n = n;
	return 0;
}

int cgfw_lens_read(struct cgfw_state *st, struct cgfw_lens_val *ret)
{
	struct cgfw_lens_val ctl;
	__u32 k = 0;

	if (bpf_map_lookup_elem(st->lens_fd, &k, &ctl) < 0)
		return cgfw_seterr(errno, "cannot read %s: %s", CGFW_LENS_PIN, strerror(errno));
	k = ctl.active == 2 ? 2 : 1;
	if (bpf_map_lookup_elem(st->lens_fd, &k, ret) < 0)
		return cgfw_seterr(errno, "cannot read %s: %s", CGFW_LENS_PIN, strerror(errno));
	return 0;
}

void cgfw_lens_rebuild(struct cgfw_lens_val *v)
{
	memset(&v->v4, 0, sizeof(v->v4));
	memset(&v->v6, 0, sizeof(v->v6));
	for (int l = CGFW_LEN4_MAX - 1; l >= 0; l--) {
		__u8 kind = (v->count4[0][l] ? CGFW_LEN_PLAIN_HOST : 0) |
			    (v->count4[1][l] ? CGFW_LEN_PORT_HOST : 0) |
			    (v->count4[2][l] ? CGFW_LEN_PLAIN_CG : 0) |
			    (v->count4[3][l] ? CGFW_LEN_PORT_CG : 0);

		if (kind) {
			v->v4.len[v->v4.n] = (__u8)l;
			v->v4.kind[v->v4.n++] = kind;
		}
	}
	for (int l = CGFW_LEN6_MAX - 1; l >= 0; l--) {
		__u8 kind = (v->count6[0][l] ? CGFW_LEN_PLAIN_HOST : 0) |
			    (v->count6[1][l] ? CGFW_LEN_PORT_HOST : 0) |
			    (v->count6[2][l] ? CGFW_LEN_PLAIN_CG : 0) |
			    (v->count6[3][l] ? CGFW_LEN_PORT_CG : 0);

		if (kind) {
			v->v6.len[v->v6.n] = (__u8)l;
			v->v6.kind[v->v6.n++] = kind;
		}
	}
}

/* Write the inactive slot completely, then flip: packets see old or new. */
int cgfw_lens_publish(struct cgfw_state *st, struct cgfw_lens_val *v)
{
	struct cgfw_lens_val ctl;
	__u32 k = 0, slot;

	if (bpf_map_lookup_elem(st->lens_fd, &k, &ctl) < 0)
		return cgfw_seterr(errno, "cannot read %s: %s", CGFW_LENS_PIN, strerror(errno));
	slot = ctl.active == 2 ? 1 : 2;
	cgfw_lens_rebuild(v);
	v->active = 0;
	if (bpf_map_update_elem(st->lens_fd, &slot, v, BPF_ANY) < 0)
		return cgfw_seterr(errno, "cannot write %s: %s", CGFW_LENS_PIN, strerror(errno));
	ctl.active = slot;
	if (bpf_map_update_elem(st->lens_fd, &k, &ctl, BPF_ANY) < 0)
		return cgfw_seterr(errno, "cannot write %s: %s", CGFW_LENS_PIN, strerror(errno));
	return 0;
}

static int unpin_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int err = 0;

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((e = readdir(d))) {
		char p[PATH_MAX];

		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		if (e->d_type == DT_DIR) {
			unpin_dir(p);
			if (rmdir(p) < 0 && !err)
				err = -errno;
		} else if (unlink(p) < 0 && !err) {
			err = -errno;
		}
	}
	closedir(d);
	return err;
}

int cgfw_reset(void)
{
	const char *root = cgfw_state_root();
	char links[PATH_MAX + 8];
	int fd, err;

	/* Interfaces first (cls_bpf filters are not pinned) and tproxy routes. */
	err = cgfw_tc_teardown();
	if (err && err != -EPROTO && err != -ENOENT)
		return err;

	fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : cgfw_seterr(errno, "cannot open %s: %s", root, strerror(errno));
	if (flock(fd, LOCK_EX) < 0) {
		err = cgfw_seterr(errno, "cannot lock %s: %s", root, strerror(errno));
		close(fd);
		return err;
	}
	/* Links first, so no program runs against maps being removed. */
	snprintf(links, sizeof(links), "%s/" CGFW_LINKS_DIR, root);
	err = unpin_dir(links);
	if (!err)
		err = unpin_dir(root);
	close(fd);
	if (!err && rmdir(root) < 0 && errno != ENOENT)
		err = -errno;
	if (err)
		return cgfw_seterr(err, "cannot remove the state under %s: %s", root, strerror(-err));
	return 0;
}

const char *cgfw_reason_name(int reason)
{
	static const char *const names[] = {
		[CGFW_R_ALLOW_DEFAULT] = "allow_default", [CGFW_R_ALLOW_RULE] = "allow_rule",
		[CGFW_R_ALLOW_REPLY] = "allow_reply",	  [CGFW_R_DROP_RULE] = "drop_rule",
		[CGFW_R_DROP_DEFAULT] = "drop_default",	  [CGFW_R_UNPARSED] = "unparsed",
	};

	return reason >= 0 && reason < CGFW_R_COUNT ? names[reason] : "?";
}

int cgfw_status_get(struct cgfw_state *st, struct cgfw_status *ret)
{
	struct cgfw_meta_val meta = {};
	struct cgfw_lens_val lens;
	struct cgfw_attachment *a = NULL;
	int ncpu = libbpf_num_possible_cpus();
	struct cgfw_stat_val *per = NULL;
	size_t na = 0;
	__u32 k = 0;
	int err;

	memset(ret, 0, sizeof(*ret));
	snprintf(ret->root, sizeof(ret->root), "%s", st->root);
	if (bpf_map_lookup_elem(st->meta_fd, &k, &meta) == 0) {
		ret->layout_version = meta.layout_version;
		ret->created_ns = meta.created_ns;
	}
	err = cgfw_lens_read(st, &lens);
	if (err)
		return err;
	for (int l = 0; l < CGFW_LEN4_MAX; l++)
		for (int c = 0; c < 4; c++)
			ret->rules4 += lens.count4[c][l];
	for (int l = 0; l < CGFW_LEN6_MAX; l++)
		for (int c = 0; c < 4; c++)
			ret->rules6 += lens.count6[c][l];
	ret->lens4 = lens.v4.n;
	ret->lens6 = lens.v6.n;
	err = cgfw_attachments(st, &a, &na);
	if (err)
		return err;
	free(a);
	ret->attachments = na;
	if (ncpu <= 0)
		return cgfw_seterr(EIO, "cannot count CPUs");
	per = calloc((size_t)ncpu, sizeof(*per));
	if (!per)
		return cgfw_seterr(ENOMEM, "out of memory");
	for (int d = 0; d < CGFW_DIR_COUNT; d++) {
		for (int r = 0; r < CGFW_R_COUNT; r++) {
			k = (__u32)(d * CGFW_R_COUNT + r);
			if (bpf_map_lookup_elem(st->stats_fd, &k, per) < 0)
				continue;
			for (int c = 0; c < ncpu; c++) {
				ret->packets[d][r] += per[c].packets;
				ret->bytes[d][r] += per[c].bytes;
			}
		}
	}
	free(per);
	return 0;
}
