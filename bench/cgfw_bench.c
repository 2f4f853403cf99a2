// SPDX-License-Identifier: GPL-2.0-only
/*
 * cgfw_bench: what cgfw's cgroup datapath costs per packet, and what its maps
 * cost in kernel memory, as the rule set grows from 1 to 1,000,000 rules.
 *
 *   cgfw_bench lookup [--counts 1,10000,...] [--rounds R] [--repeat N]
 *                     [--insert K] [--json FILE] [--dat FILE]
 *   cgfw_bench genrules cgfw|iptables|ip6tables|nft N FILE
 *
 * lookup loads cgfw's egress program against a private pin root
 * ($CGFW_BPFFS_ROOT, made unique if unset) with a fake cgroup id, fills the
 * rule maps through libcgfw, and times it with BPF_PROG_RUN (the kernel's own
 * per-run duration) on a packet that matches a deny rule (HIT, must return 0)
 * and one that matches nothing (MISS, must return 1). Beside it, in the same
 * interleaved rounds: an empty cgroup_skb program and a one-lookup LPM-trie
 * program holding the same rules. A wrong verdict aborts the run: a benchmark
 * of a program that does not see its packet measures nothing.
 *
 * genrules writes the same rule sets for the rule-loading comparison in
 * run.sh: an address list for `cgfw block --from-file`, iptables-restore and
 * ip6tables-restore input, or an `nft -f` script. It prints the number of
 * rules written.
 *
 * The rule set of size N is one fixed sequence cut at N: the two HIT
 * addresses, six prefixes (three per family, at lengths no host rule uses),
 * then host rules, three IPv4 /32 for each IPv6 /128. Host addresses come
 * from a counter through a bijective mix (10.0.0.0/8 and 2001:db8:1::/64), so
 * they are distinct and scattered like a real blocklist; the MISS and the
 * fresh seen-IP addresses use counter values no set reaches. They are map
 * keys only: nothing here sends a packet.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <arpa/inet.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <cgfw/cgroup.h>
#include <cgfw/ops.h>

#include "bench_maps.h"
#include "pkt.h"
#include "cgfw_cgroup.skel.h"
#include "bench_empty.skel.h"
#include "bench_lpm.skel.h"

#define BENCH_CGID 0xcafe0001ull /* fake cgroup id baked into the program */

#ifndef ENOTSUPP
#define ENOTSUPP 524 /* the kernel's internal "not supported", seen by user space */
#endif

/* ---- the rule sequence ------------------------------------------------ */

#define NPREFIX	 6
#define SEQ_HEAD (2 + NPREFIX) /* HIT4, HIT6, the prefixes */

static const char *const prefixes[NPREFIX] = {
	"192.0.2.0/24",		"198.18.0.0/15",      "100.64.0.0/10",
	"2001:db8:0:ffff::/64", "2001:db8:ffff::/48", "2001:db8:ee00::/40",
};

#define IDX4_MISS  0xffffffu /* never reached: sets use < 2^23 */
#define IDX4_FRESH 0x800000u /* fresh seen-IP addresses: 2^23 + k */
#define IDX6_MISS  (1ull << 63)

/* Bijections, so distinct counters give distinct addresses. */
static uint32_t mix24(uint32_t x)
{
	x &= 0xffffff;
	x = (x * 0x9e3779u) & 0xffffff;
	x ^= x >> 12;
	x = (x * 0x5bd1e9u) & 0xffffff;
	x ^= x >> 11;
	return x;
}

static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void host4(uint32_t idx, struct cgfw_prefix *p)
{
	uint32_t m = mix24(idx);

	memset(p, 0, sizeof(*p));
	p->family = CGFW_FAMILY_INET;
	p->len = 32;
	p->addr[0] = 10;
	p->addr[1] = (uint8_t)(m >> 16);
	p->addr[2] = (uint8_t)(m >> 8);
	p->addr[3] = (uint8_t)m;
}

static void host6(uint64_t idx, struct cgfw_prefix *p)
{
	static const uint8_t net[8] = { 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x00 };
	uint64_t m = mix64(idx);

	memset(p, 0, sizeof(*p));
	p->family = CGFW_FAMILY_INET6;
	p->len = 128;
	memcpy(p->addr, net, 8);
	for (int i = 0; i < 8; i++)
		p->addr[8 + i] = (uint8_t)(m >> (56 - 8 * i));
}

/* Rule i of the sequence. */
static void rule_at(size_t i, struct cgfw_prefix *p)
{
	size_t j, q, r;

	if (i == 0) {
		host4(0, p);
		return;
	}
	if (i == 1) {
		host6(0, p);
		return;
	}
	if (i < SEQ_HEAD) {
		if (cgfw_parse_prefix(prefixes[i - 2], p) < 0)
			abort(); /* the table above is wrong */
		return;
	}
	j = i - SEQ_HEAD;
	q = j / 4;
	r = j % 4;
	if (r < 3)
		host4((uint32_t)(1 + 3 * q + r), p);
	else
		host6(1 + q, p);
}

/* Rules in the set of nominal size n: "1" means one HIT rule per family. */
static size_t set_size(size_t n)
{
	return n < 2 ? 2 : n;
}

/* ---- small helpers ------------------------------------------------------ */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

struct stat3 {
	double median, min, max;
};

static struct stat3 stats(const uint32_t *v, size_t n)
{
	uint32_t *s = malloc(n * sizeof(*s));
	struct stat3 r = { 0, 0, 0 };

	if (!s || !n) {
		free(s);
		return r;
	}
	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_u32);
	r.min = s[0];
	r.max = s[n - 1];
	r.median = n % 2 ? s[n / 2] : (s[n / 2 - 1] + (double)s[n / 2]) / 2;
	free(s);
	return r;
}

static const char *human(size_t n, char *buf, size_t len)
{
	if (n >= 1000000 && n % 1000000 == 0)
		snprintf(buf, len, "%zuM", n / 1000000);
	else if (n >= 1000 && n % 1000 == 0)
		snprintf(buf, len, "%zuk", n / 1000);
	else
		snprintf(buf, len, "%zu", n);
	return buf;
}

/* Kernel memory charged to a map, as the kernel accounts it (fdinfo memlock). */
static long long map_memlock(int fd)
{
	char path[64], line[256];
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %lld", &v) == 1)
			break;
	fclose(f);
	return v;
}

/* ---- packets (tests/lib/pkt.h) -------------------------------------------- */

/*
 * A UDP packet to @dst, 40000 -> 53 with 32 bytes of payload. BPF_PROG_RUN
 * wants an Ethernet frame for skb programs: the kernel takes skb->protocol
 * from it (eth_type_trans) and, for a cgroup_skb program, pulls the 14 bytes
 * again so the program sees the IP header first, as it does on a real socket.
 */
static void build_pkt(struct pkt *p, const struct cgfw_prefix *dst)
{
	char a[INET6_ADDRSTRLEN];
	struct pkt_spec s = { .proto = IPPROTO_UDP,
			      .sport = 40000,
			      .dport = 53,
			      .dst = a,
			      .payload = "a 32-byte payload for the bench." };

	if (dst->family == CGFW_FAMILY_INET) {
		s.family = 4;
		s.src = "192.0.2.1";
		inet_ntop(AF_INET, dst->addr, a, sizeof(a));
	} else {
		s.family = 6;
		s.src = "2001:db8::1";
		inet_ntop(AF_INET6, dst->addr, a, sizeof(a));
	}
	if (pkt_build(&s, p) < 0)
		abort(); /* the bench's own addresses: cannot happen */
}

static int prog_run(int fd, const struct pkt *p, unsigned repeat, uint32_t *ret_ns,
		    uint32_t *ret_val)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = p->b, .data_size_in = (__u32)p->len,
		    .repeat = repeat);

	if (bpf_prog_test_run_opts(fd, &o) < 0)
		return -errno;
	*ret_ns = o.duration;
	*ret_val = o.retval;
	return 0;
}

/* ---- the programs under test -------------------------------------------- */

enum { P_EMPTY, P_LPM, P_CGFW, P_COUNT };
enum { F4, F6, F_COUNT };
enum { K_HIT, K_MISS, K_NONE };

static const char *const prog_name[P_COUNT] = { "empty", "lpm", "cgfw" };
static const char *const fam_name[F_COUNT] = { "ipv4", "ipv6" };
static const char *const kind_name[] = { "hit", "miss", "" };

struct mcase {
	int prog, fam, kind;
};

static const struct mcase cases[] = {
	{ P_EMPTY, F4, K_NONE }, { P_EMPTY, F6, K_NONE }, { P_LPM, F4, K_HIT },
	{ P_LPM, F4, K_MISS },	 { P_LPM, F6, K_HIT },	  { P_LPM, F6, K_MISS },
	{ P_CGFW, F4, K_HIT },	 { P_CGFW, F4, K_MISS },  { P_CGFW, F6, K_HIT },
	{ P_CGFW, F6, K_MISS },
};
#define NCASES (sizeof(cases) / sizeof(cases[0]))

static void case_name(const struct mcase *c, char *buf, size_t n)
{
	if (c->kind == K_NONE)
		snprintf(buf, n, "%s_%s", prog_name[c->prog], fam_name[c->fam]);
	else
		snprintf(buf, n, "%s_%s_%s", prog_name[c->prog], kind_name[c->kind],
			 fam_name[c->fam]);
}

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = sig;
}

/* ---- maps and their memory ------------------------------------------------ */

#define MAX_MAPS 16

struct mapmem {
	char name[BPF_OBJ_NAME_LEN];
	const char *type;
	const char *owner; /* "cgfw" or "lpm" */
	int fd;
	uint32_t max_entries;
	int fam;	    /* rules of which family it holds: F4, F6, F_COUNT = both, -1 = none */
	long long at0, atN; /* before and after the rules were loaded */
};

/*
 * One rule count: its own pin root, cgfw state, cgfw program and LPM program,
 * so that every count is loaded at once and measured in the same rounds.
 */
struct inst {
	char root[192];
	size_t nominal;
	struct cgfw_state *st;
	struct cgfw_cgroup_prog *prog;
	struct cgfw_cgroup_bpf *cg; /* prog->skel */
	struct bench_lpm_bpf *lpm;
	int fd[P_COUNT];
	size_t loaded, loaded4, loaded6;
	uint32_t lens4, lens6;
	double add_cgfw_s, add_lpm_s;
	struct mapmem maps[MAX_MAPS];
	size_t nmaps;
	uint32_t *samples[NCASES]; /* [round] */
	struct stat3 res[NCASES];
};

struct bench {
	char base[160];
	bool made_base;
	struct bench_empty_bpf *empty;
	int empty_fd;
	struct pkt pkt[F_COUNT][2]; /* [family][K_HIT/K_MISS] */
	struct inst *in;
	size_t nin;
};

static void collect_maps(struct inst *in)
{
	struct bpf_object *objs[2] = { in->cg->obj, in->lpm->obj };

	in->nmaps = 0;
	for (int o = 0; o < 2; o++) {
		struct bpf_map *map;

		bpf_object__for_each_map(map, objs[o])
		{
			struct mapmem *m = &in->maps[in->nmaps];

			if (bpf_map__is_internal(map) || in->nmaps == MAX_MAPS)
				continue;
			snprintf(m->name, sizeof(m->name), "%s", bpf_map__name(map));
			m->type = libbpf_bpf_map_type_str(bpf_map__type(map));
			m->owner = o ? "lpm" : "cgfw";
			m->fd = bpf_map__fd(map);
			m->max_entries = bpf_map__max_entries(map);
			m->fam = -1;
			if (!strcmp(m->name, "cgfw_rules"))
				m->fam = F_COUNT;
			else if (!strcmp(m->name, "bench_lpm4"))
				m->fam = F4;
			else if (!strcmp(m->name, "bench_lpm6"))
				m->fam = F6;
			m->at0 = map_memlock(m->fd);
			in->nmaps++;
		}
	}
}

static int inst_open(struct bench *b, struct inst *in, size_t idx)
{
	int err;

	snprintf(in->root, sizeof(in->root), "%s/n%zu", b->base, idx);
	setenv("CGFW_BPFFS_ROOT", in->root, 1);
	err = cgfw_state_open(CGFW_OPEN_CREATE | CGFW_OPEN_LOCK, &in->st);
	if (err) {
		fprintf(stderr, "cgfw_bench: %s\n", cgfw_errmsg());
		return err;
	}

	/* cgfw's program on the pinned maps, for a cgroup that exists only as an id. */
	{
		struct cgfw_cgroup cg = { .id = BENCH_CGID, .rel = "cgfw-bench" };
		struct cgfw_change *c = NULL;

		err = cgfw_change_begin(in->st, &c);
		if (!err)
			err = cgfw_change_attach(c, &cg);
		if (!err)
			err = cgfw_change_commit(c);
		cgfw_change_free(c);
		if (!err)
			err = cgfw_cgroup_prog_load(in->st, BENCH_CGID, &in->prog);
		if (err) {
			fprintf(stderr, "cgfw_bench: %s\n", cgfw_errmsg());
			return err;
		}
		in->cg = in->prog->skel;
	}
	in->lpm = bench_lpm_bpf__open_and_load();
	if (!in->lpm) {
		fprintf(stderr, "cgfw_bench: cannot load the LPM-trie program: %s\n",
			strerror(errno));
		return -errno;
	}
	in->fd[P_EMPTY] = b->empty_fd;
	in->fd[P_LPM] = bpf_program__fd(in->lpm->progs.bench_lpm);
	in->fd[P_CGFW] = bpf_program__fd(in->cg->progs.cgfw_egress);
	collect_maps(in);
	return 0;
}

static int setup(struct bench *b, const size_t *counts, size_t n)
{
	const char *env = getenv("CGFW_BPFFS_ROOT");
	struct cgfw_prefix a;
	int err;

	if (env && *env)
		snprintf(b->base, sizeof(b->base), "%s", env);
	else
		snprintf(b->base, sizeof(b->base), "/sys/fs/bpf/cgfw-bench-%d", (int)getpid());
	if (mkdir(b->base, 0700) < 0) {
		fprintf(stderr, "cgfw_bench: cannot create %s: %s%s\n", b->base, strerror(errno),
			errno == EEXIST ? " (left by a crashed run? remove it)" : "");
		return -errno;
	}
	b->made_base = true;

	b->empty = bench_empty_bpf__open_and_load();
	if (!b->empty) {
		fprintf(stderr, "cgfw_bench: cannot load the empty program: %s\n", strerror(errno));
		return -errno;
	}
	b->empty_fd = bpf_program__fd(b->empty->progs.bench_empty);
	host4(0, &a);
	build_pkt(&b->pkt[F4][K_HIT], &a);
	host4(IDX4_MISS, &a);
	build_pkt(&b->pkt[F4][K_MISS], &a);
	host6(0, &a);
	build_pkt(&b->pkt[F6][K_HIT], &a);
	host6(IDX6_MISS, &a);
	build_pkt(&b->pkt[F6][K_MISS], &a);

	b->in = calloc(n, sizeof(*b->in));
	if (!b->in)
		return -ENOMEM;
	b->nin = n;
	for (size_t i = 0; i < n; i++) {
		b->in[i].nominal = counts[i];
		err = inst_open(b, &b->in[i], i);
		if (err)
			return err;
	}
	return 0;
}

static void teardown(struct bench *b)
{
	for (size_t i = 0; b->in && i < b->nin; i++) {
		struct inst *in = &b->in[i];

		bench_lpm_bpf__destroy(in->lpm);
		cgfw_cgroup_prog_free(in->prog);
		cgfw_state_close(in->st);
		if (in->root[0]) {
			setenv("CGFW_BPFFS_ROOT", in->root, 1);
			if (cgfw_reset() < 0)
				fprintf(stderr, "cgfw_bench: cleanup: %s\n", cgfw_errmsg());
		}
		for (size_t c = 0; c < NCASES; c++)
			free(in->samples[c]);
	}
	free(b->in);
	bench_empty_bpf__destroy(b->empty);
	if (b->made_base && rmdir(b->base) < 0)
		fprintf(stderr, "cgfw_bench: cleanup: cannot remove %s: %s\n", b->base,
			strerror(errno));
}

/* LPM trie updates in batches, one by one where batches are not supported. */
static int lpm_fill(int fd, const void *keys, size_t ksz, const uint8_t *vals, size_t n)
{
	size_t done = 0;

	while (done < n) {
		LIBBPF_OPTS(bpf_map_batch_opts, o);
		__u32 cnt = (__u32)(n - done < 65536 ? n - done : 65536);

		if (bpf_map_update_batch(fd, (const char *)keys + done * ksz, vals + done, &cnt,
					 &o) < 0) {
			if ((errno != EINVAL && errno != ENOTSUPP && errno != EOPNOTSUPP) || cnt)
				return -errno;
			for (cnt = 0; done + cnt < n && cnt < 65536; cnt++)
				if (bpf_map_update_elem(fd, (const char *)keys + (done + cnt) * ksz,
							vals + done + cnt, BPF_ANY) < 0)
					return -errno;
		}
		done += cnt;
	}
	return 0;
}

/* Load the instance's rule set into cgfw (through libcgfw) and into its LPM tries. */
static int inst_load(struct inst *in)
{
	size_t n = set_size(in->nominal);
	struct cgfw_rule *rules = calloc(n, sizeof(*rules));
	struct bench_lpm4_key *k4 = calloc(n, sizeof(*k4));
	struct bench_lpm6_key *k6 = calloc(n, sizeof(*k6));
	uint8_t *vals = calloc(n, 1);
	struct cgfw_status s;
	size_t n4 = 0, n6 = 0;
	double t0;
	int err = 0;

	if (!rules || !k4 || !k6 || !vals) {
		err = -ENOMEM;
		fprintf(stderr, "cgfw_bench: out of memory for %zu rules\n", n);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct cgfw_rule *r = &rules[i];

		rule_at(i, &r->pfx);
		r->scope = CGFW_SCOPE_HOST;
		r->dirs = CGFW_DIR_BOTH;
		r->action = CGFW_DENY;
		r->origin = CGFW_ORIGIN_MANUAL;
		if (r->pfx.family == CGFW_FAMILY_INET) {
			k4[n4].prefixlen = r->pfx.len;
			memcpy(k4[n4++].addr, r->pfx.addr, 4);
		} else {
			k6[n6].prefixlen = r->pfx.len;
			memcpy(k6[n6++].addr, r->pfx.addr, 16);
		}
	}
	t0 = now_s();
	err = cgfw_rules_update(in->st, rules, n, true, NULL, NULL);
	in->add_cgfw_s = now_s() - t0;
	if (err < 0) {
		fprintf(stderr, "cgfw_bench: adding %zu rules: %s\n", n, cgfw_errmsg());
		goto out;
	}
	if ((size_t)err != n) {
		fprintf(stderr, "cgfw_bench: %zu rules added but only %d changed the maps\n", n,
			err);
		err = -EIO;
		goto out;
	}
	t0 = now_s();
	err = lpm_fill(bpf_map__fd(in->lpm->maps.bench_lpm4), k4, sizeof(*k4), vals, n4);
	if (!err)
		err = lpm_fill(bpf_map__fd(in->lpm->maps.bench_lpm6), k6, sizeof(*k6), vals, n6);
	in->add_lpm_s = now_s() - t0;
	if (err) {
		fprintf(stderr, "cgfw_bench: filling the LPM tries: %s\n", strerror(-err));
		goto out;
	}
	in->loaded = n;
	in->loaded4 = n4;
	in->loaded6 = n6;
	err = cgfw_status_get(in->st, &s);
	if (err) {
		fprintf(stderr, "cgfw_bench: %s\n", cgfw_errmsg());
		goto out;
	}
	if (s.rules4 != n4 || s.rules6 != n6) {
		fprintf(stderr, "cgfw_bench: cgfw reports %zu+%zu rules, %zu+%zu loaded\n",
			s.rules4, s.rules6, n4, n6);
		err = -EIO;
		goto out;
	}
	in->lens4 = s.lens4;
	in->lens6 = s.lens6;
	for (size_t m = 0; m < in->nmaps; m++)
		in->maps[m].atN = map_memlock(in->maps[m].fd);
out:
	free(rules);
	free(k4);
	free(k6);
	free(vals);
	return err;
}

/* One measurement; a wrong verdict means the program did not see the packet right. */
static int measure(struct bench *b, struct inst *in, const struct mcase *c, unsigned repeat,
		   uint32_t *ret_ns)
{
	const struct pkt *p = &b->pkt[c->fam][c->kind == K_HIT ? K_HIT : K_MISS];
	uint32_t want = c->kind == K_HIT ? 0 : 1, got;
	char name[64];
	int err;

	err = prog_run(in->fd[c->prog], p, repeat, ret_ns, &got);
	case_name(c, name, sizeof(name));
	if (err) {
		fprintf(stderr, "cgfw_bench: BPF_PROG_RUN of %s failed: %s\n", name,
			strerror(-err));
		return err;
	}
	if (got != want) {
		fprintf(stderr,
			"cgfw_bench: %s with %zu rules returned %u, expected %u (%s): the program "
			"does not parse the test packet or the rules are not loaded; the numbers "
			"would be meaningless\n",
			name, in->loaded, got, want, want ? "pass" : "drop");
		return -EPROTO;
	}
	return 0;
}

/* ---- the lookup benchmark ------------------------------------------------- */

static int case_index(int prog, int fam, int kind)
{
	for (size_t i = 0; i < NCASES; i++)
		if (cases[i].prog == prog && cases[i].fam == fam && cases[i].kind == kind)
			return (int)i;
	return -1;
}

static void fmt_cell(const struct stat3 *s, char *buf, size_t n)
{
	snprintf(buf, n, "%.0f [%.0f–%.0f]", s->median, s->min, s->max);
}

static double cost_ratio(const struct inst *hi, const struct inst *lo, int ci, int ce)
{
	double a = hi->res[ci].median - hi->res[ce].median;
	double b = lo->res[ci].median - lo->res[ce].median;

	return b > 0 ? a / b : 0;
}

static const char *label(const struct inst *in, char *buf, size_t n)
{
	if (in->nominal < 2)
		return snprintf(buf, n, "1/family"), buf;
	return human(in->nominal, buf, n);
}

static json_t *stat_json(const struct stat3 *s, const uint32_t *samples, size_t n)
{
	json_t *o = json_object(), *a = json_array();

	json_object_set_new(o, "median_ns", json_real(s->median));
	json_object_set_new(o, "min_ns", json_real(s->min));
	json_object_set_new(o, "max_ns", json_real(s->max));
	for (size_t i = 0; samples && i < n; i++)
		json_array_append_new(a, json_integer(samples[i]));
	json_object_set_new(o, "rounds_ns", a);
	return o;
}

struct opts {
	size_t counts[16], ncounts;
	unsigned rounds, repeat, insert;
	const char *json, *dat;
};

/* The seen-IP record: a fresh address inserts, a known one updates in place. */
struct seen_result {
	struct stat3 insert, update, empty;
	size_t before, after;
	uint32_t *rounds[3]; /* per-round medians: insert, update, empty */
};

static int bench_seen(struct bench *b, struct inst *in, const struct opts *o,
		      struct seen_result *ret)
{
	const struct pkt *same = &b->pkt[F4][K_MISS];
	unsigned per = o->insert / o->rounds;
	uint32_t *ins = calloc(per, sizeof(*ins)), *upd = calloc(per, sizeof(*upd));
	uint32_t *emp = calloc(per, sizeof(*emp));
	struct cgfw_seen *list = NULL;
	size_t nlist = 0;
	int err = 0;

	for (int i = 0; i < 3; i++)
		ret->rounds[i] = calloc(o->rounds, sizeof(uint32_t));
	if (!ins || !upd || !emp || !per || !ret->rounds[0] || !ret->rounds[1] || !ret->rounds[2]) {
		err = -ENOMEM;
		goto out;
	}
	/* Start from an empty record so every fresh address is a true insert. */
	err = cgfw_seen_flush(in->st, BENCH_CGID);
	if (!err)
		err = cgfw_seen_list(in->st, BENCH_CGID, &list, &nlist);
	if (err) {
		fprintf(stderr, "cgfw_bench: seen-IP map: %s\n", cgfw_errmsg());
		goto out;
	}
	free(list);
	list = NULL;
	ret->before = nlist;
	for (unsigned r = 0; r < o->rounds && !stop; r++) {
		for (unsigned k = 0; k < per; k++) {
			struct cgfw_prefix a;
			struct pkt fresh;
			uint32_t v;

			host4(IDX4_FRESH + r * per + k, &a);
			build_pkt(&fresh, &a);
			/* All three one run per BPF_PROG_RUN, so the timer overhead is shared. */
			err = prog_run(in->fd[P_CGFW], &fresh, 1, &ins[k], &v);
			if (!err && v != 1)
				err = -EPROTO;
			if (!err)
				err = prog_run(in->fd[P_CGFW], same, 1, &upd[k], &v);
			if (!err && v != 1)
				err = -EPROTO;
			if (!err)
				err = prog_run(b->empty_fd, same, 1, &emp[k], &v);
			if (err) {
				fprintf(stderr, "cgfw_bench: seen-IP run: %s\n",
					err == -EPROTO ? "wrong verdict for a MISS packet" :
							 strerror(-err));
				goto out;
			}
		}
		ret->rounds[0][r] = (uint32_t)stats(ins, per).median;
		ret->rounds[1][r] = (uint32_t)stats(upd, per).median;
		ret->rounds[2][r] = (uint32_t)stats(emp, per).median;
	}
	err = cgfw_seen_list(in->st, BENCH_CGID, &list, &nlist);
	if (err) {
		fprintf(stderr, "cgfw_bench: seen-IP map: %s\n", cgfw_errmsg());
		goto out;
	}
	ret->after = nlist;
	/* Each fresh packet must have left its own record, or no insert was measured. */
	if (!stop && nlist < ret->before + (size_t)per * o->rounds) {
		fprintf(stderr,
			"cgfw_bench: %u fresh addresses sent but the seen-IP map holds %zu "
			"records: the insert path was not exercised\n",
			per * o->rounds, nlist);
		err = -EPROTO;
		goto out;
	}
	ret->insert = stats(ret->rounds[0], o->rounds);
	ret->update = stats(ret->rounds[1], o->rounds);
	ret->empty = stats(ret->rounds[2], o->rounds);
out:
	free(list);
	free(ins);
	free(upd);
	free(emp);
	return err;
}

static void print_tables(const struct bench *b, const struct opts *o,
			 const struct seen_result *seen)
{
	const struct inst *in = b->in, *first = &in[0], *lastp = &in[b->nin - 1];
	char buf[96], hb[32];

	printf("### Datapath cost per packet (cgroup egress, BPF_PROG_RUN)\n\n");
	printf("ns per packet, median of %u rounds of %u runs [min–max]; every program and rule "
	       "count is loaded at once and the rounds interleave them, the same case at each "
	       "count back to back. HIT: the destination matches a deny rule (verdict drop, "
	       "checked); MISS: no rule matches (verdict pass, checked). \"1/family\" is one HIT "
	       "rule per family; larger sets add %d prefixes (/24 /15 /10 and /64 /48 /40) and "
	       "host rules, 3 IPv4 /32 per IPv6 /128.\n\n",
	       o->rounds, o->repeat, NPREFIX);
	printf("| rules | family | prefix lengths | empty program | LPM trie hit | LPM trie miss | "
	       "cgfw hit | cgfw miss |\n");
	printf("|---:|---|---:|---:|---:|---:|---:|---:|\n");
	for (size_t ci = 0; ci < b->nin; ci++) {
		const struct inst *p = &in[ci];

		for (int f = 0; f < F_COUNT; f++) {
			char cell[5][48];
			int idx[5] = { case_index(P_EMPTY, f, K_NONE), case_index(P_LPM, f, K_HIT),
				       case_index(P_LPM, f, K_MISS), case_index(P_CGFW, f, K_HIT),
				       case_index(P_CGFW, f, K_MISS) };

			for (int k = 0; k < 5; k++)
				fmt_cell(&p->res[idx[k]], cell[k], sizeof(cell[k]));
			printf("| %s | IPv%c | %u | %s | %s | %s | %s | %s |\n",
			       f ? "" : label(p, hb, sizeof(hb)), f ? '6' : '4',
			       f ? p->lens6 : p->lens4, cell[0], cell[1], cell[2], cell[3],
			       cell[4]);
		}
	}

	printf("\nTarget: (cgfw at %s - empty) / (cgfw at %s - empty) <= 1.5, per family and "
	       "case (the LPM trie's ratio beside it, for scale).\n\n",
	       human(lastp->nominal, hb, sizeof(hb)),
	       first->nominal < 2 ? "1" : human(first->nominal, buf, sizeof(buf)));
	printf("| case | cgfw ratio | target | LPM trie ratio |\n|---|---:|---|---:|\n");
	for (int f = 0; f < F_COUNT; f++) {
		for (int k = K_HIT; k <= K_MISS; k++) {
			int ce = case_index(P_EMPTY, f, K_NONE);
			double rc = cost_ratio(lastp, first, case_index(P_CGFW, f, k), ce);
			double rl = cost_ratio(lastp, first, case_index(P_LPM, f, k), ce);

			printf("| IPv%c %s | %.2f | %s | %.2f |\n", f ? '6' : '4', kind_name[k], rc,
			       rc <= 1.5 ? "PASS" : "MISS", rl);
		}
	}
	if (b->nin > 2) {
		printf("\nA MISS probes every prefix length in use (%u here against 1 with a single "
		       "rule); at equal prefix lengths (%s vs %s rules, both with the %d prefixes) "
		       "the cgfw ratios are: ",
		       lastp->lens4, human(lastp->nominal, hb, sizeof(hb)),
		       human(in[1].nominal, buf, sizeof(buf)), NPREFIX);
		for (int f = 0; f < F_COUNT; f++)
			for (int k = K_HIT; k <= K_MISS; k++)
				printf("%sIPv%c %s %.2f", f || k ? ", " : "", f ? '6' : '4',
				       kind_name[k],
				       cost_ratio(lastp, &in[1], case_index(P_CGFW, f, k),
						  case_index(P_EMPTY, f, K_NONE)));
		printf(".\n");
	}

	printf("\n### Seen-IP record (cgfw, IPv4 MISS, %s rules loaded)\n\n",
	       human(lastp->nominal, hb, sizeof(hb)));
	printf("One packet per BPF_PROG_RUN (repeat 1), %u packets in %u rounds; ns per packet, "
	       "median of the round medians [min–max]. Single runs carry the timer's own "
	       "overhead and cold caches, alike in every row.\n\n",
	       o->insert / o->rounds * o->rounds, o->rounds);
	printf("| path | ns per packet |\n|---|---:|\n");
	fmt_cell(&seen->insert, buf, sizeof(buf));
	printf("| cgfw, fresh address each packet (seen-IP insert) | %s |\n", buf);
	fmt_cell(&seen->update, buf, sizeof(buf));
	printf("| cgfw, same address again (seen-IP update) | %s |\n", buf);
	fmt_cell(&seen->empty, buf, sizeof(buf));
	printf("| empty program | %s |\n", buf);
	printf("\nInsert costs %.0f ns more than update; the seen-IP map held %zu records after "
	       "the run (%zu before).\n",
	       seen->insert.median - seen->update.median, seen->after, seen->before);

	printf("\n### Kernel memory of the maps (fdinfo memlock)\n\n");
	printf("Bytes the kernel charges to each map (its own accounting, as `bpftool map show` "
	       "prints it), with no rules and at each rule count; per rule = growth / rules the "
	       "map holds at %s. The LPM trie's figure counts its rule nodes only, not the "
	       "intermediate nodes it adds.\n\n",
	       human(lastp->nominal, hb, sizeof(hb)));
	printf("| map | type | max entries | 0 rules |");
	for (size_t ci = 0; ci < b->nin; ci++)
		printf(" %s |", label(&in[ci], hb, sizeof(hb)));
	printf(" bytes per rule |\n|---|---|---:|---:|");
	for (size_t ci = 0; ci < b->nin; ci++)
		printf("---:|");
	printf("---:|\n");
	{
		long long tot0 = 0, totN = 0;

		for (size_t m = 0; m < lastp->nmaps; m++) {
			const struct mapmem *mm = &lastp->maps[m];
			size_t held = mm->fam == F4 ? lastp->loaded4 :
				      mm->fam == F6 ? lastp->loaded6 :
						      lastp->loaded;
			long long grow = mm->atN - mm->at0;

			printf("| %s | %s | %u | %lld |", mm->name, mm->type, mm->max_entries,
			       mm->at0);
			for (size_t ci = 0; ci < b->nin; ci++)
				printf(" %lld |", in[ci].maps[m].atN);
			if (mm->fam >= 0 && held)
				printf(" %.1f |\n", (double)grow / (double)held);
			else
				printf(" %s |\n", grow ? "(not rules)" : "—");
			if (!strcmp(mm->owner, "cgfw")) {
				tot0 += mm->at0;
				totN += mm->atN;
			}
		}
		printf("\nAll cgfw maps: %.1f MiB with no rules, %.1f MiB at %s rules (%.0f bytes per "
		       "rule including the fixed part).\n",
		       tot0 / 1048576.0, totN / 1048576.0, human(lastp->nominal, hb, sizeof(hb)),
		       (double)totN / (double)lastp->loaded);
	}
}

static int write_json(const struct bench *b, const struct opts *o, const struct seen_result *seen)
{
	const struct inst *in = b->in, *first = &in[0], *lastp = &in[b->nin - 1];
	json_t *root = json_object(), *cfg = json_object(), *pts = json_array();
	json_t *ratio = json_object(), *jm = json_array(), *js = json_object(), *cnt;
	char buf[96];
	int err = 0;

	json_object_set_new(cfg, "rounds", json_integer(o->rounds));
	json_object_set_new(cfg, "repeat", json_integer(o->repeat));
	json_object_set_new(cfg, "insert_packets", json_integer(o->insert));
	cnt = json_array();
	for (size_t ci = 0; ci < b->nin; ci++)
		json_array_append_new(cnt, json_integer((json_int_t)in[ci].nominal));
	json_object_set_new(cfg, "counts", cnt);
	json_object_set_new(root, "config", cfg);
	for (size_t ci = 0; ci < b->nin; ci++) {
		const struct inst *p = &in[ci];
		json_t *jp = json_object(), *jc = json_object();

		json_object_set_new(jp, "nominal", json_integer((json_int_t)p->nominal));
		json_object_set_new(jp, "rules", json_integer((json_int_t)p->loaded));
		json_object_set_new(jp, "rules_ipv4", json_integer((json_int_t)p->loaded4));
		json_object_set_new(jp, "rules_ipv6", json_integer((json_int_t)p->loaded6));
		json_object_set_new(jp, "prefix_lengths_ipv4", json_integer(p->lens4));
		json_object_set_new(jp, "prefix_lengths_ipv6", json_integer(p->lens6));
		json_object_set_new(jp, "lib_add_s", json_real(p->add_cgfw_s));
		json_object_set_new(jp, "lpm_add_s", json_real(p->add_lpm_s));
		for (size_t c = 0; c < NCASES; c++) {
			case_name(&cases[c], buf, sizeof(buf));
			json_object_set_new(jc, buf,
					    stat_json(&p->res[c], p->samples[c], o->rounds));
		}
		json_object_set_new(jp, "ns_per_packet", jc);
		json_array_append_new(pts, jp);
	}
	json_object_set_new(root, "lookup", pts);
	for (int f = 0; f < F_COUNT; f++) {
		for (int k = K_HIT; k <= K_MISS; k++) {
			int ce = case_index(P_EMPTY, f, K_NONE);
			double rc = cost_ratio(lastp, first, case_index(P_CGFW, f, k), ce);
			json_t *jr = json_object();

			json_object_set_new(jr, "cgfw", json_real(rc));
			json_object_set_new(
				jr, "lpm",
				json_real(cost_ratio(lastp, first, case_index(P_LPM, f, k), ce)));
			json_object_set_new(jr, "target", json_real(1.5));
			json_object_set_new(jr, "pass", json_boolean(rc <= 1.5));
			snprintf(buf, sizeof(buf), "%s_%s", fam_name[f], kind_name[k]);
			json_object_set_new(ratio, buf, jr);
		}
	}
	json_object_set_new(root, "ratio", ratio);
	json_object_set_new(js, "insert", stat_json(&seen->insert, seen->rounds[0], o->rounds));
	json_object_set_new(js, "update", stat_json(&seen->update, seen->rounds[1], o->rounds));
	json_object_set_new(js, "empty", stat_json(&seen->empty, seen->rounds[2], o->rounds));
	json_object_set_new(js, "records_before", json_integer((json_int_t)seen->before));
	json_object_set_new(js, "records_after", json_integer((json_int_t)seen->after));
	json_object_set_new(root, "seen", js);
	for (size_t m = 0; m < lastp->nmaps; m++) {
		const struct mapmem *mm = &lastp->maps[m];
		json_t *o1 = json_object(), *a = json_array();

		json_object_set_new(o1, "map", json_string(mm->name));
		json_object_set_new(o1, "owner", json_string(mm->owner));
		json_object_set_new(o1, "type", json_string(mm->type));
		json_object_set_new(o1, "max_entries", json_integer(mm->max_entries));
		json_object_set_new(o1, "memlock_0", json_integer(mm->at0));
		for (size_t ci = 0; ci < b->nin; ci++) {
			json_t *e = json_object();

			json_object_set_new(e, "rules", json_integer((json_int_t)in[ci].loaded));
			json_object_set_new(e, "memlock", json_integer(in[ci].maps[m].atN));
			json_array_append_new(a, e);
		}
		json_object_set_new(o1, "memlock", a);
		json_array_append_new(jm, o1);
	}
	json_object_set_new(root, "memory", jm);
	if (json_dump_file(root, o->json, JSON_INDENT(1)) < 0) {
		fprintf(stderr, "cgfw_bench: cannot write %s\n", o->json);
		err = -EIO;
	}
	json_decref(root);
	return err;
}

static int write_dat(const struct bench *b, const char *path)
{
	FILE *f = fopen(path, "we");
	char buf[64];

	if (!f) {
		fprintf(stderr, "cgfw_bench: cannot write %s: %s\n", path, strerror(errno));
		return -errno;
	}
	fprintf(f, "# rules");
	for (size_t c = 0; c < NCASES; c++) {
		case_name(&cases[c], buf, sizeof(buf));
		fprintf(f, " %s", buf);
	}
	fprintf(f, "\n");
	for (size_t ci = 0; ci < b->nin; ci++) {
		fprintf(f, "%zu", b->in[ci].nominal < 1 ? 1 : b->in[ci].nominal);
		for (size_t c = 0; c < NCASES; c++)
			fprintf(f, " %.1f", b->in[ci].res[c].median);
		fprintf(f, "\n");
	}
	return fclose(f) ? -EIO : 0;
}

static int cmd_lookup(const struct opts *o)
{
	struct bench b = {};
	struct seen_result seen = {};
	size_t total;
	char hb[32];
	int err;

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	err = setup(&b, o->counts, o->ncounts);
	if (err)
		goto out;

	for (size_t i = 0; i < b.nin && !stop; i++) {
		struct inst *in = &b.in[i];
		uint32_t ns;

		err = inst_load(in);
		if (err)
			goto out;
		/* Verify every verdict once (and warm up) before timing anything. */
		for (size_t c = 0; c < NCASES; c++) {
			err = measure(&b, in, &cases[c], 1000, &ns);
			if (err)
				goto out;
			in->samples[c] = calloc(o->rounds, sizeof(uint32_t));
			if (!in->samples[c]) {
				err = -ENOMEM;
				goto out;
			}
		}
		fprintf(stderr, "cgfw_bench: %s rules loaded (cgfw %.2f s, LPM tries %.2f s)\n",
			label(in, hb, sizeof(hb)), in->add_cgfw_s, in->add_lpm_s);
	}
	/*
	 * Rounds: every (case, rule count) once per round, the same case at each
	 * count back to back, the starting point moving by one each round, so
	 * drift hits every configuration alike.
	 */
	total = NCASES * b.nin;
	for (unsigned r = 0; r < o->rounds && !stop; r++) {
		for (size_t k = 0; k < total && !stop; k++) {
			size_t idx = (k + r) % total, c = idx / b.nin, i = idx % b.nin;

			err = measure(&b, &b.in[i], &cases[c], o->repeat, &b.in[i].samples[c][r]);
			if (err)
				goto out;
		}
	}
	if (stop) {
		err = -EINTR;
		goto out;
	}
	for (size_t i = 0; i < b.nin; i++)
		for (size_t c = 0; c < NCASES; c++)
			b.in[i].res[c] = stats(b.in[i].samples[c], o->rounds);
	err = bench_seen(&b, &b.in[b.nin - 1], o, &seen);
	if (err)
		goto out;

	print_tables(&b, o, &seen);
	fflush(stdout);
	if (o->json)
		err = write_json(&b, o, &seen);
	if (!err && o->dat)
		err = write_dat(&b, o->dat);
out:
	if (stop)
		fprintf(stderr, "cgfw_bench: interrupted\n");
	teardown(&b);
	for (int i = 0; i < 3; i++)
		free(seen.rounds[i]);
	return err ? 1 : 0;
}

/* ---- rule files for the loading comparison ---------------------------------- */

static int cmd_genrules(const char *fmt, size_t nominal, const char *path)
{
	size_t n = set_size(nominal), written = 0, chunk = 0;
	bool nft = !strcmp(fmt, "nft"), ipt = !strcmp(fmt, "iptables");
	bool ip6t = !strcmp(fmt, "ip6tables"), plain = !strcmp(fmt, "cgfw");
	FILE *f;

	if (!nft && !ipt && !ip6t && !plain) {
		fprintf(stderr, "cgfw_bench: unknown rule file format '%s'\n", fmt);
		return 2;
	}
	f = fopen(path, "we");
	if (!f) {
		fprintf(stderr, "cgfw_bench: cannot write %s: %s\n", path, strerror(errno));
		return 1;
	}
	if (ipt || ip6t)
		fprintf(f, "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n"
			   ":OUTPUT ACCEPT [0:0]\n");
	if (nft)
		/* Host addresses in hash sets, prefixes in interval sets: nft's own best
		 * layout for a large blocklist, and cgfw's split too. */
		fprintf(f, "table inet cgfwbench {\n"
			   "\tset host4 { type ipv4_addr; }\n"
			   "\tset net4 { type ipv4_addr; flags interval; }\n"
			   "\tset host6 { type ipv6_addr; }\n"
			   "\tset net6 { type ipv6_addr; flags interval; }\n"
			   "\tchain output {\n"
			   "\t\ttype filter hook output priority filter; policy accept;\n"
			   "\t\tip daddr @host4 drop\n\t\tip daddr @net4 drop\n"
			   "\t\tip6 daddr @host6 drop\n\t\tip6 daddr @net6 drop\n"
			   "\t}\n}\n");
	/* nft: one "add element" per set and run of 1024 elements. */
	for (int pass = 0; pass < (nft ? 4 : 1); pass++) {
		static const char *const sets[4] = { "host4", "net4", "host6", "net6" };

		chunk = 0;
		for (size_t i = 0; i < n; i++) {
			struct cgfw_prefix p;
			char a[CGFW_ADDRSTRLEN];
			bool v4, host;

			rule_at(i, &p);
			v4 = p.family == CGFW_FAMILY_INET;
			host = p.len == (v4 ? 32 : 128);
			if ((ipt && !v4) || (ip6t && v4))
				continue;
			if (nft && pass != (v4 ? 0 : 2) + !host)
				continue;
			cgfw_format_prefix(&p, a, sizeof(a));
			if (plain) {
				fprintf(f, "%s\n", a);
			} else if (ipt || ip6t) {
				fprintf(f, "-A OUTPUT -d %s%s -j DROP\n", a,
					host ? (v4 ? "/32" : "/128") : "");
			} else {
				if (chunk % 1024 == 0)
					fprintf(f, "%sadd element inet cgfwbench %s { ",
						chunk ? " }\n" : "", sets[pass]);
				else
					fprintf(f, ", ");
				fprintf(f, "%s", a);
				chunk++;
			}
			written++;
		}
		if (nft && chunk)
			fprintf(f, " }\n");
	}
	if (ipt || ip6t)
		fprintf(f, "COMMIT\n");
	if (fclose(f) != 0) {
		fprintf(stderr, "cgfw_bench: cannot write %s: %s\n", path, strerror(errno));
		return 1;
	}
	printf("%zu\n", written);
	return 0;
}

/* ---- main ---------------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f, "Usage: cgfw_bench lookup [--counts N,N,...] [--rounds R] [--repeat N]\n"
		   "                         [--insert K] [--json FILE] [--dat FILE]\n"
		   "       cgfw_bench genrules cgfw|iptables|ip6tables|nft N FILE\n");
}

static int parse_size(const char *s, size_t *ret)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || v > 2000000)
		return -1;
	*ret = (size_t)v;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "counts", required_argument, NULL, 'c' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "repeat", required_argument, NULL, 'n' },
		{ "insert", required_argument, NULL, 'i' },
		{ "json", required_argument, NULL, 'j' },
		{ "dat", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { .counts = { 1, 10000, 100000, 1000000 },
			  .ncounts = 4,
			  .rounds = 7,
			  .repeat = 200000,
			  .insert = 20000 };
	size_t v;
	int c;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "genrules")) {
		if (argc != 5 || parse_size(argv[3], &v) < 0) {
			usage(stderr);
			return 2;
		}
		return cmd_genrules(argv[2], v, argv[4]);
	}
	if (strcmp(argv[1], "lookup")) {
		usage(stderr);
		return 2;
	}
	optind = 2;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'c': {
			char *dup = strdup(optarg), *save = NULL, *tok;

			o.ncounts = 0;
			for (tok = strtok_r(dup, ",", &save); tok;
			     tok = strtok_r(NULL, ",", &save)) {
				if (o.ncounts == 16 || parse_size(tok, &o.counts[o.ncounts]) < 0 ||
				    (o.ncounts && o.counts[o.ncounts] <= o.counts[o.ncounts - 1])) {
					fprintf(stderr,
						"cgfw_bench: --counts '%s': expected up to 16 "
						"increasing numbers <= 2000000\n",
						optarg);
					free(dup);
					return 2;
				}
				o.ncounts++;
			}
			free(dup);
			if (!o.ncounts) {
				fprintf(stderr, "cgfw_bench: --counts is empty\n");
				return 2;
			}
			break;
		}
		case 'r':
		case 'n':
		case 'i':
			if (parse_size(optarg, &v) < 0 || v == 0) {
				fprintf(stderr, "cgfw_bench: bad number '%s'\n", optarg);
				return 2;
			}
			if (c == 'r')
				o.rounds = (unsigned)v;
			else if (c == 'n')
				o.repeat = (unsigned)v;
			else
				o.insert = (unsigned)v;
			break;
		case 'j':
			o.json = optarg;
			break;
		case 'd':
			o.dat = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (o.insert < o.rounds || o.insert > 60000) {
		fprintf(stderr, "cgfw_bench: --insert must be between --rounds and 60000 (the "
				"seen-IP map holds 65536)\n");
		return 2;
	}
	return cmd_lookup(&o);
}
