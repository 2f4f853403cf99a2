// SPDX-License-Identifier: GPL-2.0-only
/*
 * Cgroup path resolution (lib/cgroup.c) against fake mount tables written by
 * the tests, so every layout can be checked on any host. must_exist is false
 * throughout: the paths do not exist.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "unit.h"

/* A pure cgroup v2 host (most distributions today). */
static const char pure_v2[] =
	"22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n"
	"23 22 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:5 - proc proc rw\n"
	"24 22 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:6 - sysfs sysfs rw\n"
	"26 24 0:24 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:8 - cgroup2 cgroup2 "
	"rw,nsdelegate,memory_recursiveprot\n"
	"27 24 0:25 / /sys/fs/bpf rw,nosuid,nodev,noexec,relatime shared:9 - bpf bpf rw,mode=700\n"
	"30 22 254:16 / /home rw,relatime shared:10 - ext4 /dev/vdb rw\n";

/* Hybrid: v1 controllers under a tmpfs, v2 at .../unified (this project's CI). */
static const char hybrid[] =
	"27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard\n"
	"31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
	"32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
	"33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
	"35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
	"40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
	"41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n"
	"42 23 0:39 / /sys/fs/bpf rw,relatime - bpf bpf rw\n";

/* cgroup v1 only: no cgroup2 anywhere. */
static const char v1_only[] =
	"27 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n"
	"31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
	"32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:3 - cgroup cgroup "
	"rw,cpu,cpuacct\n"
	"40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n";

/* A mount point with a space, tab and backslash, escaped as the kernel does. */
static const char escaped[] =
	"27 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n"
	"50 27 0:40 / /run/cgfw\\040test\\011dir\\134x rw,relatime shared:2 - cgroup2 cgroup2 rw\n";

/* Two cgroup2 mounts: the first is the one to use; a later one is a bind mount. */
static const char two_v2[] =
	"27 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n"
	"26 27 0:24 / /sys/fs/cgroup rw,relatime - cgroup2 cgroup2 rw\n"
	"60 27 0:24 /app.slice /srv/ctr/cgroup rw,relatime - cgroup2 cgroup2 rw\n";

/* cgroup2 at / (some container runtimes' private mount namespaces). */
static const char at_root[] = "90 0 0:24 / / rw,relatime - cgroup2 cgroup2 rw\n";

#define TMPL "/tmp/cgfw-unit-cgroup-XXXXXX"
static char tmpdir[sizeof(TMPL)];

static void write_file(const char *name, const char *text, char *path, size_t n)
{
	FILE *f;

	snprintf(path, n, "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fputs(text, f) >= 0, 1);
	ck_assert_int_eq(fclose(f), 0);
}

static char mi_pure[PATH_MAX], mi_hybrid[PATH_MAX], mi_v1[PATH_MAX], mi_esc[PATH_MAX],
	mi_two[PATH_MAX], mi_root[PATH_MAX];

static void setup(void)
{
	memcpy(tmpdir, TMPL, sizeof(TMPL)); /* again for each test (CK_FORK=no) */
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	write_file("pure_v2", pure_v2, mi_pure, sizeof(mi_pure));
	write_file("hybrid", hybrid, mi_hybrid, sizeof(mi_hybrid));
	write_file("v1_only", v1_only, mi_v1, sizeof(mi_v1));
	write_file("escaped", escaped, mi_esc, sizeof(mi_esc));
	write_file("two_v2", two_v2, mi_two, sizeof(mi_two));
	write_file("at_root", at_root, mi_root, sizeof(mi_root));
}

static void teardown(void)
{
	const char *files[] = { mi_pure, mi_hybrid, mi_v1, mi_esc, mi_two, mi_root };

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		if (files[i][0])
			unlink(files[i]);
	rmdir(tmpdir);
}

/*
 * Fill the stack below us with junk first, so a read of an uninitialised
 * buffer in the code under test shows up as junk instead of lucky zeros.
 */
static __attribute__((noinline)) void dirty_stack(void)
{
	volatile char junk[64 * 1024];

	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = 'J';
}

static void expect_resolves(const char *mi, const char *in, const char *abs, const char *rel)
{
	struct cgfw_cgroup cg;
	int err;

	dirty_stack();
	err = cgfw_cgroup_resolve(mi, in, false, &cg);
	ck_assert_msg(err == 0, "'%s' not resolved: %d %s", in, err, cgfw_errmsg());
	ck_assert_msg(!strcmp(cg.abs, abs), "'%s': abs '%s', want '%s'", in, cg.abs, abs);
	ck_assert_msg(!strcmp(cg.rel, rel), "'%s': rel '%s', want '%s'", in, cg.rel, rel);
}

/* Refused with -EINVAL and a message naming the input and each of @needles. */
static void expect_refused(const char *mi, const char *in, const char *n1, const char *n2)
{
	struct cgfw_cgroup cg;
	char quoted[PATH_MAX + 2];
	int err;

	cgfw_clearerr();
	err = cgfw_cgroup_resolve(mi, in, false, &cg);
	ck_assert_msg(err == -EINVAL, "'%s' resolved (or wrong error %d): %s", in, err,
		      err ? cgfw_errmsg() : cg.abs);
	snprintf(quoted, sizeof(quoted), "'%s'", in);
	ck_assert_errmsg_has(quoted);
	if (n1)
		ck_assert_errmsg_has(n1);
	if (n2)
		ck_assert_errmsg_has(n2);
}

START_TEST(test_find_v2_mount)
{
	char buf[PATH_MAX];

	ck_assert_int_eq(cgfw_cgroup2_mount(mi_pure, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "/sys/fs/cgroup");
	ck_assert_int_eq(cgfw_cgroup2_mount(mi_hybrid, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "/sys/fs/cgroup/unified");
	ck_assert_int_eq(cgfw_cgroup2_mount(mi_esc, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "/run/cgfw test\tdir\\x");
	ck_assert_int_eq(cgfw_cgroup2_mount(mi_two, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "/sys/fs/cgroup");
}
END_TEST

START_TEST(test_no_cgroup2)
{
	struct cgfw_cgroup cg;
	char buf[PATH_MAX];

	ck_assert_int_lt(cgfw_cgroup2_mount(mi_v1, buf, sizeof(buf)), 0);
	ck_assert_errmsg_has("cgroup2");
	cgfw_clearerr();
	ck_assert_int_lt(cgfw_cgroup_resolve(mi_v1, "app.slice", false, &cg), 0);
	ck_assert_errmsg_has("cgroup2");
	cgfw_clearerr();
	ck_assert_int_lt(cgfw_cgroup_resolve(mi_v1, "/sys/fs/cgroup/cpu,cpuacct/x", false, &cg), 0);
	ck_assert_errmsg_has("cgroup2");
}
END_TEST

START_TEST(test_missing_mountinfo)
{
	struct cgfw_cgroup cg;
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/does-not-exist", tmpdir);
	ck_assert_int_lt(cgfw_cgroup_resolve(path, "app.slice", false, &cg), 0);
	ck_assert_errmsg_has(path);
}
END_TEST

START_TEST(test_relative_pure)
{
	expect_resolves(mi_pure, "app.slice", "/sys/fs/cgroup/app.slice", "app.slice");
	expect_resolves(mi_pure, "app.slice/web.service", "/sys/fs/cgroup/app.slice/web.service",
			"app.slice/web.service");
}
END_TEST

START_TEST(test_relative_hybrid)
{
	expect_resolves(mi_hybrid, "app.slice", "/sys/fs/cgroup/unified/app.slice", "app.slice");
	expect_resolves(mi_hybrid, "app.slice/web.service",
			"/sys/fs/cgroup/unified/app.slice/web.service", "app.slice/web.service");
}
END_TEST

START_TEST(test_absolute_on_mount)
{
	expect_resolves(mi_pure, "/sys/fs/cgroup/app.slice/web.service",
			"/sys/fs/cgroup/app.slice/web.service", "app.slice/web.service");
	expect_resolves(mi_hybrid, "/sys/fs/cgroup/unified/app.slice",
			"/sys/fs/cgroup/unified/app.slice", "app.slice");
}
END_TEST

START_TEST(test_mount_root_itself)
{
	expect_resolves(mi_hybrid, "/sys/fs/cgroup/unified", "/sys/fs/cgroup/unified", "");
	expect_resolves(mi_hybrid, "/sys/fs/cgroup/unified/", "/sys/fs/cgroup/unified", "");
	expect_resolves(mi_pure, "/sys/fs/cgroup", "/sys/fs/cgroup", "");
	expect_resolves(mi_pure, "/sys/fs/cgroup//", "/sys/fs/cgroup", "");
	expect_resolves(mi_pure, ".", "/sys/fs/cgroup", "");
	expect_resolves(mi_pure, "./", "/sys/fs/cgroup", "");
}
END_TEST

START_TEST(test_collapsing)
{
	expect_resolves(mi_hybrid, "app.slice//web.service/",
			"/sys/fs/cgroup/unified/app.slice/web.service", "app.slice/web.service");
	expect_resolves(mi_hybrid, "./app.slice/./web.service",
			"/sys/fs/cgroup/unified/app.slice/web.service", "app.slice/web.service");
	expect_resolves(mi_hybrid, "//sys//fs/cgroup/unified/./app.slice//",
			"/sys/fs/cgroup/unified/app.slice", "app.slice");
	expect_resolves(mi_pure, "/sys/fs/./cgroup/a/./b", "/sys/fs/cgroup/a/b", "a/b");
	/* Dots that are names, not . or .. */
	expect_resolves(mi_pure, "...", "/sys/fs/cgroup/...", "...");
	expect_resolves(mi_pure, "a/..b/.c", "/sys/fs/cgroup/a/..b/.c", "a/..b/.c");
}
END_TEST

START_TEST(test_dotdot_refused)
{
	expect_refused(mi_hybrid, "..", "..", NULL);
	expect_refused(mi_hybrid, "app.slice/../../etc", "..", NULL);
	expect_refused(mi_hybrid, "app.slice/..", "..", NULL);
	expect_refused(mi_hybrid, "/sys/fs/cgroup/unified/../cpu", "..", NULL);
	expect_refused(mi_pure, "/sys/fs/cgroup/..", "..", NULL);
}
END_TEST

START_TEST(test_empty_refused)
{
	struct cgfw_cgroup cg;

	ck_assert_int_eq(cgfw_cgroup_resolve(mi_pure, "", false, &cg), -EINVAL);
	ck_assert_errmsg_has("empty");
	ck_assert_int_eq(cgfw_cgroup_resolve(mi_pure, NULL, false, &cg), -EINVAL);
}
END_TEST

START_TEST(test_v1_path_names_v2_mount)
{
	expect_refused(mi_hybrid, "/sys/fs/cgroup/cpu/app", "v1", "/sys/fs/cgroup/unified");
	expect_refused(mi_hybrid, "/sys/fs/cgroup/memory", "v1", "/sys/fs/cgroup/unified");
	expect_refused(mi_hybrid, "/sys/fs/cgroup/systemd/system.slice/x.service", "v1",
		       "/sys/fs/cgroup/unified");
}
END_TEST

START_TEST(test_other_filesystem)
{
	expect_refused(mi_hybrid, "/home/user", "not on the cgroup2", "/sys/fs/cgroup/unified");
	expect_refused(mi_hybrid, "/sys/fs/cgroup/app.slice", "not on the cgroup2",
		       "/sys/fs/cgroup/unified"); /* the tmpfs above the v2 mount */
	expect_refused(mi_hybrid, "/sys/fs/cgroup/unifiedx/a", "not on the cgroup2",
		       "/sys/fs/cgroup/unified"); /* a name that only starts like the mount */
	expect_refused(mi_pure, "/home/user/app.slice", "not on the cgroup2", "/sys/fs/cgroup");
	expect_refused(mi_pure, "/", "not on the cgroup2", "/sys/fs/cgroup");
}
END_TEST

START_TEST(test_escaped_mount_point)
{
	expect_resolves(mi_esc, "app.slice", "/run/cgfw test\tdir\\x/app.slice", "app.slice");
	expect_resolves(mi_esc, "/run/cgfw test\tdir\\x/a/b", "/run/cgfw test\tdir\\x/a/b", "a/b");
	expect_refused(mi_esc, "/run/cgfw\\040test\tdir\\x/a", "not on the cgroup2", NULL);
}
END_TEST

START_TEST(test_cgroup2_at_root)
{
	expect_resolves(mi_root, "app.slice", "/app.slice", "app.slice");
	expect_resolves(mi_root, "/app.slice/web.service", "/app.slice/web.service",
			"app.slice/web.service");
	expect_resolves(mi_root, "/", "/", "");
}
END_TEST

START_TEST(test_must_exist)
{
	struct cgfw_cgroup cg;
	int err;

	/* Not there, and the caller needs it: an error naming path and mount. */
	err = cgfw_cgroup_resolve(mi_hybrid, "cgfw-unit-no-such.slice", true, &cg);
	ck_assert_int_eq(err, -EINVAL);
	ck_assert_errmsg_has("'cgfw-unit-no-such.slice'");
	ck_assert_errmsg_has("does not exist");
	ck_assert_errmsg_has("/sys/fs/cgroup/unified");
	/* The same without must_exist resolves, with no id yet. */
	ck_assert_int_eq(cgfw_cgroup_resolve(mi_hybrid, "cgfw-unit-no-such.slice", false, &cg), 0);
	ck_assert_uint_eq(cg.id, 0);
}
END_TEST

Suite *cgroup_suite(void)
{
	Suite *s = suite_create("cgroup");
	TCase *tc = tcase_create("resolve");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_find_v2_mount);
	tcase_add_test(tc, test_no_cgroup2);
	tcase_add_test(tc, test_missing_mountinfo);
	tcase_add_test(tc, test_relative_pure);
	tcase_add_test(tc, test_relative_hybrid);
	tcase_add_test(tc, test_absolute_on_mount);
	tcase_add_test(tc, test_mount_root_itself);
	tcase_add_test(tc, test_collapsing);
	tcase_add_test(tc, test_dotdot_refused);
	tcase_add_test(tc, test_empty_refused);
	tcase_add_test(tc, test_v1_path_names_v2_mount);
	tcase_add_test(tc, test_other_filesystem);
	tcase_add_test(tc, test_escaped_mount_point);
	tcase_add_test(tc, test_cgroup2_at_root);
	tcase_add_test(tc, test_must_exist);
	suite_add_tcase(s, tc);
	return s;
}
