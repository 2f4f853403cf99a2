/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The packet builder of the BPF_PROG_RUN suites (tests/prog, tests/tc) and of
 * the benchmarks (bench/cgfw_bench.c, bench/tc_bench.c): an Ethernet frame
 * with IPv4 or IPv6 and TCP, UDP or ICMP, described by a struct pkt_spec.
 *
 * - IPv4 options (NOPs) and IPv6 extension headers (hop-by-hop, routing,
 *   destination options, fragment, authentication) before the L4 header;
 * - fragments: a first fragment (IPv4 MF, or the IPv6 fragment header's M
 *   flag) or a later one (offset 1480), whose payload starts with the same
 *   bytes the L4 header would have, so a program that wrongly reads ports
 *   there finds the rule's port;
 * - malformed and cut packets: a wrong IPv4 header length or IP version,
 *   only the first N bytes of the IP packet;
 * - checksums: IPv4 header, TCP, UDP (or none: no_csum), ICMP and ICMPv6, so
 *   a program that rewrites a packet can be checked (pkt_*_csum_ok()).
 *
 * BPF_PROG_RUN of an skb program wants an Ethernet header even where the
 * program sees the packet from its IP header (cgroup_skb): the kernel takes
 * skb->protocol from the EtherType and pulls the 14 bytes.
 */
#ifndef CGFW_TEST_PKT_H
#define CGFW_TEST_PKT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PKT_ETH_HLEN 14
#define PKT_MAX	     512

enum pkt_frag { PKT_NOFRAG, PKT_FIRST, PKT_LATER };

/* IPv6 extension headers by name (IPPROTO_HOPOPTS is 0, so not the numbers). */
enum pkt_ext {
	PKT_X_END,
	PKT_HOP,  /* hop-by-hop options, 8 bytes */
	PKT_RTG,  /* routing, 8 bytes, segments left 0 */
	PKT_DST,  /* destination options, 16 bytes */
	PKT_FRG,  /* fragment, 8 bytes: what .frag says */
	PKT_AUTH, /* authentication header, 24 bytes */
};

struct pkt_spec {
	int family;	       /* 4, 6, or 0 for an ARP frame */
	const char *src, *dst; /* addresses, as text */
	uint8_t proto;	       /* IPPROTO_*; TCP, UDP, ICMP and ICMPV6 get their header */
	uint16_t sport, dport;
	uint8_t tcp_flags;
	uint8_t icmp_type;
	uint8_t ip_opts;     /* IPv4: bytes of NOP options (a multiple of 4, at most 40) */
	uint8_t ext[8];	     /* IPv6: extension headers before L4, PKT_X_END-terminated */
	enum pkt_frag frag;  /* IPv4: flags and offset; IPv6: needs PKT_FRG in .ext */
	const char *payload; /* after the L4 header; NULL: 16 bytes of text, "": none */
	bool no_csum;	     /* UDP over IPv4 without a checksum */
	uint8_t ihl;	     /* IPv4: this header length in words, not the right one */
	uint8_t version;     /* this IP version nibble, not the right one */
	size_t cut;	     /* keep only this many bytes of the IP packet (0: all) */
};

struct pkt {
	uint8_t b[PKT_MAX];
	size_t len;    /* of the frame, Ethernet header included */
	size_t l3, l4; /* offsets of the IP header and of the L4 header (or payload) */
	int family;
	uint8_t proto;
};

/* Build @s into @k. 0, or -1 (with a message on stderr) for a bad address or
 * a packet that does not fit. */
int pkt_build(const struct pkt_spec *s, struct pkt *k);

/* Are the IPv4 header checksum and the TCP/UDP/ICMP checksum right in the
 * @len bytes of @frame, a packet laid out as @layout (built by pkt_build: the
 * same family, protocol and offsets)? A UDP checksum of 0 (none) is not. */
bool pkt_ip_csum_ok(const struct pkt *layout, const uint8_t *frame, size_t len);
bool pkt_l4_csum_ok(const struct pkt *layout, const uint8_t *frame, size_t len);

/* Where a BPF_PROG_RUN test of the TC programs runs: a network namespace of
 * its own with loopback up (its sockets and routes are nobody else's). */
int pkt_own_netns(void);

/* A socket of @type (SOCK_STREAM: listening) bound to @addr:@port (IPv6:
 * IPV6_V6ONLY), for a packet that must find one. Its fd, or -1 (with a
 * message on stderr). */
int pkt_listener(int family, int type, const char *addr, uint16_t port);

#endif
