/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * cgfw lpm: compiles a set of (prefix, value) into the longest-prefix-match
 * image the datapath walks (include/cgfw/lpm_map.h, bpf/include/cgfw_lpm.h,
 * docs/LPM.md), and looks addresses up in an image with the datapath's own
 * code. Pure C: no libbpf, no kernel, never prints or exits.
 *
 * Functions return 0 on success and -errno on failure (-EINVAL: bad input,
 * -ENOMEM, -E2BIG: the image would not fit 32-bit indices). Out-parameters
 * are named ret_* and written only on success.
 *
 * Writing an image into the kernel is the caller's: cgfw_lpm_elems() is a
 * flat array of 32-byte struct cgfw_lpm_elem, element i for key i of a
 * BPF_MAP_TYPE_ARRAY with value_size CGFW_LPM_ELEM_SIZE and max_entries at
 * least the count. Copy it to the mmap of a BPF_F_MMAPABLE array, or write
 * it with bpf_map_update_batch(keys 0..n-1). Elements past the image must be
 * zero or never written (a fresh array is all zero).
 */
#ifndef CGFW_LPM_H
#define CGFW_LPM_H

#include <stddef.h>
#include <stdint.h>

#include <cgfw/abi.h>
#include <cgfw/lpm_map.h>

/* One prefix and the value a lookup returns for addresses inside it. */
struct cgfw_lpm_entry {
	__u8 family;   /* CGFW_FAMILY_INET or CGFW_FAMILY_INET6 */
	__u8 len;      /* 0..32 or 0..128 */
	__u8 pad[2];   /* ignored */
	__u32 value;   /* 1..UINT32_MAX; 0 is what a lookup returns for no match */
	__u8 addr[16]; /* network byte order, IPv4 in addr[0..3]; bits past len ignored */
};
CGFW_ABI_ASSERT_SIZE(struct cgfw_lpm_entry, 24);

/*
 * Flags of cgfw_lpm_build(). The same (family, prefix, length) given twice:
 * by default the entry given last wins; with CGFW_LPM_F_DUP_ERROR the build
 * fails with -EEXIST.
 */
#define CGFW_LPM_F_DUP_ERROR 0x1u
/*
 * Root bits of the image (CGFW_LPM_ROOT_BITS_MIN..CGFW_LPM_ROOT_BITS; 0 or
 * absent: CGFW_LPM_ROOT_BITS). Fewer for small sets: the root of both
 * families takes 2^(rb + 4) bytes. cgfw_lpm_root_bits_for() suggests some.
 */
#define CGFW_LPM_F_ROOT_SHIFT 8
#define CGFW_LPM_F_ROOT_MASK  (0x1fu << CGFW_LPM_F_ROOT_SHIFT)
#define CGFW_LPM_F_ROOT_BITS(b) \
	(((unsigned int)(b) << CGFW_LPM_F_ROOT_SHIFT) & CGFW_LPM_F_ROOT_MASK)

/* Root bits for @n prefixes: about one root slot per prefix, within the bounds. */
static inline unsigned int cgfw_lpm_root_bits_for(size_t n)
{
	unsigned int rb = CGFW_LPM_ROOT_BITS_MIN;

	while (rb < CGFW_LPM_ROOT_BITS && ((size_t)1 << rb) < n)
		rb++;
	return rb;
}

struct cgfw_lpm_image;

/*
 * Compile @n entries (@entries may be NULL when @n is 0: the empty image).
 * Fails with -EINVAL on a bad family, a length past the family's width or a
 * value of 0. Takes O(n log n) time and does not keep @entries.
 */
int cgfw_lpm_build(const struct cgfw_lpm_entry *entries, size_t n, unsigned int flags,
		   struct cgfw_lpm_image **ret_img);

void cgfw_lpm_free(struct cgfw_lpm_image *img);

/* The image's elements (element 0 is its header) and their count. */
const struct cgfw_lpm_elem *cgfw_lpm_elems(const struct cgfw_lpm_image *img, size_t *ret_n);

struct cgfw_lpm_stats {
	size_t elems;	  /* 32-byte elements, header and roots included */
	size_t bytes;	  /* elems * CGFW_LPM_ELEM_SIZE */
	size_t prefixes4; /* distinct prefixes, after duplicates */
	size_t prefixes6;
	size_t strides; /* records of each kind */
	size_t tails;
	size_t skips;
	size_t leaves;	 /* leaf values stored */
	unsigned depth4; /* most records a lookup visits below the root */
	unsigned depth6;
};

int cgfw_lpm_stats(const struct cgfw_lpm_image *img, struct cgfw_lpm_stats *ret_stats);
/* The image's root bits, which the datapath's walk is given. */
unsigned int cgfw_lpm_root_bits(const struct cgfw_lpm_image *img);

/*
 * The value of the longest prefix of @family containing @addr (network byte
 * order, IPv4 in addr[0..3]), 0 if none: the datapath's walk run in user
 * space. cgfw_lpm_lookup_elems() does the same over raw elements, such as an
 * image read back from a map (@n elements; out-of-range indices read as
 * absent, so a damaged image cannot make it fault).
 */
__u32 cgfw_lpm_lookup(const struct cgfw_lpm_image *img, __u8 family, const __u8 addr[16]);
__u32 cgfw_lpm_lookup_elems(const struct cgfw_lpm_elem *elems, size_t n, __u8 family,
			    const __u8 addr[16]);

/*
 * Check that @n elements hold an image this library made (header magic,
 * version, parameters, sizes): 0, or -EINVAL (wrong or damaged) or
 * -ENOTSUP (another layout version). Says nothing about which prefixes.
 */
int cgfw_lpm_check(const struct cgfw_lpm_elem *elems, size_t n);

#endif /* CGFW_LPM_H */
