// SPDX-License-Identifier: GPL-2.0-only
/*
 * `cgfw explain` against the real programs: random rule sets over the
 * host-wide scope, a parent cgroup and its child (both attached, so the
 * child's packets meet both programs), random defaults and audit modes, and
 * for each set random packets; each packet goes through the explain
 * instances (cgfw_explainer_run) and then through the real program
 * instances with BPF_PROG_RUN. Their verdicts must agree for every program,
 * and the real run must count the packet on the rule explain named. The
 * real runs record flows, so later packets include replies, which both must
 * see alike. At least 10,000 packets (CGFW_EXPLAIN_PACKETS to change it).
 *
 * Needs root: exits 77 otherwise. Its state, cgroups and pin root are named
 * like the shell harness's (cgfw-test-PID-prog-explain), so its reaper
 * removes what a killed run left; nothing is sent on any network.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <cgfw/cgroup.h>
#include <cgfw/meta_map.h>
#include <cgfw/ops.h>
#include "cgfw_cgroup.skel.h"
#include "pkt.h"

static uint64_t rnd_state = 0x1e5c0de;

static uint32_t rnd(void)
{
	rnd_state = rnd_state * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(rnd_state >> 33);
}

static int failures;

#define FAIL(...)                                      \
	do {                                           \
		fprintf(stderr, "FAIL: " __VA_ARGS__); \
		fputc('\n', stderr);                   \
		if (++failures > 20)                   \
			goto out;                      \
	} while (0)

/* An address of the documentation ranges near the rules (text, and as a prefix). */
static void rnd_addr(int fam, char *buf, size_t n)
{
	static const char *const v4[] = { "192.0.2.", "198.51.100.", "203.0.113." };

	if (fam == 4)
		snprintf(buf, n, "%s%u", v4[rnd() % 3], rnd() % 4 ? rnd() % 16 : rnd() % 256);
	else
		snprintf(buf, n, "2001:db8:%x::%x", rnd() % 3, rnd() % 16);
}

static void rnd_rule(struct cgfw_rule *r, const uint64_t scopes[3])
{
	static const uint8_t protos[] = { 0, 0, CGFW_PROTO_TCP, CGFW_PROTO_UDP, CGFW_PROTO_ICMP };
	int fam = rnd() % 3 ? 4 : 6;
	char a[64], p[80];

	memset(r, 0, sizeof(*r));
	r->scope = scopes[rnd() % 3];
	rnd_addr(fam, a, sizeof(a));
	snprintf(p, sizeof(p), "%s/%u", a, fam == 4 ? 20 + rnd() % 13 : 40 + rnd() % 89);
	if (cgfw_parse_prefix(p, &r->pfx) < 0)
		abort();
	r->proto = protos[rnd() % sizeof(protos)];
	if (r->proto == CGFW_PROTO_TCP || r->proto == CGFW_PROTO_UDP) {
		r->port_lo = (uint16_t)(1 + rnd() % 100);
		r->port_hi = (uint16_t)(r->port_lo + rnd() % 10);
	}
	r->dirs = (uint8_t)(1 + rnd() % 3);
	r->action = rnd() % 2 ? CGFW_DENY : CGFW_ALLOW;
	r->origin = (uint8_t)(rnd() % CGFW_ORIGIN_COUNT);
}

/* The real program's verdict for a frame (1 pass, 0 drop). */
static int run_real(const struct cgfw_cgroup_prog *p, int dir, const struct pkt *f)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f->b, .data_size_in = (__u32)f->len,
		    .repeat = 1);

	if (bpf_prog_test_run_opts(dir == CGFW_DIR_INGRESS ? p->ingress_fd : p->egress_fd, &o))
		return -1;
	return (int)o.retval;
}

/* The counter of the rule explain named for step @s (its [k] rule), from the listing. */
static int64_t rule_count(struct cgfw_state *st, const struct cgfw_rule *want)
{
	struct cgfw_rule *rules = NULL;
	struct cgfw_rule_stats *stats = NULL;
	size_t n = 0;
	int64_t c = -1;

	if (cgfw_rules_list_stats(st, &rules, &stats, &n) < 0)
		return -1;
	for (size_t i = 0; i < n && c < 0; i++) {
		const struct cgfw_rule *r = &rules[i];

		if (r->scope == want->scope && r->pfx.family == want->pfx.family &&
		    r->pfx.len == want->pfx.len && !memcmp(r->pfx.addr, want->pfx.addr, 16) &&
		    r->proto == want->proto && r->port_lo == want->port_lo &&
		    r->port_hi == want->port_hi)
			c = (int64_t)stats[i].packets;
	}
	free(rules);
	free(stats);
	return c;
}

int main(void)
{
	char root[128], mnt[PATH_MAX], dir[PATH_MAX + 64], sub[PATH_MAX + 80];
	const char *env = getenv("CGFW_EXPLAIN_PACKETS");
	long want = env ? atol(env) : 10000, done = 0, checked = 0;
	struct cgfw_state *st = NULL;
	struct cgfw_cgroup parent = {}, child = {};
	struct cgfw_cgroup_prog *prog[2] = {};
	int sets = 0;
	long reasons[CGFW_R_COUNT] = {};

	if (geteuid() != 0) {
		printf("SKIP: cgfw_explain_test needs root\n");
		return 77;
	}
	snprintf(root, sizeof(root), "/sys/fs/bpf/cgfw-test-%d-prog-explain", (int)getpid());
	setenv("CGFW_BPFFS_ROOT", root, 1);
	if (cgfw_cgroup2_mount(NULL, mnt, sizeof(mnt)) < 0) {
		printf("SKIP: no cgroup2 mount\n");
		return 77;
	}
	snprintf(dir, sizeof(dir), "%s/cgfw-test-%d-prog-explain", mnt, (int)getpid());
	snprintf(sub, sizeof(sub), "%s/child", dir);
	if ((mkdir(dir, 0755) && errno != EEXIST) || (mkdir(sub, 0755) && errno != EEXIST)) {
		fprintf(stderr, "cannot make cgroups under %s: %s\n", mnt, strerror(errno));
		return 1;
	}
	if (cgfw_cgroup_resolve(NULL, dir, true, &parent) < 0 ||
	    cgfw_cgroup_resolve(NULL, sub, true, &child) < 0 ||
	    cgfw_state_open(CGFW_OPEN_CREATE | CGFW_OPEN_LOCK, &st) < 0 ||
	    cgfw_attach(st, &parent) < 0 || cgfw_attach(st, &child) < 0 ||
	    cgfw_cgroup_prog_load(st, child.id, &prog[0]) < 0 ||
	    cgfw_cgroup_prog_load(st, parent.id, &prog[1]) < 0) {
		fprintf(stderr, "setup: %s\n", cgfw_errmsg());
		failures++;
		goto out;
	}
	while (done < want) {
		const uint64_t scopes[3] = { CGFW_SCOPE_HOST, parent.id, child.id };
		struct cgfw_explainer *ex = NULL;
		struct cgfw_change *c = NULL;
		struct cgfw_rule *old = NULL;
		size_t nold = 0, nrules = 1 + rnd() % 60;

		/* A new random set: the old rules go, new ones come, one change. */
		if (cgfw_rules_list(st, &old, &nold) < 0 || cgfw_change_begin(st, &c) < 0 ||
		    cgfw_change_rules(c, old, NULL, false, nold) < 0) {
			FAIL("clearing the rules: %s", cgfw_errmsg());
		}
		free(old);
		for (size_t i = 0; i < nrules; i++) {
			struct cgfw_rule r;

			rnd_rule(&r, scopes);
			cgfw_change_rules(c, &r, NULL, true, 1); /* too many ports: skipped */
		}
		for (int k = 1; k < 3; k++) {
			cgfw_change_default(c, scopes[k], CGFW_DIR_BIT(CGFW_DIR_INGRESS),
					    rnd() % 2 ? CGFW_VERDICT_DENY : CGFW_VERDICT_ALLOW);
			cgfw_change_default(c, scopes[k], CGFW_DIR_BIT(CGFW_DIR_EGRESS),
					    rnd() % 2 ? CGFW_VERDICT_DENY : CGFW_VERDICT_ALLOW);
			cgfw_change_audit(c, scopes[k], rnd() % 4 == 0);
		}
		if (cgfw_change_commit(c) < 0) {
			/* A set with too many covering port rules is refused whole: another. */
			cgfw_change_free(c);
			continue;
		}
		cgfw_change_free(c);
		sets++;
		if (cgfw_explainer_open(st, &child, &ex) < 0)
			FAIL("explainer: %s", cgfw_errmsg());
		for (int i = 0; i < 1000 && done < want; i++, done++) {
			static const uint8_t protos[] = { CGFW_PROTO_TCP, CGFW_PROTO_UDP,
							  CGFW_PROTO_ICMP };
			struct cgfw_explain_pkt x = { .dir = (int)(rnd() % 2) };
			struct cgfw_explain_step *steps = NULL;
			struct pkt_spec spec = {};
			struct pkt frame;
			struct cgfw_prefix ra, la;
			char rtext[64], ltext[64];
			size_t n = 0;
			int fam = rnd() % 3 ? 4 : 6;
			int64_t before = -1;

			x.proto = protos[rnd() % 3];
			rnd_addr(fam, rtext, sizeof(rtext));
			snprintf(ltext, sizeof(ltext), fam == 4 ? "192.0.2.%u" : "2001:db8::%x",
				 1 + rnd() % 3);
			cgfw_parse_addr(rtext, &ra);
			cgfw_parse_addr(ltext, &la);
			x.family = ra.family;
			memcpy(x.remote, ra.addr, 16);
			memcpy(x.local, la.addr, 16);
			x.rport = (uint16_t)(1 + rnd() % 120);
			x.lport = (uint16_t)(rnd() % 2 ? 40000 : 1 + rnd() % 120);
			if (cgfw_explainer_run(ex, &x, &steps, &n) < 0 || n != 2) {
				FAIL("explain: %s (%zu steps)", cgfw_errmsg(), n);
				free(steps);
				continue;
			}
			/* The same packet, built by the tests' own builder. */
			spec.family = fam;
			spec.src = x.dir == CGFW_DIR_EGRESS ? ltext : rtext;
			spec.dst = x.dir == CGFW_DIR_EGRESS ? rtext : ltext;
			spec.proto = x.proto == CGFW_PROTO_ICMP ?
					     (fam == 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6) :
					     x.proto;
			spec.sport = x.dir == CGFW_DIR_EGRESS ? x.lport : x.rport;
			spec.dport = x.dir == CGFW_DIR_EGRESS ? x.rport : x.lport;
			spec.tcp_flags = 0x02;
			spec.icmp_type = fam == 4 ? 8 : 128;
			spec.payload = "";
			if (pkt_build(&spec, &frame) < 0)
				FAIL("cannot build %s -> %s", spec.src, spec.dst);
			/* Every 97th packet: the real run counts on the rule explain named. */
			if (i % 97 == 0 && steps[0].has_rule[1]) {
				before = rule_count(st, &steps[0].rule[1]);
				checked++;
			}
			for (int k = 0; k < 2; k++) {
				int got = run_real(prog[k], x.dir, &frame);

				if (got != (steps[k].verdict == CGFW_VERDICT_ALLOW))
					FAIL("set %d packet %ld: %s %s %s:%u -> %s:%u: %s says %s (%s), "
					     "the program returned %d",
					     sets, done, x.dir ? "egress" : "ingress",
					     cgfw_proto_name(x.proto), spec.src, spec.sport,
					     spec.dst, spec.dport, k ? "parent" : "child",
					     cgfw_verdict_name(steps[k].verdict),
					     cgfw_reason_name(steps[k].reason), got);
			}
			if (before >= 0 && rule_count(st, &steps[0].rule[1]) != before + 1)
				FAIL("set %d packet %ld: the rule explain named did not count it "
				     "(%lld before, %lld after)",
				     sets, done, (long long)before,
				     (long long)rule_count(st, &steps[0].rule[1]));
			reasons[steps[0].reason % CGFW_R_COUNT]++;
			free(steps);
		}
		cgfw_explainer_free(ex);
	}
	printf("%ld packets over %d rule sets: explain and the programs agree%s; %ld counter "
	       "checks; the child's reasons:",
	       done, sets, failures ? " NOT" : "", checked);
	for (int r = 0; r < CGFW_R_COUNT; r++)
		printf(" %s %ld", cgfw_reason_name(r), reasons[r]);
	printf("\n");
	/* A run where one reason decides everything would prove little. */
	for (int r = 0; r <= CGFW_R_DROP_DEFAULT; r++)
		if (done >= 10000 && !reasons[r] && r != CGFW_R_UNPARSED) {
			fprintf(stderr, "FAIL: no packet had reason %s\n", cgfw_reason_name(r));
			failures++;
		}
out:
	cgfw_cgroup_prog_free(prog[0]);
	cgfw_cgroup_prog_free(prog[1]);
	cgfw_state_close(st);
	cgfw_reset();
	rmdir(sub);
	rmdir(dir);
	return failures ? 1 : 0;
}
