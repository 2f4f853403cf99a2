// SPDX-License-Identifier: GPL-2.0-only
/*
 * tc_bench: what the TC ingress program costs for a packet of a new flow,
 * with 1 and with 100,000 tproxy rules, net of an empty tc program, measured
 * with BPF_PROG_RUN; and how long `cgfw tproxy add --from-file` takes to load
 * the 100,000 rules (routes included).
 *
 *   tc_bench [--smoke] [--rules N] [--repeat R] [--cgfw PATH]
 *   (TC_BENCH_TRACE=1 prints every round's ns/packet on stderr)
 *
 * Targets (issue 3): <= 250 ns net per new-flow packet at 100k rules, load
 * <= 2 s. A benchmark reports; it fails (exit 1) only when something does
 * not work: a wrong verdict, a failed load.
 *
 * The rule set (documentation ranges only): every address of 192.0.2.0/24,
 * 198.51.100.0/24 and 203.0.113.0/24 with its own single ports (the port
 * index), a port range on each of the three /24s (a second prefix length),
 * and the rest as distinct IPv6 /64 prefixes of 2001:db8::/32 with a port
 * range each. Runs in a network namespace of its own (the local routes go
 * there) under a pin root of its own; nothing is sent anywhere.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include <cgfw/ops.h>
#include <cgfw/tc.h>
#include "pkt.h"

#ifndef CGFW_BIN
#define CGFW_BIN "cgfw"
#endif

#define LIMIT_NS   250.0
#define LIMIT_LOAD 2.0

/* The listeners: an unusual port, so no other namespace's socket shares its hash bucket. */
#define TO4 "127.0.0.1:47193"
#define TO6 "[::1]:47193"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A TCP SYN (a new flow), without payload. */
static int syn(struct pkt *k, int family, const char *src, const char *dst, uint16_t dport)
{
	const struct pkt_spec s = { .family = family,
				    .src = src,
				    .dst = dst,
				    .proto = IPPROTO_TCP,
				    .sport = 40000,
				    .dport = dport,
				    .tcp_flags = 0x02,
				    .payload = "" };

	return pkt_build(&s, k);
}

struct probe {
	const char *name;
	int family;
	const char *src, *dst;
	uint16_t dport;
	int verdict; /* TC_ACT_SHOT: found its listener (PROG_RUN cannot assign); -1: passed */
};

static const struct probe probes[] = {
	{ "v4 /32 single port (port index), listener found", 4, "192.0.2.1", "198.51.100.77", 10000,
	  2 },
	{ "v4 /32 miss, /24 range hit, listener found", 4, "192.0.2.1", "198.51.100.77", 500, 2 },
	{ "v4 no rule at any length", 4, "192.0.2.1", "198.51.100.77", 5000, -1 },
	{ "v6 /64 range, listener found", 6, "2001:db8:ffff::1", "2001:db8:1:42::1", 8042, 2 },
	{ "v6 no rule", 6, "2001:db8:ffff::1", "2001:db8:ffff:42::1", 8042, -1 },
};

#define NPROBES (sizeof(probes) / sizeof(probes[0]))

/* Median over @rounds of the mean ns per run. */
static int measure(int fd, const uint8_t *pkt, size_t len, unsigned repeat, int rounds,
		   double *ret_ns, int *ret_verdict)
{
	double v[16];

	for (int r = 0; r < rounds; r++) {
		LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt, .data_size_in = (__u32)len,
			    .repeat = repeat);

		if (bpf_prog_test_run_opts(fd, &opts) < 0)
			return -errno;
		v[r] = (double)opts.duration;
		*ret_verdict = (int)opts.retval;
		if (getenv("TC_BENCH_TRACE"))
			fprintf(stderr, " %.0f", v[r]);
	}
	for (int i = 0; i < rounds; i++)
		for (int j = i + 1; j < rounds; j++)
			if (v[j] < v[i]) {
				double t = v[i];

				v[i] = v[j];
				v[j] = t;
			}
	*ret_ns = v[rounds / 2];
	return 0;
}

/* Every probe through @fd, its ns per packet in @ns; 1 if a verdict is wrong. */
static int measure_probes(int fd, const struct pkt *pkt, unsigned repeat, int rounds, double *ns,
			  const char *with)
{
	int failed = 0;

	for (size_t i = 0; i < NPROBES; i++) {
		int v;

		measure(fd, pkt[i].b, pkt[i].len, repeat, rounds, &ns[i], &v);
		if (v != probes[i].verdict) {
			fprintf(stderr, "tc_bench: %s: verdict %d with %s, expected %d\n",
				probes[i].name, v, with, probes[i].verdict);
			failed = 1;
		}
	}
	return failed;
}

static int empty_prog(void)
{
	struct bpf_insn insn[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = -1 },
		{ .code = BPF_JMP | BPF_EXIT },
	};

	return bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "tc_bench_empty", "GPL", insn, 2, NULL);
}

static int write_rules(const char *path, long n, long *ret_n)
{
	FILE *f = fopen(path, "w");
	const char *nets[3] = { "192.0.2", "198.51.100", "203.0.113" };
	long written = 0, per_host, v6;

	if (!f)
		return -errno;
	/* ~60 % single ports on the 768 hosts, 6 ranges, the rest IPv6 /64s. */
	per_host = (n * 6 / 10) / 768;
	if (per_host < 1)
		per_host = 1;
	for (int net = 0; net < 3; net++)
		for (int h = 0; h < 256; h++)
			for (long p = 0; p < per_host && written < n; p++, written++)
				fprintf(f, "--dst %s.%d --proto tcp --ports %ld --to %s\n",
					nets[net], h, 10000 + p, TO4);
	for (int net = 0; net < 3 && written < n; net++, written++)
		fprintf(f, "--dst %s.0/24 --proto tcp --ports 1-1023 --to %s\n", nets[net], TO4);
	for (int net = 0; net < 3 && written < n; net++, written++)
		fprintf(f, "--dst %s.0/24 --proto udp --ports 1-1023 --to %s\n", nets[net], TO4);
	v6 = n - written;
	for (long i = 0; i < v6; i++, written++)
		fprintf(f, "--dst 2001:db8:%lx:%lx::/64 --proto tcp --ports 8000-8999 --to %s\n",
			(i >> 16) + 1, i & 0xffff, TO6);
	if (fclose(f) != 0)
		return -errno;
	*ret_n = written;
	return 0;
}

/*
 * Rules over @nlens destination prefix lengths (spread over /8../32), each
 * with a port range, plus the probes' own rules; no generated prefix covers
 * the probes' addresses, loopback or the documentation ranges the probes
 * use. They are rule keys and local routes in this process's own network
 * namespace: nothing is sent to them.
 */
static int write_set(const char *path, int nlens, long n, long *ret_n)
{
	FILE *f = fopen(path, "w");
	long written = 0;
	uint64_t x = 0x9e3779b97f4a7c15ull;

	if (!f)
		return -errno;
	fprintf(f, "--dst 198.51.100.77 --proto tcp --ports 10000 --to %s\n", TO4);
	fprintf(f, "--dst 198.51.100.0/24 --proto tcp --ports 1-1023 --to %s\n", TO4);
	fprintf(f, "--dst 2001:db8:1:42::/64 --proto tcp --ports 8000-8999 --to %s\n", TO6);
	written = 3;
	for (long i = 0; written < n; i++) {
		int len = nlens == 1 ? 32 : 32 - (int)((i % nlens) * 24 / (nlens - 1));
		uint32_t a, lo, w;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		a = (uint32_t)x & (len ? 0xffffffffu << (32 - len) : 0);
		/* Clear of 0/8, loopback, 192.0.2.0/24, 198.51.100.0/24 and multicast on. */
		if ((a >> 24) == 0 || (a >> 24) == 127 || (a >> 24) >= 224 ||
		    ((a >> 24) == 192 && len <= 24) || ((a >> 24) == 198 && len <= 24) ||
		    (a >> 8) == 0xc00002 || (a >> 8) == 0xc63364)
			continue;
		lo = 1024 + (uint32_t)(x >> 40) % 60000;
		w = (uint32_t)(x >> 20) % 64;
		fprintf(f, "--dst %u.%u.%u.%u/%d --proto tcp --ports %u-%u --to %s\n", a >> 24,
			(a >> 16) & 255, (a >> 8) & 255, a & 255, len, lo, lo + w, TO4);
		written++;
	}
	if (fclose(f) != 0)
		return -errno;
	*ret_n = written;
	return 0;
}

static int run_cgfw(const char *cgfw, char *const argv[], double *ret_s)
{
	double t0 = now_s();
	pid_t pid = fork();
	int st;

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		if (null >= 0)
			dup2(null, STDOUT_FILENO);
		execv(cgfw, argv);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) < 0)
		return -errno;
	*ret_s = now_s() - t0;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -EIO;
}

/* cgfw tproxy add --dst DST --proto tcp --ports PORTS --to TO */
static int add_one(const char *cgfw, const char *dst, const char *ports, const char *to)
{
	char *a[] = { (char *)cgfw, "tproxy",  "add",	      "--dst", (char *)dst, "--proto",
		      "tcp",	    "--ports", (char *)ports, "--to",  (char *)to,  NULL };
	double s;

	return run_cgfw(cgfw, a, &s);
}

int main(int argc, char **argv)
{
	const char *cgfw = CGFW_BIN;
	long nrules = 100000, written = 0;
	unsigned repeat = 1000000;
	int rounds = 5, smoke = 0, failed = 0, efd = -1, err;
	char root[128], file[128], with[32];
	struct cgfw_tc *tc = NULL;
	struct cgfw_tc_prog *prog = NULL;
	struct cgfw_tc_stats st;
	double empty_ns = 0, one_ns[NPROBES] = {}, many_ns[NPROBES] = {}, load_s = 0;
	struct pkt pkt[NPROBES];

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--smoke")) {
			smoke = 1;
		} else if (!strcmp(argv[i], "--rules") && i + 1 < argc) {
			nrules = atol(argv[++i]);
		} else if (!strcmp(argv[i], "--repeat") && i + 1 < argc) {
			repeat = (unsigned)atol(argv[++i]);
		} else if (!strcmp(argv[i], "--cgfw") && i + 1 < argc) {
			cgfw = argv[++i];
		} else {
			fprintf(stderr, "usage: tc_bench [--smoke] [--rules N] [--repeat R] "
					"[--cgfw PATH]\n");
			return 2;
		}
	}
	if (smoke) {
		nrules = nrules == 100000 ? 2000 : nrules;
		repeat = repeat == 1000000 ? 20000 : repeat;
		rounds = 9;
	}
	if (nrules < 800 || nrules > 10000000) {
		fprintf(stderr, "tc_bench: --rules must be 800..10000000\n");
		return 2;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "tc_bench: skipped: needs root\n");
		return 77;
	}
	if (pkt_own_netns() < 0) {
		fprintf(stderr, "tc_bench: no network namespace of its own\n");
		return 1;
	}
	/* Named as the test harness names a run's, so its reaper finds a killed run's. */
	snprintf(root, sizeof(root), "/sys/fs/bpf/cgfw-test-%d-bench-tc_bench", getpid());
	setenv("CGFW_BPFFS_ROOT", root, 1);
	snprintf(file, sizeof(file), "/tmp/cgfw-test-%d-bench-tc_bench.rules", getpid());

	if (pkt_listener(AF_INET, SOCK_STREAM, "127.0.0.1", 47193) < 0 ||
	    pkt_listener(AF_INET6, SOCK_STREAM, "::1", 47193) < 0)
		return 1;
	for (size_t i = 0; i < NPROBES; i++) {
		if (syn(&pkt[i], probes[i].family, probes[i].src, probes[i].dst, probes[i].dport) <
		    0)
			return 1;
	}
	efd = empty_prog();
	if (efd < 0) {
		perror("tc_bench: empty program");
		return 1;
	}

	/* 1. One rule per probe family: the baseline. */
	if (add_one(cgfw, "198.51.100.77", "10000", TO4) ||
	    add_one(cgfw, "198.51.100.0/24", "1-1023", TO4) ||
	    add_one(cgfw, "2001:db8:1:42::/64", "8000-8999", TO6)) {
		fprintf(stderr, "tc_bench: cgfw tproxy add failed (%s)\n", cgfw);
		failed = 1;
		goto out;
	}
	err = cgfw_tc_open(CGFW_OPEN_LOCK, &tc);
	if (!err)
		err = cgfw_tc_prog_load(tc, 0, 1, 14, &prog);
	cgfw_tc_close(tc);
	tc = NULL;
	if (err) {
		fprintf(stderr, "tc_bench: %s\n", cgfw_errmsg());
		failed = 1;
		goto out;
	}
	if (measure(efd, pkt[0].b, pkt[0].len, repeat, rounds, &empty_ns, &(int){ 0 }) < 0) {
		perror("tc_bench: BPF_PROG_RUN");
		failed = 1;
		goto out;
	}
	failed |= measure_probes(prog->ingress_fd, pkt, repeat, rounds, one_ns, "1 rule");

	/* 2. The full rule set through the CLI, timed. */
	err = write_rules(file, nrules, &written);
	if (err) {
		fprintf(stderr, "tc_bench: %s: %s\n", file, strerror(-err));
		failed = 1;
		goto out;
	}
	{
		char *a[] = { (char *)cgfw, "tproxy", "add", "--from-file", file, NULL };
		char *a6[] = { (char *)cgfw, "tproxy", "flush", NULL };
		double s;

		/* The baseline rules go; the file brings all of its own. */
		if (run_cgfw(cgfw, a6, &s) || run_cgfw(cgfw, a, &load_s)) {
			fprintf(stderr, "tc_bench: cgfw tproxy add --from-file %s failed\n", file);
			failed = 1;
			goto out;
		}
	}
	snprintf(with, sizeof(with), "%ld rules", written);
	/* A rule set that outgrew its map has a new one: programs loaded before read the old. */
	cgfw_tc_prog_free(prog);
	prog = NULL;
	err = cgfw_tc_open(CGFW_OPEN_LOCK, &tc);
	if (!err)
		err = cgfw_tc_prog_load(tc, 0, 1, 14, &prog);
	cgfw_tc_close(tc);
	tc = NULL;
	if (err) {
		fprintf(stderr, "tc_bench: %s\n", cgfw_errmsg());
		failed = 1;
		goto out;
	}
	failed |= measure_probes(prog->ingress_fd, pkt, repeat, rounds, many_ns, with);
	err = cgfw_tc_open(CGFW_OPEN_LOCK | CGFW_OPEN_SHARED, &tc);
	if (!err)
		err = cgfw_tc_stats_get(tc, &st);
	cgfw_tc_close(tc);
	tc = NULL;
	if (err) {
		fprintf(stderr, "tc_bench: %s\n", cgfw_errmsg());
		failed = 1;
		goto out;
	}

	printf("# tc_bench%s: BPF_PROG_RUN, %u runs x %d rounds (median), kernel packet "
	       "path not included\n",
	       smoke ? " (smoke)" : "", repeat, rounds);
	printf("empty tc program: %.1f ns/packet\n", empty_ns);
	printf("%-52s %10s %14s %12s\n", "new-flow packet (TCP SYN)", "1 rule", "rules loaded",
	       "net of empty");
	for (size_t i = 0; i < NPROBES; i++)
		printf("%-52s %7.1f ns %11.1f ns %9.1f ns%s\n", probes[i].name, one_ns[i],
		       many_ns[i], many_ns[i] - empty_ns,
		       !smoke && many_ns[i] - empty_ns > LIMIT_NS ? "  OVER 250 ns" : "");
	printf("rules: %zu tproxy (%ld from the file) in a table of %u/%u entries\n",
	       st.rules[CGFW_TC_TPROXY], written, st.table_entries, st.table_capacity);
	printf("load: cgfw tproxy add --from-file (%ld rules, with local routes): %.2f s%s\n",
	       written, load_s, !smoke && load_s > LIMIT_LOAD ? "  OVER 2 s" : "");
	printf("JSON {\"rules\":%ld,\"load_s\":%.3f,\"empty_ns\":%.1f", written, load_s, empty_ns);
	for (size_t i = 0; i < NPROBES; i++)
		printf(",\"p%zu_1_ns\":%.1f,\"p%zu_n_ns\":%.1f", i, one_ns[i], i, many_ns[i]);
	printf("}\n");

	/* 3. Rule sets over 1, 8 and 25 prefix lengths with port ranges, at 10k and 100k. */
	printf("\n%-28s %8s %7s %10s %10s %10s %10s %10s   (ns net of empty)\n", "rule set",
	       "rules", "load s", "v4 /32", "v4 /24", "v4 miss", "v6 /64", "v6 miss");
	{
		static const int lens[] = { 1, 8, 25 };
		const long sizes[2] = { smoke ? 1000 : 10000, smoke ? 3000 : 100000 };

		for (size_t z = 0; z < 2 && !failed; z++)
			for (size_t l = 0; l < 3 && !failed; l++) {
				char *fl[] = { (char *)cgfw, "tproxy", "flush", NULL };
				char *ad[] = { (char *)cgfw,  "tproxy", "add",
					       "--from-file", file,	NULL };
				double ns[NPROBES], s0, ls;
				long w = 0;
				char name[48];

				if (write_set(file, lens[l], sizes[z], &w) < 0 ||
				    run_cgfw(cgfw, fl, &s0) || run_cgfw(cgfw, ad, &ls)) {
					fprintf(stderr,
						"tc_bench: loading the %d-length set failed\n",
						lens[l]);
					failed = 1;
					break;
				}
				cgfw_tc_prog_free(prog);
				prog = NULL;
				err = cgfw_tc_open(CGFW_OPEN_LOCK, &tc);
				if (!err)
					err = cgfw_tc_prog_load(tc, 0, 1, 14, &prog);
				cgfw_tc_close(tc);
				tc = NULL;
				if (err) {
					fprintf(stderr, "tc_bench: %s\n", cgfw_errmsg());
					failed = 1;
					break;
				}
				snprintf(name, sizeof(name), "%d length%s, port ranges", lens[l],
					 lens[l] == 1 ? "" : "s");
				failed |= measure_probes(prog->ingress_fd, pkt, repeat, rounds, ns,
							 name);
				printf("%-28s %8ld %7.2f %7.1f ns %7.1f ns %7.1f ns %7.1f ns %7.1f ns\n",
				       name, w, ls, ns[0] - empty_ns, ns[1] - empty_ns,
				       ns[2] - empty_ns, ns[3] - empty_ns, ns[4] - empty_ns);
				printf("JSON-SET {\"lengths\":%d,\"rules\":%ld,\"load_s\":%.3f",
				       lens[l], w, ls);
				for (size_t i = 0; i < NPROBES; i++)
					printf(",\"p%zu_net_ns\":%.1f", i, ns[i] - empty_ns);
				printf("}\n");
			}
	}
out:
	cgfw_tc_prog_free(prog);
	if (efd >= 0)
		close(efd);
	unlink(file);
	if (cgfw_reset() < 0)
		fprintf(stderr, "tc_bench: cleanup: %s\n", cgfw_errmsg());
	return failed;
}
