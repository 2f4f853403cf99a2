/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Bounded IPv4/IPv6 header parsing for skb programs. Reads go through
 * bpf_skb_load_bytes(), so a short packet fails a read instead of being
 * misparsed. Used by the cgroup and the tc programs.
 */
#ifndef CGFW_BPF_PARSE_H
#define CGFW_BPF_PARSE_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include <cgfw/abi.h>

#define CGFW_MAX_EXT_HDRS 6

struct cgfw_pkt {
	__u8 family;	/* 0 if not IP or not parseable */
	__u8 proto;	/* L4 protocol after extension headers */
	__u8 has_ports; /* first fragment (or unfragmented) with a full L4 header */
	__u8 is_frag;	/* any fragment */
	__u16 sport;	/* network byte order */
	__u16 dport;	/* network byte order */
	__u32 l4_off;
	__u8 saddr[16];
	__u8 daddr[16];
};

#define CGFW_PARSE_OK	     0
#define CGFW_PARSE_NOT_IP    1
#define CGFW_PARSE_TRUNCATED 2

static __always_inline int cgfw_parse_l4(struct __sk_buff *skb, struct cgfw_pkt *p)
{
	__u16 ports[2];

	if (p->is_frag && !p->has_ports)
		return CGFW_PARSE_OK;
	p->has_ports = 0;
	switch (p->proto) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
		if (bpf_skb_load_bytes(skb, p->l4_off, ports, sizeof(ports)) < 0)
			return CGFW_PARSE_TRUNCATED;
		p->sport = ports[0];
		p->dport = ports[1];
		p->has_ports = 1;
		break;
	default:
		break;
	}
	return CGFW_PARSE_OK;
}

/* Parse from byte offset @off, where the IP header starts. */
static __always_inline int cgfw_parse_ip(struct __sk_buff *skb, __u32 off, __u16 eth_proto,
					 struct cgfw_pkt *p)
{
	if (eth_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr ip;
		__u32 hl;

		if (bpf_skb_load_bytes(skb, off, &ip, sizeof(ip)) < 0)
			return CGFW_PARSE_TRUNCATED;
		if (ip.version != 4)
			return CGFW_PARSE_TRUNCATED;
		hl = ip.ihl * 4;
		if (hl < sizeof(ip))
			return CGFW_PARSE_TRUNCATED;
		p->family = CGFW_FAMILY_INET;
		p->proto = ip.protocol;
		__builtin_memcpy(p->saddr, &ip.saddr, 4);
		__builtin_memcpy(p->daddr, &ip.daddr, 4);
		p->l4_off = off + hl;
		if (ip.frag_off & bpf_htons(0x3fff)) {
			p->is_frag = 1;
			/* Only the first fragment carries the L4 header. */
			p->has_ports = !(ip.frag_off & bpf_htons(0x1fff));
		}
		return cgfw_parse_l4(skb, p);
	}
	if (eth_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr ip6;
		__u8 nexthdr;
		__u32 l4 = off + sizeof(ip6);
		int i;

		if (bpf_skb_load_bytes(skb, off, &ip6, sizeof(ip6)) < 0)
			return CGFW_PARSE_TRUNCATED;
		if (ip6.version != 6)
			return CGFW_PARSE_TRUNCATED;
		p->family = CGFW_FAMILY_INET6;
		__builtin_memcpy(p->saddr, &ip6.saddr, 16);
		__builtin_memcpy(p->daddr, &ip6.daddr, 16);
		nexthdr = ip6.nexthdr;
#pragma unroll
		for (i = 0; i < CGFW_MAX_EXT_HDRS; i++) {
			__u8 h[8];

			if (nexthdr != IPPROTO_HOPOPTS && nexthdr != IPPROTO_ROUTING &&
			    nexthdr != IPPROTO_DSTOPTS && nexthdr != IPPROTO_FRAGMENT &&
			    nexthdr != IPPROTO_AH)
				break;
			if (bpf_skb_load_bytes(skb, l4, h, sizeof(h)) < 0)
				return CGFW_PARSE_TRUNCATED;
			if (nexthdr == IPPROTO_FRAGMENT) {
				__u16 fo = ((__u16)h[2] << 8 | h[3]) & 0xfff8;

				p->is_frag = 1;
				p->has_ports = fo == 0;
				l4 += 8;
			} else if (nexthdr == IPPROTO_AH) {
				l4 += ((__u32)h[1] + 2) * 4;
			} else {
				l4 += ((__u32)h[1] + 1) * 8;
			}
			nexthdr = h[0];
		}
		if (nexthdr == IPPROTO_HOPOPTS || nexthdr == IPPROTO_ROUTING ||
		    nexthdr == IPPROTO_DSTOPTS || nexthdr == IPPROTO_FRAGMENT ||
		    nexthdr == IPPROTO_AH)
			return CGFW_PARSE_TRUNCATED; /* more than we walk: treat as unparseable */
		p->proto = nexthdr;
		p->l4_off = l4;
		return cgfw_parse_l4(skb, p);
	}
	return CGFW_PARSE_NOT_IP;
}

/*
 * The same with direct packet access, for programs whose skb->data is the IP
 * header (cgroup_skb): two loads instead of helper calls for the usual
 * packet. Anything unusual (IPv6 extension headers, options or ports past
 * the linear data, bad versions) goes through cgfw_parse_ip(), so both give
 * the same answer.
 */
static __always_inline int cgfw_parse_ip_direct(struct __sk_buff *skb, struct cgfw_pkt *p)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	__u16 proto = skb->protocol;

	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = data;
		__u32 hl;

		if ((void *)(ip + 1) > end || ip->version != 4 || ip->ihl < 5)
			goto slow;
		hl = (__u32)ip->ihl * 4;
		p->family = CGFW_FAMILY_INET;
		p->proto = ip->protocol;
		__builtin_memcpy(p->saddr, &ip->saddr, 4);
		__builtin_memcpy(p->daddr, &ip->daddr, 4);
		p->l4_off = hl;
		if (ip->frag_off & bpf_htons(0x3fff)) {
			p->is_frag = 1;
			if (ip->frag_off & bpf_htons(0x1fff))
				return CGFW_PARSE_OK; /* a later fragment: no L4 header */
		}
		if (p->proto == IPPROTO_TCP || p->proto == IPPROTO_UDP) {
			__u16 *ports = data + hl;

			if ((void *)(ports + 2) > end)
				goto slow;
			p->sport = ports[0];
			p->dport = ports[1];
			p->has_ports = 1;
		}
		return CGFW_PARSE_OK;
	}
	if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = data;
		__u8 nh;

		if ((void *)(ip6 + 1) > end || ip6->version != 6)
			goto slow;
		nh = ip6->nexthdr;
		if (nh == IPPROTO_HOPOPTS || nh == IPPROTO_ROUTING || nh == IPPROTO_DSTOPTS ||
		    nh == IPPROTO_FRAGMENT || nh == IPPROTO_AH)
			goto slow;
		p->family = CGFW_FAMILY_INET6;
		p->proto = nh;
		__builtin_memcpy(p->saddr, &ip6->saddr, 16);
		__builtin_memcpy(p->daddr, &ip6->daddr, 16);
		p->l4_off = sizeof(*ip6);
		if (nh == IPPROTO_TCP || nh == IPPROTO_UDP) {
			__u16 *ports = (void *)(ip6 + 1);

			if ((void *)(ports + 2) > end)
				goto slow;
			p->sport = ports[0];
			p->dport = ports[1];
			p->has_ports = 1;
		}
		return CGFW_PARSE_OK;
	}
	return CGFW_PARSE_NOT_IP;
slow:
	__builtin_memset(p, 0, sizeof(*p));
	return cgfw_parse_ip(skb, 0, proto, p);
}

#endif /* CGFW_BPF_PARSE_H */
