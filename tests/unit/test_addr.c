// SPDX-License-Identifier: GPL-2.0-only
/* Addresses, prefixes, ports and protocols as users type them (lib/addr.c). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "unit.h"

/* Parse @in and check the normalised prefix by its text and its bytes. */
static void expect_prefix(const char *in, uint8_t family, uint8_t len, const char *addr)
{
	struct cgfw_prefix p, q;
	uint8_t want[16] = {};
	char buf[CGFW_ADDRSTRLEN];
	int err;

	memset(&p, 0xa5, sizeof(p));
	err = cgfw_parse_prefix(in, &p);
	ck_assert_msg(err == 0, "'%s' rejected: %d %s", in, err, cgfw_errmsg());
	ck_assert_msg(p.family == family, "'%s': family %u, want %u", in, p.family, family);
	ck_assert_msg(p.len == len, "'%s': length %u, want %u", in, p.len, len);
	ck_assert_int_eq(inet_pton(family == CGFW_FAMILY_INET ? AF_INET : AF_INET6, addr, want), 1);
	ck_assert_msg(memcmp(p.addr, want, 16) == 0, "'%s': address bytes differ from %s", in,
		      addr);
	/* Nothing beyond the family's length is left set. */
	if (family == CGFW_FAMILY_INET)
		for (int i = 4; i < 16; i++)
			ck_assert_msg(p.addr[i] == 0, "'%s': addr[%d] = %#x", in, i, p.addr[i]);

	/* Formatting gives text that parses back to the same prefix. */
	cgfw_format_prefix(&p, buf, sizeof(buf));
	ck_assert_int_eq(cgfw_parse_prefix(buf, &q), 0);
	ck_assert_msg(q.family == p.family && q.len == p.len && !memcmp(q.addr, p.addr, 16),
		      "'%s' -> '%s' does not round-trip", in, buf);
}

/* @in is rejected with -EINVAL and the message names @needle. */
static void expect_bad_prefix(const char *in, const char *needle)
{
	struct cgfw_prefix p, before;
	int err;

	memset(&p, 0x5a, sizeof(p));
	before = p;
	cgfw_clearerr();
	err = cgfw_parse_prefix(in, &p);
	ck_assert_msg(err == -EINVAL, "'%s' accepted (or wrong error %d)", in ? in : "(null)", err);
	ck_assert_errmsg_has(needle);
	ck_assert_msg(!memcmp(&p, &before, sizeof(p)), "'%s': output changed on error", in);
}

START_TEST(test_ipv4_host)
{
	expect_prefix("192.0.2.1", CGFW_FAMILY_INET, 32, "192.0.2.1");
	expect_prefix("0.0.0.0", CGFW_FAMILY_INET, 32, "0.0.0.0");
	expect_prefix("255.255.255.255", CGFW_FAMILY_INET, 32, "255.255.255.255");
}
END_TEST

START_TEST(test_ipv6_host)
{
	expect_prefix("2001:db8::1", CGFW_FAMILY_INET6, 128, "2001:db8::1");
	expect_prefix("::", CGFW_FAMILY_INET6, 128, "::");
	expect_prefix("::1", CGFW_FAMILY_INET6, 128, "::1");
	expect_prefix("2001:DB8:0:0:0:0:0:AB", CGFW_FAMILY_INET6, 128, "2001:db8::ab");
	/* An IPv4-mapped address stays an IPv6 address. */
	expect_prefix("::ffff:192.0.2.1", CGFW_FAMILY_INET6, 128, "::ffff:192.0.2.1");
}
END_TEST

START_TEST(test_host_bits_cleared)
{
	expect_prefix("10.1.2.3/8", CGFW_FAMILY_INET, 8, "10.0.0.0");
	expect_prefix("192.0.2.255/25", CGFW_FAMILY_INET, 25, "192.0.2.128");
	expect_prefix("198.51.100.77/30", CGFW_FAMILY_INET, 30, "198.51.100.76");
	expect_prefix("203.0.113.9/31", CGFW_FAMILY_INET, 31, "203.0.113.8");
	expect_prefix("2001:db8::1/32", CGFW_FAMILY_INET6, 32, "2001:db8::");
	expect_prefix("2001:db8:ffff::/33", CGFW_FAMILY_INET6, 33, "2001:db8:8000::");
	expect_prefix("2001:db8:1:2:3:4:5:6/64", CGFW_FAMILY_INET6, 64, "2001:db8:1:2::");
	expect_prefix("2001:db8::ffff/127", CGFW_FAMILY_INET6, 127, "2001:db8::fffe");
}
END_TEST

START_TEST(test_edge_lengths)
{
	expect_prefix("0.0.0.0/0", CGFW_FAMILY_INET, 0, "0.0.0.0");
	expect_prefix("203.0.113.1/0", CGFW_FAMILY_INET, 0, "0.0.0.0");
	expect_prefix("::/0", CGFW_FAMILY_INET6, 0, "::");
	expect_prefix("2001:db8::1/0", CGFW_FAMILY_INET6, 0, "::");
	expect_prefix("192.0.2.7/32", CGFW_FAMILY_INET, 32, "192.0.2.7");
	expect_prefix("2001:db8::7/128", CGFW_FAMILY_INET6, 128, "2001:db8::7");
}
END_TEST

START_TEST(test_rejects_bad_addresses)
{
	expect_bad_prefix("300.1.2.3", "300.1.2.3");
	expect_bad_prefix("1.2.3", "1.2.3");
	expect_bad_prefix("01.2.3.4", "01.2.3.4"); /* no octal or leading zeros */
	expect_bad_prefix("1.2.3.4.5", "1.2.3.4.5");
	expect_bad_prefix("::g", "::g");
	expect_bad_prefix("2001:db8:::1", "2001:db8:::1");
	expect_bad_prefix("example.com", "example.com");
	expect_bad_prefix(" 1.2.3.4", " 1.2.3.4");
	expect_bad_prefix("1.2.3.4 ", "1.2.3.4 ");
	expect_bad_prefix("300.1.2.3/8", "300.1.2.3/8");
	expect_bad_prefix("/8", "/8");
}
END_TEST

START_TEST(test_rejects_bad_lengths)
{
	expect_bad_prefix("10.0.0.0/33", "10.0.0.0/33");
	expect_bad_prefix("2001:db8::/129", "2001:db8::/129");
	expect_bad_prefix("1.2.3.4/", "1.2.3.4/");
	expect_bad_prefix("1.2.3.4/-1", "1.2.3.4/-1");
	expect_bad_prefix("1.2.3.4/ 8", "1.2.3.4/ 8");
	expect_bad_prefix("1.2.3.4/8 ", "1.2.3.4/8 ");
	expect_bad_prefix("1.2.3.4/+8", "1.2.3.4/+8");
	expect_bad_prefix("1.2.3.4/8/8", "1.2.3.4/8/8");
	expect_bad_prefix("1.2.3.4/8a", "1.2.3.4/8a");
	expect_bad_prefix("1.2.3.4/0x8", "1.2.3.4/0x8");
	expect_bad_prefix("1.2.3.4/4294967304", "1.2.3.4/4294967304"); /* 2^32 + 8 */
}
END_TEST

START_TEST(test_rejects_empty_and_long)
{
	char big[4096];

	expect_bad_prefix("", "empty");
	expect_bad_prefix(NULL, "empty");

	/* Far longer than any address: rejected, message still names the start of it. */
	memset(big, '1', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	expect_bad_prefix(big, "1111111111");
	ck_assert_msg(strlen(cgfw_errmsg()) < 200, "message not bounded: %zu chars",
		      strlen(cgfw_errmsg()));

	/* A valid prefix padded past CGFW_ADDRSTRLEN with leading zeros in the length. */
	snprintf(big, sizeof(big), "192.0.2.0/%0*d", 80, 24);
	expect_bad_prefix(big, "192.0.2.0/0000");

	/* Just below the limit, a long valid IPv6 form still parses. */
	expect_prefix("0000:0000:0000:0000:0000:ffff:192.0.2.1/128", CGFW_FAMILY_INET6, 128,
		      "::ffff:192.0.2.1");
}
END_TEST

START_TEST(test_parse_addr)
{
	struct cgfw_prefix p;

	ck_assert_int_eq(cgfw_parse_addr("198.51.100.1", &p), 0);
	ck_assert_int_eq(p.family, CGFW_FAMILY_INET);
	ck_assert_int_eq(p.len, 32);
	ck_assert_int_eq(cgfw_parse_addr("2001:db8::5", &p), 0);
	ck_assert_int_eq(p.family, CGFW_FAMILY_INET6);
	ck_assert_int_eq(p.len, 128);

	/* An address only: no prefix length. */
	ck_assert_int_eq(cgfw_parse_addr("198.51.100.0/24", &p), -EINVAL);
	ck_assert_errmsg_has("198.51.100.0/24");
	ck_assert_int_eq(cgfw_parse_addr("1.2.3", &p), -EINVAL);
	ck_assert_errmsg_has("'1.2.3'");
	ck_assert_int_eq(cgfw_parse_addr("", &p), -EINVAL);
	ck_assert_int_eq(cgfw_parse_addr(NULL, &p), -EINVAL);
}
END_TEST

START_TEST(test_format_round_trip)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "192.0.2.1", "192.0.2.1" },
		{ "192.0.2.1/32", "192.0.2.1" },
		{ "10.1.2.3/8", "10.0.0.0/8" },
		{ "0.0.0.0/0", "0.0.0.0/0" },
		{ "198.51.100.200/25", "198.51.100.128/25" },
		{ "2001:DB8::1", "2001:db8::1" },
		{ "2001:db8::1/128", "2001:db8::1" },
		{ "2001:db8::1/32", "2001:db8::/32" },
		{ "2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1" },
		{ "::/0", "::/0" },
		{ "::ffff:192.0.2.1", "::ffff:192.0.2.1" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cgfw_prefix p, q;
		char buf[CGFW_ADDRSTRLEN], again[CGFW_ADDRSTRLEN];

		ck_assert_int_eq(cgfw_parse_prefix(cases[i].in, &p), 0);
		cgfw_format_prefix(&p, buf, sizeof(buf));
		ck_assert_str_eq(buf, cases[i].out);
		ck_assert_int_eq(cgfw_parse_prefix(buf, &q), 0);
		cgfw_format_prefix(&q, again, sizeof(again));
		ck_assert_str_eq(again, buf);
	}
}
END_TEST

START_TEST(test_format_addr)
{
	uint8_t a[16] = { 192, 0, 2, 33 };
	char buf[CGFW_ADDRSTRLEN];

	cgfw_format_addr(CGFW_FAMILY_INET, a, buf, sizeof(buf));
	ck_assert_str_eq(buf, "192.0.2.33");
	inet_pton(AF_INET6, "2001:db8:0:1::42", a);
	cgfw_format_addr(CGFW_FAMILY_INET6, a, buf, sizeof(buf));
	ck_assert_str_eq(buf, "2001:db8:0:1::42");
	/* A buffer too small gives a terminated string, not an overrun. */
	memset(buf, 'x', sizeof(buf));
	cgfw_format_addr(CGFW_FAMILY_INET6, a, buf, 4);
	ck_assert_msg(memchr(buf, 0, 4) != NULL, "not terminated within 4 bytes");
}
END_TEST

START_TEST(test_mask)
{
	uint8_t in[16], out[16], want[16];

	memset(in, 0xff, sizeof(in));
	cgfw_mask(CGFW_FAMILY_INET, 20, in, out);
	memset(want, 0, sizeof(want));
	want[0] = want[1] = 0xff;
	want[2] = 0xf0;
	ck_assert_mem_eq(out, want, 16);

	/* IPv4: bytes past the address are cleared even when set in the input. */
	cgfw_mask(CGFW_FAMILY_INET, 32, in, out);
	memset(want, 0, sizeof(want));
	memset(want, 0xff, 4);
	ck_assert_mem_eq(out, want, 16);

	/* In place. */
	cgfw_mask(CGFW_FAMILY_INET6, 65, in, in);
	memset(want, 0, sizeof(want));
	memset(want, 0xff, 8);
	want[8] = 0x80;
	ck_assert_mem_eq(in, want, 16);
}
END_TEST

static bool contains(const char *pfx, const char *addr)
{
	struct cgfw_prefix p, a;

	ck_assert_int_eq(cgfw_parse_prefix(pfx, &p), 0);
	ck_assert_int_eq(cgfw_parse_addr(addr, &a), 0);
	return cgfw_prefix_contains(&p, a.family, a.addr);
}

START_TEST(test_prefix_contains)
{
	ck_assert(contains("10.0.0.0/8", "10.255.1.1"));
	ck_assert(contains("10.1.2.3/8", "10.0.0.0"));
	ck_assert(!contains("10.0.0.0/8", "11.0.0.1"));
	ck_assert(!contains("10.0.0.0/8", "9.255.255.255"));
	ck_assert(contains("192.0.2.128/25", "192.0.2.255"));
	ck_assert(!contains("192.0.2.128/25", "192.0.2.127"));
	ck_assert(contains("192.0.2.7", "192.0.2.7"));
	ck_assert(!contains("192.0.2.7", "192.0.2.6"));
	ck_assert(contains("0.0.0.0/0", "203.0.113.5"));
	/* Never across families, not even for /0. */
	ck_assert(!contains("0.0.0.0/0", "::"));
	ck_assert(!contains("::/0", "0.0.0.0"));
	ck_assert(contains("::/0", "2001:db8::1"));
	ck_assert(contains("2001:db8::/32", "2001:db8:ffff::1"));
	ck_assert(!contains("2001:db8::/32", "2001:db9::"));
	ck_assert(contains("2001:db8::1/128", "2001:db8::1"));
	ck_assert(!contains("2001:db8::1/128", "2001:db8::2"));
}
END_TEST

Suite *addr_suite(void)
{
	Suite *s = suite_create("addr");
	TCase *tc = tcase_create("prefixes");

	tcase_add_test(tc, test_ipv4_host);
	tcase_add_test(tc, test_ipv6_host);
	tcase_add_test(tc, test_host_bits_cleared);
	tcase_add_test(tc, test_edge_lengths);
	tcase_add_test(tc, test_rejects_bad_addresses);
	tcase_add_test(tc, test_rejects_bad_lengths);
	tcase_add_test(tc, test_rejects_empty_and_long);
	tcase_add_test(tc, test_parse_addr);
	tcase_add_test(tc, test_format_round_trip);
	tcase_add_test(tc, test_format_addr);
	tcase_add_test(tc, test_mask);
	tcase_add_test(tc, test_prefix_contains);
	suite_add_tcase(s, tc);
	return s;
}

/* ---- ports and protocols ------------------------------------------------- */

static void expect_ports(const char *in, uint16_t lo, uint16_t hi)
{
	uint16_t l = 1234, h = 4321;
	int err = cgfw_parse_ports(in, &l, &h);

	ck_assert_msg(err == 0, "'%s' rejected: %s", in, cgfw_errmsg());
	ck_assert_msg(l == lo && h == hi, "'%s' -> %u-%u, want %u-%u", in, l, h, lo, hi);
}

static void expect_bad_ports(const char *in, const char *needle)
{
	uint16_t l = 1234, h = 4321;
	int err;

	cgfw_clearerr();
	err = cgfw_parse_ports(in, &l, &h);
	ck_assert_msg(err == -EINVAL, "'%s' accepted (or wrong error %d)", in ? in : "(null)", err);
	ck_assert_msg(l == 1234 && h == 4321, "'%s': outputs changed on error", in);
	ck_assert_errmsg_has(needle);
}

START_TEST(test_ports_valid)
{
	expect_ports("80", 80, 80);
	expect_ports("1", 1, 1);
	expect_ports("65535", 65535, 65535);
	expect_ports("1000-2000", 1000, 2000);
	expect_ports("443-443", 443, 443);
	expect_ports("1-65535", 1, 65535);
}
END_TEST

START_TEST(test_ports_invalid)
{
	expect_bad_ports("0", "'0'");
	expect_bad_ports("0-80", "'0-80'");
	expect_bad_ports("65536", "'65536'");
	expect_bad_ports("100000", "'100000'");
	expect_bad_ports("80-65536", "'80-65536'");
	expect_bad_ports("9-5", "'9-5'");
	expect_bad_ports("80-", "'80-'");
	expect_bad_ports("-80", "'-80'");
	expect_bad_ports("8a", "'8a'");
	expect_bad_ports("1-2-3", "'1-2-3'");
	expect_bad_ports(" 80", "' 80'");
	expect_bad_ports("80 ", "'80 '");
	expect_bad_ports("+80", "'+80'");
	expect_bad_ports("-", "'-'");
	expect_bad_ports("", "empty");
	expect_bad_ports(NULL, "empty");
}
END_TEST

START_TEST(test_ports_reversed_message)
{
	uint16_t l, h;

	ck_assert_int_eq(cgfw_parse_ports("9-5", &l, &h), -EINVAL);
	/* The message says what is wrong, not only that something is. */
	ck_assert_errmsg_has("9 is above 5");
}
END_TEST

START_TEST(test_protocols)
{
	static const struct {
		const char *in;
		uint8_t proto;
	} ok[] = {
		{ "tcp", CGFW_PROTO_TCP },    { "udp", CGFW_PROTO_UDP },
		{ "icmp", CGFW_PROTO_ICMP },  { "icmpv6", CGFW_PROTO_ICMP }, /* stored as icmp */
		{ "icmp6", CGFW_PROTO_ICMP },
	};
	static const char *const bad[] = { "sctp", "", "tcp ", "tc", "TCPX", "any" };
	uint8_t p;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		p = 0xff;
		ck_assert_msg(cgfw_parse_proto(ok[i].in, &p) == 0, "'%s' rejected", ok[i].in);
		ck_assert_int_eq(p, ok[i].proto);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		p = 0xff;
		ck_assert_msg(cgfw_parse_proto(bad[i], &p) == -EINVAL, "'%s' accepted", bad[i]);
		ck_assert_int_eq(p, 0xff);
		if (bad[i][0]) {
			char q[16];

			snprintf(q, sizeof(q), "'%s'", bad[i]);
			ck_assert_errmsg_has(q);
		}
	}
	ck_assert_int_eq(cgfw_parse_proto(NULL, &p), -EINVAL);
}
END_TEST

START_TEST(test_proto_names)
{
	ck_assert_str_eq(cgfw_proto_name(CGFW_PROTO_ANY), "any");
	ck_assert_str_eq(cgfw_proto_name(CGFW_PROTO_TCP), "tcp");
	ck_assert_str_eq(cgfw_proto_name(CGFW_PROTO_UDP), "udp");
	ck_assert_str_eq(cgfw_proto_name(CGFW_PROTO_ICMP), "icmp");
	ck_assert_str_eq(cgfw_proto_name(132), "?");
	/* Names parse back to the same number. */
	for (uint8_t pr = 1; pr < 255; pr++) {
		uint8_t back;

		if (!strcmp(cgfw_proto_name(pr), "?"))
			continue;
		ck_assert_int_eq(cgfw_parse_proto(cgfw_proto_name(pr), &back), 0);
		ck_assert_int_eq(back, pr);
	}
}
END_TEST

Suite *ports_suite(void)
{
	Suite *s = suite_create("ports");
	TCase *tc = tcase_create("ports_protocols");

	tcase_add_test(tc, test_ports_valid);
	tcase_add_test(tc, test_ports_invalid);
	tcase_add_test(tc, test_ports_reversed_message);
	tcase_add_test(tc, test_protocols);
	tcase_add_test(tc, test_proto_names);
	suite_add_tcase(s, tc);
	return s;
}
