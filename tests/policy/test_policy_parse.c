// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests (Check) for the policy parser (lib/policy.c), the saved form
 * of applied policies (cgfw_policy_load_saved, cgfw_ifaces_{to,from}_json)
 * and the OCI hook's handling of its untrusted input (cgfw_oci_hook, in the
 * paths that stop before any BPF state is touched).
 *
 * Every error must be reported as FILE:LINE:COL: message with the position
 * of the offending node, and a file with several errors reports all of them.
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <dirent.h>
#include <ftw.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cgfw/ops.h>

#ifndef CGFW_POLICIES_DIR
#error "CGFW_POLICIES_DIR (the source tree's policies/) must be defined"
#endif

static struct cgfw_policy P;
static char basedir[128]; /* made by main(), removed after all tests, failed ones too */
static char tmpdir[256];  /* one per test, inside basedir */

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	remove(p);
	return 0;
}

static void setup(void)
{
	memset(&P, 0, sizeof(P));
	snprintf(tmpdir, sizeof(tmpdir), "%s/test-XXXXXX", basedir);
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown(void)
{
	cgfw_policy_free(&P);
	nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Parse text as file NAME into P (freed first). */
static int parse_as(const char *name, const char *text)
{
	cgfw_policy_free(&P);
	return cgfw_policy_parse_buf(name, text, strlen(text), &P);
}

static int parse(const char *text)
{
	return parse_as("t.yaml", text);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");

	ck_assert_msg(f != NULL, "cannot write %s", path);
	fputs(text, f);
	fclose(f);
}

static char *tmp_path(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *tmp_path(const char *fmt, ...)
{
	static char bufs[8][512];
	static int next;
	char rel[256], *b = bufs[next++ % 8];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	snprintf(b, sizeof(bufs[0]), "%s/%s", tmpdir, rel);
	return b;
}

static const char *all_errors(void)
{
	static char buf[8192];
	size_t n = 0;

	buf[0] = 0;
	for (size_t i = 0; i < P.nerrors && n < sizeof(buf) - 1; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "\n  %s", P.errors[i]);
	return buf;
}

/* An error at exactly FILE:LINE:COL whose message contains needle. */
static bool has_error_at(const char *file, int line, int col, const char *needle)
{
	char pre[600];

	snprintf(pre, sizeof(pre), "%s:%d:%d: ", file, line, col);
	for (size_t i = 0; i < P.nerrors; i++)
		if (!strncmp(P.errors[i], pre, strlen(pre)) && strstr(P.errors[i], needle))
			return true;
	return false;
}

#define ck_error_at(file, line, col, needle)                                                    \
	ck_assert_msg(has_error_at(file, line, col, needle),                                    \
		      "expected an error at %s:%d:%d containing '%s'; got:%s", file, line, col, \
		      needle, all_errors())

/* The text fails with exactly one error, at t.yaml:LINE:COL, containing needle. */
#define ck_one_error(text, line, col, needle)                                            \
	do {                                                                             \
		ck_assert_int_eq(parse(text), -EINVAL);                                  \
		ck_error_at("t.yaml", line, col, needle);                                \
		ck_assert_msg(P.nerrors == 1, "expected 1 error, got %zu:%s", P.nerrors, \
			      all_errors());                                             \
	} while (0)

#define ck_parses(text)                                                                 \
	ck_assert_msg(parse(text) == 0 && P.nerrors == 0, "expected no errors, got:%s", \
		      all_errors())

static const struct cgfw_pol_workload *wl(const char *name)
{
	const struct cgfw_pol_workload *w = cgfw_policy_workload(&P, name);

	ck_assert_msg(w != NULL, "no workload '%s'", name);
	return w;
}

static void ck_rule(const struct cgfw_rule *r, int action, const char *pfx, uint8_t dirs,
		    uint8_t proto, uint16_t lo, uint16_t hi)
{
	char buf[CGFW_ADDRSTRLEN];

	cgfw_format_prefix(&r->pfx, buf, sizeof(buf));
	ck_assert_str_eq(buf, pfx);
	ck_assert_int_eq(r->action, action);
	ck_assert_int_eq(r->dirs, dirs);
	ck_assert_int_eq(r->proto, proto);
	ck_assert_int_eq(r->port_lo, lo);
	ck_assert_int_eq(r->port_hi, hi);
	ck_assert_int_eq(r->origin, CGFW_ORIGIN_POLICY);
}

#define EG  CGFW_DIR_BIT(CGFW_DIR_EGRESS)
#define IN  CGFW_DIR_BIT(CGFW_DIR_INGRESS)
#define TCP CGFW_PROTO_TCP
#define UDP CGFW_PROTO_UDP

/* ---- the shipped examples ------------------------------------------------------ */

static int parse_example(const char *base)
{
	char path[1024];
	const char *files[1] = { path };

	snprintf(path, sizeof(path), "%s/%s", CGFW_POLICIES_DIR, base);
	cgfw_policy_free(&P);
	return cgfw_policy_parse(files, 1, &P);
}

START_TEST(examples_each_parse)
{
	DIR *d = opendir(CGFW_POLICIES_DIR);
	const char *files[64];
	char names[64][1024];
	struct dirent *e;
	size_t n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) && n < 64) {
		size_t l = strlen(e->d_name);

		if (l < 6 || strcmp(e->d_name + l - 5, ".yaml"))
			continue;
		snprintf(names[n], sizeof(names[n]), "%s/%s", CGFW_POLICIES_DIR, e->d_name);
		files[n] = names[n];
		ck_assert_msg(parse_example(e->d_name) == 0, "%s does not parse:%s", e->d_name,
			      all_errors());
		ck_assert_msg(P.nworkloads + P.nifaces > 0, "%s is empty", e->d_name);
		n++;
	}
	closedir(d);
	ck_assert_uint_ge(n, 5);
	/* All of them at once: no two examples claim the same name or cgroup. */
	cgfw_policy_free(&P);
	ck_assert_msg(cgfw_policy_parse(files, n, &P) == 0, "examples together:%s", all_errors());
	ck_assert_uint_eq(P.nfiles, n);
}
END_TEST

START_TEST(example_web_db_dns)
{
	const struct cgfw_pol_workload *w;

	ck_assert_int_eq(parse_example("web-db-dns.yaml"), 0);
	w = wl("web");
	ck_assert_str_eq(w->cgroup, "app.slice/web.service");
	ck_assert(w->def_set[CGFW_DIR_INGRESS] && w->def_set[CGFW_DIR_EGRESS]);
	ck_assert_int_eq(w->def[CGFW_DIR_INGRESS], CGFW_VERDICT_DENY);
	ck_assert_int_eq(w->def[CGFW_DIR_EGRESS], CGFW_VERDICT_DENY);
	ck_assert_uint_eq(w->nrules, 4);
	ck_rule(&w->rules[0].r, CGFW_ALLOW, "198.51.100.8", EG, TCP, 5432, 5432);
	ck_rule(&w->rules[1].r, CGFW_ALLOW, "192.0.2.53", EG, UDP, 53, 53);
	ck_rule(&w->rules[2].r, CGFW_ALLOW, "192.0.2.53", EG, TCP, 53, 53);
	ck_rule(&w->rules[3].r, CGFW_ALLOW, "192.0.2.0/24", IN, TCP, 8080, 8080);
	/* Each rule remembers where it was written. */
	ck_assert_int_eq(w->rules[0].line, 9);
	ck_assert_int_eq(w->rules[0].col, 9);
	ck_assert_ptr_nonnull(strstr(w->rules[0].file, "web-db-dns.yaml"));
}
END_TEST

START_TEST(example_blocklist_relative_file)
{
	const struct cgfw_pol_workload *w;
	char cwd[1024];

	/* The list file is found next to the policy, whatever the working directory. */
	ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
	ck_assert_int_eq(chdir("/"), 0);
	ck_assert_int_eq(parse_example("blocklist.yaml"), 0);
	ck_assert_int_eq(chdir(cwd), 0);
	w = wl("batch");
	ck_assert_int_eq(w->def[CGFW_DIR_EGRESS], CGFW_VERDICT_ALLOW);
	ck_assert_uint_eq(w->nrules, 5);
	ck_rule(&w->rules[0].r, CGFW_DENY, "203.0.113.0/25", EG, 0, 0, 0);
	ck_rule(&w->rules[1].r, CGFW_DENY, "203.0.113.200", EG, 0, 0, 0);
	ck_rule(&w->rules[2].r, CGFW_DENY, "198.51.100.66", EG, 0, 0, 0);
	ck_rule(&w->rules[3].r, CGFW_DENY, "2001:db8:dead::1", EG, 0, 0, 0);
	ck_rule(&w->rules[4].r, CGFW_DENY, "2001:db8:bad::/48", EG, 0, 0, 0);
}
END_TEST

START_TEST(example_hook_only_and_interfaces)
{
	const struct cgfw_pol_workload *w;
	const struct cgfw_pol_iface *f;

	ck_assert_int_eq(parse_example("container-tproxy.yaml"), 0);
	w = wl("proxied");
	ck_assert_ptr_null(w->cgroup); /* hook-only */
	ck_assert_uint_eq(w->nrules, 2);
	ck_rule(&w->rules[0].r, CGFW_ALLOW, "198.51.100.0/24", EG, TCP, 80, 443);
	ck_assert_uint_eq(P.nifaces, 1);
	f = &P.ifaces[0];
	ck_assert_str_eq(f->name, "cgfw0");
	ck_assert(f->stateful);
	ck_assert(f->ssh); /* default */
	ck_assert(!f->icmp);
	ck_assert_uint_eq(f->ntproxy, 1);
	ck_assert_int_eq(f->tproxy[0].proto, TCP);
	ck_assert_int_eq(f->tproxy[0].lo, 80);
	ck_assert_int_eq(f->tproxy[0].hi, 443);
	ck_assert_int_eq(f->tproxy[0].to_port, 15001);
	ck_assert_int_eq(f->tproxy[0].to_addr.family, 0);

	ck_assert_int_eq(parse_example("container-web.yaml"), 0);
	w = wl("web-container");
	ck_assert_ptr_null(w->cgroup);
	ck_assert_int_eq(w->def[CGFW_DIR_EGRESS], CGFW_VERDICT_DENY);
	ck_assert_uint_eq(w->nrules, 1);
	ck_rule(&w->rules[0].r, CGFW_ALLOW, "198.51.100.3", EG, TCP, 8080, 8080);

	ck_assert_int_eq(parse_example("loopback-only.yaml"), 0);
	w = wl("sealed");
	ck_assert_uint_eq(w->nrules, 2);
	ck_rule(&w->rules[0].r, CGFW_ALLOW, "127.0.0.0/8", CGFW_DIR_BOTH, 0, 0, 0);
	ck_rule(&w->rules[1].r, CGFW_ALLOW, "::1", CGFW_DIR_BOTH, 0, 0, 0);
}
END_TEST

/* ---- accepted forms -------------------------------------------------------------- */

START_TEST(forms_accepted)
{
	const struct cgfw_pol_workload *w;

	/* Empty files and comments are empty policies. */
	ck_parses("");
	ck_assert_uint_eq(P.nworkloads, 0);
	ck_parses("# nothing\n");
	ck_parses("---\n");
	/* Flow style, port alias, a workload named by its cgroup, split defaults. */
	ck_parses("workloads:\n"
		  "  - cgroup: a.slice/b.service\n"
		  "    default: {ingress: deny}\n"
		  "    egress: [{deny: 203.0.113.0/24, proto: udp, port: 53-54}]\n");
	w = wl("a.slice/b.service");
	ck_assert(w->def_set[CGFW_DIR_INGRESS] && !w->def_set[CGFW_DIR_EGRESS]);
	ck_rule(&w->rules[0].r, CGFW_DENY, "203.0.113.0/24", EG, UDP, 53, 54);
	/* Host bits are cleared; proto without ports is any port. */
	ck_parses("workloads:\n  - name: n\n    ingress:\n      - allow: 198.51.100.77/24\n"
		  "        proto: tcp\n");
	ck_rule(&wl("n")->rules[0].r, CGFW_ALLOW, "198.51.100.0/24", IN, TCP, 0, 0);
}
END_TEST

START_TEST(version_key)
{
	ck_parses("version: 1\n");
	ck_parses("version: '1'\n");
	ck_parses("workloads: []\n"); /* optional */
	ck_one_error("version: 2\n", 1, 10, "unsupported policy version");
	ck_one_error("version: 1.0\n", 1, 10, "unsupported policy version");
	ck_one_error("version: [1]\n", 1, 10, "unsupported policy version");
	ck_one_error("workloads: []\nversion: v1\n", 2, 10, "unsupported policy version");
}
END_TEST

/* ---- every error kind, at its position ------------------------------------------- */

START_TEST(errors_document)
{
	/* libyaml's own errors carry the position it stopped at. */
	ck_assert_int_eq(parse("workloads:\n  - name: a\n    cgroup: [x\n"), -EINVAL);
	ck_assert_uint_eq(P.nerrors, 1);
	ck_assert_msg(!strncmp(P.errors[0], "t.yaml:", 7) && strstr(P.errors[0], ": YAML: "),
		      "got:%s", all_errors());
	ck_one_error("version: 1\n\tworkloads: []\n", 2, 1, "YAML: ");
	ck_one_error("- a\n- b\n", 1, 1, "a policy file is a mapping");
	ck_one_error("version: 1\nworkload:\n  - name: x\n", 2, 1,
		     "unknown top-level key 'workload'");
	ck_one_error("workloads: {name: a}\n", 1, 12, "workloads is a list");
	ck_one_error("interfaces: eth0\n", 1, 13, "interfaces is a list");
}
END_TEST

START_TEST(errors_workload)
{
	ck_one_error("workloads:\n  - just-a-name\n", 2, 5, "a workload is a mapping");
	ck_one_error("workloads:\n  - name: 'bad name!'\n", 2, 11, "invalid workload name");
	ck_one_error("workloads:\n  - name: [a]\n", 2, 11, "name must be a single value");
	ck_one_error("workloads:\n  - name: a\n    cgroup: ../etc\n", 3, 13, "invalid cgroup path");
	ck_one_error("workloads:\n  - name: a\n    cgroup: a/../../etc\n", 3, 13,
		     "invalid cgroup path");
	ck_one_error("workloads:\n  - name: a\n    cgroup: /etc\n", 3, 13, "/etc");
	ck_one_error("workloads:\n  - name: a\n    default: maybe\n", 3, 14,
		     "default must be allow or deny, not 'maybe'");
	ck_one_error("workloads:\n  - name: a\n    default:\n      sideways: deny\n", 4, 7,
		     "default takes ingress and egress");
	ck_one_error("workloads:\n  - name: a\n    default:\n      egress: open\n", 4, 15,
		     "default must be allow or deny");
	ck_one_error("workloads:\n  - name: a\n    egres: []\n", 3, 5,
		     "unknown workload key 'egres'");
	ck_one_error("workloads:\n  - default: deny\n", 2, 5,
		     "a workload needs a name or a cgroup");
}
END_TEST

START_TEST(errors_duplicates_in_one_file)
{
	ck_one_error("workloads:\n  - name: a\n    cgroup: x\n  - name: a\n    cgroup: y\n", 4, 5,
		     "workload 'a' is already defined at t.yaml:2");
	ck_one_error("workloads:\n  - name: a\n    cgroup: x\n  - name: b\n    cgroup: x\n", 4, 5,
		     "cgroup 'x' already has workload 'a' at t.yaml:2");
	/* A workload named after its cgroup clashes with a workload of that name. */
	ck_one_error("workloads:\n  - name: x\n  - cgroup: x\n", 3, 5,
		     "workload 'x' is already defined");
	ck_one_error("interfaces:\n  - name: eth0\n  - name: eth0\n", 3, 5,
		     "interface 'eth0' is already defined at t.yaml:2");
}
END_TEST

START_TEST(errors_nameless_then_named)
{
	/*
	 * A workload with neither name nor cgroup, followed by a named one: the
	 * first is reported and the duplicate check on the second must not trip
	 * over the first's missing name.
	 */
	ck_one_error("workloads:\n  - default: deny\n  - name: b\n    cgroup: y\n", 2, 5,
		     "a workload needs a name or a cgroup");
	ck_one_error("interfaces:\n  - stateful: true\n  - name: eth0\n", 2, 5,
		     "an interface needs a name");
	/* An invalid name is one error, not also "needs a name". */
	ck_one_error("workloads:\n  - name: 'a b'\n  - name: c\n", 2, 11, "invalid workload name");
	ck_one_error("interfaces:\n  - name: 'a b'\n  - name: c\n", 2, 11,
		     "invalid interface name");
}
END_TEST

START_TEST(errors_rules)
{
	static const char *head = "workloads:\n  - name: a\n    egress:\n";
	char buf[512];

#define RULE(text) (snprintf(buf, sizeof(buf), "%s%s", head, text), buf)
	ck_one_error("workloads:\n  - name: a\n    egress: {allow: 198.51.100.1}\n", 3, 13,
		     "rules are a list");
	ck_one_error(RULE("      - 198.51.100.1\n"), 4, 9, "a rule is a mapping");
	ck_one_error(RULE("      - allow: 198.51.100.1\n        deny: 198.51.100.2\n"), 5, 9,
		     "exactly one of allow, deny");
	ck_one_error(RULE("      - allow: 198.51.100.1\n        port_range: 80\n"), 5, 9,
		     "unknown rule key 'port_range'");
	ck_one_error(RULE("      - proto: tcp\n"), 4, 9, "a rule needs allow, deny");
	ck_one_error(RULE("      - deny: 300.1.2.3\n"), 4, 15, "300.1.2.3");
	ck_one_error(RULE("      - deny: 198.51.100.0/33\n"), 4, 15, "prefix length");
	ck_one_error(RULE("      - deny: [198.51.100.1]\n"), 4, 15, "must be a single value");
	ck_one_error(RULE("      - deny: 198.51.100.1\n        proto: sctp\n"), 5, 16, "sctp");
	ck_one_error(RULE("      - deny: 198.51.100.1\n        proto: tcp\n        ports: 90-80\n"),
		     6, 16, "90-80");
	ck_one_error(RULE("      - deny: 198.51.100.1\n        proto: udp\n        ports: 0\n"), 6,
		     16, "invalid port");
	ck_one_error(RULE("      - deny: 198.51.100.1\n        proto: udp\n        ports: 65536\n"),
		     6, 16, "invalid port");
	ck_one_error(RULE("      - deny: 198.51.100.1\n        proto: udp\n        ports: http\n"),
		     6, 16, "invalid port");
#undef RULE
}
END_TEST

START_TEST(errors_ports_without_proto)
{
	/* ports need tcp or udp, whatever the order of the keys */
	ck_one_error("workloads:\n  - name: a\n    egress:\n      - allow: 198.51.100.1\n"
		     "        ports: 80\n",
		     5, 16, "ports need proto: tcp or proto: udp");
	ck_one_error("workloads:\n  - name: a\n    egress:\n      - ports: 80\n"
		     "        allow: 198.51.100.1\n",
		     4, 16, "ports need proto");
	ck_one_error("workloads:\n  - name: a\n    egress:\n      - allow: 198.51.100.1\n"
		     "        proto: icmp\n        ports: 8\n",
		     6, 16, "ports need proto");
	/* proto after ports is still seen */
	ck_parses("workloads:\n  - name: a\n    egress:\n      - ports: 80\n        proto: tcp\n"
		  "        allow: 198.51.100.1\n");
	ck_rule(&wl("a")->rules[0].r, CGFW_ALLOW, "198.51.100.1", EG, TCP, 80, 80);
}
END_TEST

START_TEST(errors_interfaces)
{
	ck_one_error("interfaces:\n  - eth0\n", 2, 5, "an interface is a mapping");
	ck_one_error("interfaces:\n  - stateful: true\n", 2, 5, "an interface needs a name");
	ck_one_error("interfaces:\n  - name: this-name-is-too-long\n", 2, 11,
		     "invalid interface name");
	ck_one_error("interfaces:\n  - name: a/b\n", 2, 11, "invalid interface name");
	ck_one_error("interfaces:\n  - name: eth0\n    stateful: maybe\n", 3, 15,
		     "stateful must be true or false");
	ck_one_error("interfaces:\n  - name: eth0\n    firewall: on\n", 3, 5,
		     "unknown interface key 'firewall'");
	ck_one_error("interfaces:\n  - name: eth0\n    tproxy: {dst: 198.51.100.1}\n", 3, 13,
		     "expected a list of rules");
	ck_one_error("interfaces:\n  - name: eth0\n    inbound:\n      - dst: 198.51.100.1\n"
		     "        src: 192.0.2.1\n        proto: tcp\n        ports: 22\n",
		     5, 9, "unknown key 'src'");
	ck_one_error("interfaces:\n  - name: eth0\n    inbound:\n      - dst: 198.51.100.1\n"
		     "        proto: icmp\n        ports: 1\n",
		     5, 16, "proto must be tcp or udp here");
	ck_one_error("interfaces:\n  - name: eth0\n    tproxy:\n      - dst: 198.51.100.0/24\n"
		     "        src: 2001:db8::/32\n        proto: tcp\n        ports: 80\n"
		     "        to: 15001\n",
		     4, 9, "src and dst must be the same address family");
}
END_TEST

START_TEST(errors_interface_rule_missing_keys)
{
	/* Every missing key is its own error, all at the rule. */
	ck_assert_int_eq(parse("interfaces:\n  - name: eth0\n    redirect:\n      - {}\n"),
			 -EINVAL);
	ck_error_at("t.yaml", 4, 9, "missing dst");
	ck_error_at("t.yaml", 4, 9, "missing proto");
	ck_error_at("t.yaml", 4, 9, "missing ports");
	ck_error_at("t.yaml", 4, 9, "missing to");
	ck_assert_uint_eq(P.nerrors, 4);
	/* inbound rules have no target */
	ck_parses("interfaces:\n  - name: eth0\n    inbound:\n"
		  "      - {dst: 192.0.2.1, proto: tcp, ports: 22}\n");
}
END_TEST

START_TEST(to_targets)
{
	static const char *bad[] = {
		"abc",
		"80-90",
		"0",
		"70000",
		"198.51.100.1:",
		":80",
		"198.51.100.1:80-81",
		"198.51.100.300:80",
		"[2001:db8::1]:",
		"[zz]:80",
		"[198.51.100.1:80",
		"host.example:80",
	};
	const struct cgfw_pol_port_rule *r;
	char buf[512];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(buf, sizeof(buf),
			 "interfaces:\n  - name: eth0\n    tproxy:\n      - dst: 198.51.100.0/24\n"
			 "        proto: tcp\n        ports: 80\n        to: '%s'\n",
			 bad[i]);
		ck_assert_msg(parse(buf) == -EINVAL, "to: '%s' was accepted", bad[i]);
		ck_assert_msg(P.nerrors == 1 && has_error_at("t.yaml", 7, 13, "invalid target"),
			      "to: '%s':%s", bad[i], all_errors());
		ck_assert_msg(strstr(P.errors[0], bad[i]), "the error does not quote '%s': %s",
			      bad[i], P.errors[0]);
	}
	ck_parses("interfaces:\n  - name: eth0\n    redirect:\n"
		  "      - {dst: 198.51.100.0/24, proto: tcp, ports: 80, to: 15001}\n"
		  "      - {dst: 198.51.100.0/24, proto: udp, ports: 53, to: '192.0.2.9:5353'}\n"
		  "      - {dst: 2001:db8::/64, proto: tcp, ports: 443,"
		  " to: '[2001:db8::9]:8443'}\n");
	ck_assert_uint_eq(P.ifaces[0].nredirect, 3);
	r = P.ifaces[0].redirect;
	ck_assert_int_eq(r[0].to_addr.family, 0);
	ck_assert_int_eq(r[0].to_port, 15001);
	ck_assert_int_eq(r[1].to_addr.family, CGFW_FAMILY_INET);
	ck_assert_int_eq(r[1].to_port, 5353);
	cgfw_format_addr(r[2].to_addr.family, r[2].to_addr.addr, buf, sizeof(buf));
	ck_assert_str_eq(buf, "2001:db8::9");
	ck_assert_int_eq(r[2].to_port, 8443);
}
END_TEST

START_TEST(many_errors_all_reported)
{
	static const char text[] = "version: 3\n"		     /* 1 */
				   "workloads:\n"		     /* 2 */
				   "  - name: web\n"		     /* 3 */
				   "    cgroup: ../web\n"	     /* 4 */
				   "    default: open\n"	     /* 5 */
				   "    egress:\n"		     /* 6 */
				   "      - allow: 198.51.100.999\n" /* 7 */
				   "      - deny: 203.0.113.0/24\n"  /* 8 */
				   "        ports: 80\n"	     /* 9 */
				   "  - name: db\n"		     /* 10 */
				   "    ingress:\n"		     /* 11 */
				   "      - allow: 192.0.2.0/24\n"   /* 12 */
				   "        proto: sctp\n"	     /* 13 */
				   "interfaces:\n"		     /* 14 */
				   "  - name: eth0\n"		     /* 15 */
				   "    ssh: perhaps\n"		     /* 16 */
				   "colour: blue\n";		     /* 17 */

	ck_assert_int_eq(parse(text), -EINVAL);
	ck_error_at("t.yaml", 1, 10, "version");
	ck_error_at("t.yaml", 4, 13, "invalid cgroup path");
	ck_error_at("t.yaml", 5, 14, "default must be allow or deny");
	ck_error_at("t.yaml", 7, 16, "198.51.100.999");
	ck_error_at("t.yaml", 9, 16, "ports need proto");
	ck_error_at("t.yaml", 13, 16, "sctp");
	ck_error_at("t.yaml", 16, 10, "ssh must be true or false");
	ck_error_at("t.yaml", 17, 1, "unknown top-level key 'colour'");
	ck_assert_msg(P.nerrors == 8, "expected 8 errors:%s", all_errors());
}
END_TEST

START_TEST(errors_are_one_line)
{
	/*
	 * A value quoted into an error message loses its newlines: one error,
	 * one FILE:LINE:COL line.
	 */
	ck_assert_int_eq(parse("workloads:\n  - name: \"a\\nb\"\n    default: \"x\\ny\"\n"),
			 -EINVAL);
	ck_assert_uint_eq(P.nerrors, 2);
	for (size_t i = 0; i < P.nerrors; i++)
		ck_assert_msg(!strchr(P.errors[i], '\n'), "error %zu is not one line: %s", i,
			      P.errors[i]);
}
END_TEST

/* ---- several files ----------------------------------------------------------------- */

START_TEST(duplicates_across_files)
{
	static const char a[] = "workloads:\n  - name: web\n    cgroup: x\n";
	static const char b[] = "# second\nworkloads:\n  - name: web\n    cgroup: y\n";
	const char *files[2];

	/* parse_buf accumulates into one policy, like several files on one command line */
	ck_assert_int_eq(cgfw_policy_parse_buf("a.yaml", a, strlen(a), &P), 0);
	ck_assert_int_eq(cgfw_policy_parse_buf("b.yaml", b, strlen(b), &P), -EINVAL);
	ck_error_at("b.yaml", 3, 5, "workload 'web' is already defined at a.yaml:2");
	ck_assert_uint_eq(P.nerrors, 1);

	/* The same through real files, with the cgroup clashing instead. */
	write_file(tmp_path("one.yaml"), "workloads:\n  - name: web\n    cgroup: app.slice\n");
	write_file(tmp_path("two.yaml"),
		   "interfaces: []\nworkloads:\n  - name: other\n    cgroup: app.slice\n");
	files[0] = tmp_path("one.yaml");
	files[1] = tmp_path("two.yaml");
	cgfw_policy_free(&P);
	ck_assert_int_eq(cgfw_policy_parse(files, 2, &P), -EINVAL);
	ck_assert_uint_eq(P.nerrors, 1);
	ck_assert_msg(has_error_at(files[1], 3, 5,
				   "cgroup 'app.slice' already has workload 'web'") &&
			      strstr(P.errors[0], files[0]),
		      "got:%s", all_errors());
	ck_assert_uint_eq(P.nfiles, 2);

	/* Errors of several files are all reported, each with its own file name. */
	write_file(tmp_path("one.yaml"), "workloads:\n  - name: '?'\n");
	write_file(tmp_path("two.yaml"), "interfaces:\n  - name: eth0\n    icmp: sometimes\n");
	cgfw_policy_free(&P);
	ck_assert_int_eq(cgfw_policy_parse(files, 2, &P), -EINVAL);
	ck_error_at(files[0], 2, 11, "invalid workload name");
	ck_error_at(files[1], 3, 11, "icmp must be true or false");
	ck_assert_uint_eq(P.nerrors, 2);
}
END_TEST

START_TEST(missing_file)
{
	const char *files[1] = { tmp_path("absent.yaml") };

	ck_assert_int_eq(cgfw_policy_parse(files, 1, &P), -EINVAL);
	ck_assert_uint_eq(P.nerrors, 1);
	ck_assert_msg(strstr(P.errors[0], files[0]) && strstr(P.errors[0], "cannot open"), "got:%s",
		      all_errors());
}
END_TEST

/* ---- list files (allow_file / deny_file) -------------------------------------------- */

START_TEST(list_files_relative_to_policy)
{
	const char *files[1];
	const struct cgfw_pol_workload *w;
	char cwd[1024], text[1024];

	ck_assert_int_eq(mkdir(tmp_path("etc"), 0755), 0);
	ck_assert_int_eq(mkdir(tmp_path("etc/lists"), 0755), 0);
	write_file(tmp_path("etc/lists/bad.txt"), "# bad hosts\n203.0.113.5\n\n2001:db8::5\n");
	write_file(tmp_path("etc/good.txt"), "198.51.100.0/24 # the lab\n");
	write_file(tmp_path("etc/broken.txt"), "203.0.113.1\n203.0.113.2\nnot-an-address\n");
	snprintf(text, sizeof(text),
		 "workloads:\n  - name: a\n    egress:\n"
		 "      - deny_file: lists/bad.txt\n"
		 "        proto: tcp\n        ports: 443\n"
		 "      - allow_file: %s\n",
		 tmp_path("etc/good.txt"));
	write_file(tmp_path("etc/policy.yaml"), text);
	files[0] = tmp_path("etc/policy.yaml");

	/* Relative names are taken from the policy file's directory, not the cwd. */
	ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
	ck_assert_int_eq(chdir("/"), 0);
	ck_assert_msg(cgfw_policy_parse(files, 1, &P) == 0, "got:%s", all_errors());
	ck_assert_int_eq(chdir(cwd), 0);
	w = wl("a");
	ck_assert_uint_eq(w->nrules, 3);
	/* the rule's other keys apply to every line of the list */
	ck_rule(&w->rules[0].r, CGFW_DENY, "203.0.113.5", EG, TCP, 443, 443);
	ck_rule(&w->rules[1].r, CGFW_DENY, "2001:db8::5", EG, TCP, 443, 443);
	ck_rule(&w->rules[2].r, CGFW_ALLOW, "198.51.100.0/24", EG, 0, 0, 0);
	/* each rule from a list points at the rule that named the list */
	ck_assert_int_eq(w->rules[1].line, 4);

	/* The same for parse_buf: relative to the directory of the name given. */
	cgfw_policy_free(&P);
	ck_assert_int_eq(cgfw_policy_parse_buf(files[0], text, strlen(text), &P), 0);
	ck_assert_uint_eq(wl("a")->nrules, 3);

	/* A missing list names the resolved path; a bad line names FILE:LINE of the list. */
	ck_assert_int_eq(parse_as(files[0], "workloads:\n  - name: a\n    egress:\n"
					    "      - deny_file: lists/none.txt\n"),
			 -EINVAL);
	ck_error_at(files[0], 4, 20, tmp_path("etc/lists/none.txt"));
	ck_assert_uint_eq(P.nerrors, 1);
	ck_assert_int_eq(parse_as(files[0], "workloads:\n  - name: a\n    ingress:\n"
					    "      - allow_file: broken.txt\n"),
			 -EINVAL);
	ck_error_at(files[0], 4, 21, "broken.txt:3");
	/* The list's content is never echoed (it may be a file that is no list). */
	ck_assert_msg(!strstr(P.errors[0], "not-an-address"), "got:%s", all_errors());
	ck_assert_msg(strstr(P.errors[0], "not an address or prefix"), "got:%s", all_errors());
	ck_assert_uint_eq(P.nerrors, 1);
	/* a list file is a single value */
	ck_assert_int_eq(parse_as(files[0], "workloads:\n  - name: a\n    egress:\n"
					    "      - deny_file: [a.txt, b.txt]\n"),
			 -EINVAL);
	ck_error_at(files[0], 4, 20, "single value");
}
END_TEST

/* ---- saved form ------------------------------------------------------------------------ */

START_TEST(saved_policy_loads)
{
	const struct cgfw_pol_workload *w;
	char *old = getenv("CGFW_STATE_DIR") ? strdup(getenv("CGFW_STATE_DIR")) : NULL;
	struct cgfw_policy s = {};

	setenv("CGFW_STATE_DIR", tmpdir, 1);
	/* Nothing applied yet: an empty policy, not an error. */
	ck_assert_int_eq(cgfw_policy_load_saved(&s), 0);
	ck_assert_uint_eq(s.nworkloads, 0);
	cgfw_policy_free(&s);

	/* The form `cgfw policy apply` writes (see policy_apply.c). */
	write_file(tmp_path("policy.json"),
		   "{\"version\":1,\"applied_at\":1,\"files\":[\"/x.yaml\"],\"workloads\":["
		   "{\"name\":\"web\",\"cgroup\":\"app.slice\",\"default\":{\"egress\":\"deny\"},"
		   "\"rules\":[[\"allow\",\"198.51.100.2\",\"egress\",\"tcp\",\"8080-8080\"],"
		   "[\"deny\",\"2001:db8::/32\",\"both\",\"\",\"\"],"
		   "[\"allow\",\"192.0.2.0/24\",\"ingress\",\"udp\",\"53-54\"]],"
		   "\"source\":\"/x.yaml:3\"},"
		   "{\"name\":\"hook\",\"cgroup\":null,\"default\":{},\"rules\":[],"
		   "\"source\":\"/x.yaml:9\"}],"
		   "\"interfaces\":[{\"name\":\"eth0\",\"stateful\":true,\"icmp\":false,"
		   "\"ssh\":true,\"tproxy\":[{\"dst\":\"198.51.100.0/24\",\"proto\":\"tcp\","
		   "\"ports\":\"80-443\",\"to\":\"15001\"}],\"inbound\":[],\"redirect\":[]}]}\n");
	ck_assert_msg(cgfw_policy_load_saved(&s) == 0, "%s", cgfw_errmsg());
	ck_assert_uint_eq(s.nworkloads, 2);
	w = cgfw_policy_workload(&s, "web");
	ck_assert_ptr_nonnull(w);
	ck_assert_str_eq(w->cgroup, "app.slice");
	ck_assert(w->def_set[CGFW_DIR_EGRESS] && !w->def_set[CGFW_DIR_INGRESS]);
	ck_assert_int_eq(w->def[CGFW_DIR_EGRESS], CGFW_VERDICT_DENY);
	ck_assert_uint_eq(w->nrules, 3);
	ck_rule(&w->rules[0].r, CGFW_ALLOW, "198.51.100.2", EG, TCP, 8080, 8080);
	ck_rule(&w->rules[1].r, CGFW_DENY, "2001:db8::/32", CGFW_DIR_BOTH, 0, 0, 0);
	ck_rule(&w->rules[2].r, CGFW_ALLOW, "192.0.2.0/24", IN, UDP, 53, 54);
	w = cgfw_policy_workload(&s, "hook");
	ck_assert_ptr_nonnull(w);
	ck_assert_ptr_null(w->cgroup);
	ck_assert_uint_eq(s.nifaces, 1);
	ck_assert_uint_eq(s.ifaces[0].ntproxy, 1);
	ck_assert_int_eq(s.ifaces[0].tproxy[0].to_port, 15001);
	cgfw_policy_free(&s);

	/* A damaged record is an error naming the file, not a half-loaded policy. */
	write_file(tmp_path("policy.json"),
		   "{\"workloads\":[{\"name\":\"web\",\"rules\":[[\"allow\",\"300.0.0.1\","
		   "\"egress\",\"\",\"\"]]}]}\n");
	ck_assert_int_eq(cgfw_policy_load_saved(&s), -EINVAL);
	ck_assert_msg(strstr(cgfw_errmsg(), "policy.json") && strstr(cgfw_errmsg(), "damaged"),
		      "%s", cgfw_errmsg());
	cgfw_policy_free(&s);
	write_file(tmp_path("policy.json"), "{\"workloads\": [\n");
	ck_assert_int_eq(cgfw_policy_load_saved(&s), -EINVAL);
	ck_assert_msg(strstr(cgfw_errmsg(), "policy.json"), "%s", cgfw_errmsg());
	cgfw_policy_free(&s);

	if (old)
		setenv("CGFW_STATE_DIR", old, 1);
	else
		unsetenv("CGFW_STATE_DIR");
	free(old);
}
END_TEST

START_TEST(saved_interfaces_roundtrip)
{
	struct cgfw_policy back = {};
	json_t *a, *b;

	ck_parses("interfaces:\n"
		  "  - name: eth0\n    stateful: true\n    icmp: true\n    ssh: false\n"
		  "    tproxy:\n"
		  "      - {dst: 198.51.100.0/24, src: 192.0.2.0/25, proto: tcp, ports: 80-443,"
		  " to: 15001}\n"
		  "    inbound:\n      - {dst: 192.0.2.1, proto: udp, ports: 53}\n"
		  "    redirect:\n"
		  "      - {dst: 2001:db8::/64, proto: tcp, ports: 443, to: '[2001:db8::9]:8443'}\n"
		  "      - {dst: 203.0.113.0/24, proto: tcp, ports: 25, to: '192.0.2.25:2525'}\n"
		  "  - name: eth1\n");
	a = cgfw_ifaces_to_json(&P);
	ck_assert_int_eq(json_array_size(a), 2);
	ck_assert_msg(cgfw_ifaces_from_json(a, &back) == 0, "%s", cgfw_errmsg());
	b = cgfw_ifaces_to_json(&back);
	ck_assert_msg(json_equal(a, b), "saved interfaces changed on reading back");
	ck_assert_uint_eq(back.nifaces, 2);
	ck_assert(back.ifaces[0].stateful && back.ifaces[0].icmp && !back.ifaces[0].ssh);
	ck_assert(back.ifaces[0].tproxy[0].has_src);
	ck_assert_int_eq(back.ifaces[0].redirect[1].to_port, 2525);
	ck_assert(back.ifaces[1].ssh && !back.ifaces[1].stateful);
	json_decref(a);
	json_decref(b);
	cgfw_policy_free(&back);
}
END_TEST

/* ---- the OCI hook's untrusted input (no BPF state is reached) ------------------------- */

START_TEST(oci_hook_input)
{
	char *old = getenv("CGFW_STATE_DIR") ? strdup(getenv("CGFW_STATE_DIR")) : NULL;
	char *oldroot = getenv("CGFW_BPFFS_ROOT") ? strdup(getenv("CGFW_BPFFS_ROOT")) : NULL;
	struct stat sb;

#define HOOK(stage, s) cgfw_oci_hook(stage, s, strlen(s))
	setenv("CGFW_STATE_DIR", tmpdir, 1);
	/* not bpffs: if anything tried to open the state it would fail, never create */
	setenv("CGFW_BPFFS_ROOT", tmp_path("no-bpffs"), 1);
	write_file(tmp_path("policy.json"),
		   "{\"workloads\":[{\"name\":\"web\",\"cgroup\":null,\"default\":{},"
		   "\"rules\":[]}]}\n");

	ck_assert_int_eq(HOOK(NULL, "not json"), -EINVAL);
	ck_assert_msg(strstr(cgfw_errmsg(), "not JSON"), "%s", cgfw_errmsg());
	ck_assert_int_eq(HOOK(NULL, "{\"status\":\"creating\"}"), -EINVAL); /* no id */
	ck_assert_int_eq(HOOK(NULL, "{\"id\":\"../../etc\",\"status\":\"creating\"}"), -EINVAL);
	ck_assert_msg(strstr(cgfw_errmsg(), "invalid container id"), "%s", cgfw_errmsg());
	ck_assert_int_eq(HOOK(NULL, "{\"id\":7}"), -EINVAL);
	ck_assert_int_eq(HOOK(NULL, "{\"id\":\"a\",\"id\":\"b\"}"), -EINVAL); /* duplicate key */
	ck_assert_int_eq(HOOK("bogus", "{\"id\":\"c1\"}"), -EINVAL);
	ck_assert_msg(strstr(cgfw_errmsg(), "bogus"), "%s", cgfw_errmsg());

	/* Without the annotation the hook does nothing, at either stage. */
	ck_assert_int_eq(HOOK("createRuntime", "{\"id\":\"c1\",\"pid\":1,\"annotations\":{}}"), 0);
	ck_assert_int_eq(HOOK(NULL, "{\"id\":\"c1\",\"status\":\"creating\",\"pid\":1}"), 0);
	/* poststop of a container it never saw: nothing to undo */
	ck_assert_int_eq(HOOK("poststop", "{\"id\":\"c1\"}"), 0);
	ck_assert_int_eq(HOOK(NULL, "{\"id\":\"c1\",\"status\":\"stopped\","
				    "\"annotations\":{\"io.cgfw.policy\":\"web\"}}"),
			 0);

	/* An unknown policy name fails, naming the container and the name. */
	ck_assert_int_eq(HOOK("createRuntime", "{\"id\":\"c1\",\"pid\":1,"
					       "\"annotations\":{\"io.cgfw.policy\":\"nope\"}}"),
			 -EINVAL);
	ck_assert_msg(strstr(cgfw_errmsg(), "c1") && strstr(cgfw_errmsg(), "unknown policy 'nope'"),
		      "%s", cgfw_errmsg());
	ck_assert_ptr_null(strchr(cgfw_errmsg(), '\n'));
	/* Names outside the workload-name alphabet never reach a lookup. */
	ck_assert_int_eq(HOOK("createRuntime", "{\"id\":\"c1\",\"pid\":1,"
					       "\"annotations\":{\"io.cgfw.policy\":\"../web\"}}"),
			 -EINVAL);
	ck_assert_int_eq(HOOK("createRuntime", "{\"id\":\"c1\",\"pid\":1,"
					       "\"annotations\":{\"io.cgfw.policy\":7}}"),
			 0); /* not a string: not cgfw's annotation (runtimes pass strings) */
	ck_assert_int_eq(HOOK("createRuntime", "{\"id\":\"c1\",\"pid\":-5,"
					       "\"annotations\":{\"io.cgfw.policy\":\"web\"}}"),
			 -EINVAL);
	/* A known name but no cgroup to be found: fails, naming the container. */
	ck_assert_int_eq(HOOK("createRuntime", "{\"id\":\"c2\",\"bundle\":\"/nonexistent\","
					       "\"annotations\":{\"io.cgfw.policy\":\"web\"}}"),
			 -ENOENT);
	ck_assert_msg(strstr(cgfw_errmsg(), "container c2"), "%s", cgfw_errmsg());
	ck_assert_int_eq(HOOK("createRuntime", "{\"id\":\"c2\",\"bundle\":\"/a/../etc\","
					       "\"annotations\":{\"io.cgfw.policy\":\"web\"}}"),
			 -EINVAL);
	ck_assert_int_ne(stat(tmp_path("no-bpffs"), &sb), 0);
#undef HOOK
	if (old)
		setenv("CGFW_STATE_DIR", old, 1);
	else
		unsetenv("CGFW_STATE_DIR");
	if (oldroot)
		setenv("CGFW_BPFFS_ROOT", oldroot, 1);
	else
		unsetenv("CGFW_BPFFS_ROOT");
	free(old);
	free(oldroot);
}
END_TEST

static Suite *policy_suite(void)
{
	Suite *s = suite_create("policy");
	TCase *tc;

	tc = tcase_create("examples");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, examples_each_parse);
	tcase_add_test(tc, example_web_db_dns);
	tcase_add_test(tc, example_blocklist_relative_file);
	tcase_add_test(tc, example_hook_only_and_interfaces);
	suite_add_tcase(s, tc);

	tc = tcase_create("parser");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, forms_accepted);
	tcase_add_test(tc, version_key);
	tcase_add_test(tc, errors_document);
	tcase_add_test(tc, errors_workload);
	tcase_add_test(tc, errors_duplicates_in_one_file);
	tcase_add_test(tc, errors_nameless_then_named);
	tcase_add_test(tc, errors_rules);
	tcase_add_test(tc, errors_ports_without_proto);
	tcase_add_test(tc, errors_interfaces);
	tcase_add_test(tc, errors_interface_rule_missing_keys);
	tcase_add_test(tc, to_targets);
	tcase_add_test(tc, many_errors_all_reported);
	tcase_add_test(tc, errors_are_one_line);
	tcase_add_test(tc, duplicates_across_files);
	tcase_add_test(tc, missing_file);
	tcase_add_test(tc, list_files_relative_to_policy);
	suite_add_tcase(s, tc);

	tc = tcase_create("saved");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, saved_policy_loads);
	tcase_add_test(tc, saved_interfaces_roundtrip);
	tcase_add_test(tc, oci_hook_input);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr;
	int failed;

	snprintf(basedir, sizeof(basedir), "/tmp/cgfw-unit-policy-XXXXXX");
	if (!mkdtemp(basedir)) {
		perror("mkdtemp");
		return EXIT_FAILURE;
	}
	sr = srunner_create(policy_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	nftw(basedir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
