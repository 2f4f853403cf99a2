// SPDX-License-Identifier: GPL-2.0-only
/*
 * lib/lpm against a naive reference (lpm_ref.h): the image's lookup is the
 * datapath's own walk (bpf/include/cgfw_lpm.h compiled in user space), so a
 * difference here is a difference in the kernel. Random sets of every shape
 * (uniform lengths, nested chains, dense clusters, /0 and full length, both
 * families, duplicates) and probes aimed at prefix edges; every set also
 * checks the depth bound and the image's own header.
 *
 * CGFW_LPM_SEED=N changes the random seed (printed on failure).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include <cgfw/lpm.h>

#include "lpm_ref.h"

static uint64_t seed0 = 0x5eed1e55c0ffeeull;

static uint64_t seed_for(uint64_t salt)
{
	return (seed0 ^ (salt * 0x9e3779b97f4a7c15ull)) | 1;
}

/* Compile @set with @rb root bits, then compare @probes lookups against the reference. */
static void check_set_rb(const struct cgfw_lpm_entry *set, size_t n, size_t probes, uint64_t salt,
			 unsigned int rb)
{
	struct cgfw_lpm_image *img = NULL;
	struct cgfw_lpm_stats st;
	const struct cgfw_lpm_elem *el;
	uint64_t s = seed_for(salt);
	struct ref r;
	size_t ne = 0;
	int err;

	ck_assert_int_eq(ref_init(&r, n), 0);
	for (size_t i = 0; i < n; i++)
		ref_add(&r, &set[i]);
	err = cgfw_lpm_build(set, n, CGFW_LPM_F_ROOT_BITS(rb), &img);
	ck_assert_msg(err == 0, "build of %zu prefixes: %d", n, err);
	ck_assert_uint_eq(cgfw_lpm_root_bits(img), rb ? rb : CGFW_LPM_ROOT_BITS);
	ck_assert_int_eq(cgfw_lpm_stats(img, &st), 0);
	ck_assert_uint_le(st.depth4, CGFW_LPM_DEPTH4);
	ck_assert_uint_le(st.depth6, CGFW_LPM_DEPTH6);
	el = cgfw_lpm_elems(img, &ne);
	ck_assert_ptr_nonnull(el);
	ck_assert_uint_eq(ne, st.elems);
	ck_assert_int_eq(cgfw_lpm_check(el, ne), 0);

	for (size_t i = 0; i < probes; i++) {
		uint8_t fam = i & 1 ? CGFW_FAMILY_INET6 : CGFW_FAMILY_INET, a[16];
		uint32_t want, got;

		ref_probe(&s, set, n, fam, a);
		want = ref_lookup(&r, fam, a);
		got = cgfw_lpm_lookup(img, fam, a);
		if (got != want) {
			char hex[33];

			for (int j = 0; j < 16; j++)
				snprintf(hex + 2 * j, 3, "%02x", a[j]);
			ck_abort_msg("seed %#llx salt %llu set of %zu, root bits %u: IPv%d %s: got "
				     "%u, want %u",
				     (unsigned long long)seed0, (unsigned long long)salt, n, rb,
				     fam, hex, got, want);
		}
		/* The raw-elements entry point must agree. */
		if (i % 64 == 0)
			ck_assert_uint_eq(cgfw_lpm_lookup_elems(el, ne, fam, a), got);
	}
	ref_fini(&r);
	cgfw_lpm_free(img);
}

/* The default 16-bit root, the smallest one and the one suggested for the set's size. */
static void check_set(const struct cgfw_lpm_entry *set, size_t n, size_t probes, uint64_t salt)
{
	check_set_rb(set, n, probes, salt, 0);
	check_set_rb(set, n, probes / 2 + 1, salt + 1, CGFW_LPM_ROOT_BITS_MIN);
	check_set_rb(set, n, probes / 2 + 1, salt + 2, cgfw_lpm_root_bits_for(n));
}

static struct cgfw_lpm_entry *alloc_set(size_t n)
{
	struct cgfw_lpm_entry *e = calloc(n ? n : 1, sizeof(*e));

	ck_assert_ptr_nonnull(e);
	return e;
}

/* @n prefixes, lengths uniform in [lo, hi] (clamped to the family), random family mix. */
static void random_set(struct cgfw_lpm_entry *e, size_t n, uint64_t *s, int lo4, int hi4, int lo6,
		       int hi6, int v6_percent)
{
	for (size_t i = 0; i < n; i++) {
		int six = (int)(ref_rand(s) % 100) < v6_percent;
		int lo = six ? lo6 : lo4, hi = six ? hi6 : hi4;
		uint8_t a[16];

		ref_rand_addr(s, a);
		ref_entry(&e[i], six ? CGFW_FAMILY_INET6 : CGFW_FAMILY_INET,
			  lo + (int)(ref_rand(s) % (uint64_t)(hi - lo + 1)), a, ref_value(s));
	}
}

START_TEST(empty_set)
{
	struct cgfw_lpm_image *img = NULL;
	uint8_t a[16] = { 192, 0, 2, 1 };
	struct cgfw_lpm_stats st;
	size_t n;

	ck_assert_int_eq(cgfw_lpm_build(NULL, 0, 0, &img), 0);
	ck_assert_uint_eq(cgfw_lpm_lookup(img, CGFW_FAMILY_INET, a), 0);
	ck_assert_uint_eq(cgfw_lpm_lookup(img, CGFW_FAMILY_INET6, a), 0);
	ck_assert_int_eq(cgfw_lpm_stats(img, &st), 0);
	ck_assert_uint_eq(st.elems, CGFW_LPM_RECORDS);
	ck_assert_uint_eq(st.strides + st.tails + st.skips, 0);
	/* An all-zero array is an empty image too: what a fresh map holds. */
	cgfw_lpm_elems(img, &n);
	{
		struct cgfw_lpm_elem *z = calloc(n, sizeof(*z));

		ck_assert_ptr_nonnull(z);
		ck_assert_uint_eq(cgfw_lpm_lookup_elems(z, n, CGFW_FAMILY_INET, a), 0);
		ck_assert_uint_eq(cgfw_lpm_lookup_elems(z, n, CGFW_FAMILY_INET6, a), 0);
		ck_assert_uint_eq(cgfw_lpm_lookup_elems(NULL, 0, CGFW_FAMILY_INET, a), 0);
		ck_assert_int_eq(cgfw_lpm_check(z, n), -EINVAL);
		free(z);
	}
	cgfw_lpm_free(img);
	cgfw_lpm_free(NULL);
	check_set(NULL, 0, 2000, 1);
}
END_TEST

START_TEST(bad_input)
{
	struct cgfw_lpm_image *img = (struct cgfw_lpm_image *)&img; /* must stay untouched */
	struct cgfw_lpm_image *const mark = img;
	struct cgfw_lpm_entry e[2];
	uint8_t a[16] = { 198, 51, 100, 0 };

	ref_entry(&e[0], CGFW_FAMILY_INET, 24, a, 7);
	ref_entry(&e[1], CGFW_FAMILY_INET, 24, a, 0);
	ck_assert_int_eq(cgfw_lpm_build(e, 2, 0, &img), -EINVAL); /* value 0 */
	e[1].value = 1;
	e[1].len = 33;
	ck_assert_int_eq(cgfw_lpm_build(e, 2, 0, &img), -EINVAL);
	e[1].family = CGFW_FAMILY_INET6;
	e[1].len = 129;
	ck_assert_int_eq(cgfw_lpm_build(e, 2, 0, &img), -EINVAL);
	e[1].family = 5;
	e[1].len = 8;
	ck_assert_int_eq(cgfw_lpm_build(e, 2, 0, &img), -EINVAL);
	ck_assert_int_eq(cgfw_lpm_build(NULL, 1, 0, &img), -EINVAL);
	ck_assert_int_eq(cgfw_lpm_build(e, 1, 0x80, &img), -EINVAL);
	ck_assert_int_eq(cgfw_lpm_build(e, 1, CGFW_LPM_F_ROOT_BITS(3), &img), -EINVAL);
	ck_assert_int_eq(cgfw_lpm_build(e, 1, CGFW_LPM_F_ROOT_BITS(17), &img), -EINVAL);
	ck_assert_int_eq(cgfw_lpm_build(e, 1, 0, NULL), -EINVAL);
	ck_assert_ptr_eq(img, mark);
	ck_assert_int_eq(cgfw_lpm_stats(NULL, NULL), -EINVAL);
}
END_TEST

START_TEST(duplicates)
{
	struct cgfw_lpm_image *img = NULL;
	struct cgfw_lpm_entry e[4];
	uint8_t a[16] = { 203, 0, 113, 0 }, h[16] = { 203, 0, 113, 9 };
	uint8_t b[16] = { 203, 0, 113, 77 }; /* same /24, host bits differ */

	ref_entry(&e[0], CGFW_FAMILY_INET, 24, a, 1);
	ref_entry(&e[1], CGFW_FAMILY_INET, 32, h, 2);
	ref_entry(&e[2], CGFW_FAMILY_INET, 24, b, 3);
	ref_entry(&e[3], CGFW_FAMILY_INET6, 24, a, 4); /* another family: not a duplicate */
	ck_assert_int_eq(cgfw_lpm_build(e, 4, 0, &img), 0);
	ck_assert_uint_eq(cgfw_lpm_lookup(img, CGFW_FAMILY_INET, a), 3); /* the last one wins */
	ck_assert_uint_eq(cgfw_lpm_lookup(img, CGFW_FAMILY_INET, h), 2);
	ck_assert_uint_eq(cgfw_lpm_lookup(img, CGFW_FAMILY_INET6, a), 4);
	cgfw_lpm_free(img);
	img = NULL;
	ck_assert_int_eq(cgfw_lpm_build(e, 4, CGFW_LPM_F_DUP_ERROR, &img), -EEXIST);
	ck_assert_ptr_null(img);
	ck_assert_int_eq(cgfw_lpm_build(e, 2, CGFW_LPM_F_DUP_ERROR, &img), 0);
	ck_assert_uint_eq(cgfw_lpm_lookup(img, CGFW_FAMILY_INET, b), 1);
	cgfw_lpm_free(img);

	/* Thousands of copies (the sort's equal-key path), among other prefixes. */
	{
		const size_t n = 20000;
		struct cgfw_lpm_entry *m = calloc(n, sizeof(*m));
		uint64_t s = seed_for(9);

		ck_assert_ptr_nonnull(m);
		for (size_t i = 0; i < n; i++) {
			uint8_t r[16];

			ref_rand_addr(&s, r);
			if (i % 4 == 3)
				ref_entry(&m[i], CGFW_FAMILY_INET6, (int)(i % 129), r,
					  (uint32_t)i + 1);
			else
				ref_entry(&m[i], CGFW_FAMILY_INET, 24, a, (uint32_t)i + 1);
		}
		img = NULL;
		ck_assert_int_eq(cgfw_lpm_build(m, n, 0, &img), 0);
		ck_assert_uint_eq(cgfw_lpm_lookup(img, CGFW_FAMILY_INET, h), n - 1); /* i = n - 2 */
		cgfw_lpm_free(img);
		img = NULL;
		ck_assert_int_eq(cgfw_lpm_build(m, n, CGFW_LPM_F_DUP_ERROR, &img), -EEXIST);
		check_set(m, n, 20000, 10);
		free(m);
	}
}
END_TEST

/* One prefix of every length, alone, both families; and /0 with a full-length one. */
START_TEST(single_prefix)
{
	uint64_t s = seed_for(2);
	struct cgfw_lpm_entry e[2];

	for (int fam = 4; fam <= 6; fam += 2) {
		int w = fam == 4 ? 32 : 128;

		for (int len = 0; len <= w; len++) {
			uint8_t a[16];

			ref_rand_addr(&s, a);
			ref_entry(&e[0], (uint8_t)fam, len, a, (uint32_t)len + 1);
			check_set(e, 1, 400, 100 + (uint64_t)len);
			/* with /0 under it, and with a full-length host inside it */
			ref_entry(&e[1], (uint8_t)fam, 0, a, 999);
			check_set(e, 2, 200, 300 + (uint64_t)len);
			ref_entry(&e[1], (uint8_t)fam, w, a, 1000);
			check_set(e, 2, 200, 500 + (uint64_t)len);
		}
	}
}
END_TEST

/*
 * Every length 0..W nested on one address, plus for each length the sibling
 * subtree: the deepest trie a family can have, and probes that leave the
 * chain at every bit.
 */
START_TEST(nested_chain)
{
	uint64_t s = seed_for(3);

	for (int fam = 4; fam <= 6; fam += 2) {
		int w = fam == 4 ? 32 : 128;
		struct cgfw_lpm_entry *e = alloc_set(2 * (size_t)w + 2);
		size_t n = 0;
		uint8_t a[16];

		for (int round = 0; round < 4; round++) {
			ref_rand_addr(&s, a);
			n = 0;
			for (int len = 0; len <= w; len++) {
				/* round 1 keeps every 6th length only, round 2 every 7th */
				if ((round == 1 && len % 6) || (round == 2 && len % 7))
					continue;
				ref_entry(&e[n++], (uint8_t)fam, len, a, (uint32_t)len + 1);
				if (round == 3 && len > 0) {
					uint8_t b[16];

					memcpy(b, a, 16);
					b[(len - 1) / 8] ^= (uint8_t)(0x80 >> ((len - 1) % 8));
					ref_entry(&e[n++], (uint8_t)fam, w, b,
						  5000 + (uint32_t)len);
				}
			}
			check_set(e, n, 20000, 700 + (uint64_t)(fam * 10 + round));
		}
		free(e);
	}
}
END_TEST

/* Uniform random sets, sizes 1 to 100k, both families and mixed. */
START_TEST(random_sets)
{
	static const size_t sizes[] = { 1, 2, 3, 10, 100, 1000, 10000, 100000 };
	uint64_t s = seed_for(4);

	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		size_t n = sizes[k];
		struct cgfw_lpm_entry *e = alloc_set(n);

		random_set(e, n, &s, 0, 32, 0, 128, 50);
		check_set(e, n, n < 10000 ? 20000 : 100000, 900 + k);
		random_set(e, n, &s, 8, 32, 16, 128, k & 1 ? 0 : 100);
		check_set(e, n, 20000, 1000 + k);
		free(e);
	}
}
END_TEST

/*
 * Dense clusters: many prefixes under a few short ones, so strides fill up
 * and children nest; and prefixes that differ only in their last bits.
 */
START_TEST(dense_clusters)
{
	uint64_t s = seed_for(5);
	const size_t n = 60000;
	struct cgfw_lpm_entry *e = alloc_set(n);

	for (int shape = 0; shape < 6; shape++) {
		uint8_t base[4][16];

		for (int b = 0; b < 4; b++)
			ref_rand_addr(&s, base[b]);
		for (size_t i = 0; i < n; i++) {
			int six = shape & 1, w = six ? 128 : 32;
			int keep = shape < 2 ? 12 : shape < 4 ? w - 12 : w - 24;
			int len = keep + (int)(ref_rand(&s) % (uint64_t)(w - keep + 1));
			uint8_t a[16], r[16];

			/* the first @keep bits from one of four bases, the rest random */
			ref_rand_addr(&s, r);
			ref_mask(a, base[i % 4], keep, 128);
			for (int j = 0; j < 16; j++) {
				int bb = keep - 8 * j;
				uint8_t m = bb >= 8 ? 0xff :
					    bb <= 0 ? 0 :
						      (uint8_t)(0xff << (8 - bb));

				a[j] = (uint8_t)((a[j] & m) | (r[j] & ~m));
			}
			if (i % 97 == 0)
				len = (int)(ref_rand(&s) %
					    (uint64_t)(keep + 1)); /* covering prefixes */
			ref_entry(&e[i], six ? CGFW_FAMILY_INET6 : CGFW_FAMILY_INET, len, a,
				  ref_value(&s) % 8 + 1); /* few distinct values: long leaf runs */
		}
		check_set(e, n, 40000, 1100 + (uint64_t)shape);
	}
	free(e);
}
END_TEST

/* Real-list shape: mostly /32 and /128 hosts, some /24 /16 /22 /20 /48 /64. */
START_TEST(list_shaped)
{
	static const int lens4[] = { 32, 32, 32, 32, 32, 32, 24, 24, 16, 22, 20, 23, 21, 19, 28, 8 };
	static const int lens6[] = { 128, 128, 128, 64, 64, 48, 48, 32, 56, 40, 29, 96 };
	uint64_t s = seed_for(6);
	const size_t n = 50000;
	struct cgfw_lpm_entry *e = alloc_set(n);

	for (size_t i = 0; i < n; i++) {
		int six = i % 3 == 0;
		int len = six ? lens6[ref_rand(&s) % 12] : lens4[ref_rand(&s) % 16];
		uint8_t a[16];

		ref_rand_addr(&s, a);
		if (!six)
			a[0] = (uint8_t)(a[0] % 8 + 1); /* crowd a few /8s, as real lists do */
		else
			a[0] = 0x20, a[1] = (uint8_t)(a[1] % 4);
		ref_entry(&e[i], six ? CGFW_FAMILY_INET6 : CGFW_FAMILY_INET, len, a,
			  (uint32_t)i + 1);
	}
	check_set(e, n, 60000, 1200);
	free(e);
}
END_TEST

/*
 * Prefixes sharing exactly c bits, for every c: a SKIP to c, then a STRIDE
 * read at c, which for IPv6 crosses the middle of the address at 59..63.
 */
START_TEST(skip_positions)
{
	uint64_t s = seed_for(8);
	struct cgfw_lpm_entry e[40];

	for (int fam = 4; fam <= 6; fam += 2) {
		int w = fam == 4 ? 32 : 128;

		for (int c = 1; c < w; c++) {
			uint8_t base[16];
			size_t n = 0;

			ref_rand_addr(&s, base);
			for (int i = 0; i < 40; i++) {
				int len = c + 1 +
					  (int)(ref_rand(&s) % (uint64_t)(w - c < 14 ? w - c : 14));
				uint8_t a[16], r[16];

				ref_rand_addr(&s, r);
				for (int j = 0; j < 16; j++) {
					int bb = c - 8 * j;
					uint8_t m = bb >= 8 ? 0xff :
						    bb <= 0 ? 0 :
							      (uint8_t)(0xff << (8 - bb));

					a[j] = (uint8_t)((base[j] & m) | (r[j] & ~m));
				}
				/* the first bit after c takes both values */
				a[c / 8] = (uint8_t)((a[c / 8] & ~(0x80 >> (c % 8))) |
						     (i & 1 ? 0x80 >> (c % 8) : 0));
				ref_entry(&e[n++], (uint8_t)fam, len, a, (uint32_t)i + 1);
			}
			if (c % 3 == 0) /* and sometimes the length-c prefix itself */
				ref_entry(&e[n - 1], (uint8_t)fam, c, base, 77);
			check_set(e, n, 3000, 1300 + (uint64_t)(fam * 1000 + c));
		}
	}
}
END_TEST

/*
 * Hosts crowded under one prefix of every length c, sometimes with a prefix
 * covering them: long runs of strides whose leaf slots all hold one value
 * (CGFW_LPM_NODE_ONE_LEAF), zero or not, at every position.
 */
START_TEST(host_clusters)
{
	uint64_t s = seed_for(11);
	struct cgfw_lpm_entry e[400];

	for (int fam = 4; fam <= 6; fam += 2) {
		int w = fam == 4 ? 32 : 128;

		for (int c = 8; c < w - 4; c++) {
			uint8_t base[16];
			size_t n = 0;

			ref_rand_addr(&s, base);
			for (int i = 0; i < (fam == 4 ? 399 : 150); i++) {
				uint8_t a[16], r[16];

				ref_rand_addr(&s, r);
				for (int j = 0; j < 16; j++) {
					int bb = c - 8 * j;
					uint8_t m = bb >= 8 ? 0xff :
						    bb <= 0 ? 0 :
							      (uint8_t)(0xff << (8 - bb));

					a[j] = (uint8_t)((base[j] & m) | (r[j] & ~m));
				}
				ref_entry(&e[n++], (uint8_t)fam, w, a, (uint32_t)i + 1);
			}
			if (c % 2)
				ref_entry(&e[n++], (uint8_t)fam, c - 3, base, 4242);
			check_set(e, n, 2000, 1400 + (uint64_t)(fam * 1000 + c));
		}
	}
}
END_TEST

/* A damaged image: lookups stay bounded and in range, whatever they return. */
START_TEST(damaged_image)
{
	uint64_t s = seed_for(7);
	const size_t n = 5000;
	struct cgfw_lpm_entry *e = alloc_set(n);
	struct cgfw_lpm_image *img = NULL;
	struct cgfw_lpm_elem *copy;
	const struct cgfw_lpm_elem *el;
	size_t ne;

	random_set(e, n, &s, 8, 32, 16, 128, 50);
	ck_assert_int_eq(cgfw_lpm_build(e, n, 0, &img), 0);
	el = cgfw_lpm_elems(img, &ne);
	copy = malloc(ne * sizeof(*copy));
	ck_assert_ptr_nonnull(copy);
	memcpy(copy, el, ne * sizeof(*copy));
	copy[0].hdr.magic ^= 1;
	ck_assert_int_eq(cgfw_lpm_check(copy, ne), -EINVAL);
	copy[0].hdr.magic ^= 1;
	copy[0].hdr.version++;
	ck_assert_int_eq(cgfw_lpm_check(copy, ne), -ENOTSUP);
	copy[0].hdr.version--;
	ck_assert_int_eq(cgfw_lpm_check(copy, ne - 1), -EINVAL);
	/* Scribble over records and leaves, and cut the image short. */
	for (size_t i = 0; i < 20000; i++) {
		size_t k = CGFW_LPM_RECORDS + ref_rand(&s) % (ne - CGFW_LPM_RECORDS);
		uint8_t a[16];

		((uint8_t *)&copy[k])[ref_rand(&s) % 32] = (uint8_t)ref_rand(&s);
		ref_probe(&s, e, n, i & 1 ? CGFW_FAMILY_INET6 : CGFW_FAMILY_INET, a);
		(void)cgfw_lpm_lookup_elems(copy, ne - (i % 3) * (ne / 4),
					    i & 1 ? CGFW_FAMILY_INET6 : CGFW_FAMILY_INET, a);
	}
	free(copy);
	free(e);
	cgfw_lpm_free(img);
}
END_TEST

static Suite *lpm_suite(void)
{
	Suite *su = suite_create("lpm");
	TCase *tc = tcase_create("lpm");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, empty_set);
	tcase_add_test(tc, bad_input);
	tcase_add_test(tc, duplicates);
	tcase_add_test(tc, single_prefix);
	tcase_add_test(tc, nested_chain);
	tcase_add_test(tc, random_sets);
	tcase_add_test(tc, dense_clusters);
	tcase_add_test(tc, list_shaped);
	tcase_add_test(tc, skip_positions);
	tcase_add_test(tc, host_clusters);
	tcase_add_test(tc, damaged_image);
	suite_add_tcase(su, tc);
	return su;
}

int main(void)
{
	const char *env = getenv("CGFW_LPM_SEED");
	SRunner *sr;
	int failed;

	if (env)
		seed0 = strtoull(env, NULL, 0);
	sr = srunner_create(lpm_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
