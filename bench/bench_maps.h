/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Maps of the benchmark's baseline LPM-trie program (bench_lpm.bpf.c), shared
 * unchanged with cgfw_bench.c. Not part of cgfw's pinned ABI: these maps live
 * only as long as the benchmark. One trie per family, keyed the way the kernel
 * wants (prefix length in bits, then the address in network byte order).
 */
#ifndef CGFW_BENCH_MAPS_H
#define CGFW_BENCH_MAPS_H

#include <linux/types.h>

/* Same capacity as cgfw_rules, so both hold the largest benchmark set. */
#define BENCH_LPM_MAX (1u << 21)

struct bench_lpm4_key {
	__u32 prefixlen;
	__u8 addr[4];
};
_Static_assert(sizeof(struct bench_lpm4_key) == 8, "bench_lpm4_key changed size");

struct bench_lpm6_key {
	__u32 prefixlen;
	__u8 addr[16];
};
_Static_assert(sizeof(struct bench_lpm6_key) == 20, "bench_lpm6_key changed size");

#endif /* CGFW_BENCH_MAPS_H */
