// SPDX-License-Identifier: GPL-2.0-only
/* The packet builder of the BPF_PROG_RUN suites and the benchmarks (pkt.h). */
#define _GNU_SOURCE
#include "pkt.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define DEFAULT_PAYLOAD "cgfw test packet" /* 16 bytes */

static int bad(const char *what, const struct pkt_spec *s)
{
	fprintf(stderr, "pkt_build: %s (%s -> %s)\n", what, s->src ? s->src : "-",
		s->dst ? s->dst : "-");
	return -1;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t s)
{
	for (; n > 1; n -= 2, p += 2)
		s += (uint32_t)p[0] << 8 | p[1];
	if (n)
		s += (uint32_t)p[0] << 8;
	return s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* The checksum of the L4 segment of @len bytes at @b + @k->l4: with the
 * pseudo-header for TCP, UDP and ICMPv6, without it for ICMP. A right
 * checksum in place gives 0. */
static uint16_t l4_sum(const struct pkt *k, const uint8_t *b, size_t len)
{
	uint8_t ph[4] = { 0, k->proto, (uint8_t)(len >> 8), (uint8_t)len };
	uint32_t s = 0;

	if (k->proto != IPPROTO_ICMP) {
		if (k->family == 4)
			s = sum16(b + k->l3 + 12, 8, 0);
		else
			s = sum16(b + k->l3 + 8, 32, 0);
		s = sum16(ph, 4, s);
	}
	return fold(sum16(b + k->l4, len, s));
}

static uint8_t ext_proto(uint8_t x)
{
	static const uint8_t num[] = { [PKT_HOP] = IPPROTO_HOPOPTS,
				       [PKT_RTG] = IPPROTO_ROUTING,
				       [PKT_DST] = IPPROTO_DSTOPTS,
				       [PKT_FRG] = IPPROTO_FRAGMENT,
				       [PKT_AUTH] = IPPROTO_AH };

	return num[x];
}

/* IPv6 extension header @type at @p, followed by @next. Returns its length. */
static size_t put_ext(uint8_t *p, uint8_t type, uint8_t next, enum pkt_frag frag)
{
	p[0] = next;
	switch (type) {
	case PKT_FRG:
		/* offset in 8-byte units << 3 | M flag */
		put16(p + 2, frag == PKT_LATER ? (uint16_t)(185 << 3) : 0x0001);
		put16(p + 4, 0xcafe);
		return 8;
	case PKT_AUTH:
		p[1] = 4; /* (4 + 2) * 4 = 24 bytes: SPI, sequence, 12-byte ICV */
		put16(p + 6, 0x0100);
		return 24;
	case PKT_DST:
		p[1] = 1; /* 16 bytes: a PadN option of 14 */
		p[2] = 1;
		p[3] = 12;
		return 16;
	case PKT_RTG:
		p[1] = 0; /* 8 bytes, segments left 0 */
		p[2] = 4;
		return 8;
	default: /* hop-by-hop: PadN of 6 */
		p[1] = 0;
		p[2] = 1;
		p[3] = 4;
		return 8;
	}
}

/* The L4 header (a later fragment carries the same bytes as plain data). */
static size_t put_l4(uint8_t *p, const struct pkt_spec *s, size_t plen)
{
	switch (s->proto) {
	case IPPROTO_TCP:
		put16(p, s->sport);
		put16(p + 2, s->dport);
		p[4] = 0x11;	/* a sequence number */
		p[12] = 5 << 4; /* data offset */
		p[13] = s->tcp_flags;
		put16(p + 14, 64240);
		return 20;
	case IPPROTO_UDP:
		put16(p, s->sport);
		put16(p + 2, s->dport);
		put16(p + 4, (uint16_t)(8 + plen));
		return 8;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		p[0] = s->icmp_type;
		if (s->icmp_type == 8 || s->icmp_type == 128) { /* echo request: id, sequence */
			put16(p + 4, 0x1234);
			put16(p + 6, 1);
		}
		return 8;
	}
	return 0;
}

static size_t csum_off(uint8_t proto)
{
	return proto == IPPROTO_TCP ? 16 : proto == IPPROTO_UDP ? 6 : 2;
}

int pkt_build(const struct pkt_spec *s, struct pkt *k)
{
	const char *payload = s->payload ? s->payload : DEFAULT_PAYLOAD;
	size_t plen = strlen(payload), hl, l4len, iplen;
	uint8_t *b = k->b, *ip = b + PKT_ETH_HLEN;

	memset(k, 0, sizeof(*k));
	/* 02:00:00:00:00:01 -> 02:00:00:00:00:02, locally administered */
	memcpy(b, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01", 12);
	k->family = s->family;
	k->proto = s->proto;
	k->l3 = PKT_ETH_HLEN;
	if (s->family == 0) {
		put16(b + 12, ETH_P_ARP);
		put16(ip, 1); /* Ethernet */
		put16(ip + 2, ETH_P_IP);
		ip[4] = 6;
		ip[5] = 4;
		put16(ip + 6, 1); /* request */
		k->l4 = k->len = PKT_ETH_HLEN + 28;
		return 0;
	}
	if (s->family == 4) {
		if (s->ip_opts % 4 || s->ip_opts > 40)
			return bad("IPv4 options must be a multiple of 4 bytes, at most 40", s);
		put16(b + 12, ETH_P_IP);
		hl = 20 + s->ip_opts;
		ip[0] = (uint8_t)(0x40 | hl / 4);
		put16(ip + 4, 0x1234);
		if (s->frag == PKT_FIRST)
			put16(ip + 6, 0x2000); /* MF, offset 0 */
		else if (s->frag == PKT_LATER)
			put16(ip + 6, 185); /* offset 1480, the last fragment */
		ip[8] = 64;
		ip[9] = s->proto;
		if (inet_pton(AF_INET, s->src, ip + 12) != 1 ||
		    inet_pton(AF_INET, s->dst, ip + 16) != 1)
			return bad("not two IPv4 addresses", s);
		memset(ip + 20, 1, s->ip_opts); /* NOPs */
	} else if (s->family == 6) {
		size_t n = 0;
		bool frg = false;

		put16(b + 12, ETH_P_IPV6);
		ip[0] = 0x60;
		ip[7] = 64;
		if (inet_pton(AF_INET6, s->src, ip + 8) != 1 ||
		    inet_pton(AF_INET6, s->dst, ip + 24) != 1)
			return bad("not two IPv6 addresses", s);
		for (; n < sizeof(s->ext) && s->ext[n] != PKT_X_END; n++) {
			if (s->ext[n] > PKT_AUTH)
				return bad("unknown IPv6 extension header", s);
			frg |= s->ext[n] == PKT_FRG;
		}
		if (s->frag != PKT_NOFRAG && !frg)
			return bad("an IPv6 fragment needs PKT_FRG in .ext", s);
		ip[6] = n ? ext_proto(s->ext[0]) : s->proto;
		hl = 40;
		for (size_t i = 0; i < n; i++)
			hl += put_ext(ip + hl, s->ext[i],
				      i + 1 < n ? ext_proto(s->ext[i + 1]) : s->proto, s->frag);
	} else {
		return bad("family must be 4, 6 or 0 (ARP)", s);
	}
	if (PKT_ETH_HLEN + hl + 20 + plen > sizeof(k->b))
		return bad("the packet does not fit", s);
	k->l4 = PKT_ETH_HLEN + hl;
	l4len = put_l4(b + k->l4, s, plen);
	memcpy(b + k->l4 + l4len, payload, plen);
	l4len += plen;
	iplen = hl + l4len;
	if (s->family == 4)
		put16(ip + 2, (uint16_t)iplen);
	else
		put16(ip + 4, (uint16_t)(iplen - 40));

	/* Checksums first, then whatever is made wrong on purpose. */
	if (s->frag != PKT_LATER &&
	    (s->proto == IPPROTO_TCP || s->proto == IPPROTO_ICMP || s->proto == IPPROTO_ICMPV6 ||
	     (s->proto == IPPROTO_UDP && !s->no_csum))) {
		uint16_t c = l4_sum(k, b, l4len);

		if (s->proto == IPPROTO_UDP && c == 0)
			c = 0xffff; /* a computed 0 is sent as all ones */
		put16(b + k->l4 + csum_off(s->proto), c);
	}
	if (s->family == 4)
		put16(ip + 10, fold(sum16(ip, hl, 0)));
	if (s->ihl)
		ip[0] = (uint8_t)((ip[0] & 0xf0) | (s->ihl & 0x0f));
	if (s->version)
		ip[0] = (uint8_t)(s->version << 4 | (ip[0] & 0x0f));
	if (s->cut > iplen)
		return bad("cut beyond the end of the packet", s);
	k->len = PKT_ETH_HLEN + (s->cut ? s->cut : iplen);
	return 0;
}

bool pkt_ip_csum_ok(const struct pkt *layout, const uint8_t *frame, size_t len)
{
	if (layout->family != 4)
		return true;
	if (len < layout->l4)
		return false;
	return fold(sum16(frame + layout->l3, layout->l4 - layout->l3, 0)) == 0;
}

bool pkt_l4_csum_ok(const struct pkt *layout, const uint8_t *frame, size_t len)
{
	if (len < layout->l4 + csum_off(layout->proto) + 2)
		return false;
	return l4_sum(layout, frame, len - layout->l4) == 0;
}

int pkt_own_netns(void)
{
	struct ifreq ifr = {};
	int fd, err = -1;

	if (unshare(CLONE_NEWNET) < 0) {
		perror("unshare(CLONE_NEWNET)");
		return -1;
	}
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (fd >= 0 && ioctl(fd, SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags |= IFF_UP;
		err = ioctl(fd, SIOCSIFFLAGS, &ifr);
	}
	if (err < 0)
		perror("bringing lo up");
	if (fd >= 0)
		close(fd);
	return err < 0 ? -1 : 0;
}

int pkt_listener(int family, int type, const char *addr, uint16_t port)
{
	struct sockaddr_storage ss = {};
	socklen_t len;
	int fd = socket(family, type, 0), one = 1, ok;

	if (family == AF_INET) {
		struct sockaddr_in *s = (struct sockaddr_in *)&ss;

		s->sin_family = AF_INET;
		s->sin_port = htons(port);
		ok = inet_pton(AF_INET, addr, &s->sin_addr);
		len = sizeof(*s);
	} else {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)&ss;

		s->sin6_family = AF_INET6;
		s->sin6_port = htons(port);
		ok = inet_pton(AF_INET6, addr, &s->sin6_addr);
		len = sizeof(*s);
		if (fd >= 0)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	}
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || ok != 1 || bind(fd, (struct sockaddr *)&ss, len) < 0 ||
	    (type == SOCK_STREAM && listen(fd, 8) < 0)) {
		fprintf(stderr, "listener %s:%u: %s\n", addr, port,
			ok != 1 ? "not an address" : strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}
