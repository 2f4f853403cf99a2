// SPDX-License-Identifier: GPL-2.0-only
/*
 * The LPM walk in the kernel gives what it gives in user space: images
 * compiled by lib/lpm, written into maps the two ways an integrator can
 * (a fresh BPF_F_MMAPABLE inner map of an ARRAY_OF_MAPS, filled through
 * mmap and switched in; the inactive half of an A/B array, written with
 * bpf_map_update_batch and made live by a control word), then looked up
 * with BPF_PROG_RUN of lpm_prog.bpf.c for thousands of addresses, each
 * compared with cgfw_lpm_lookup() on the same image.
 *
 * Needs root (CAP_BPF, CAP_SYS_ADMIN): exits 77 (skipped) otherwise. Sends
 * nothing: the packets exist only as BPF_PROG_RUN input.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <sys/mman.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <check.h>

#include <cgfw/lpm.h>

#include "lpm_ref.h"
#include "lpm_prog_test.skel.h"

#define CAP (CGFW_LPM_RECORDS + 200000u) /* elements per image map */

struct fixture {
	struct lpm_prog_test_bpf *skel;
	int tmpl;
};

static void setup(struct fixture *f)
{
	LIBBPF_OPTS(bpf_map_create_opts, mo, .map_flags = BPF_F_MMAPABLE);
	int err;

	f->skel = lpm_prog_test_bpf__open();
	ck_assert_ptr_nonnull(f->skel);
	/*
	 * The inner maps' capacity is the template's. libbpf 1.1 crashes in
	 * bpf_map__set_max_entries(bpf_map__inner_map()), so hand it one.
	 */
	f->tmpl = bpf_map_create(BPF_MAP_TYPE_ARRAY, "lpm_tmpl", 4, sizeof(struct cgfw_lpm_elem),
				 CAP, &mo);
	ck_assert_int_ge(f->tmpl, 0);
	ck_assert_int_eq(bpf_map__set_inner_map_fd(f->skel->maps.test_images, f->tmpl), 0);
	ck_assert_int_eq(bpf_map__set_max_entries(f->skel->maps.test_ab, 2 * CAP), 0);
	err = lpm_prog_test_bpf__load(f->skel);
	ck_assert_msg(err == 0, "loading lpm_prog.bpf.c: %s", strerror(-err));
}

static void teardown(struct fixture *f)
{
	lpm_prog_test_bpf__destroy(f->skel);
	close(f->tmpl);
}

/* Put @img in slot 0: a new inner map, filled through mmap, then one switch. */
static void publish_aom(struct fixture *f, const struct cgfw_lpm_image *img)
{
	LIBBPF_OPTS(bpf_map_create_opts, mo, .map_flags = BPF_F_MMAPABLE);
	size_t n, len = (size_t)CAP * sizeof(struct cgfw_lpm_elem);
	const struct cgfw_lpm_elem *e = cgfw_lpm_elems(img, &n);
	__u32 slot = 0;
	void *m;
	int fd;

	ck_assert_uint_le(n, CAP);
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "lpm_image", 4, sizeof(*e), CAP, &mo);
	ck_assert_int_ge(fd, 0);
	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ck_assert_ptr_ne(m, MAP_FAILED);
	memcpy(m, e, n * sizeof(*e));
	ck_assert_int_eq(munmap(m, len), 0);
	ck_assert_int_eq(bpf_map_update_elem(bpf_map__fd(f->skel->maps.test_images), &slot, &fd,
					     BPF_ANY),
			 0);
	close(fd); /* the outer map holds it now */
}

/* Write @img into half @h of the A/B array with batch updates, then make it live. */
static void publish_ab(struct fixture *f, const struct cgfw_lpm_image *img, __u32 h)
{
	size_t n;
	const struct cgfw_lpm_elem *e = cgfw_lpm_elems(img, &n);
	int fd = bpf_map__fd(f->skel->maps.test_ab);
	__u32 *keys = malloc(n * sizeof(*keys)), base = h * CAP, zero = 0;
	__u32 count = (__u32)n;

	ck_assert_ptr_nonnull(keys);
	for (size_t i = 0; i < n; i++)
		keys[i] = base + (__u32)i;
	ck_assert_int_eq(bpf_map_update_batch(fd, keys, e, &count, NULL), 0);
	ck_assert_uint_eq(count, n);
	free(keys);
	ck_assert_int_eq(bpf_map_update_elem(bpf_map__fd(f->skel->maps.test_ab_ctl), &zero, &base,
					     BPF_ANY),
			 0);
}

/* An Ethernet + IP + UDP frame to @dst, for BPF_PROG_RUN only. */
static uint32_t frame(uint8_t *buf, uint8_t family, const uint8_t *dst)
{
	uint8_t *ip = buf + ETH_HLEN;

	memset(buf, 0, 128);
	if (family == CGFW_FAMILY_INET) {
		buf[12] = 0x08, buf[13] = 0x00;
		ip[0] = 0x45;
		ip[3] = 20 + 8 + 8;
		ip[8] = 64;
		ip[9] = 17;
		memcpy(ip + 12, (uint8_t[]){ 192, 0, 2, 1 }, 4);
		memcpy(ip + 16, dst, 4);
		return ETH_HLEN + 20 + 8 + 8;
	}
	buf[12] = 0x86, buf[13] = 0xdd;
	ip[0] = 0x60;
	ip[5] = 8 + 8;
	ip[6] = 17;
	ip[7] = 64;
	memcpy(ip + 8, (uint8_t[]){ 0x20, 0x01, 0x0d, 0xb8, [15] = 1 }, 16);
	memcpy(ip + 24, dst, 16);
	return ETH_HLEN + 40 + 8 + 8;
}

static uint32_t run(struct bpf_program *p, uint8_t family, const uint8_t *dst)
{
	uint8_t buf[128];
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = buf, .repeat = 1);

	o.data_size_in = frame(buf, family, dst);
	ck_assert_int_eq(bpf_prog_test_run_opts(bpf_program__fd(p), &o), 0);
	return o.retval;
}

/* @probes addresses of each family: the kernel's answer is the library's. */
static void compare(struct bpf_program *p, const struct cgfw_lpm_image *img,
		    const struct cgfw_lpm_entry *set, size_t n, size_t probes, uint64_t seed)
{
	uint64_t s = seed;

	for (size_t i = 0; i < 2 * probes; i++) {
		uint8_t fam = i & 1 ? CGFW_FAMILY_INET6 : CGFW_FAMILY_INET, a[16];
		uint32_t want, got;

		ref_probe(&s, set, n, fam, a);
		want = img ? cgfw_lpm_lookup(img, fam, a) : 0;
		got = run(p, fam, a);
		ck_assert_msg(got == want,
			      "%s, probe %zu (IPv%d %02x%02x%02x%02x...): kernel %u, "
			      "user space %u",
			      bpf_program__name(p), i, fam, a[0], a[1], a[2], a[3], got, want);
	}
}

/* A mixed set: uniform lengths, nested chains, /0, full length, both families. */
static struct cgfw_lpm_entry *mixed_set(size_t n, uint64_t seed)
{
	struct cgfw_lpm_entry *e = calloc(n, sizeof(*e));
	uint64_t s = seed;
	uint8_t chain[16];

	ck_assert_ptr_nonnull(e);
	ref_rand_addr(&s, chain);
	for (size_t i = 0; i < n; i++) {
		uint8_t fam = i & 1 ? CGFW_FAMILY_INET6 : CGFW_FAMILY_INET, a[16];
		int w = ref_width(fam), len = (int)(ref_rand(&s) % (uint64_t)(w + 1));

		ref_rand_addr(&s, a);
		if (i % 10 == 0) /* a nested chain, every length */
			memcpy(a, chain, 16);
		ref_entry(&e[i], fam, len, a, ref_value(&s));
	}
	return e;
}

START_TEST(aom_matches_user_space)
{
	const size_t n = 40000;
	struct cgfw_lpm_entry *set = mixed_set(n, 0x11);
	struct cgfw_lpm_image *img = NULL, *img2 = NULL;
	struct fixture f;

	setup(&f);
	/* An empty slot and an all-zero image both answer 0. */
	compare(f.skel->progs.lpm_aom, NULL, set, n, 200, 1);
	ck_assert_int_eq(cgfw_lpm_build(NULL, 0, 0, &img), 0);
	publish_aom(&f, img);
	compare(f.skel->progs.lpm_aom, NULL, set, n, 200, 2);
	cgfw_lpm_free(img);

	ck_assert_int_eq(cgfw_lpm_build(set, n, 0, &img), 0);
	publish_aom(&f, img);
	compare(f.skel->progs.lpm_aom, img, set, n, 6000, 3);
	/* Replaced by another set in one switch: the new answers only. */
	ck_assert_int_eq(cgfw_lpm_build(set, n / 2, 0, &img2), 0);
	publish_aom(&f, img2);
	compare(f.skel->progs.lpm_aom, img2, set, n, 2000, 4);
	cgfw_lpm_free(img);
	cgfw_lpm_free(img2);
	free(set);
	teardown(&f);
}
END_TEST

START_TEST(ab_matches_user_space)
{
	const size_t n = 30000;
	struct cgfw_lpm_entry *set = mixed_set(n, 0x22), *set2 = mixed_set(n, 0x33);
	struct cgfw_lpm_image *img = NULL, *img2 = NULL;
	struct fixture f;

	setup(&f);
	ck_assert_int_eq(cgfw_lpm_build(set, n, 0, &img), 0);
	ck_assert_int_eq(cgfw_lpm_build(set2, n, 0, &img2), 0);
	publish_ab(&f, img, 1);
	compare(f.skel->progs.lpm_ab, img, set, n, 5000, 5);
	publish_ab(&f, img2, 0);
	compare(f.skel->progs.lpm_ab, img2, set2, n, 3000, 6);
	cgfw_lpm_free(img);
	cgfw_lpm_free(img2);
	free(set);
	free(set2);
	teardown(&f);
}
END_TEST

/* Deep shapes: every length nested at one address, both families. */
START_TEST(deepest_paths)
{
	struct cgfw_lpm_entry e[2 * 129 + 2 * 33];
	struct cgfw_lpm_image *img = NULL;
	uint64_t s = 0x44;
	struct fixture f;
	size_t n = 0;
	uint8_t a[16];

	ref_rand_addr(&s, a);
	for (int len = 0; len <= 128; len++) {
		uint8_t b[16];

		ref_entry(&e[n++], CGFW_FAMILY_INET6, len, a, (uint32_t)len + 1);
		memcpy(b, a, 16);
		if (len > 0)
			b[(len - 1) / 8] ^= (uint8_t)(0x80 >> ((len - 1) % 8));
		ref_entry(&e[n++], CGFW_FAMILY_INET6, 128, b, 1000 + (uint32_t)len);
	}
	for (int len = 0; len <= 32; len++) {
		uint8_t b[16];

		ref_entry(&e[n++], CGFW_FAMILY_INET, len, a, (uint32_t)len + 1);
		memcpy(b, a, 16);
		if (len > 0)
			b[(len - 1) / 8] ^= (uint8_t)(0x80 >> ((len - 1) % 8));
		ref_entry(&e[n++], CGFW_FAMILY_INET, 32, b, 2000 + (uint32_t)len);
	}
	setup(&f);
	ck_assert_int_eq(cgfw_lpm_build(e, n, 0, &img), 0);
	publish_aom(&f, img);
	publish_ab(&f, img, 0);
	compare(f.skel->progs.lpm_aom, img, e, n, 3000, 7);
	compare(f.skel->progs.lpm_ab, img, e, n, 1000, 8);
	cgfw_lpm_free(img);
	teardown(&f);
}
END_TEST

int main(void)
{
	Suite *su = suite_create("lpm_prog");
	TCase *tc = tcase_create("prog");
	SRunner *sr;
	int failed;

	if (geteuid() != 0) {
		fprintf(stderr, "prog_lpm: skipped: needs root (BPF_PROG_RUN)\n");
		return 77;
	}
	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, aom_matches_user_space);
	tcase_add_test(tc, ab_matches_user_space);
	tcase_add_test(tc, deepest_paths);
	suite_add_tcase(su, tc);
	sr = srunner_create(su);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
