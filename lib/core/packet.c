// SPDX-License-Identifier: GPL-2.0-only
/*
 * The packets `cgfw explain` runs through the programs: Ethernet, IPv4 or
 * IPv6, and a TCP SYN, a UDP header or an ICMP echo request. A few fixed
 * headers: no packet library is worth the dependency. No checksums: the
 * programs do not check them.
 */
#include <linux/if_ether.h>
#include <string.h>

#include <cgfw/core.h>

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

size_t cgfw_packet_build(const struct cgfw_explain_pkt *x, uint8_t *b, size_t cap)
{
	const uint8_t *src = x->dir == CGFW_DIR_EGRESS ? x->local : x->remote;
	const uint8_t *dst = x->dir == CGFW_DIR_EGRESS ? x->remote : x->local;
	uint16_t sport = x->dir == CGFW_DIR_EGRESS ? x->lport : x->rport;
	uint16_t dport = x->dir == CGFW_DIR_EGRESS ? x->rport : x->lport;
	bool v4 = x->family == CGFW_FAMILY_INET;
	size_t ip = 14, l4 = ip + (v4 ? 20 : 40), l4len, n;

	if (x->family != CGFW_FAMILY_INET && x->family != CGFW_FAMILY_INET6)
		return 0;
	l4len = x->proto == CGFW_PROTO_TCP ? 20 : 8; /* UDP, ICMP echo, anything else */
	n = l4 + l4len;
	if (n > cap)
		return 0;
	memset(b, 0, n);
	put16(b + 12, v4 ? ETH_P_IP : ETH_P_IPV6);
	if (v4) {
		b[ip] = 0x45;
		put16(b + ip + 2, (uint16_t)(20 + l4len));
		b[ip + 8] = 64;
		b[ip + 9] = x->proto;
		memcpy(b + ip + 12, src, 4);
		memcpy(b + ip + 16, dst, 4);
	} else {
		b[ip] = 0x60;
		put16(b + ip + 4, (uint16_t)l4len);
		b[ip + 6] = x->proto == CGFW_PROTO_ICMP ? 58 : x->proto;
		b[ip + 7] = 64;
		memcpy(b + ip + 8, src, 16);
		memcpy(b + ip + 24, dst, 16);
	}
	if (x->proto == CGFW_PROTO_TCP || x->proto == CGFW_PROTO_UDP) {
		put16(b + l4, sport);
		put16(b + l4 + 2, dport);
		if (x->proto == CGFW_PROTO_TCP) {
			b[l4 + 12] = 5 << 4;
			b[l4 + 13] = 0x02; /* SYN: a new connection */
		} else {
			put16(b + l4 + 4, 8);
		}
	} else if (x->proto == CGFW_PROTO_ICMP) {
		b[l4] = v4 ? 8 : 128; /* echo request */
	}
	return n;
}
