// SPDX-License-Identifier: GPL-2.0-only
/*
 * The LPM compiler: sorted prefixes in, a leaf-pushed Poptrie-style image
 * out (include/cgfw/lpm_map.h; design and measurements in docs/LPM.md).
 *
 * The prefixes of one family are sorted by (address, length). In that order
 * the prefixes below any bit path form one contiguous run, and a prefix that
 * contains another comes before it; so "paint each prefix's slots in sorted
 * order" gives every slot its longest match, and each subtree is a slice of
 * the sorted array. build() turns a slice into one record:
 *   - one prefix: a TAIL (checks the prefix, else the inherited value);
 *   - all prefixes share at least CGFW_LPM_STRIDE more bits: a SKIP over
 *     them (so random long IPv6 prefixes stay shallow);
 *   - otherwise a STRIDE over the next 6 bits, whose 64 slots are leaves
 *     (run-length compressed) or children built the same way.
 * Each record but the last of a path advances the bit position by at least
 * 6, which bounds the depth (CGFW_LPM_DEPTH4/6) whatever the prefixes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cgfw/lpm.h>

struct cgfw_lpm_view {
	const struct cgfw_lpm_elem *e;
	size_t n;
};

#define CGFW_LPM_CTX_T	      const struct cgfw_lpm_view *
#define CGFW_LPM_ELEM(v, idx) ((size_t)(idx) < (v)->n ? &(v)->e[(idx)] : NULL)
#include "cgfw_lpm.h"

struct cgfw_lpm_image {
	struct cgfw_lpm_elem *e;
	size_t n;
	struct cgfw_lpm_stats st;
};

/* A prefix, left aligned in 128 bits, host bits cleared. */
struct pfx {
	__u64 hi, lo;
	__u32 value;
	__u32 seq; /* position in the input, for "the last one wins" */
	__u8 len;
	__u8 pad[7];
};

struct bld {
	struct cgfw_lpm_elem *e; /* the image being built; records from CGFW_LPM_RECORDS */
	size_t n, cap;
	unsigned int w;	    /* address width: 32 or 128 */
	unsigned int rb;    /* root bits */
	unsigned int depth; /* deepest path so far */
	size_t strides, tails, skips, leaves;
};

static int grow(void **p, size_t *cap, size_t need, size_t size)
{
	size_t c = *cap ? *cap : need;
	void *q;

	if (need <= *cap)
		return 0;
	while (c < need)
		c *= 2;
	q = realloc(*p, c * size);
	if (!q)
		return -ENOMEM;
	*p = q;
	*cap = c;
	return 0;
}

/* Reserve @k consecutive zeroed elements; returns the first one's index. */
static int alloc_rec(struct bld *b, size_t k, __u32 *ret_idx)
{
	size_t old = b->cap;
	int err;

	if (b->n + k > UINT32_MAX / 8) /* leaf numbers are element * 8 */
		return -E2BIG;
	err = grow((void **)&b->e, &b->cap, b->n + k, sizeof(*b->e));
	if (err)
		return err;
	if (b->cap > old)
		memset(&b->e[old], 0, (b->cap - old) * sizeof(*b->e));
	*ret_idx = (__u32)b->n;
	b->n += k;
	return 0;
}

static struct cgfw_lpm_elem *rec_at(struct bld *b, __u32 idx)
{
	return &b->e[idx];
}

/* @hi, @lo with only the first @len bits kept. */
static void mask128(__u64 *hi, __u64 *lo, unsigned int len)
{
	if (len == 0) {
		*hi = 0;
		*lo = 0;
	} else if (len <= 64) {
		*hi &= ~0ull << (64 - len);
		*lo = 0;
	} else if (len < 128) {
		*lo &= ~0ull << (128 - len);
	}
}

/* Number of leading bits @a and @b have in common (128 if equal). */
static unsigned int lcp(const struct pfx *a, const struct pfx *b)
{
	if (a->hi != b->hi)
		return (unsigned int)__builtin_clzll(a->hi ^ b->hi);
	if (a->lo != b->lo)
		return 64 + (unsigned int)__builtin_clzll(a->lo ^ b->lo);
	return 128;
}

/* The @k bits of @p from bit position @pos on (pos + k <= 128, k <= 32). */
static __u32 bits(const struct pfx *p, unsigned int pos, unsigned int k)
{
	__u64 hi = p->hi, lo = p->lo, x;

	if (pos >= 64)
		x = lo << (pos - 64);
	else if (pos == 0)
		x = hi;
	else
		x = hi << pos | lo >> (64 - pos);
	return (__u32)(x >> (64 - k));
}

static int build(struct bld *b, const struct pfx *a, size_t n, unsigned int p, __u32 inh,
		 __u32 slot, unsigned int depth);

static int tail(struct bld *b, const struct pfx *a, __u32 inh, __u32 slot, unsigned int depth)
{
	struct cgfw_lpm_tail *t = &rec_at(b, slot)->tail;

	t->kind = CGFW_LPM_KIND_TAIL;
	t->len = a->len;
	t->key_hi = a->hi;
	t->key_lo = a->lo;
	t->next_or_value = a->value;
	t->miss = inh;
	b->tails++;
	if (depth > b->depth)
		b->depth = depth;
	return 0;
}

static int skip(struct bld *b, const struct pfx *a, size_t n, unsigned int c, __u32 inh, __u32 slot,
		unsigned int depth)
{
	struct cgfw_lpm_tail *t;
	__u32 next, v = inh;
	int err;

	/* Only the first prefix of the slice can be the one of length c. */
	if (a->len == c) {
		v = a->value;
		a++;
		n--;
	}
	err = alloc_rec(b, 1, &next);
	if (err)
		return err;
	t = &rec_at(b, slot)->tail;
	t->kind = CGFW_LPM_KIND_SKIP;
	t->len = (__u8)c;
	t->key_hi = a->hi;
	t->key_lo = a->lo;
	mask128(&t->key_hi, &t->key_lo, c);
	t->next_or_value = next;
	t->miss = inh;
	b->skips++;
	return build(b, a, n, c, v, next, depth + 1);
}

static int stride(struct bld *b, const struct pfx *a, size_t n, unsigned int p, __u32 inh,
		  __u32 slot, unsigned int depth)
{
	unsigned int q = p + CGFW_LPM_STRIDE <= b->w ? p : b->w - CGFW_LPM_STRIDE;
	unsigned int end = q + CGFW_LPM_STRIDE;
	size_t from[64], to[64];
	__u32 val[64], lv[64], child = 0, prev;
	__u64 vec = 0, leafvec = 0;
	struct cgfw_lpm_node *nd;
	unsigned int s, k, nl;
	int err;

	for (s = 0; s < 64; s++)
		val[s] = inh;
	/* Sorted order paints every slot with its longest prefix (see the top). */
	for (size_t i = 0; i < n; i++) {
		s = bits(&a[i], q, CGFW_LPM_STRIDE);
		if (a[i].len <= end) {
			unsigned int span = 1u << (end - a[i].len);

			for (k = 0; k < span; k++)
				val[s + k] = a[i].value;
			continue;
		}
		if (!(vec & 1ull << s)) {
			vec |= 1ull << s;
			from[s] = i;
		}
		to[s] = i + 1;
	}
	/*
	 * One block: the children, then the node's leaves, 8 to an element. A
	 * child's slot carries on the previous leaf run, so it costs no leaf.
	 */
	k = (unsigned int)__builtin_popcountll(vec);
	prev = val[0];
	for (s = 0, nl = 0; s < 64; s++) {
		__u32 v = vec & 1ull << s ? prev : val[s];

		if (s == 0 || v != prev) {
			leafvec |= 1ull << s;
			lv[nl++] = v;
		}
		prev = v;
	}
	/* One run: its value goes in the node, no leaf element (see lpm_map.h). */
	err = alloc_rec(b, k + (nl > 1 ? (nl + 7) / 8 : 0), &child);
	if (err)
		return err;
	nd = &rec_at(b, slot)->node;
	if (nl > 1) {
		for (s = 0; s < nl; s++)
			rec_at(b, child + k + s / 8)->leaf[s % 8] = lv[s];
		b->leaves += nl;
		nd->leafvec = leafvec;
	} else {
		nd->flags = CGFW_LPM_NODE_ONE_LEAF;
		nd->leafvec = (__u64)lv[0] << 32;
	}
	nd->kind = CGFW_LPM_KIND_STRIDE;
	nd->pos = (__u8)q;
	nd->vec = vec;
	nd->child = child;
	nd->nchild = (__u8)k;
	for (s = 8, nl = 0; s < 64; s += 8) {
		nl += (unsigned int)__builtin_popcountll((vec >> (s - 8)) & 0xff);
		nd->rank |= (__u64)nl << s;
	}
	b->strides++;
	if (depth > b->depth)
		b->depth = depth;

	for (s = 0, k = 0; s < 64; s++) {
		if (!(vec & 1ull << s))
			continue;
		err = build(b, a + from[s], to[s] - from[s], end, val[s], child + k++, depth + 1);
		if (err)
			return err;
	}
	return 0;
}

/*
 * Make record @slot for the @n >= 1 prefixes of @a: all longer than @p and
 * sharing the path's first @p bits; @inh is what the path's addresses get
 * from shorter prefixes. @depth counts the records from the root on.
 */
static int build(struct bld *b, const struct pfx *a, size_t n, unsigned int p, __u32 inh,
		 __u32 slot, unsigned int depth)
{
	unsigned int c, minlen = b->w;

	if (n == 1)
		return tail(b, a, inh, slot, depth);
	c = lcp(&a[0], &a[n - 1]);
	for (size_t i = 0; i < n; i++)
		if (a[i].len < minlen)
			minlen = a[i].len;
	if (minlen < c)
		c = minlen;
	if (c >= p + CGFW_LPM_STRIDE)
		return skip(b, a, n, c, inh, slot, depth);
	return stride(b, a, n, p, inh, slot, depth);
}

/* The root of one family over the sorted, distinct prefixes @a[0..n). */
static int build_root(struct bld *b, struct cgfw_lpm_root *root, const struct pfx *a, size_t n)
{
	size_t i = 0;
	int err;

	/* Prefixes no longer than the root paint its slots, in sorted order. */
	for (i = 0; i < n; i++) {
		__u32 s = bits(&a[i], 0, b->rb);

		if (a[i].len <= b->rb) {
			__u32 span = 1u << (b->rb - a[i].len);

			for (__u32 k = 0; k < span; k++)
				root[s + k].value = a[i].value;
		}
	}
	for (i = 0; i < n;) {
		__u32 s = bits(&a[i], 0, b->rb), node;
		size_t j;

		if (a[i].len <= b->rb) {
			i++;
			continue;
		}
		for (j = i + 1; j < n && bits(&a[j], 0, b->rb) == s; j++)
			;
		err = alloc_rec(b, 1, &node);
		if (err)
			return err;
		root[s].node = node;
		err = build(b, &a[i], j - i, b->rb, root[s].value, node, 1);
		if (err)
			return err;
		i = j;
	}
	return 0;
}

static int cmp_pfx(const struct pfx *a, const struct pfx *b)
{
	if (a->hi != b->hi)
		return a->hi < b->hi ? -1 : 1;
	if (a->lo != b->lo)
		return a->lo < b->lo ? -1 : 1;
	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/*
 * Byte @d of a prefix's sort key: the address (16 bytes, first byte first),
 * the length, then the input position (4 bytes).
 */
#define KEY_BYTES 21

static unsigned int key_byte(const struct pfx *p, unsigned int d)
{
	if (d < 8)
		return (unsigned int)(p->hi >> (56 - 8 * d)) & 0xff;
	if (d < 16)
		return (unsigned int)(p->lo >> (56 - 8 * (d - 8))) & 0xff;
	if (d == 16)
		return p->len;
	return (p->seq >> (8 * (KEY_BYTES - 1 - d))) & 0xff;
}

/*
 * Most-significant-digit radix sort on the key bytes, small runs by
 * insertion: qsort's indirect comparisons were most of a 1M-prefix build.
 * @tmp has room for @n. Recursion depth is at most KEY_BYTES.
 */
static void sort_pfx(struct pfx *a, struct pfx *tmp, size_t n, unsigned int d)
{
	size_t count[256] = { 0 }, pos[256], i;
	unsigned int b;

	while (n > 32 && d < KEY_BYTES) {
		for (i = 0; i < n; i++)
			count[key_byte(&a[i], d)]++;
		for (b = 0; b < 256 && count[b] != n; b++)
			;
		if (b == 256) /* this byte differs: split on it */
			break;
		count[b] = 0; /* all alike: on to the next byte */
		d++;
	}
	if (n <= 32 || d >= KEY_BYTES) {
		for (i = 1; i < n; i++) {
			struct pfx x = a[i];
			size_t j = i;

			for (; j > 0 && cmp_pfx(&a[j - 1], &x) > 0; j--)
				a[j] = a[j - 1];
			a[j] = x;
		}
		return;
	}
	for (b = 0, i = 0; b < 256; b++) {
		pos[b] = i;
		i += count[b];
	}
	for (i = 0; i < n; i++)
		tmp[pos[key_byte(&a[i], d)]++] = a[i];
	memcpy(a, tmp, n * sizeof(*a));
	for (b = 0, i = 0; b < 256; i += count[b], b++)
		if (count[b] > 1)
			sort_pfx(a + i, tmp, count[b], d + 1);
}

static __u64 be64(const __u8 *p)
{
	__u64 v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* Sort and drop duplicates (the last one wins, or -EEXIST). */
static int prepare(struct pfx *a, size_t *n, unsigned int flags)
{
	struct pfx *tmp = malloc((*n + 1) * sizeof(*tmp));
	size_t i, o = 0;

	if (!tmp)
		return -ENOMEM;
	sort_pfx(a, tmp, *n, 0);
	free(tmp);
	for (i = 0; i < *n; i++) {
		if (i + 1 < *n && a[i].hi == a[i + 1].hi && a[i].lo == a[i + 1].lo &&
		    a[i].len == a[i + 1].len) {
			if (flags & CGFW_LPM_F_DUP_ERROR)
				return -EEXIST;
			continue;
		}
		a[o++] = a[i];
	}
	*n = o;
	return 0;
}

int cgfw_lpm_build(const struct cgfw_lpm_entry *entries, size_t n, unsigned int flags,
		   struct cgfw_lpm_image **ret_img)
{
	struct pfx *p4 = NULL, *p6 = NULL;
	struct cgfw_lpm_image *img = NULL;
	struct cgfw_lpm_root *root = NULL;
	struct bld b = { 0 };
	size_t n4 = 0, n6 = 0, i;
	struct cgfw_lpm_header *h;
	unsigned int depth4, rb, slots;
	int err = -EINVAL;

	if ((!entries && n) || (flags & ~(CGFW_LPM_F_DUP_ERROR | CGFW_LPM_F_ROOT_MASK)) || !ret_img)
		return -EINVAL;
	rb = (flags & CGFW_LPM_F_ROOT_MASK) >> CGFW_LPM_F_ROOT_SHIFT;
	if (!rb)
		rb = CGFW_LPM_ROOT_BITS;
	if (rb < CGFW_LPM_ROOT_BITS_MIN || rb > CGFW_LPM_ROOT_BITS)
		return -EINVAL;
	slots = 1u << rb;
	if (n > UINT32_MAX)
		return -E2BIG;
	for (i = 0; i < n; i++) {
		const struct cgfw_lpm_entry *e = &entries[i];

		if (!e->value)
			return -EINVAL;
		if (e->family == CGFW_FAMILY_INET && e->len <= 32)
			n4++;
		else if (e->family == CGFW_FAMILY_INET6 && e->len <= 128)
			n6++;
		else
			return -EINVAL;
	}
	p4 = malloc((n4 + 1) * sizeof(*p4));
	p6 = malloc((n6 + 1) * sizeof(*p6));
	root = calloc(2 * (size_t)slots, sizeof(*root));
	img = calloc(1, sizeof(*img));
	err = -ENOMEM;
	if (!p4 || !p6 || !root || !img)
		goto out;
	n4 = n6 = 0;
	for (i = 0; i < n; i++) {
		const struct cgfw_lpm_entry *e = &entries[i];
		struct pfx *q = e->family == CGFW_FAMILY_INET ? &p4[n4++] : &p6[n6++];

		memset(q, 0, sizeof(*q));
		if (e->family == CGFW_FAMILY_INET) {
			q->hi = (__u64)e->addr[0] << 56 | (__u64)e->addr[1] << 48 |
				(__u64)e->addr[2] << 40 | (__u64)e->addr[3] << 32;
			q->lo = 0;
		} else {
			q->hi = be64(e->addr);
			q->lo = be64(e->addr + 8);
		}
		mask128(&q->hi, &q->lo, e->len);
		q->len = e->len;
		q->value = e->value;
		q->seq = (__u32)i;
	}
	err = prepare(p4, &n4, flags);
	if (!err)
		err = prepare(p6, &n6, flags);
	if (err)
		goto out;

	/* Header and roots first, records after; about 1.4 elements per prefix. */
	err = grow((void **)&b.e, &b.cap, CGFW_LPM_RECORDS_B(rb) + n4 + n6 + (n4 + n6) / 2,
		   sizeof(*b.e));
	if (err)
		goto out;
	memset(b.e, 0, b.cap * sizeof(*b.e));
	b.n = CGFW_LPM_RECORDS_B(rb);
	b.rb = rb;
	b.w = 32;
	err = build_root(&b, root, p4, n4);
	if (err)
		goto out;
	depth4 = b.depth;
	b.depth = 0;
	b.w = 128;
	err = build_root(&b, root + slots, p6, n6);
	if (err)
		goto out;

	img->n = b.n;
	img->e = realloc(b.e, b.n * sizeof(*b.e)); /* give back the estimate's slack */
	if (!img->e)				   /* the larger block is still good */
		img->e = b.e;
	b.e = NULL;
	memcpy(&img->e[CGFW_LPM_ROOT4], root, 2 * (size_t)slots * sizeof(*root));
	h = &img->e[CGFW_LPM_HDR].hdr;
	h->magic = CGFW_LPM_MAGIC;
	h->version = CGFW_LPM_VERSION;
	h->root_bits = (__u8)rb;
	h->stride = CGFW_LPM_STRIDE;
	h->elems = (__u32)img->n;
	h->records = (__u32)(b.n - CGFW_LPM_RECORDS_B(rb));
	h->leaves = (__u32)b.leaves;
	h->prefixes4 = (__u32)n4;
	h->prefixes6 = (__u32)n6;

	img->st = (struct cgfw_lpm_stats){
		.elems = img->n,
		.bytes = img->n * CGFW_LPM_ELEM_SIZE,
		.prefixes4 = n4,
		.prefixes6 = n6,
		.strides = b.strides,
		.tails = b.tails,
		.skips = b.skips,
		.leaves = b.leaves,
		.depth4 = depth4,
		.depth6 = b.depth,
	};
	*ret_img = img;
	img = NULL;
	err = 0;
out:
	free(p4);
	free(p6);
	free(root);
	free(b.e);
	cgfw_lpm_free(img);
	return err;
}

void cgfw_lpm_free(struct cgfw_lpm_image *img)
{
	if (!img)
		return;
	free(img->e);
	free(img);
}

const struct cgfw_lpm_elem *cgfw_lpm_elems(const struct cgfw_lpm_image *img, size_t *ret_n)
{
	if (!img)
		return NULL;
	if (ret_n)
		*ret_n = img->n;
	return img->e;
}

unsigned int cgfw_lpm_root_bits(const struct cgfw_lpm_image *img)
{
	return img ? img->e[CGFW_LPM_HDR].hdr.root_bits : CGFW_LPM_ROOT_BITS;
}

int cgfw_lpm_stats(const struct cgfw_lpm_image *img, struct cgfw_lpm_stats *ret_stats)
{
	if (!img || !ret_stats)
		return -EINVAL;
	*ret_stats = img->st;
	return 0;
}

__u32 cgfw_lpm_lookup_elems(const struct cgfw_lpm_elem *elems, size_t n, __u8 family,
			    const __u8 addr[16])
{
	struct cgfw_lpm_view v = { .e = elems, .n = elems ? n : 0 };

	__u32 rb = v.n ? elems[CGFW_LPM_HDR].hdr.root_bits : CGFW_LPM_ROOT_BITS;

	if (family == CGFW_FAMILY_INET)
		return cgfw_lpm_lookup4(&v, 0, rb, (__u32)(be64(addr) >> 32));
	if (family == CGFW_FAMILY_INET6)
		return cgfw_lpm_lookup6(&v, 0, rb, be64(addr), be64(addr + 8));
	return 0;
}

__u32 cgfw_lpm_lookup(const struct cgfw_lpm_image *img, __u8 family, const __u8 addr[16])
{
	if (!img)
		return 0;
	return cgfw_lpm_lookup_elems(img->e, img->n, family, addr);
}

int cgfw_lpm_check(const struct cgfw_lpm_elem *elems, size_t n)
{
	const struct cgfw_lpm_header *h;

	if (!elems || n < CGFW_LPM_RECORDS_B(CGFW_LPM_ROOT_BITS_MIN))
		return -EINVAL;
	h = &elems[CGFW_LPM_HDR].hdr;
	if (h->magic != CGFW_LPM_MAGIC)
		return -EINVAL;
	if (h->version != CGFW_LPM_VERSION || h->root_bits < CGFW_LPM_ROOT_BITS_MIN ||
	    h->root_bits > CGFW_LPM_ROOT_BITS || h->stride != CGFW_LPM_STRIDE)
		return -ENOTSUP;
	if (h->elems > n || (__u64)CGFW_LPM_RECORDS_B(h->root_bits) + h->records != h->elems)
		return -EINVAL;
	return 0;
}
