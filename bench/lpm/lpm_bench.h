/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Shared by the LPM micro-benchmark's program (lpm_bench.bpf.c) and its
 * driver (lpm_bench.c). Not part of cgfw's pinned ABI.
 */
#ifndef CGFW_LPM_BENCH_H
#define CGFW_LPM_BENCH_H

#include <linux/types.h>

#define BENCH_TRIE_MAX (1u << 21)
#define BENCH_MIX      256 /* addresses per run of the mix programs */

struct bench_trie4_key {
	__u32 prefixlen;
	__u8 addr[4];
};

struct bench_trie6_key {
	__u32 prefixlen;
	__u8 addr[16];
};

/* The primitives (lpm_prim.bpf.c): chain length, array and hash sizes. */
#define PRIM_K	  64
#define PRIM_ARR  (1u << 20)
#define PRIM_HASH 65536

struct prim_hkey {
	__u64 a, b, c, d; /* 32 bytes, like cgfw_rule_key */
};

#endif /* CGFW_LPM_BENCH_H */
