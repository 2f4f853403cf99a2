// SPDX-License-Identifier: GPL-2.0-only
/*
 * Rule encoding into map keys and values (lib/rule.c) and the precedence the
 * datapath applies (include/cgfw/verdict.h).
 */
#include <errno.h>

#include <cgfw/rule_map.h>
#include <cgfw/verdict.h>

#include "unit.h"

#define IN  CGFW_DIR_BIT(CGFW_DIR_INGRESS)
#define OUT CGFW_DIR_BIT(CGFW_DIR_EGRESS)

#define MANUAL_ALLOW CGFW_ACT_ALLOW_BIT(CGFW_ORIGIN_MANUAL)
#define MANUAL_DENY  CGFW_ACT_DENY_BIT(CGFW_ORIGIN_MANUAL)
#define POLICY_ALLOW CGFW_ACT_ALLOW_BIT(CGFW_ORIGIN_POLICY)
#define POLICY_DENY  CGFW_ACT_DENY_BIT(CGFW_ORIGIN_POLICY)

static struct cgfw_rule mkrule(const char *pfx, uint8_t proto, uint16_t lo, uint16_t hi,
			       uint8_t dirs, uint8_t action, uint8_t origin)
{
	struct cgfw_rule r = {
		.scope = 42,
		.proto = proto,
		.port_lo = lo,
		.port_hi = hi,
		.dirs = dirs,
		.action = action,
		.origin = origin,
	};

	ck_assert_msg(cgfw_parse_prefix(pfx, &r.pfx) == 0, "%s", cgfw_errmsg());
	return r;
}

/* ---- keys ----------------------------------------------------------------- */

START_TEST(test_key_fields_and_padding)
{
	struct cgfw_rule r = mkrule("198.51.100.0/24", CGFW_PROTO_TCP, 80, 80, IN, CGFW_ALLOW,
				    CGFW_ORIGIN_MANUAL);
	struct cgfw_rule_key k;
	uint8_t zero[16] = {};

	memset(&k, 0xee, sizeof(k)); /* garbage that must not survive */
	r.scope = 0x1122334455667788ull;
	cgfw_rule_key(&r, &k);
	ck_assert_uint_eq(k.scope, 0x1122334455667788ull);
	ck_assert_int_eq(k.family, CGFW_FAMILY_INET);
	ck_assert_int_eq(k.prefixlen, 24);
	ck_assert_int_eq(k.proto, CGFW_PROTO_TCP);
	ck_assert_mem_eq(k.pad, zero, sizeof(k.pad));
	ck_assert_int_eq(k.addr[0], 198);
	ck_assert_int_eq(k.addr[1], 51);
	ck_assert_int_eq(k.addr[2], 100);
	ck_assert_mem_eq(k.addr + 3, zero, 13);
}
END_TEST

START_TEST(test_key_masks_unnormalised_input)
{
	/* Rules built in code may carry host bits: the key never does. */
	struct cgfw_rule r = mkrule("10.0.0.0/8", 0, 0, 0, IN, CGFW_DENY, CGFW_ORIGIN_MANUAL);
	struct cgfw_rule_key k, k2;
	uint8_t want[16] = { 10 };

	r.pfx.addr[1] = 1;
	r.pfx.addr[2] = 2;
	r.pfx.addr[3] = 3;
	r.pfx.addr[9] = 0x99; /* past the IPv4 address */
	cgfw_rule_key(&r, &k);
	ck_assert_mem_eq(k.addr, want, 16);

	/* Same prefix, different host bits: the same key, byte for byte. */
	r.pfx.addr[3] = 77;
	memset(&k2, 0x11, sizeof(k2));
	cgfw_rule_key(&r, &k2);
	ck_assert_mem_eq(&k, &k2, sizeof(k));
}
END_TEST

START_TEST(test_key_ipv6)
{
	struct cgfw_rule r = mkrule("2001:db8:abcd::/33", CGFW_PROTO_UDP, 53, 53, OUT, CGFW_ALLOW,
				    CGFW_ORIGIN_POLICY);
	struct cgfw_rule_key k;
	uint8_t want[16] = { 0x20, 0x01, 0x0d, 0xb8, 0x80 };

	r.pfx.addr[15] = 1; /* host bit in the input */
	cgfw_rule_key(&r, &k);
	ck_assert_int_eq(k.family, CGFW_FAMILY_INET6);
	ck_assert_int_eq(k.prefixlen, 33);
	ck_assert_int_eq(k.proto, CGFW_PROTO_UDP);
	ck_assert_mem_eq(k.addr, want, 16);
}
END_TEST

START_TEST(test_key_ignores_action_dir_origin_ports)
{
	/* Everything that lives in the value stays out of the key. */
	struct cgfw_rule a =
		mkrule("192.0.2.0/24", CGFW_PROTO_TCP, 80, 80, IN, CGFW_ALLOW, CGFW_ORIGIN_MANUAL);
	struct cgfw_rule b = mkrule("192.0.2.0/24", CGFW_PROTO_TCP, 1000, 2000, OUT, CGFW_DENY,
				    CGFW_ORIGIN_POLICY);
	struct cgfw_rule_key ka, kb;

	cgfw_rule_key(&a, &ka);
	cgfw_rule_key(&b, &kb);
	ck_assert_mem_eq(&ka, &kb, sizeof(ka));
	b.proto = CGFW_PROTO_UDP;
	cgfw_rule_key(&b, &kb);
	ck_assert(memcmp(&ka, &kb, sizeof(ka)) != 0);
	b.proto = CGFW_PROTO_TCP;
	b.scope = CGFW_SCOPE_HOST;
	cgfw_rule_key(&b, &kb);
	ck_assert(memcmp(&ka, &kb, sizeof(ka)) != 0);
}
END_TEST

/* ---- plain values ------------------------------------------------------- */

START_TEST(test_val_add_per_direction)
{
	struct cgfw_rule_val v = {};
	struct cgfw_rule r = mkrule("192.0.2.1", 0, 0, 0, IN, CGFW_ALLOW, CGFW_ORIGIN_MANUAL);

	ck_assert(cgfw_rule_val_apply(&v, &r, true));
	ck_assert_int_eq(v.act[CGFW_DIR_INGRESS], MANUAL_ALLOW);
	ck_assert_int_eq(v.act[CGFW_DIR_EGRESS], 0);
	/* Adding it again changes nothing. */
	ck_assert(!cgfw_rule_val_apply(&v, &r, true));

	r.dirs = OUT;
	r.action = CGFW_DENY;
	ck_assert(cgfw_rule_val_apply(&v, &r, true));
	ck_assert_int_eq(v.act[CGFW_DIR_INGRESS], MANUAL_ALLOW);
	ck_assert_int_eq(v.act[CGFW_DIR_EGRESS], MANUAL_DENY);

	r.dirs = CGFW_DIR_BOTH;
	ck_assert(cgfw_rule_val_apply(&v, &r, true)); /* adds deny on ingress */
	ck_assert_int_eq(v.act[CGFW_DIR_INGRESS], MANUAL_ALLOW | MANUAL_DENY);
	ck_assert_int_eq(v.act[CGFW_DIR_EGRESS], MANUAL_DENY);
	ck_assert_int_eq(v.pad[0], 0);
	ck_assert_int_eq(v.pad[1], 0);
	ck_assert(!cgfw_rule_val_empty(&v));
}
END_TEST

START_TEST(test_val_origins_independent)
{
	struct cgfw_rule_val v = {};
	struct cgfw_rule man =
		mkrule("192.0.2.1", 0, 0, 0, CGFW_DIR_BOTH, CGFW_DENY, CGFW_ORIGIN_MANUAL);
	struct cgfw_rule pol = man;

	pol.origin = CGFW_ORIGIN_POLICY;
	ck_assert(cgfw_rule_val_apply(&v, &man, true));
	ck_assert(cgfw_rule_val_apply(&v, &pol, true)); /* same rule, other origin */
	ck_assert_int_eq(v.act[0], MANUAL_DENY | POLICY_DENY);
	ck_assert_int_eq(v.act[1], MANUAL_DENY | POLICY_DENY);

	/* Removing the policy's copy leaves the hand-typed one in force. */
	ck_assert(cgfw_rule_val_apply(&v, &pol, false));
	ck_assert_int_eq(v.act[0], MANUAL_DENY);
	ck_assert_int_eq(v.act[1], MANUAL_DENY);
	ck_assert(!cgfw_rule_val_apply(&v, &pol, false)); /* already gone */
	ck_assert(!cgfw_rule_val_empty(&v));

	ck_assert(cgfw_rule_val_apply(&v, &man, false));
	ck_assert(cgfw_rule_val_empty(&v));
}
END_TEST

START_TEST(test_val_remove_one_direction)
{
	struct cgfw_rule_val v = {};
	struct cgfw_rule r =
		mkrule("192.0.2.1", 0, 0, 0, CGFW_DIR_BOTH, CGFW_ALLOW, CGFW_ORIGIN_POLICY);

	cgfw_rule_val_apply(&v, &r, true);
	r.dirs = IN;
	ck_assert(cgfw_rule_val_apply(&v, &r, false));
	ck_assert_int_eq(v.act[CGFW_DIR_INGRESS], 0);
	ck_assert_int_eq(v.act[CGFW_DIR_EGRESS], POLICY_ALLOW);
	/* Removing a deny that was never there: no change. */
	r.action = CGFW_DENY;
	r.dirs = CGFW_DIR_BOTH;
	ck_assert(!cgfw_rule_val_apply(&v, &r, false));
	ck_assert_int_eq(v.act[CGFW_DIR_EGRESS], POLICY_ALLOW);
}
END_TEST

/* ---- port values -------------------------------------------------------- */

static int used_entries(const struct cgfw_port_rule_val *v)
{
	int n = 0;

	for (int i = 0; i < CGFW_PORT_ENTRIES; i++)
		n += v->e[i].act[0] || v->e[i].act[1];
	return n;
}

static const struct cgfw_port_entry *find_range(const struct cgfw_port_rule_val *v, uint16_t lo,
						uint16_t hi)
{
	for (int i = 0; i < CGFW_PORT_ENTRIES; i++)
		if ((v->e[i].act[0] || v->e[i].act[1]) && v->e[i].lo == lo && v->e[i].hi == hi)
			return &v->e[i];
	return NULL;
}

START_TEST(test_port_same_range_merges)
{
	struct cgfw_port_rule_val v = {};
	struct cgfw_rule r = mkrule("192.0.2.0/24", CGFW_PROTO_TCP, 443, 443, OUT, CGFW_ALLOW,
				    CGFW_ORIGIN_MANUAL);
	const struct cgfw_port_entry *e;
	bool changed = false;

	ck_assert_int_eq(cgfw_port_val_apply(&v, &r, true, &changed), 0);
	ck_assert(changed);
	r.action = CGFW_DENY;
	r.dirs = IN;
	r.origin = CGFW_ORIGIN_POLICY;
	ck_assert_int_eq(cgfw_port_val_apply(&v, &r, true, &changed), 0);
	ck_assert(changed);
	ck_assert_int_eq(used_entries(&v), 1);
	e = find_range(&v, 443, 443);
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(e->act[CGFW_DIR_EGRESS], MANUAL_ALLOW);
	ck_assert_int_eq(e->act[CGFW_DIR_INGRESS], POLICY_DENY);
	ck_assert_int_eq(e->pad[0] | e->pad[1], 0);

	/* Again: no change. */
	ck_assert_int_eq(cgfw_port_val_apply(&v, &r, true, &changed), 0);
	ck_assert(!changed);
}
END_TEST

START_TEST(test_port_distinct_ranges_take_entries)
{
	struct cgfw_port_rule_val v = {}, before;
	struct cgfw_rule r =
		mkrule("192.0.2.0/24", CGFW_PROTO_UDP, 0, 0, OUT, CGFW_DENY, CGFW_ORIGIN_MANUAL);
	bool changed;

	/* Overlapping but not equal ranges are distinct entries. */
	for (int i = 0; i < CGFW_PORT_ENTRIES; i++) {
		r.port_lo = (uint16_t)(1000 + i);
		r.port_hi = 2000;
		changed = false;
		ck_assert_int_eq(cgfw_port_val_apply(&v, &r, true, &changed), 0);
		ck_assert(changed);
		ck_assert_int_eq(used_entries(&v), i + 1);
	}
	for (int i = 0; i < CGFW_PORT_ENTRIES; i++)
		ck_assert_ptr_nonnull(find_range(&v, (uint16_t)(1000 + i), 2000));

	/* The 9th distinct range does not fit, and the value is left alone. */
	before = v;
	r.port_lo = r.port_hi = 53;
	ck_assert_int_eq(cgfw_port_val_apply(&v, &r, true, &changed), -ENOSPC);
	ck_assert_mem_eq(&v, &before, sizeof(v));

	/* A range already present still merges when full. */
	r.port_lo = 1003;
	r.port_hi = 2000;
	r.action = CGFW_ALLOW;
	ck_assert_int_eq(cgfw_port_val_apply(&v, &r, true, &changed), 0);
	ck_assert(changed);
	ck_assert_int_eq(find_range(&v, 1003, 2000)->act[CGFW_DIR_EGRESS],
			 MANUAL_DENY | MANUAL_ALLOW);

	/* Removing a range that is not there: no change, no error, even when full. */
	r.port_lo = r.port_hi = 53;
	changed = true;
	ck_assert_int_eq(cgfw_port_val_apply(&v, &r, false, &changed), 0);
	ck_assert(!changed);
}
END_TEST

START_TEST(test_port_remove_last_bit_frees_entry)
{
	struct cgfw_port_rule_val v = {};
	struct cgfw_rule r = mkrule("192.0.2.0/24", CGFW_PROTO_TCP, 0, 0, CGFW_DIR_BOTH, CGFW_DENY,
				    CGFW_ORIGIN_MANUAL);
	struct cgfw_port_entry zero = {};
	bool changed;

	for (int i = 0; i < CGFW_PORT_ENTRIES; i++) {
		r.port_lo = r.port_hi = (uint16_t)(10 + i);
		ck_assert_int_eq(cgfw_port_val_apply(&v, &r, true, &changed), 0);
	}
	/* Remove port 13 in one direction: the entry stays. */
	r.port_lo = r.port_hi = 13;
	r.dirs = IN;
	ck_assert_int_eq(cgfw_port_val_apply(&v, &r, false, &changed), 0);
	ck_assert(changed);
	ck_assert_int_eq(used_entries(&v), CGFW_PORT_ENTRIES);
	/* And in the other: the entry is freed, wholly zeroed. */
	r.dirs = OUT;
	ck_assert_int_eq(cgfw_port_val_apply(&v, &r, false, &changed), 0);
	ck_assert(changed);
	ck_assert_int_eq(used_entries(&v), CGFW_PORT_ENTRIES - 1);
	ck_assert_ptr_null(find_range(&v, 13, 13));
	{
		int zeroed = 0;

		for (int i = 0; i < CGFW_PORT_ENTRIES; i++)
			zeroed += !memcmp(&v.e[i], &zero, sizeof(zero));
		ck_assert_int_eq(zeroed, 1);
	}
	/* The freed entry takes a new range. */
	r.port_lo = 5000;
	r.port_hi = 5100;
	r.dirs = CGFW_DIR_BOTH;
	ck_assert_int_eq(cgfw_port_val_apply(&v, &r, true, &changed), 0);
	ck_assert_ptr_nonnull(find_range(&v, 5000, 5100));
	ck_assert(!cgfw_port_val_empty(&v));

	/* Remove everything: the value is empty. */
	for (int i = 0; i < CGFW_PORT_ENTRIES; i++) {
		if (10 + i == 13)
			continue;
		r.port_lo = r.port_hi = (uint16_t)(10 + i);
		ck_assert_int_eq(cgfw_port_val_apply(&v, &r, false, &changed), 0);
		ck_assert(changed);
	}
	r.port_lo = 5000;
	r.port_hi = 5100;
	ck_assert_int_eq(cgfw_port_val_apply(&v, &r, false, &changed), 0);
	ck_assert(cgfw_port_val_empty(&v));
	{
		struct cgfw_port_rule_val empty = {};

		ck_assert_mem_eq(&v, &empty, sizeof(v));
	}
}
END_TEST

START_TEST(test_port_icmp_and_portless_cover_all)
{
	struct cgfw_port_rule_val v = {};
	struct cgfw_rule r =
		mkrule("2001:db8::/32", CGFW_PROTO_ICMP, 0, 0, IN, CGFW_ALLOW, CGFW_ORIGIN_MANUAL);
	bool changed;

	ck_assert_int_eq(cgfw_port_val_apply(&v, &r, true, &changed), 0);
	ck_assert_ptr_nonnull(find_range(&v, 0, 65535));
	/* ICMP has no ports: whatever the rule carries, it covers 0-65535. */
	r.port_lo = r.port_hi = 7;
	ck_assert_int_eq(cgfw_port_val_apply(&v, &r, true, &changed), 0);
	ck_assert(!changed);
	ck_assert_int_eq(used_entries(&v), 1);

	/* tcp without ports: every port, including 0 (a later fragment). */
	memset(&v, 0, sizeof(v));
	r.proto = CGFW_PROTO_TCP;
	r.port_lo = r.port_hi = 0;
	ck_assert_int_eq(cgfw_port_val_apply(&v, &r, true, &changed), 0);
	ck_assert(changed);
	ck_assert_ptr_nonnull(find_range(&v, 0, 65535));
	ck_assert(cgfw_port_match(0, 65535, 0));
	/* ...and removing the same portless rule frees it again. */
	ck_assert_int_eq(cgfw_port_val_apply(&v, &r, false, &changed), 0);
	ck_assert(changed);
	ck_assert(cgfw_port_val_empty(&v));
}
END_TEST

Suite *rule_suite(void)
{
	Suite *s = suite_create("rule");
	TCase *tk = tcase_create("keys"), *tv = tcase_create("values"), *tp = tcase_create("ports");

	tcase_add_test(tk, test_key_fields_and_padding);
	tcase_add_test(tk, test_key_masks_unnormalised_input);
	tcase_add_test(tk, test_key_ipv6);
	tcase_add_test(tk, test_key_ignores_action_dir_origin_ports);
	tcase_add_test(tv, test_val_add_per_direction);
	tcase_add_test(tv, test_val_origins_independent);
	tcase_add_test(tv, test_val_remove_one_direction);
	tcase_add_test(tp, test_port_same_range_merges);
	tcase_add_test(tp, test_port_distinct_ranges_take_entries);
	tcase_add_test(tp, test_port_remove_last_bit_frees_entry);
	tcase_add_test(tp, test_port_icmp_and_portless_cover_all);
	suite_add_tcase(s, tk);
	suite_add_tcase(s, tv);
	suite_add_tcase(s, tp);
	return s;
}

/* ---- precedence ----------------------------------------------------------- */

START_TEST(test_act_verdict)
{
	ck_assert_int_eq(cgfw_act_verdict(0), CGFW_VERDICT_NONE);
	ck_assert_int_eq(cgfw_act_verdict(MANUAL_ALLOW), CGFW_VERDICT_ALLOW);
	ck_assert_int_eq(cgfw_act_verdict(POLICY_ALLOW), CGFW_VERDICT_ALLOW);
	ck_assert_int_eq(cgfw_act_verdict(MANUAL_DENY), CGFW_VERDICT_DENY);
	ck_assert_int_eq(cgfw_act_verdict(POLICY_DENY), CGFW_VERDICT_DENY);
	/* Deny wins a tie, within and across origins. */
	ck_assert_int_eq(cgfw_act_verdict(MANUAL_ALLOW | MANUAL_DENY), CGFW_VERDICT_DENY);
	ck_assert_int_eq(cgfw_act_verdict(MANUAL_ALLOW | POLICY_DENY), CGFW_VERDICT_DENY);
	ck_assert_int_eq(cgfw_act_verdict(POLICY_ALLOW | MANUAL_DENY), CGFW_VERDICT_DENY);
	ck_assert_int_eq(cgfw_act_verdict(POLICY_ALLOW | MANUAL_ALLOW), CGFW_VERDICT_ALLOW);
	/* Every combination of bits. */
	for (unsigned a = 0; a < 16; a++) {
		int want = (a & CGFW_ACT_DENY_ANY)  ? CGFW_VERDICT_DENY :
			   (a & CGFW_ACT_ALLOW_ANY) ? CGFW_VERDICT_ALLOW :
						      CGFW_VERDICT_NONE;

		ck_assert_int_eq(cgfw_act_verdict((__u8)a), want);
	}
}
END_TEST

START_TEST(test_act_bits_layout)
{
	/* Each origin has its own allow and deny bit; none overlap. */
	__u8 all = 0;

	for (int o = 0; o < CGFW_ORIGIN_COUNT; o++) {
		__u8 a = CGFW_ACT_ALLOW_BIT(o), d = CGFW_ACT_DENY_BIT(o);

		ck_assert_int_eq(a & d, 0);
		ck_assert_int_eq(all & (a | d), 0);
		ck_assert(a & CGFW_ACT_ALLOW_ANY);
		ck_assert(!(a & CGFW_ACT_DENY_ANY));
		ck_assert(d & CGFW_ACT_DENY_ANY);
		ck_assert(!(d & CGFW_ACT_ALLOW_ANY));
		all |= a | d;
	}
}
END_TEST

START_TEST(test_final_verdict)
{
	/* A rule decides whatever the reply state and default. */
	for (int reply = 0; reply <= 1; reply++) {
		for (int def = CGFW_VERDICT_ALLOW; def <= CGFW_VERDICT_DENY; def++) {
			ck_assert_int_eq(cgfw_final_verdict(CGFW_VERDICT_ALLOW, reply, def),
					 CGFW_VERDICT_ALLOW);
			ck_assert_int_eq(cgfw_final_verdict(CGFW_VERDICT_DENY, reply, def),
					 CGFW_VERDICT_DENY);
		}
	}
	/* No rule: a reply beats a default deny. */
	ck_assert_int_eq(cgfw_final_verdict(CGFW_VERDICT_NONE, 1, CGFW_VERDICT_DENY),
			 CGFW_VERDICT_ALLOW);
	ck_assert_int_eq(cgfw_final_verdict(CGFW_VERDICT_NONE, 1, CGFW_VERDICT_ALLOW),
			 CGFW_VERDICT_ALLOW);
	/* Neither: the default. */
	ck_assert_int_eq(cgfw_final_verdict(CGFW_VERDICT_NONE, 0, CGFW_VERDICT_DENY),
			 CGFW_VERDICT_DENY);
	ck_assert_int_eq(cgfw_final_verdict(CGFW_VERDICT_NONE, 0, CGFW_VERDICT_ALLOW),
			 CGFW_VERDICT_ALLOW);
	/* An unset default (0: cgroup not in the map) fails open, as documented. */
	ck_assert_int_eq(cgfw_final_verdict(CGFW_VERDICT_NONE, 0, CGFW_VERDICT_NONE),
			 CGFW_VERDICT_ALLOW);
}
END_TEST

START_TEST(test_port_match)
{
	ck_assert(cgfw_port_match(80, 80, 80));
	ck_assert(!cgfw_port_match(80, 80, 81));
	ck_assert(!cgfw_port_match(80, 80, 79));
	ck_assert(cgfw_port_match(1000, 2000, 1000));
	ck_assert(cgfw_port_match(1000, 2000, 2000));
	ck_assert(!cgfw_port_match(1000, 2000, 2001));
	ck_assert(cgfw_port_match(0, 65535, 65535));
	/* A free entry (0-0) matches only port 0, but carries no action bits. */
	ck_assert(!cgfw_port_match(0, 0, 1));
}
END_TEST

Suite *verdict_suite(void)
{
	Suite *s = suite_create("verdict");
	TCase *tc = tcase_create("precedence");

	tcase_add_test(tc, test_act_verdict);
	tcase_add_test(tc, test_act_bits_layout);
	tcase_add_test(tc, test_final_verdict);
	tcase_add_test(tc, test_port_match);
	suite_add_tcase(s, tc);
	return s;
}
