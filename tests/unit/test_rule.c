// SPDX-License-Identifier: GPL-2.0-only
/*
 * Rule sets (lib/cgroup/ruleset.c): applying rules to a set in memory, and
 * compiling it into what the datapath reads, checked by running the
 * datapath's own match code (bpf/include/cgfw_rules.h) against a naive
 * evaluation of the documented precedence over the same rules. And the
 * precedence itself (include/cgfw/verdict.h).
 */
#include <errno.h>
#include <stdlib.h>

#include <cgfw/verdict.h>

#include "../../lib/cgroup/internal.h"
#include "unit.h"

#define IN  CGFW_DIR_BIT(CGFW_DIR_INGRESS)
#define OUT CGFW_DIR_BIT(CGFW_DIR_EGRESS)

#define MANUAL_ALLOW CGFW_ACT_ALLOW_BIT(CGFW_ORIGIN_MANUAL)
#define MANUAL_DENY  CGFW_ACT_DENY_BIT(CGFW_ORIGIN_MANUAL)
#define POLICY_ALLOW CGFW_ACT_ALLOW_BIT(CGFW_ORIGIN_POLICY)
#define POLICY_DENY  CGFW_ACT_DENY_BIT(CGFW_ORIGIN_POLICY)

#define CG 42 /* the cgroup of the tests, in slot 1 */

static struct cgfw_rule mkrule(const char *pfx, uint8_t proto, uint16_t lo, uint16_t hi,
			       uint8_t dirs, uint8_t action, uint8_t origin)
{
	struct cgfw_rule r = {
		.scope = CG,
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

/* A set with the host scope and cgroup CG in slot 1. */
static void rs_init(struct rs *rs)
{
	memset(rs, 0, sizeof(*rs));
	ck_assert_int_eq(cgfw_rs_scope_set(rs, 0, CGFW_SCOPE_HOST), 0);
	ck_assert_int_eq(cgfw_rs_scope_set(rs, 1, CG), 0);
}

/* ---- applying -------------------------------------------------------------------------- */

START_TEST(test_apply_merges_bits_of_one_key)
{
	struct cgfw_rule r[3] = {
		mkrule("203.0.113.7/24", 0, 0, 0, OUT, CGFW_DENY, CGFW_ORIGIN_MANUAL),
		mkrule("203.0.113.0/24", 0, 0, 0, IN, CGFW_ALLOW, CGFW_ORIGIN_POLICY),
		mkrule("203.0.113.0/24", 0, 0, 0, OUT, CGFW_DENY, CGFW_ORIGIN_MANUAL),
	};
	struct rs rs;

	rs_init(&rs);
	/* The third is the first again: it changes nothing. */
	ck_assert_int_eq(cgfw_rs_apply(&rs, r, NULL, true, 3), 2);
	ck_assert_uint_eq(rs.nrules, 1);
	ck_assert_uint_eq(rs.rules[0].slot, 1);
	ck_assert_uint_eq(rs.rules[0].len, 24);
	/* Host bits cleared. */
	ck_assert_uint_eq(rs.rules[0].addr[3], 0);
	ck_assert_uint_eq(rs.rules[0].act[CGFW_DIR_EGRESS], MANUAL_DENY);
	ck_assert_uint_eq(rs.rules[0].act[CGFW_DIR_INGRESS], POLICY_ALLOW);
	/* Removing one origin's bits leaves the other's. */
	ck_assert_int_eq(cgfw_rs_apply(&rs, &r[1], NULL, false, 1), 1);
	ck_assert_uint_eq(rs.nrules, 1);
	ck_assert_uint_eq(rs.rules[0].act[CGFW_DIR_INGRESS], 0);
	/* And the last bits gone, the rule is gone. */
	ck_assert_int_eq(cgfw_rs_apply(&rs, &r[0], NULL, false, 1), 1);
	ck_assert_uint_eq(rs.nrules, 0);
	/* Removing what is not there changes nothing. */
	ck_assert_int_eq(cgfw_rs_apply(&rs, &r[0], NULL, false, 1), 0);
	cgfw_rs_free(&rs);
}
END_TEST

START_TEST(test_apply_ops_in_order)
{
	struct cgfw_rule r[2] = {
		mkrule("2001:db8::/32", CGFW_PROTO_TCP, 443, 443, OUT, CGFW_ALLOW,
		       CGFW_ORIGIN_POLICY),
		mkrule("2001:db8::/32", CGFW_PROTO_TCP, 443, 443, OUT, CGFW_ALLOW,
		       CGFW_ORIGIN_POLICY),
	};
	bool adds[2] = { false, true };
	struct rs rs;

	rs_init(&rs);
	ck_assert_int_eq(cgfw_rs_apply(&rs, r, NULL, true, 1), 1);
	/* Remove, then add the same rule: a swap in one batch keeps it. */
	ck_assert_int_eq(cgfw_rs_apply(&rs, r, adds, false, 2), 2);
	ck_assert_uint_eq(rs.nrules, 1);
	ck_assert_uint_eq(rs.rules[0].lo, 443);
	ck_assert_uint_eq(rs.rules[0].hi, 443);
	/* ICMP and a protocol without ports cover every port. */
	r[0] = mkrule("198.51.100.0/24", CGFW_PROTO_ICMP, 0, 0, IN, CGFW_DENY, CGFW_ORIGIN_MANUAL);
	r[1] = mkrule("198.51.100.0/24", CGFW_PROTO_UDP, 0, 0, IN, CGFW_DENY, CGFW_ORIGIN_MANUAL);
	ck_assert_int_eq(cgfw_rs_apply(&rs, r, NULL, true, 2), 2);
	for (size_t i = 0; i < rs.nrules; i++)
		if (rs.rules[i].family == CGFW_FAMILY_INET) {
			ck_assert_uint_eq(rs.rules[i].lo, 0);
			ck_assert_uint_eq(rs.rules[i].hi, 65535);
		}
	cgfw_rs_free(&rs);
}
END_TEST

START_TEST(test_apply_refuses_and_changes_nothing)
{
	struct cgfw_rule r[CGFW_PORT_ENTRIES + 1];
	struct rs rs;

	rs_init(&rs);
	for (int i = 0; i <= CGFW_PORT_ENTRIES; i++)
		r[i] = mkrule("192.0.2.0/24", CGFW_PROTO_TCP, (uint16_t)(100 + i),
			      (uint16_t)(100 + i), OUT, CGFW_DENY, CGFW_ORIGIN_MANUAL);
	ck_assert_int_eq(cgfw_rs_apply(&rs, r, NULL, true, CGFW_PORT_ENTRIES), CGFW_PORT_ENTRIES);
	ck_assert_int_eq(cgfw_rs_apply(&rs, &r[CGFW_PORT_ENTRIES], NULL, true, 1), -EINVAL);
	ck_assert_errmsg_has("192.0.2.0/24");
	ck_assert_uint_eq(rs.nrules, CGFW_PORT_ENTRIES);
	/* A cgroup that is not attached has no scope. */
	r[0].scope = 7;
	ck_assert_int_eq(cgfw_rs_apply(&rs, r, NULL, true, 1), -EINVAL);
	ck_assert_errmsg_has("7");
	ck_assert_uint_eq(rs.nrules, CGFW_PORT_ENTRIES);
	cgfw_rs_free(&rs);
}
END_TEST

START_TEST(test_scope_drop_takes_rules)
{
	struct cgfw_rule r[2] = {
		mkrule("192.0.2.1/32", 0, 0, 0, OUT, CGFW_DENY, CGFW_ORIGIN_MANUAL),
		mkrule("192.0.2.2/32", 0, 0, 0, OUT, CGFW_DENY, CGFW_ORIGIN_MANUAL),
	};
	struct rs rs;

	rs_init(&rs);
	r[1].scope = CGFW_SCOPE_HOST;
	ck_assert_int_eq(cgfw_rs_apply(&rs, r, NULL, true, 2), 2);
	ck_assert_int_eq(cgfw_rs_slot(&rs, CG), 1);
	cgfw_rs_scope_drop(&rs, 1);
	ck_assert_int_eq(cgfw_rs_slot(&rs, CG), -ENOENT);
	ck_assert_uint_eq(rs.nrules, 1);
	ck_assert_uint_eq(rs.rules[0].slot, 0);
	cgfw_rs_free(&rs);
}
END_TEST

/* ---- compiling, against the naive precedence ------------------------------------------------ */

/*
 * The documented precedence, by brute force over a rule list; and the rules
 * that decide: per scope, the first rule in list order with the best key
 * (ordinals within the scope's rules).
 */
static void naive(const struct rs *rs, uint32_t slot, const struct cgfw_rs_pkt *p,
		  const uint8_t addr[16], struct cgfw_match *ret)
{
	struct cgfw_match m = { .rule_host = CGFW_RS_NORULE, .rule_cg = CGFW_RS_NORULE };
	size_t first[2] = { 0, 0 }; /* where the host's and the cgroup's rules start */

	for (size_t i = 0; i < rs->nrules; i++)
		if (rs->rules[i].slot < slot)
			first[1] = i + 1;
	for (size_t i = 0; i < rs->nrules; i++) {
		const struct cgfw_rs_rule *r = &rs->rules[i];
		uint8_t masked[16];
		uint32_t key, ord;

		if ((r->slot != 0 && r->slot != slot) || r->family != p->family || !r->act[p->dir])
			continue;
		cgfw_mask(r->family, r->len, addr, masked);
		if (memcmp(masked, r->addr, 16))
			continue;
		if (r->proto && (r->proto != p->proto || p->port < r->lo || p->port > r->hi))
			continue;
		key = (((uint32_t)r->len << 1) | (r->proto ? 1 : 0)) + 1;
		if (key > m.key) {
			m.key = key;
			m.act = 0;
			m.rule_host = m.rule_cg = CGFW_RS_NORULE;
		}
		if (key != m.key)
			continue;
		m.act |= r->act[p->dir];
		ord = (uint32_t)(i - first[r->slot != 0]);
		if (r->slot == 0 && m.rule_host == CGFW_RS_NORULE)
			m.rule_host = ord;
		else if (r->slot != 0 && m.rule_cg == CGFW_RS_NORULE)
			m.rule_cg = ord;
	}
	*ret = m;
}

static uint64_t rnd_state;

static uint32_t rnd(void)
{
	rnd_state = rnd_state * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(rnd_state >> 33);
}

/* An address near the rules' (so prefixes nest and overlap). */
static void rnd_addr(int fam, uint8_t a[16])
{
	memset(a, 0, 16);
	if (fam == CGFW_FAMILY_INET) {
		/* 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24 and their neighbours */
		static const uint8_t nets[3][3] = { { 192, 0, 2 },
						    { 198, 51, 100 },
						    { 203, 0, 113 } };
		const uint8_t *n = nets[rnd() % 3];

		a[0] = n[0];
		a[1] = n[1];
		a[2] = (uint8_t)(n[2] ^ (rnd() % 4 == 0 ? rnd() % 8 : 0));
		a[3] = (uint8_t)(rnd() % 4 ? rnd() % 16 : rnd());
	} else {
		a[0] = 0x20;
		a[1] = 0x01;
		a[2] = 0x0d;
		a[3] = 0xb8;
		a[4] = (uint8_t)(rnd() % 3);
		a[15] = (uint8_t)(rnd() % 16);
		if (rnd() % 2)
			a[8] = (uint8_t)rnd();
	}
}

static void rnd_rule(struct cgfw_rule *r)
{
	static const uint8_t protos[] = { 0, 0, CGFW_PROTO_TCP, CGFW_PROTO_UDP, CGFW_PROTO_ICMP };
	int fam = rnd() % 3 ? CGFW_FAMILY_INET : CGFW_FAMILY_INET6;
	uint16_t lo;

	memset(r, 0, sizeof(*r));
	r->scope = rnd() % 3 ? CG : CGFW_SCOPE_HOST;
	r->pfx.family = (uint8_t)fam;
	rnd_addr(fam, r->pfx.addr);
	r->pfx.len = (uint8_t)(fam == CGFW_FAMILY_INET ? 8 + rnd() % 25 : 16 + rnd() % 113);
	r->proto = protos[rnd() % CGFW_ARRAY_SIZE(protos)];
	if (r->proto == CGFW_PROTO_TCP || r->proto == CGFW_PROTO_UDP) {
		lo = (uint16_t)(rnd() % 100);
		r->port_lo = lo;
		r->port_hi = (uint16_t)(lo + rnd() % 20);
	}
	r->dirs = (uint8_t)(1 + rnd() % 3);
	r->action = rnd() % 2 ? CGFW_DENY : CGFW_ALLOW;
	r->origin = (uint8_t)(rnd() % CGFW_ORIGIN_COUNT);
}

static void rnd_pkt(struct cgfw_rs_pkt *p, uint8_t addr[16])
{
	static const uint8_t protos[] = { 0, CGFW_PROTO_TCP, CGFW_PROTO_UDP, CGFW_PROTO_ICMP };

	memset(p, 0, sizeof(*p));
	p->family = rnd() % 3 ? CGFW_FAMILY_INET : CGFW_FAMILY_INET6;
	p->dir = (uint8_t)(rnd() % 2);
	p->proto = protos[rnd() % CGFW_ARRAY_SIZE(protos)];
	p->port = p->proto == CGFW_PROTO_TCP || p->proto == CGFW_PROTO_UDP ?
			  (uint16_t)(rnd() % 130) :
			  0;
	rnd_addr(p->family, addr);
	if (p->family == CGFW_FAMILY_INET) {
		p->addr4 = (uint32_t)addr[0] << 24 | (uint32_t)addr[1] << 16 |
			   (uint32_t)addr[2] << 8 | addr[3];
	} else {
		for (int i = 0; i < 8; i++) {
			p->hi = p->hi << 8 | addr[i];
			p->lo = p->lo << 8 | addr[8 + i];
		}
	}
}

/* Compile @rs and check @npkts random packets of both scopes against naive(). */
static void check_against_naive(const struct rs *rs, const union cgfw_rs_elem *old, size_t nold,
				int npkts, union cgfw_rs_elem **ret, size_t *ret_n)
{
	union cgfw_rs_elem *e = NULL;
	size_t n = 0;

	ck_assert_msg(cgfw_rs_compile(rs, old, nold, &e, &n) == 0, "%s", cgfw_errmsg());
	ck_assert_uint_eq(e[CGFW_RS_HDR].hdr.magic, CGFW_RS_MAGIC);
	ck_assert_uint_eq(e[CGFW_RS_HDR].hdr.nrules, rs->nrules);
	for (int i = 0; i < npkts; i++) {
		struct cgfw_rs_pkt p;
		struct cgfw_match got, want;
		uint8_t addr[16];
		uint32_t slot = rnd() % 2;

		rnd_pkt(&p, addr);
		cgfw_rs_match(e, n, slot, &p, &got);
		naive(rs, slot, &p, addr, &want);
		ck_assert_msg(got.key == want.key && got.act == want.act &&
				      got.rule_host == want.rule_host &&
				      got.rule_cg == want.rule_cg,
			      "packet %d (family %u dir %u proto %u port %u, slot %u): key %u act "
			      "%#x rules %d/%d, the precedence says key %u act %#x rules %d/%d",
			      i, p.family, p.dir, p.proto, p.port, slot, got.key, got.act,
			      (int)got.rule_host, (int)got.rule_cg, want.key, want.act,
			      (int)want.rule_host, (int)want.rule_cg);
	}
	if (ret) {
		*ret = e;
		*ret_n = n;
	} else {
		free(e);
	}
}

START_TEST(test_compile_matches_precedence)
{
	/* Rule sets of growing size; each nests, overlaps and mixes protocols. */
	static const size_t sizes[] = { 0, 1, 2, 5, 20, 100, 600 };

	rnd_state = 0x5eed + (uint64_t)_i;
	for (size_t k = 0; k < CGFW_ARRAY_SIZE(sizes); k++) {
		struct rs rs;
		size_t n = 0;

		rs_init(&rs);
		while (n < sizes[k]) {
			struct cgfw_rule r;

			union cgfw_rs_elem *e = NULL;
			size_t ne;

			rnd_rule(&r);
			/* A rule refused for too many port ranges changes nothing: skip it. */
			if (cgfw_rs_apply(&rs, &r, NULL, true, 1) < 0)
				continue;
			/* Nor may more than CGFW_RS_MAX_PORTS protocol rules cover one prefix. */
			if (cgfw_rs_compile(&rs, NULL, 0, &e, &ne) < 0) {
				ck_assert_int_ge(cgfw_rs_apply(&rs, &r, NULL, false, 1), 0);
				continue;
			}
			free(e);
			n++;
		}
		check_against_naive(&rs, NULL, 0, 3000, NULL, NULL);
		cgfw_rs_free(&rs);
	}
}
END_TEST

START_TEST(test_compile_reuses_unchanged_blocks)
{
	union cgfw_rs_elem *a = NULL, *b = NULL;
	size_t na = 0, nb = 0;
	struct rs rs;
	struct cgfw_rule r;

	rnd_state = 77;
	rs_init(&rs);
	for (int i = 0; i < 300; i++) {
		rnd_rule(&r);
		cgfw_rs_apply(&rs, &r, NULL, true, 1);
	}
	check_against_naive(&rs, NULL, 0, 2000, &a, &na);
	/* A change to the cgroup's scope alone: the host scope's block is copied. */
	r = mkrule("203.0.113.64/26", 0, 0, 0, OUT, CGFW_DENY, CGFW_ORIGIN_MANUAL);
	ck_assert_int_ge(cgfw_rs_apply(&rs, &r, NULL, true, 1), 0);
	check_against_naive(&rs, a, na, 2000, &b, &nb);
	{
		const struct cgfw_rs_scope *ha = &a[CGFW_RS_SCOPE(0)].scope,
					   *hb = &b[CGFW_RS_SCOPE(0)].scope;

		ck_assert_uint_eq(ha->len, hb->len);
		ck_assert(!memcmp(&a[ha->img], &b[hb->img], ha->len * sizeof(*a)));
	}
	free(a);
	free(b);
	cgfw_rs_free(&rs);
}
END_TEST

START_TEST(test_compile_names_rules_directly)
{
	struct rs rs;
	union cgfw_rs_elem *e = NULL;
	size_t n = 0;

	rs_init(&rs);
	/* 1000 host addresses with the same rule: one decision record. */
	for (int i = 0; i < 1000; i++) {
		struct cgfw_rule r =
			mkrule("198.51.100.0/32", 0, 0, 0, OUT, CGFW_DENY, CGFW_ORIGIN_MANUAL);

		r.pfx.addr[2] = (uint8_t)(i / 256);
		r.pfx.addr[3] = (uint8_t)i;
		ck_assert_int_eq(cgfw_rs_apply(&rs, &r, NULL, true, 1), 1);
	}
	ck_assert_int_eq(cgfw_rs_compile(&rs, NULL, 0, &e, &n), 0);
	/* Each rule decides alone: its image value names it, no decision record. */
	ck_assert_uint_eq(e[CGFW_RS_SCOPE(1)].scope.ndec, 0);
	ck_assert_uint_eq(e[CGFW_RS_SCOPE(1)].scope.nrules, 1000);
	ck_assert_uint_eq(e[CGFW_RS_INFO].info.rules4, 1000);
	ck_assert_uint_eq(e[CGFW_RS_INFO].info.lens4, 1);
	ck_assert_uint_eq(e[CGFW_RS_SCOPE(0)].scope.flags & CGFW_RS_S_RULES, 0);
	free(e);
	cgfw_rs_free(&rs);
}
END_TEST

START_TEST(test_compile_refuses_too_many_covering_port_rules)
{
	struct rs rs;
	union cgfw_rs_elem *e = NULL;
	size_t n = 0;
	char pfx[32];

	rs_init(&rs);
	/* 5 nested prefixes with 8 port ranges each: 40 cover the innermost. */
	for (int len = 8; len <= 24; len += 4)
		for (int p = 0; p < CGFW_PORT_ENTRIES; p++) {
			struct cgfw_rule r;

			snprintf(pfx, sizeof(pfx), "203.0.113.0/%d", len);
			r = mkrule(pfx, CGFW_PROTO_TCP, (uint16_t)(p + 1), (uint16_t)(p + 1), OUT,
				   CGFW_DENY, CGFW_ORIGIN_MANUAL);
			ck_assert_int_eq(cgfw_rs_apply(&rs, &r, NULL, true, 1), 1);
		}
	ck_assert_int_eq(cgfw_rs_compile(&rs, NULL, 0, &e, &n), -EINVAL);
	ck_assert_errmsg_has("203.0.113.0/24");
	cgfw_rs_free(&rs);
}
END_TEST

Suite *rule_suite(void)
{
	Suite *s = suite_create("rule");
	TCase *ta = tcase_create("apply"), *tc = tcase_create("compile");

	tcase_add_test(ta, test_apply_merges_bits_of_one_key);
	tcase_add_test(ta, test_apply_ops_in_order);
	tcase_add_test(ta, test_apply_refuses_and_changes_nothing);
	tcase_add_test(ta, test_scope_drop_takes_rules);
	tcase_add_loop_test(tc, test_compile_matches_precedence, 0, 4);
	tcase_add_test(tc, test_compile_reuses_unchanged_blocks);
	tcase_add_test(tc, test_compile_names_rules_directly);
	tcase_add_test(tc, test_compile_refuses_too_many_covering_port_rules);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, ta);
	suite_add_tcase(s, tc);
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
