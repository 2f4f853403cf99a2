// SPDX-License-Identifier: GPL-2.0-only
/* JSON objects of the listings (lib/json.c, jansson): keys and values. */
#include <jansson.h>
#include <stdlib.h>

#include "unit.h"

/* The object has exactly these keys (a NULL-terminated list). */
static void expect_keys(json_t *o, const char *const *keys)
{
	size_t n = 0;

	ck_assert_msg(json_is_object(o), "not a JSON object");
	for (; keys[n]; n++)
		ck_assert_msg(json_object_get(o, keys[n]) != NULL, "key '%s' missing", keys[n]);
	ck_assert_msg(json_object_size(o) == n, "%zu keys, want %zu", json_object_size(o), n);
}

static void expect_str(json_t *o, const char *key, const char *want)
{
	json_t *v = json_object_get(o, key);

	ck_assert_msg(json_is_string(v), "'%s' is not a string", key);
	ck_assert_msg(!strcmp(json_string_value(v), want), "'%s' is '%s', want '%s'", key,
		      json_string_value(v), want);
}

static void expect_int(json_t *o, const char *key, json_int_t want)
{
	json_t *v = json_object_get(o, key);

	ck_assert_msg(json_is_integer(v), "'%s' is not an integer", key);
	ck_assert_msg(json_integer_value(v) == want, "'%s' is %lld, want %lld", key,
		      (long long)json_integer_value(v), (long long)want);
}

static void expect_null(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	ck_assert_msg(v && json_is_null(v), "'%s' is not null", key);
}

static struct cgfw_rule mkrule(const char *pfx, uint8_t proto, uint16_t lo, uint16_t hi,
			       uint8_t dirs, uint8_t action, uint8_t origin)
{
	struct cgfw_rule r = {
		.scope = 7,
		.proto = proto,
		.port_lo = lo,
		.port_hi = hi,
		.dirs = dirs,
		.action = action,
		.origin = origin,
	};

	ck_assert_int_eq(cgfw_parse_prefix(pfx, &r.pfx), 0);
	return r;
}

static const char *const rule_keys[] = { "cgroup", "action", "prefix", "family", "direction",
					 "proto",  "ports",  "origin", NULL };

START_TEST(test_rule_json_plain)
{
	struct cgfw_rule r = mkrule("198.51.100.0/24", CGFW_PROTO_ANY, 0, 0, CGFW_DIR_BOTH,
				    CGFW_DENY, CGFW_ORIGIN_MANUAL);
	json_t *o = cgfw_rule_json(&r, "app.slice");

	expect_keys(o, rule_keys);
	expect_str(o, "cgroup", "app.slice");
	expect_str(o, "action", "deny");
	expect_str(o, "prefix", "198.51.100.0/24");
	expect_str(o, "family", "ipv4");
	expect_str(o, "direction", "both");
	expect_str(o, "proto", "any");
	expect_null(o, "ports");
	expect_str(o, "origin", "manual");
	json_decref(o);
}
END_TEST

START_TEST(test_rule_json_host_scope_and_ipv6)
{
	struct cgfw_rule r = mkrule("2001:db8::1", CGFW_PROTO_TCP, 443, 443,
				    CGFW_DIR_BIT(CGFW_DIR_EGRESS), CGFW_ALLOW, CGFW_ORIGIN_POLICY);
	json_t *o = cgfw_rule_json(&r, NULL); /* a host-wide rule has no cgroup */

	expect_keys(o, rule_keys);
	expect_null(o, "cgroup");
	expect_str(o, "action", "allow");
	expect_str(o, "prefix", "2001:db8::1"); /* full length: no /128 */
	expect_str(o, "family", "ipv6");
	expect_str(o, "direction", "egress");
	expect_str(o, "proto", "tcp");
	expect_int(o, "ports", 443); /* a single port is a number */
	expect_str(o, "origin", "policy");
	json_decref(o);
}
END_TEST

START_TEST(test_rule_json_ports)
{
	struct cgfw_rule r = mkrule("192.0.2.0/24", CGFW_PROTO_UDP, 5000, 6000,
				    CGFW_DIR_BIT(CGFW_DIR_INGRESS), CGFW_ALLOW, CGFW_ORIGIN_MANUAL);
	json_t *o = cgfw_rule_json(&r, "db");

	expect_str(o, "direction", "ingress");
	expect_str(o, "proto", "udp");
	expect_str(o, "ports", "5000-6000"); /* a range is a string */
	json_decref(o);

	/* Every port (as listed from the map): null, not "0-65535". */
	r.port_lo = 0;
	r.port_hi = 65535;
	o = cgfw_rule_json(&r, "db");
	expect_null(o, "ports");
	json_decref(o);

	/* ICMP never has ports. */
	r.proto = CGFW_PROTO_ICMP;
	r.port_lo = r.port_hi = 0;
	o = cgfw_rule_json(&r, "db");
	expect_str(o, "proto", "icmp");
	expect_null(o, "ports");
	json_decref(o);
}
END_TEST

static const char *const seen_keys[] = { "cgroup",     "cgroup_id", "addr",  "family",
					 "direction",  "packets",   "bytes", "dropped",
					 "first_seen", "last_seen", NULL };

START_TEST(test_seen_json)
{
	struct cgfw_seen s = {
		.cgid = 4242,
		.family = CGFW_FAMILY_INET,
		.dir = CGFW_DIR_EGRESS,
		.addr = { 198, 51, 100, 7 },
		.packets = 10,
		.bytes = 1500,
		.dropped = 3,
		.first_ns = 1700000000123456789ull, /* 2023-11-14T22:13:20.123456789Z */
		.last_ns = 1700000060999999999ull,
	};
	json_t *o = cgfw_seen_json(&s, "app.slice/web.service");

	expect_keys(o, seen_keys);
	expect_str(o, "cgroup", "app.slice/web.service");
	expect_int(o, "cgroup_id", 4242);
	expect_str(o, "addr", "198.51.100.7");
	expect_str(o, "family", "ipv4");
	expect_str(o, "direction", "egress");
	expect_int(o, "packets", 10);
	expect_int(o, "bytes", 1500);
	expect_int(o, "dropped", 3);
	/* ISO-8601 in UTC, milliseconds truncated, never rounded into the next second. */
	expect_str(o, "first_seen", "2023-11-14T22:13:20.123Z");
	expect_str(o, "last_seen", "2023-11-14T22:14:20.999Z");
	json_decref(o);
}
END_TEST

START_TEST(test_seen_json_ipv6_ingress_large)
{
	struct cgfw_seen s = {
		.cgid = 1ull << 40,
		.family = CGFW_FAMILY_INET6,
		.dir = CGFW_DIR_INGRESS,
		.addr = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x99 },
		.packets = 1ull << 40,
		.bytes = 1ull << 50,
		.dropped = 0,
		.first_ns = 946684800000000000ull, /* 2000-01-01T00:00:00Z */
		.last_ns = 4102444799000000000ull, /* 2099-12-31T23:59:59Z */
	};
	json_t *o = cgfw_seen_json(&s, "ctr");

	expect_keys(o, seen_keys);
	expect_str(o, "addr", "2001:db8::99");
	expect_str(o, "family", "ipv6");
	expect_str(o, "direction", "ingress");
	expect_int(o, "cgroup_id", (json_int_t)(1ull << 40));
	expect_int(o, "packets", (json_int_t)(1ull << 40));
	expect_int(o, "bytes", (json_int_t)(1ull << 50));
	expect_int(o, "dropped", 0);
	expect_str(o, "first_seen", "2000-01-01T00:00:00.000Z");
	expect_str(o, "last_seen", "2099-12-31T23:59:59.000Z");
	json_decref(o);
}
END_TEST

START_TEST(test_seen_json_never)
{
	struct cgfw_seen s = { .family = CGFW_FAMILY_INET, .addr = { 192, 0, 2, 1 } };
	json_t *o = cgfw_seen_json(&s, "x");

	/* No timestamp is null, not 1970. */
	expect_null(o, "first_seen");
	expect_null(o, "last_seen");
	json_decref(o);
}
END_TEST

static const char *const att_keys[] = { "cgroup",
					"cgroup_id",
					"default_ingress",
					"default_egress",
					"ingress_attached",
					"egress_attached",
					"attached_at",
					"mode",
					NULL };

START_TEST(test_attachment_json)
{
	struct cgfw_attachment a = {
		.id = 9001,
		.path = "app.slice/web.service",
		.def = { [CGFW_DIR_INGRESS] = CGFW_VERDICT_DENY,
			 [CGFW_DIR_EGRESS] = CGFW_VERDICT_ALLOW },
		.attached_ns = 1700000000500000000ull,
		.ingress = true,
		.egress = false,
	};
	json_t *o = cgfw_attachment_json(&a);

	expect_keys(o, att_keys);
	expect_str(o, "cgroup", "app.slice/web.service");
	expect_int(o, "cgroup_id", 9001);
	expect_str(o, "default_ingress", "deny");
	expect_str(o, "default_egress", "allow");
	ck_assert(json_is_true(json_object_get(o, "ingress_attached")));
	ck_assert(json_is_false(json_object_get(o, "egress_attached")));
	expect_str(o, "attached_at", "2023-11-14T22:13:20.500Z");
	expect_str(o, "mode", "enforce");
	json_decref(o);
	a.audit = true;
	o = cgfw_attachment_json(&a);
	expect_str(o, "mode", "audit");
	json_decref(o);
}
END_TEST

START_TEST(test_attachment_json_root)
{
	struct cgfw_attachment a = {
		.id = 1,
		.path = "",
		.def = { CGFW_VERDICT_ALLOW, CGFW_VERDICT_DENY },
		.ingress = true,
		.egress = true,
	};
	json_t *o = cgfw_attachment_json(&a);
	char *text;

	expect_str(o, "cgroup", "/");
	expect_str(o, "default_ingress", "allow");
	expect_str(o, "default_egress", "deny");
	ck_assert(json_is_true(json_object_get(o, "egress_attached")));
	expect_null(o, "attached_at");
	/* It serialises and parses back to the same object. */
	text = json_dumps(o, JSON_COMPACT);
	ck_assert_ptr_nonnull(text);
	{
		json_error_t e;
		json_t *back = json_loads(text, 0, &e);

		ck_assert_msg(back != NULL, "%s", e.text);
		ck_assert(json_equal(o, back));
		json_decref(back);
	}
	free(text);
	json_decref(o);
}
END_TEST

Suite *json_suite(void)
{
	Suite *s = suite_create("json");
	TCase *tc = tcase_create("objects");

	tcase_add_test(tc, test_rule_json_plain);
	tcase_add_test(tc, test_rule_json_host_scope_and_ipv6);
	tcase_add_test(tc, test_rule_json_ports);
	tcase_add_test(tc, test_seen_json);
	tcase_add_test(tc, test_seen_json_ipv6_ingress_large);
	tcase_add_test(tc, test_seen_json_never);
	tcase_add_test(tc, test_attachment_json);
	tcase_add_test(tc, test_attachment_json_root);
	suite_add_tcase(s, tc);
	return s;
}
