// SPDX-License-Identifier: GPL-2.0-only
/*
 * The pinned state under one bpffs root (/sys/fs/bpf/cgfw by default): maps
 * pinned by name, links under links/, one layout version per datapath. Every
 * change holds an exclusive flock() on the root directory, so a second cgfw
 * never sees half of a change.
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
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <cgfw/pin.h>

#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif

#define DEFAULT_BPFFS "/sys/fs/bpf"

struct cgfw_pin {
	char root[PATH_MAX];
	unsigned flags;
	int dir_fd;	/* the root directory; flock()ed when locked */
	int lock;	/* LOCK_EX, LOCK_SH or 0 */
	int saved_lock; /* what cgfw_pin_lock_restore() goes back to */
};

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
		return cgfw_seterr(EINVAL, "state root %s must be a directory on a bpffs mount",
				   root);
	*slash = 0;
	if (is_bpffs(parent))
		return 0;
	if (!strncmp(parent, DEFAULT_BPFFS, strlen(DEFAULT_BPFFS)) && ip_netns_exec()) {
		/* `ip netns exec` remounts /sys, hiding the host's bpffs: a fresh
		 * bpffs here would hold state nobody else sees. Checked before
		 * anything else, so reads say so too instead of "nothing attached". */
		return cgfw_seterr(
			EPERM,
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

/*
 * The root must be a real directory (not a symlink someone planted: bpffs is
 * often world-writable), owned by us and writable by nobody else.
 */
/*
 * Only who may load BPF programs makes state: a refused command must not
 * leave a root directory behind that then belongs to the wrong user.
 */
static int check_privilege(void)
{
	int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, NULL, 4, 4, 1, NULL);

	if (fd < 0)
		return cgfw_seterr(errno == EPERM || errno == EACCES ? EPERM : errno,
				   "cannot use BPF: %s", strerror(errno));
	close(fd);
	return 0;
}

static int open_root(const char *root, bool create, int *ret_fd)
{
	struct stat sb;
	int fd, err;

	if (create && access(root, F_OK) < 0 && (err = check_privilege()))
		return err;
	if (create && mkdir(root, 0700) < 0 && errno != EEXIST)
		return cgfw_seterr(errno, "cannot create %s: %s", root, strerror(errno));
	fd = open(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return cgfw_seterr(ENOENT, "no cgfw state at %s: nothing is attached",
					   root);
		if (errno == ELOOP || errno == ENOTDIR)
			return cgfw_seterr(EPERM,
					   "refusing state root %s: not a directory (a symlink?); "
					   "remove it if it is not yours",
					   root);
		return cgfw_seterr(errno, "cannot open %s: %s", root, strerror(errno));
	}
	if (fstat(fd, &sb) < 0) {
		close(fd);
		return cgfw_seterr(errno, "cannot stat %s: %s", root, strerror(errno));
	}
	if (sb.st_uid != geteuid()) {
		close(fd);
		return cgfw_seterr(
			EPERM,
			"refusing state root %s: owned by uid %u, not %u (remove it if it "
			"is not yours)",
			root, sb.st_uid, geteuid());
	}
	if (sb.st_mode & 022) {
		close(fd);
		return cgfw_seterr(EPERM,
				   "refusing state root %s: mode %04o lets others write it (chmod "
				   "0700 %s if it is yours)",
				   root, sb.st_mode & 07777, root);
	}
	*ret_fd = fd;
	return 0;
}

int cgfw_pin_open(unsigned flags, struct cgfw_pin **ret)
{
	bool create = flags & CGFW_OPEN_CREATE;
	struct cgfw_pin *p;
	char links[PATH_MAX + 8];
	int err;

	p = calloc(1, sizeof(*p));
	if (!p)
		return cgfw_seterr(ENOMEM, "out of memory");
	p->dir_fd = -1;
	p->flags = flags;
	snprintf(p->root, sizeof(p->root), "%s", cgfw_state_root());

	err = ensure_bpffs(p->root, create);
	if (!err)
		err = open_root(p->root, create, &p->dir_fd);
	if (err)
		goto fail;
	if ((flags & CGFW_OPEN_LOCK) || create) {
		/* Whoever may create state holds the exclusive lock. */
		int op = (flags & CGFW_OPEN_SHARED) && !create ? LOCK_SH : LOCK_EX;

		if (flock(p->dir_fd, op) < 0) {
			err = cgfw_seterr(errno, "cannot lock %s: %s", p->root, strerror(errno));
			goto fail;
		}
		p->lock = op;
	}
	snprintf(links, sizeof(links), "%s/" CGFW_LINKS_DIR, p->root);
	if (create && mkdirat(p->dir_fd, CGFW_LINKS_DIR, 0700) < 0 && errno != EEXIST) {
		err = cgfw_seterr(errno, "cannot create %s: %s", links, strerror(errno));
		goto fail;
	}
	*ret = p;
	return 0;
fail:
	cgfw_pin_close(p);
	return err;
}

void cgfw_pin_close(struct cgfw_pin *p)
{
	if (!p)
		return;
	if (p->dir_fd >= 0)
		close(p->dir_fd); /* releases the flock */
	free(p);
}

const char *cgfw_pin_root(const struct cgfw_pin *p)
{
	return p->root;
}

bool cgfw_pin_can_create(const struct cgfw_pin *p)
{
	return p->flags & CGFW_OPEN_CREATE;
}

bool cgfw_pin_locked(const struct cgfw_pin *p)
{
	return p->lock == LOCK_EX;
}

int cgfw_pin_lock_upgrade(struct cgfw_pin *p)
{
	p->saved_lock = p->lock;
	if (p->lock == LOCK_EX)
		return 0;
	if (flock(p->dir_fd, LOCK_EX) < 0)
		return cgfw_seterr(errno, "cannot lock %s: %s", p->root, strerror(errno));
	p->lock = LOCK_EX;
	return 0;
}

void cgfw_pin_lock_restore(struct cgfw_pin *p)
{
	if (p->saved_lock == p->lock)
		return;
	flock(p->dir_fd, p->saved_lock ? p->saved_lock : LOCK_UN);
	p->lock = p->saved_lock;
}

bool cgfw_pin_exists(const char *name)
{
	char path[PATH_MAX];
	struct stat s;

	snprintf(path, sizeof(path), "%s/%s", cgfw_state_root(), name);
	/* Unreadable is not absent: the open that follows says why. */
	return stat(path, &s) == 0 || errno != ENOENT;
}

void cgfw_pin_path(const struct cgfw_pin *p, const char *name, char *buf, size_t n)
{
	snprintf(buf, n, "%s/%s", p->root, name);
}

int cgfw_pin_get(const struct cgfw_pin *p, const char *name, int *ret_fd)
{
	char path[PATH_MAX];
	int fd;

	cgfw_pin_path(p, name, path, sizeof(path));
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	*ret_fd = fd;
	return 0;
}

int cgfw_pin_link_info(const struct cgfw_pin *p, const char *name, struct bpf_link_info *ret)
{
	struct bpf_link_info info;
	__u32 len = sizeof(info);
	_cleanup_close_ int fd = -1;
	int err;

	err = cgfw_pin_get(p, name, &fd);
	if (err)
		return err;
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0)
		return -errno;
	*ret = info;
	return 0;
}

/* ---- named sets --------------------------------------------------------------------- */

void cgfw_pin_set_close(const struct cgfw_pin_set *s)
{
	for (size_t i = 0; i < s->nmaps; i++) {
		if (*s->maps[i].fd >= 0)
			close(*s->maps[i].fd);
		*s->maps[i].fd = -1;
	}
}

static int open_maps(struct cgfw_pin *p, const struct cgfw_pin_set *s)
{
	for (size_t i = 0; i < s->nmaps; i++) {
		int err = cgfw_pin_get(p, s->maps[i].name, s->maps[i].fd);

		if (err) {
			cgfw_pin_set_close(s);
			return err;
		}
	}
	return 0;
}

/* The set's layout version: 0 when its meta map exists but was never finished. */
static int set_version(const struct cgfw_pin *p, const struct cgfw_pin_set *s, uint32_t *ret)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info), zero = 0;
	void *val;
	int fd, err;

	err = cgfw_pin_get(p, s->meta, &fd);
	if (err)
		return err;
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0 || info.value_size < sizeof(uint32_t)) {
		close(fd);
		return -EPROTO;
	}
	val = calloc(1, info.value_size);
	if (!val) {
		close(fd);
		return -ENOMEM;
	}
	err = bpf_map_lookup_elem(fd, &zero, val) < 0 ? -errno : 0;
	if (!err)
		memcpy(ret, val, sizeof(*ret));
	free(val);
	close(fd);
	return err;
}

int cgfw_pin_set_open(struct cgfw_pin *p, const struct cgfw_pin_set *s)
{
	uint32_t version = 0;
	int err;

	err = set_version(p, s, &version);
	if (err == -ENOENT || (!err && version == 0)) {
		/* Absent, or made by a command that died before it finished. */
		if (!cgfw_pin_can_create(p))
			return cgfw_seterr(ENOENT, "no %s state under %s: nothing is attached",
					   s->what, p->root);
		err = s->create(p, s->arg);
		if (err)
			return err;
		err = set_version(p, s, &version);
	}
	if (err)
		return cgfw_seterr(err, "cannot read the %s state's version under %s: %s", s->what,
				   p->root, strerror(-err));
	if (version != s->version)
		return cgfw_seterr(
			EPROTO,
			"the %s state under %s has layout version %u, this cgfw uses %u; "
			"run 'cgfw reset --yes' to start over",
			s->what, p->root, version, s->version);
	err = open_maps(p, s);
	if (err)
		return cgfw_seterr(err, "cannot open the %s maps under %s: %s", s->what, p->root,
				   strerror(-err));
	return 0;
}

/* ---- removal ---------------------------------------------------------------------------- */

static int unpin_dir(int dfd)
{
	DIR *d = fdopendir(dfd);
	struct dirent *e;
	int err = 0;

	if (!d) {
		close(dfd);
		return -errno;
	}
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (e->d_type == DT_DIR) {
			int sub = openat(dirfd(d), e->d_name,
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

			if (sub >= 0)
				unpin_dir(sub);
			if (unlinkat(dirfd(d), e->d_name, AT_REMOVEDIR) < 0 && !err)
				err = -errno;
		} else if (unlinkat(dirfd(d), e->d_name, 0) < 0 && !err) {
			err = -errno;
		}
	}
	closedir(d);
	return err;
}

int cgfw_pin_remove_all(void)
{
	const char *root = cgfw_state_root();
	struct cgfw_pin *p = NULL;
	int fd, err;

	err = cgfw_pin_open(CGFW_OPEN_LOCK, &p);
	if (err == -ENOENT)
		return 0;
	if (err)
		return err;
	/* Links first, so no program runs against maps being removed. */
	fd = openat(p->dir_fd, CGFW_LINKS_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	err = fd >= 0 ? unpin_dir(fd) : (errno == ENOENT ? 0 : -errno);
	if (!err)
		err = unpin_dir(dup(p->dir_fd));
	cgfw_pin_close(p);
	if (!err && rmdir(root) < 0 && errno != ENOENT)
		err = -errno;
	if (err)
		return cgfw_seterr(err, "cannot remove the state under %s: %s", root,
				   strerror(-err));
	return 0;
}
