// SPDX-License-Identifier: GPL-2.0-only
/*
 * Cgroup paths: find the cgroup2 mount, resolve what the user typed against
 * it, refuse cgroup v1 hierarchies with a message that names the v2 mount.
 */
#include <errno.h>
#include <fcntl.h>
#include <libcgroup.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cgfw/core.h>

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape(char *s)
{
	char *w = s;

	for (char *r = s; *r; r++) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '7' && r[2] >= '0' && r[2] <= '7' &&
		    r[3] >= '0' && r[3] <= '7') {
			*w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
			r += 3;
		} else {
			*w++ = *r;
		}
	}
	*w = 0;
}

struct mnt {
	char point[PATH_MAX];
	char fstype[64];
};

/* Calls fn for each mount; stops when fn returns non-zero. */
static int each_mount(const char *mountinfo, int (*fn)(const struct mnt *, void *), void *arg)
{
	FILE *f = fopen(mountinfo ? mountinfo : "/proc/self/mountinfo", "re");
	char *line = NULL;
	size_t cap = 0;
	int ret = 0;

	if (!f)
		return cgfw_seterr(errno, "cannot read mount table %s: %s",
				   mountinfo ? mountinfo : "/proc/self/mountinfo", strerror(errno));
	while (getline(&line, &cap, f) > 0) {
		struct mnt m;
		char *sep, *save = NULL, *tok;
		int field = 0;

		sep = strstr(line, " - ");
		if (!sep)
			continue;
		*sep = 0;
		memset(&m, 0, sizeof(m));
		for (tok = strtok_r(line, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
			if (++field == 5) {
				snprintf(m.point, sizeof(m.point), "%s", tok);
				break;
			}
		}
		tok = strtok_r(sep + 3, " ", &save);
		if (field != 5 || !tok)
			continue;
		snprintf(m.fstype, sizeof(m.fstype), "%s", tok);
		unescape(m.point);
		ret = fn(&m, arg);
		if (ret)
			break;
	}
	free(line);
	fclose(f);
	return ret < 0 ? ret : 0;
}

static int find_v2(const struct mnt *m, void *arg)
{
	char *out = arg;

	/* The first cgroup2 mount wins; a later one is usually a bind mount. */
	if (strcmp(m->fstype, "cgroup2") == 0 && !out[0]) {
		snprintf(out, PATH_MAX, "%s", m->point);
		return 1;
	}
	return 0;
}

int cgfw_cgroup2_mount(const char *mountinfo, char *buf, size_t n)
{
	char found[PATH_MAX] = "";
	int err = each_mount(mountinfo, find_v2, found);

	if (err < 0)
		return err;
	if (!found[0])
		return cgfw_seterr(ENOENT,
				   "no cgroup2 filesystem is mounted (cgfw needs cgroup v2)");
	snprintf(buf, n, "%s", found);
	return 0;
}

struct v1_probe {
	const char *path;
	size_t best;
	char fstype[64];
};

static bool under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (n == 1 && dir[0] == '/')
		return true;
	return strncmp(path, dir, n) == 0 && (path[n] == 0 || path[n] == '/');
}

static int find_owner(const struct mnt *m, void *arg)
{
	struct v1_probe *p = arg;
	size_t n = strlen(m->point);

	if (under(p->path, m->point) && n >= p->best) {
		p->best = n;
		snprintf(p->fstype, sizeof(p->fstype), "%s", m->fstype);
	}
	return 0;
}

/* Collapse "//" and "/./", drop a trailing "/", refuse "..". */
static int normalize(const char *in, char *out, size_t n)
{
	size_t w = 0;
	const char *s = in;

	while (*s) {
		const char *e = strchr(s, '/');
		size_t len = e ? (size_t)(e - s) : strlen(s);

		if (len == 2 && s[0] == '.' && s[1] == '.')
			return -EINVAL;
		if (len && !(len == 1 && s[0] == '.')) {
			if (w + len + 2 >= n)
				return -ENAMETOOLONG;
			if (w)
				out[w++] = '/';
			memcpy(out + w, s, len);
			w += len;
		}
		s += len;
		if (*s == '/')
			s++;
	}
	out[w] = 0;
	return 0;
}

int cgfw_cgroup_resolve(const char *mountinfo, const char *path, bool must_exist,
			struct cgfw_cgroup *ret)
{
	char mnt[PATH_MAX], rel[PATH_MAX];
	_cleanup_free_ struct cgfw_cgroup *cg = calloc(1, sizeof(*cg));
	struct stat st;
	int err;

	if (!cg)
		return cgfw_seterr(ENOMEM, "out of memory");
	if (!path || !*path)
		return cgfw_seterr(EINVAL, "empty cgroup path");
	err = cgfw_cgroup2_mount(mountinfo, mnt, sizeof(mnt));
	if (err)
		return err;

	if (path[0] == '/') {
		char abs[PATH_MAX];

		if (normalize(path, abs + 1, sizeof(abs) - 1) < 0)
			return cgfw_seterr(EINVAL, "invalid cgroup path '%s': no '..' allowed",
					   path);
		abs[0] = '/';
		if (!under(abs, mnt)) {
			struct v1_probe p = { .path = abs };

			each_mount(mountinfo, find_owner, &p);
			if (strcmp(p.fstype, "cgroup") == 0)
				return cgfw_seterr(
					EINVAL,
					"'%s' is on a cgroup v1 hierarchy; cgfw needs cgroup v2, mounted at %s",
					path, mnt);
			return cgfw_seterr(EINVAL,
					   "'%s' is not on the cgroup2 filesystem (mounted at %s)",
					   path, mnt);
		}
		/* abs is the mount itself or below it: never read past its end. */
		const char *r = abs + (strcmp(mnt, "/") ? strlen(mnt) : 0);

		while (*r == '/')
			r++;
		snprintf(rel, sizeof(rel), "%s", r);
	} else {
		if (normalize(path, rel, sizeof(rel)) < 0)
			return cgfw_seterr(EINVAL, "invalid cgroup path '%s': no '..' allowed",
					   path);
	}
	snprintf(cg->rel, sizeof(cg->rel), "%s", rel);
	if (strlen(mnt) + 1 + strlen(rel) >= sizeof(cg->abs))
		return cgfw_seterr(EINVAL, "cgroup path '%s' is too long", path);
	if (rel[0])
		snprintf(cg->abs, sizeof(cg->abs), "%s%s%s", mnt, strcmp(mnt, "/") ? "/" : "", rel);
	else
		snprintf(cg->abs, sizeof(cg->abs), "%s", mnt);

	if (stat(cg->abs, &st) < 0) {
		if (errno == ENOENT && !must_exist) {
			*ret = *cg; /* resolved, id 0: the caller may create it */
			return 0;
		}
		return cgfw_seterr(
			errno == ENOENT ? EINVAL : errno,
			"cgroup '%s' does not exist (looked for %s; cgroup2 is mounted at %s)",
			path, cg->abs, mnt);
	}
	if (!S_ISDIR(st.st_mode))
		return cgfw_seterr(EINVAL, "'%s' is not a cgroup directory (%s)", path, cg->abs);
	if (!mountinfo) {
		struct statfs sfs;

		if (statfs(cg->abs, &sfs) == 0 && sfs.f_type != CGROUP2_SUPER_MAGIC)
			return cgfw_seterr(EINVAL,
					   "'%s' is not on the cgroup2 filesystem (mounted at %s)",
					   path, mnt);
	}
	cg->id = st.st_ino;
	*ret = *cg;
	return 0;
}

static int lcg_init(void)
{
	static int done;
	int err;

	if (done)
		return 0;
	err = cgroup_init();
	if (err)
		return cgfw_seterr(EIO, "libcgroup: %s", cgroup_strerror(err));
	done = 1;
	return 0;
}

/* mkdir -p below the cgroup2 mount. */
static int mkdir_p(const struct cgfw_cgroup *cg)
{
	char p[PATH_MAX];
	size_t base = strlen(cg->abs) - strlen(cg->rel);

	snprintf(p, sizeof(p), "%s", cg->abs);
	for (char *s = p + base; *s; s++) {
		if (*s != '/')
			continue;
		*s = 0;
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	if (mkdir(p, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int cgfw_cgroup_create(const struct cgfw_cgroup *cg)
{
	struct cgroup *lcg = NULL;
	struct stat st;
	int err;

	if (stat(cg->abs, &st) == 0)
		return 0;
	for (const char *c = cg->rel; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return cgfw_seterr(EINVAL,
					   "refusing to create cgroup '%s': a control "
					   "character in its name",
					   cg->rel);
	/*
	 * libcgroup creates controller-less cgroups only on a pure cgroup v2
	 * host; on a hybrid one (v2 at .../unified) it fails, and we make the
	 * directories ourselves.
	 */
	if (lcg_init() == 0 && (lcg = cgroup_new_cgroup(cg->rel)) != NULL) {
		cgroup_create_cgroup(lcg, 0);
		cgroup_free(&lcg);
	}
	if (stat(cg->abs, &st) == 0)
		return 0;
	err = mkdir_p(cg);
	if (err)
		return cgfw_seterr(err, "cannot create cgroup %s: %s", cg->abs, strerror(-err));
	return 0;
}

/* The 0:: line of /proc/self/cgroup: our cgroup v2 path. */
static int self_v2_path(char *buf, size_t n)
{
	FILE *f = fopen("/proc/self/cgroup", "re");
	char line[PATH_MAX + 16];
	int err = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "0::", 3) == 0) {
			line[strcspn(line, "\n")] = 0;
			snprintf(buf, n, "%s", line + 3);
			err = 0;
			break;
		}
	}
	fclose(f);
	return err;
}

int cgfw_cgroup_enter(const struct cgfw_cgroup *cg)
{
	char procs[PATH_MAX + 16], now[PATH_MAX];
	int fd, err = 0;

	/*
	 * Written directly: libcgroup's cgroup_attach_task() reports success
	 * without moving the task when the cgroup has no controllers on a
	 * hybrid host, so it cannot be trusted for this.
	 */
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", cg->abs);
	fd = open(procs, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "0", 1) != 1)
		err = -errno;
	if (fd >= 0)
		close(fd);
	if (err)
		return cgfw_seterr(err, "cannot move process into cgroup %s: %s", cg->abs,
				   strerror(-err));
	if (self_v2_path(now, sizeof(now)) == 0 && strcmp(now + 1, cg->rel) != 0)
		return cgfw_seterr(EIO, "moved into %s but the kernel reports cgroup %s", cg->abs,
				   now);
	return 0;
}
