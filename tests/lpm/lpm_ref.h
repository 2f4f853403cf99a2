/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the LPM tests compare against: a deliberately naive longest-prefix
 * match (one exact-match probe per prefix length, longest first) sharing no
 * code with lib/lpm, plus the random generators of prefix sets and probe
 * addresses used by the unit and the BPF_PROG_RUN tests. Header only.
 */
#ifndef CGFW_TESTS_LPM_REF_H
#define CGFW_TESTS_LPM_REF_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cgfw/lpm.h>

/* xorshift64*: reproducible, seeded per test. */
static inline uint64_t ref_rand(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

struct ref_slot {
	uint8_t used, family, len;
	uint32_t value;
	uint8_t addr[16];
};

struct ref {
	struct ref_slot *t;
	size_t cap; /* power of two */
};

static inline int ref_width(uint8_t family)
{
	return family == CGFW_FAMILY_INET ? 32 : 128;
}

/* @addr with only its first @len bits kept, into @out. */
static inline void ref_mask(uint8_t *out, const uint8_t *addr, int len, int width)
{
	memset(out, 0, 16);
	for (int i = 0; i < width / 8; i++) {
		int b = len - 8 * i;

		out[i] = b >= 8 ? addr[i] : b <= 0 ? 0 : (uint8_t)(addr[i] & (0xff << (8 - b)));
	}
}

static inline size_t ref_hash(uint8_t family, uint8_t len, const uint8_t *a)
{
	uint64_t h = 1469598103934665603ull ^ family ^ (uint64_t)len << 8;

	for (int i = 0; i < 16; i++)
		h = (h ^ a[i]) * 1099511628211ull;
	return (size_t)(h ^ h >> 29);
}

static inline int ref_init(struct ref *r, size_t n)
{
	r->cap = 16;
	while (r->cap < 2 * n + 16)
		r->cap *= 2;
	r->t = calloc(r->cap, sizeof(*r->t));
	return r->t ? 0 : -1;
}

static inline void ref_fini(struct ref *r)
{
	free(r->t);
	r->t = NULL;
}

static inline struct ref_slot *ref_find(const struct ref *r, uint8_t family, uint8_t len,
					const uint8_t *masked)
{
	for (size_t i = ref_hash(family, len, masked) & (r->cap - 1);; i = (i + 1) & (r->cap - 1)) {
		struct ref_slot *s = &r->t[i];

		if (!s->used ||
		    (s->family == family && s->len == len && !memcmp(s->addr, masked, 16)))
			return s;
	}
}

/* Insert (a later insert of the same prefix replaces the value: "last wins"). */
static inline void ref_add(struct ref *r, const struct cgfw_lpm_entry *e)
{
	uint8_t m[16];
	struct ref_slot *s;

	ref_mask(m, e->addr, e->len, ref_width(e->family));
	s = ref_find(r, e->family, e->len, m);
	s->used = 1;
	s->family = e->family;
	s->len = e->len;
	s->value = e->value;
	memcpy(s->addr, m, 16);
}

static inline uint32_t ref_lookup(const struct ref *r, uint8_t family, const uint8_t *addr)
{
	int w = ref_width(family);
	uint8_t m[16];

	for (int len = w; len >= 0; len--) {
		struct ref_slot *s;

		ref_mask(m, addr, len, w);
		s = ref_find(r, family, (uint8_t)len, m);
		if (s->used)
			return s->value;
	}
	return 0;
}

/* ---- generators ------------------------------------------------------------ */

static inline void ref_rand_addr(uint64_t *s, uint8_t *a)
{
	uint64_t x = ref_rand(s), y = ref_rand(s);

	memcpy(a, &x, 8);
	memcpy(a + 8, &y, 8);
}

static inline void ref_entry(struct cgfw_lpm_entry *e, uint8_t family, int len, const uint8_t *a,
			     uint32_t value)
{
	memset(e, 0, sizeof(*e));
	e->family = family;
	e->len = (uint8_t)len;
	e->value = value;
	memcpy(e->addr, a, 16);
	if (family == CGFW_FAMILY_INET)
		memset(e->addr + 4, 0, 12);
}

static inline uint32_t ref_value(uint64_t *s)
{
	uint32_t v = (uint32_t)ref_rand(s);

	return v ? v : 1;
}

/*
 * A probe address near the prefixes of @set: inside one (random host bits),
 * just outside one (a bit flipped at or before its length), at one's first
 * or last address, or anywhere.
 */
static inline void ref_probe(uint64_t *s, const struct cgfw_lpm_entry *set, size_t n,
			     uint8_t family, uint8_t *a)
{
	const struct cgfw_lpm_entry *e;
	int w = ref_width(family), kind = (int)(ref_rand(s) % 6), len, bit;
	uint8_t r[16];

	ref_rand_addr(s, a);
	if (family == CGFW_FAMILY_INET)
		memset(a + 4, 0, 12);
	if (!n || kind == 0)
		return;
	e = &set[ref_rand(s) % n];
	if (e->family != family)
		return;
	len = e->len;
	memcpy(r, a, 16);
	for (int i = 0; i < w / 8; i++) {
		int b = len - 8 * i;
		uint8_t m = b >= 8 ? 0xff : b <= 0 ? 0 : (uint8_t)(0xff << (8 - b));

		a[i] = (uint8_t)((e->addr[i] & m) | (r[i] & ~m));
		if (kind == 3) /* the first address */
			a[i] = (uint8_t)(e->addr[i] & m);
		else if (kind == 4) /* the last address */
			a[i] = (uint8_t)(e->addr[i] | ~m);
	}
	if (kind == 2 && len > 0) { /* flip one bit inside the prefix */
		bit = (int)(ref_rand(s) % (uint64_t)len);
		a[bit / 8] ^= (uint8_t)(0x80 >> (bit % 8));
	}
	if (kind == 5 && len > 0) { /* flip the prefix's last bit: the sibling */
		bit = len - 1;
		a[bit / 8] ^= (uint8_t)(0x80 >> (bit % 8));
	}
}

#endif /* CGFW_TESTS_LPM_REF_H */
