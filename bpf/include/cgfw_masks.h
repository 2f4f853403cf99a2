/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Prefix masks in network byte order, one row per prefix length /0../128, as
 * four 32-bit words. A table lookup instead of per-byte branches keeps the
 * verifier's state count small and the per-length cost constant.
 */
#ifndef CGFW_BPF_MASKS_H
#define CGFW_BPF_MASKS_H

#include <linux/types.h>

#define CGFW_MW(n, j)                         \
	((n) >= 32 * (j) + 32 ? 0xffffffffu : \
	 (n) <= 32 * (j)      ? 0u :          \
				(__u32)(0xffffffffull << ((32 - ((n) - 32 * (j))) & 63)))
#define CGFW_BE(x) __builtin_bswap32(x)
#define CGFW_M(n)                                                                 \
	{ CGFW_BE(CGFW_MW(n, 0)), CGFW_BE(CGFW_MW(n, 1)), CGFW_BE(CGFW_MW(n, 2)), \
	  CGFW_BE(CGFW_MW(n, 3)) }
#define CGFW_M8(b)                                                                            \
	CGFW_M(b), CGFW_M(b + 1), CGFW_M(b + 2), CGFW_M(b + 3), CGFW_M(b + 4), CGFW_M(b + 5), \
		CGFW_M(b + 6), CGFW_M(b + 7)

static const __u32 cgfw_masks[129][4] = {
	CGFW_M8(0),  CGFW_M8(8),   CGFW_M8(16),	 CGFW_M8(24),  CGFW_M8(32), CGFW_M8(40),
	CGFW_M8(48), CGFW_M8(56),  CGFW_M8(64),	 CGFW_M8(72),  CGFW_M8(80), CGFW_M8(88),
	CGFW_M8(96), CGFW_M8(104), CGFW_M8(112), CGFW_M8(120), CGFW_M(128),
};

#endif /* CGFW_BPF_MASKS_H */
