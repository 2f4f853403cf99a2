// SPDX-License-Identifier: GPL-2.0-only
/* Addresses, prefixes, ports and protocols as users type them. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cgfw/core.h>

void cgfw_mask(uint8_t family, uint8_t len, const uint8_t in[16], uint8_t out[16])
{
	unsigned max = family == CGFW_FAMILY_INET ? 32 : 128;
	uint8_t tmp[16] = {};

	for (unsigned i = 0; i < max / 8; i++) {
		unsigned bits = i * 8;

		if (len >= bits + 8)
			tmp[i] = in[i];
		else if (len > bits)
			tmp[i] = in[i] & (uint8_t)(0xff << (8 - (len - bits)));
	}
	memcpy(out, tmp, 16); /* in and out may be the same buffer */
}

bool cgfw_prefix_contains(const struct cgfw_prefix *p, uint8_t family, const uint8_t addr[16])
{
	uint8_t m[16];

	if (p->family != family)
		return false;
	cgfw_mask(family, p->len, addr, m);
	return memcmp(m, p->addr, 16) == 0;
}

static int parse_ip(const char *s, struct cgfw_prefix *ret)
{
	memset(ret, 0, sizeof(*ret));
	if (!strchr(s, ':')) {
		struct in_addr a;

		/* inet_pton accepts only dotted quads: no "1.2.3", no octal. */
		if (inet_pton(AF_INET, s, &a) != 1)
			return -EINVAL;
		ret->family = CGFW_FAMILY_INET;
		ret->len = 32;
		memcpy(ret->addr, &a, 4);
		return 0;
	}
	if (inet_pton(AF_INET6, s, ret->addr) != 1)
		return -EINVAL;
	ret->family = CGFW_FAMILY_INET6;
	ret->len = 128;
	return 0;
}

int cgfw_parse_addr(const char *s, struct cgfw_prefix *ret)
{
	struct cgfw_prefix p;

	if (!s || !*s)
		return cgfw_seterr(EINVAL, "empty address");
	if (strlen(s) >= CGFW_ADDRSTRLEN || parse_ip(s, &p) < 0)
		return cgfw_seterr(EINVAL, "invalid IP address '%s'", s);
	*ret = p;
	return 0;
}

int cgfw_parse_prefix(const char *s, struct cgfw_prefix *ret)
{
	char buf[CGFW_ADDRSTRLEN];
	const char *slash;
	struct cgfw_prefix p;
	unsigned long len;
	char *end;

	if (!s || !*s)
		return cgfw_seterr(EINVAL, "empty address");
	if (strlen(s) >= sizeof(buf))
		return cgfw_seterr(EINVAL, "invalid address or prefix '%.40s...'", s);
	slash = strchr(s, '/');
	if (!slash) {
		if (parse_ip(s, &p) < 0)
			return cgfw_seterr(EINVAL, "invalid IP address '%s'", s);
		*ret = p;
		return 0;
	}
	memcpy(buf, s, slash - s);
	buf[slash - s] = 0;
	if (parse_ip(buf, &p) < 0)
		return cgfw_seterr(EINVAL, "invalid IP address '%s' in prefix '%s'", buf, s);
	if (!isdigit((unsigned char)slash[1]))
		return cgfw_seterr(EINVAL, "invalid prefix length in '%s'", s);
	errno = 0;
	len = strtoul(slash + 1, &end, 10);
	if (errno || *end || len > p.len)
		return cgfw_seterr(EINVAL, "invalid prefix length in '%s' (at most /%u)", s, p.len);
	p.len = (uint8_t)len;
	cgfw_mask(p.family, p.len, p.addr, p.addr);
	*ret = p;
	return 0;
}

void cgfw_format_addr(uint8_t family, const uint8_t addr[16], char *buf, size_t n)
{
	if (!inet_ntop(family == CGFW_FAMILY_INET ? AF_INET : AF_INET6, addr, buf, n))
		snprintf(buf, n, "?");
}

void cgfw_format_prefix(const struct cgfw_prefix *p, char *buf, size_t n)
{
	char a[INET6_ADDRSTRLEN];
	unsigned full = p->family == CGFW_FAMILY_INET ? 32 : 128;

	cgfw_format_addr(p->family, p->addr, a, sizeof(a));
	if (p->len == full)
		snprintf(buf, n, "%s", a);
	else
		snprintf(buf, n, "%s/%u", a, p->len);
}

static int parse_port(const char *s, const char *end, uint16_t *ret)
{
	unsigned long v = 0;

	if (s == end || end - s > 5)
		return -EINVAL;
	for (const char *c = s; c < end; c++) {
		if (!isdigit((unsigned char)*c))
			return -EINVAL;
		v = v * 10 + (unsigned long)(*c - '0');
	}
	if (v < 1 || v > 65535)
		return -EINVAL;
	*ret = (uint16_t)v;
	return 0;
}

int cgfw_parse_ports(const char *s, uint16_t *ret_lo, uint16_t *ret_hi)
{
	const char *dash;
	uint16_t lo, hi;

	if (!s || !*s)
		return cgfw_seterr(EINVAL, "empty port");
	dash = strchr(s, '-');
	if (!dash) {
		if (parse_port(s, s + strlen(s), &lo) < 0)
			return cgfw_seterr(EINVAL, "invalid port '%s' (1-65535)", s);
		*ret_lo = *ret_hi = lo;
		return 0;
	}
	if (parse_port(s, dash, &lo) < 0 || parse_port(dash + 1, dash + strlen(dash), &hi) < 0)
		return cgfw_seterr(EINVAL, "invalid port range '%s' (N-M, 1-65535)", s);
	if (lo > hi)
		return cgfw_seterr(EINVAL, "invalid port range '%s': %u is above %u", s, lo, hi);
	*ret_lo = lo;
	*ret_hi = hi;
	return 0;
}

int cgfw_parse_proto(const char *s, uint8_t *ret)
{
	if (!s)
		return cgfw_seterr(EINVAL, "empty protocol");
	if (!strcmp(s, "tcp"))
		*ret = CGFW_PROTO_TCP;
	else if (!strcmp(s, "udp"))
		*ret = CGFW_PROTO_UDP;
	else if (!strcmp(s, "icmp") || !strcmp(s, "icmpv6") || !strcmp(s, "icmp6"))
		*ret = CGFW_PROTO_ICMP;
	else
		return cgfw_seterr(EINVAL, "invalid protocol '%s' (tcp, udp or icmp)", s);
	return 0;
}

const char *cgfw_proto_name(uint8_t proto)
{
	switch (proto) {
	case CGFW_PROTO_ANY:
		return "any";
	case CGFW_PROTO_TCP:
		return "tcp";
	case CGFW_PROTO_UDP:
		return "udp";
	case CGFW_PROTO_ICMP:
		return "icmp";
	default:
		return "?";
	}
}
