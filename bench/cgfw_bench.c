// SPDX-License-Identifier: GPL-2.0-only
/*
 * cgfw_bench: what cgfw's cgroup datapath costs per packet (the verdict cost
 * of issue 9), what its maps cost in kernel memory and how long a rule set
 * takes to load, for named rule sets from 1 rule to 1,000,000.
 *
 *   cgfw_bench lookup [--sets SET,SET,...] [--rounds R] [--repeat N]
 *                     [--insert K] [--json FILE] [--dat FILE]
 *   cgfw_bench genrules cgfw|iptables|ip6tables|nft SET FILE
 *
 * SET names a rule set (every set holds the two HIT rules, deny
 * 198.51.100.7/32 and 2001:db8:1::7/128):
 *   1             those two rules alone (one per family);
 *   hosts:N       N host addresses (/32 and /128), 3 IPv4 per IPv6;
 *   lengths:N     N prefixes spread evenly over every length, IPv4 /8-/32 and
 *                 IPv6 /16-/128, 3 IPv4 per IPv6; a length gets no more
 *                 prefixes than it holds (the shortest are then full);
 *   realK:N       N prefixes shaped like published blocklists (FireHOL-style):
 *                 IPv4 (95%) over K distinct lengths (1-27) in the proportions
 *                 of list4_len/list4_w below (/32 ~78-81%, /24 ~11%, /16 2.5%,
 *                 /22 1.8%, /20 1.4%, ...), IPv6 (5%) over /128 60%, /64 20%,
 *                 /48 15%, /32 5%.
 *   A bare N (genrules) is hosts:N.
 *
 * Generation is deterministic and free of duplicates: the prefixes of length
 * L are the values 0, 1, 2, ... of a bijection on L bits (IPv6: on the L-3
 * bits below 2000::/3) shifted into place, skipping any that overlaps
 * 203.0.0.0/16 or 2001:db8:ffff::/48, kept free for the MISS packets
 * (203.0.113.99, 2001:db8:ffff::99) and the seen-IP bench's fresh addresses.
 * They are map keys only: nothing here sends a packet.
 *
 * lookup loads every set at once, each with its own pin root under
 * $CGFW_BPFFS_ROOT (made unique if unset) and a cgroup that exists only as an
 * id, loads it through libcgfw (cgfw_rules_update, timed) and into a plain
 * BPF LPM trie per family, and times with BPF_PROG_RUN (the kernel's own
 * per-run duration) cgfw's egress program, the LPM-trie program and an empty
 * program on a HIT packet (must return 0) and a MISS packet (must return 1),
 * in interleaved rounds. Every verdict is checked before anything is timed;
 * a wrong one aborts the run. It prints the targets with PASS/MISS
 * (never failing on them), the kernel memory of cgfw's maps (fdinfo memlock,
 * the live inner rule-set map included) and the load times.
 *
 * genrules writes a set for the rule-loading comparison in run.sh: an
 * address list for `cgfw block --from-file`, iptables-restore and
 * ip6tables-restore input, or an `nft -f` script. It prints the number of
 * rules written.
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
#include <cgfw/ruleset_map.h>

#include "bench_maps.h"
#include "pkt.h"
#include "cgfw_cgroup.skel.h"
#include "bench_empty.skel.h"
#include "bench_lpm.skel.h"

#define BENCH_CGID 0xcafe0001ull /* fake cgroup id baked into the program */

#ifndef ENOTSUPP
#define ENOTSUPP 524 /* the kernel's internal "not supported", seen by user space */
#endif

#define MAX_SETS 16
/* Rules per set, at most (the LPM tries hold BENCH_LPM_MAX a family). */
#define MAX_RULES 2000000

/* The targets (reported, never enforced). */
#define TGT_RATIO    1.5  /* (a) a set's cost, net of empty, over the 1-rule cost */
#define TGT_SINGLE   70.0 /* (c) the 1-rule cost net of empty, ns */
#define TGT_FIXED_MB 75.0 /* memory: fixed MiB ... */
#define TGT_PER_RULE 96.0 /* ... plus bytes per rule */

/* ---- rule sets ---------------------------------------------------------------------- */

typedef unsigned __int128 u128;

enum set_kind { S_ONE, S_HOSTS, S_LENGTHS, S_REAL };

struct setspec {
	enum set_kind kind;
	size_t n;      /* rules in all, both families, the HIT rules included */
	int k;	       /* S_REAL: distinct IPv4 prefix lengths */
	char name[32]; /* canonical: "1", "hosts:10000", "real19:100000" */
};

static const char *const HIT_ADDR[2] = { "198.51.100.7", "2001:db8:1::7" };
static const char *const MISS_ADDR[2] = { "203.0.113.99", "2001:db8:ffff::99" };
/* No generated prefix overlaps these: the MISS packets and the fresh seen-IP addresses. */
static const char *const KEEP_PFX[2] = { "203.0.0.0/16", "2001:db8:ffff::/48" };

/*
 * Published blocklists (FireHOL level 1-3, Spamhaus DROP/EDROP, DShield,
 * abuse.ch) are mostly host addresses, then /24, then a long tail; lengths in
 * the order of their share, weights in per mille (as bench/lpm/lpm_bench.c).
 * A realK set takes the first K. Short lengths (< /16) are capped at an
 * eighth of what the length holds: lists block a few /8s, not most of them.
 */
static const int list4_len[27] = { 32, 24, 16, 22, 20, 23, 21, 19, 18, 17, 28, 29, 30, 27,
				   26, 25, 15, 14, 13, 12, 31, 11, 10, 9,  8,  7,  6 };
static const int list4_w[27] = { 780, 110, 25, 18, 14, 12, 9, 7, 5, 4, 3, 3, 2, 2,
				 2,   2,   1,  1,  1,  1,  1, 1, 1, 1, 1, 1, 1 };
static const int list6_len[4] = { 128, 64, 48, 32 };
static const int list6_w[4] = { 600, 200, 150, 50 };

static int fam_width(int fam)
{
	return fam ? 128 : 32;
}

/* Left-aligned 128-bit form of a prefix's address (IPv4 in the top 32 bits). */
static u128 pfx_u128(const struct cgfw_prefix *p)
{
	u128 a = 0;

	for (int i = 0; i < (p->family == CGFW_FAMILY_INET ? 4 : 16); i++)
		a |= (u128)p->addr[i] << (120 - 8 * i);
	return a;
}

static void u128_pfx(u128 a, int fam, int len, struct cgfw_prefix *p)
{
	memset(p, 0, sizeof(*p));
	p->family = fam ? CGFW_FAMILY_INET6 : CGFW_FAMILY_INET;
	p->len = (uint8_t)len;
	for (int i = 0; i < (fam ? 16 : 4); i++)
		p->addr[i] = (uint8_t)(a >> (120 - 8 * i));
}

static void parse_fixed(const char *s, struct cgfw_prefix *p)
{
	if (cgfw_parse_prefix(s, p) < 0)
		abort(); /* the tables above are wrong */
}

/* A bijection on @bits bits: multiply by an odd constant, xorshift, multiply again. */
static u128 bij(u128 x, int bits)
{
	const u128 c1 = ((u128)0x9e3779b97f4a7c15ull << 64) | 0xf39cc0605cedc835ull;
	const u128 c2 = ((u128)0xbf58476d1ce4e5b9ull << 64) | 0x94d049bb133111ebull;
	u128 m = bits >= 128 ? ~(u128)0 : (((u128)1 << bits) - 1);

	x = (x * c1) & m;
	x ^= x >> ((bits + 1) / 2);
	return (x * c2) & m;
}

static uint64_t pow2_sat(int b)
{
	return b >= 63 ? UINT64_MAX / 4 : 1ull << b;
}

/* Values of length @len that overlap the kept prefix (never generated). */
static uint64_t kept_at(int fam, int len)
{
	int kl = fam ? 48 : 16;

	return len <= kl ? 1 : pow2_sat(len - kl);
}

/* How many prefixes of length @len the generator can make. */
static uint64_t capacity(int fam, int len)
{
	int bits = fam ? len - 3 : len;
	uint64_t all = pow2_sat(bits), k = kept_at(fam, len) + (len == fam_width(fam));

	return bits >= 63 ? all : all > k ? all - k : 0;
}

/* Rules per prefix length of one family, the HIT rule not counted. */
struct plan {
	size_t cnt[129];
};

static int plan_family(const struct setspec *s, int fam, size_t t, struct plan *pl)
{
	int w = fam_width(fam);

	memset(pl, 0, sizeof(*pl));
	switch (s->kind) {
	case S_ONE:
		return 0;
	case S_HOSTS:
		pl->cnt[w] = t;
		return 0;
	case S_LENGTHS: {
		/* Evenly, a length that holds fewer giving its share to the longer ones. */
		int lo = fam ? 16 : 8;
		size_t rem = t;

		for (int l = lo; l <= w; l++) {
			size_t share = l == w ? rem : rem / (size_t)(w - l + 1);
			uint64_t cap = capacity(fam, l);

			pl->cnt[l] = share < cap ? share : (size_t)cap;
			rem -= pl->cnt[l];
		}
		return rem ? -ERANGE : 0;
	}
	case S_REAL: {
		const int *lens = fam ? list6_len : list4_len, *wt = fam ? list6_w : list4_w;
		int k = fam ? 4 : s->k, sum = 0;
		size_t used = 0;

		for (int i = 0; i < k; i++)
			sum += wt[i];
		for (int i = 0; i < k; i++) {
			int l = lens[i];
			size_t c = t * (size_t)wt[i] / (size_t)sum;
			uint64_t cap = capacity(fam, l);

			if (l < 16 && cap > (1ull << l) / 8)
				cap = (1ull << l) / 8;
			if (c < 1)
				c = 1;
			if (c > cap)
				c = (size_t)cap;
			pl->cnt[l] = c;
			used += c;
		}
		/* What rounding and the caps left goes to the hosts (lens[0]). */
		if (used > t && pl->cnt[lens[0]] <= used - t)
			return -ERANGE; /* too few rules for K lengths */
		pl->cnt[lens[0]] = pl->cnt[lens[0]] + t - used;
		return 0;
	}
	}
	return -EINVAL;
}

/* Rules of each family in the set, the HIT rule included. */
static void set_split(const struct setspec *s, size_t *n4, size_t *n6)
{
	if (s->kind == S_ONE) {
		*n4 = *n6 = 1;
		return;
	}
	*n6 = s->kind == S_REAL ? s->n / 20 : s->n / 4;
	if (*n6 < 1)
		*n6 = 1;
	*n4 = s->n - *n6;
}

/* @cnt prefixes of length @len, appended at out[*pos]. */
static int gen_len(int fam, int len, size_t cnt, struct cgfw_prefix *out, size_t *pos)
{
	struct cgfw_prefix hit, keep;
	int bits = fam ? len - 3 : len, w = fam_width(fam);
	u128 top = fam ? (u128)1 << bits : 0, hita, keepa;
	/* Among cnt + kept + 2 distinct values at least cnt are usable. */
	uint64_t lim = pow2_sat(bits), bound = (uint64_t)cnt + kept_at(fam, len) + 2;
	size_t got = 0;

	parse_fixed(HIT_ADDR[fam], &hit);
	parse_fixed(KEEP_PFX[fam], &keep);
	hita = pfx_u128(&hit);
	keepa = pfx_u128(&keep);
	if (bound < lim)
		lim = bound;
	for (uint64_t k = 0; got < cnt && k < lim; k++) {
		u128 a = (top | bij(k, bits)) << (128 - len);
		int m = len < keep.len ? len : keep.len;

		if (!((a ^ keepa) >> (128 - m)))
			continue; /* overlaps the kept prefix */
		if (len == w && a == hita)
			continue; /* the HIT rule, already in */
		u128_pfx(a, fam, len, &out[(*pos)++]);
		got++;
	}
	return got == cnt ? 0 : -ERANGE;
}

/*
 * The rules of set @s: HIT4, HIT6, then IPv4 and IPv6 by length. @ret_lens
 * (may be NULL) gets the plans.
 */
static int gen_set(const struct setspec *s, struct cgfw_prefix **ret, size_t *ret_n,
		   struct plan *ret_plans)
{
	struct plan pl[2];
	size_t nf[2], n, pos = 0;
	struct cgfw_prefix *p;
	int err;

	set_split(s, &nf[0], &nf[1]);
	n = nf[0] + nf[1];
	for (int f = 0; f < 2; f++) {
		err = plan_family(s, f, nf[f] - 1, &pl[f]);
		if (err) {
			fprintf(stderr, "cgfw_bench: set %s: too few rules for its shape\n",
				s->name);
			return err;
		}
	}
	p = calloc(n, sizeof(*p));
	if (!p) {
		fprintf(stderr, "cgfw_bench: out of memory for %zu rules\n", n);
		return -ENOMEM;
	}
	parse_fixed(HIT_ADDR[0], &p[pos++]);
	parse_fixed(HIT_ADDR[1], &p[pos++]);
	for (int f = 0; f < 2; f++) {
		for (int l = 0; l <= fam_width(f); l++) {
			if (!pl[f].cnt[l])
				continue;
			err = gen_len(f, l, pl[f].cnt[l], p, &pos);
			if (err) {
				fprintf(stderr, "cgfw_bench: set %s: cannot make %zu IPv%c /%d\n",
					s->name, pl[f].cnt[l], f ? '6' : '4', l);
				free(p);
				return err;
			}
		}
	}
	if (pos != n)
		abort(); /* the plan and the split disagree */
	if (ret_plans) {
		ret_plans[0] = pl[0];
		ret_plans[1] = pl[1];
		ret_plans[0].cnt[32]++; /* the HIT rules */
		ret_plans[1].cnt[128]++;
	}
	*ret = p;
	*ret_n = n;
	return 0;
}

static int parse_size(const char *s, size_t *ret)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || v > MAX_RULES)
		return -1;
	*ret = (size_t)v;
	return 0;
}

/* "1", "hosts:N", "lengths:N", "realK:N"; with @bare_hosts a bare N is hosts:N. */
static int parse_set(const char *s, bool bare_hosts, struct setspec *ret)
{
	struct setspec r = {};
	const char *colon = strchr(s, ':');
	size_t n;

	if (!strcmp(s, "1")) {
		r.kind = S_ONE;
		r.n = 2;
	} else if (!colon) {
		if (!bare_hosts || parse_size(s, &n) < 0 || n < 2)
			return -1;
		r.kind = S_HOSTS;
		r.n = n;
	} else {
		size_t klen = (size_t)(colon - s);

		if (parse_size(colon + 1, &n) < 0 || n < 2)
			return -1;
		r.n = n;
		if (klen == 5 && !strncmp(s, "hosts", 5)) {
			r.kind = S_HOSTS;
		} else if (klen == 7 && !strncmp(s, "lengths", 7)) {
			r.kind = S_LENGTHS;
		} else if (klen > 4 && !strncmp(s, "real", 4)) {
			char *end;
			long k = strtol(s + 4, &end, 10);

			if (end != colon || k < 1 || k > 27)
				return -1;
			r.kind = S_REAL;
			r.k = (int)k;
		} else {
			return -1;
		}
	}
	switch (r.kind) {
	case S_ONE:
		snprintf(r.name, sizeof(r.name), "1");
		break;
	case S_HOSTS:
		snprintf(r.name, sizeof(r.name), "hosts:%zu", r.n);
		break;
	case S_LENGTHS:
		snprintf(r.name, sizeof(r.name), "lengths:%zu", r.n);
		break;
	case S_REAL:
		snprintf(r.name, sizeof(r.name), "real%d:%zu", r.k, r.n);
		break;
	}
	*ret = r;
	return 0;
}

/* ---- small helpers ------------------------------------------------------------------ */

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

/* A set for tables: "1/family", "hosts 10k", "lengths 1M", "real19 100k". */
static const char *set_label(const struct setspec *s, char *buf, size_t len)
{
	char hb[32];
	const char *kind = s->kind == S_HOSTS ? "hosts" : s->kind == S_LENGTHS ? "lengths" : "real";

	if (s->kind == S_ONE)
		snprintf(buf, len, "1/family");
	else if (s->kind == S_REAL)
		snprintf(buf, len, "real%d %s", s->k, human(s->n, hb, sizeof(hb)));
	else
		snprintf(buf, len, "%s %s", kind, human(s->n, hb, sizeof(hb)));
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

/* What the live rule set holds, in elements (ruleset_map.h). */
struct rs_use {
	uint32_t cap;	 /* the inner map's max_entries, all allocated */
	uint32_t elems;	 /* in use (header.elems) */
	uint32_t nrules; /* of which the rule list */
	uint32_t block;	 /* of which the host scope's block: LPM image, decisions, ports */
	uint32_t ndec;	 /* decision records in that block */
};

/*
 * The live inner rule-set map of the state under @root (not among the
 * skeleton's maps): ROOT/cgfw_rs, slot 0 gives its id. Its memlock, and what
 * it holds in *ret.
 */
static long long inner_memlock(const char *root, struct rs_use *ret)
{
	struct bpf_map_info info;
	union cgfw_rs_elem hdr, sc;
	__u32 len = sizeof(info), zero = 0, id = 0, scope = CGFW_RS_SCOPE(CGFW_RS_SLOT_HOST);
	char path[256];
	long long v;
	int outer, fd;

	snprintf(path, sizeof(path), "%s/%s", root, CGFW_RS_PIN);
	outer = bpf_obj_get(path);
	if (outer < 0)
		return -1;
	if (bpf_map_lookup_elem(outer, &zero, &id) < 0) {
		close(outer);
		return -1;
	}
	close(outer);
	fd = bpf_map_get_fd_by_id(id);
	if (fd < 0)
		return -1;
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0) {
		close(fd);
		return -1;
	}
	memset(ret, 0, sizeof(*ret));
	ret->cap = info.max_entries;
	if (bpf_map_lookup_elem(fd, &zero, &hdr) == 0 && hdr.hdr.magic == CGFW_RS_MAGIC) {
		ret->elems = hdr.hdr.elems;
		ret->nrules = hdr.hdr.nrules;
	}
	if (bpf_map_lookup_elem(fd, &scope, &sc) == 0 && (sc.scope.flags & CGFW_RS_S_RULES)) {
		ret->block = sc.scope.len;
		ret->ndec = sc.scope.ndec;
	}
	v = map_memlock(fd);
	close(fd);
	return v;
}

/* ---- packets (tests/lib/pkt.h) ------------------------------------------------------ */

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

/* Fresh seen-IP address @k (< 65535): 203.0.0.0/16, which no rule touches, but the MISS. */
static void fresh4(uint32_t k, struct cgfw_prefix *p)
{
	struct cgfw_prefix miss;
	uint32_t a, m;

	parse_fixed(MISS_ADDR[0], &miss);
	m = (uint32_t)miss.addr[2] << 8 | miss.addr[3];
	a = k < m ? k : k + 1;
	parse_fixed(KEEP_PFX[0], p);
	p->len = 32;
	p->addr[2] = (uint8_t)(a >> 8);
	p->addr[3] = (uint8_t)a;
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

/* ---- the programs under test ------------------------------------------------------ */

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

static int case_index(int prog, int fam, int kind)
{
	for (size_t i = 0; i < NCASES; i++)
		if (cases[i].prog == prog && cases[i].fam == fam && cases[i].kind == kind)
			return (int)i;
	abort(); /* the table above lacks the case */
}

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = sig;
}

/* ---- maps and their memory ---------------------------------------------------------- */

#define MAX_MAPS 16
#define INNER	 "cgfw_rs inner (live)"

struct mapmem {
	char name[32];
	const char *type;
	const char *owner; /* "cgfw" or "lpm" */
	uint32_t max_entries;
	int fam;	    /* rules of which family it holds: F4, F6, F_COUNT = both, -1 = none */
	long long at0, atN; /* before and after the rules were loaded */
};

/*
 * One rule set: its own pin root, cgfw state, cgfw program and LPM program,
 * so that every set is loaded at once and measured in the same rounds.
 */
struct inst {
	char root[192];
	struct setspec spec;
	struct cgfw_state *st;
	struct cgfw_cgroup_prog *prog;
	struct cgfw_cgroup_bpf *cg; /* prog->skel */
	struct bench_lpm_bpf *lpm;
	int fd[P_COUNT];
	size_t loaded, loaded4, loaded6;
	uint32_t lens4, lens6;
	struct plan plan[F_COUNT]; /* rules per prefix length, as generated */
	double add_cgfw_s, add_lpm_s;
	struct mapmem maps[MAX_MAPS];
	size_t nmaps;
	struct rs_use rs0, rsN;	   /* the live rule set, before and after */
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

/* The maps' memlock now: at0 (before any rule) or atN. */
static void mem_read(struct inst *in, bool after)
{
	struct bpf_object *objs[2] = { in->cg->obj, in->lpm->obj };

	if (!after) {
		in->nmaps = 0;
		for (int o = 0; o < 2; o++) {
			struct bpf_map *map;

			bpf_object__for_each_map(map, objs[o])
			{
				struct mapmem *m = &in->maps[in->nmaps];

				if (bpf_map__is_internal(map) || in->nmaps == MAX_MAPS - 1)
					continue;
				snprintf(m->name, sizeof(m->name), "%s", bpf_map__name(map));
				m->type = libbpf_bpf_map_type_str(bpf_map__type(map));
				m->owner = o ? "lpm" : "cgfw";
				m->max_entries = bpf_map__max_entries(map);
				m->fam = !strcmp(m->name, "bench_lpm4") ? F4 :
					 !strcmp(m->name, "bench_lpm6") ? F6 :
									  -1;
				in->nmaps++;
			}
		}
		/* The live rule set, where cgfw's rules are. */
		snprintf(in->maps[in->nmaps].name, sizeof(in->maps[0].name), "%s", INNER);
		in->maps[in->nmaps].type = "array";
		in->maps[in->nmaps].owner = "cgfw";
		in->maps[in->nmaps].fam = F_COUNT;
		in->nmaps++;
	}
	for (size_t i = 0; i < in->nmaps; i++) {
		struct mapmem *m = &in->maps[i];
		long long v = -1;

		if (!strcmp(m->name, INNER)) {
			struct rs_use *u = after ? &in->rsN : &in->rs0;

			v = inner_memlock(in->root, u);
			m->max_entries = u->cap;
		} else {
			struct bpf_map *map = bpf_object__find_map_by_name(
				objs[strcmp(m->owner, "cgfw") ? 1 : 0], m->name);

			if (map)
				v = map_memlock(bpf_map__fd(map));
		}
		*(after ? &m->atN : &m->at0) = v;
	}
}

static long long mem_total(const struct inst *in, bool after, const char *owner)
{
	long long t = 0;

	for (size_t i = 0; i < in->nmaps; i++)
		if (!strcmp(in->maps[i].owner, owner))
			t += after ? in->maps[i].atN : in->maps[i].at0;
	return t;
}

/* cgfw's program on the pinned maps, for a cgroup that exists only as an id. */
static int prog_load(struct inst *in)
{
	int err = cgfw_cgroup_prog_load(in->st, BENCH_CGID, &in->prog);

	if (err) {
		fprintf(stderr, "cgfw_bench: %s\n", cgfw_errmsg());
		return err;
	}
	in->cg = in->prog->skel;
	in->fd[P_CGFW] = bpf_program__fd(in->cg->progs.cgfw_egress);
	return 0;
}

static void prog_unload(struct inst *in)
{
	cgfw_cgroup_prog_free(in->prog);
	in->prog = NULL;
	in->cg = NULL;
	in->fd[P_CGFW] = -1;
}

static int inst_open(struct bench *b, struct inst *in, size_t idx)
{
	struct cgfw_cgroup cg = { .id = BENCH_CGID, .rel = "cgfw-bench" };
	struct cgfw_change *c = NULL;
	int err;

	snprintf(in->root, sizeof(in->root), "%s/s%zu", b->base, idx);
	setenv("CGFW_BPFFS_ROOT", in->root, 1);
	err = cgfw_state_open(CGFW_OPEN_CREATE | CGFW_OPEN_LOCK, &in->st);
	if (err) {
		fprintf(stderr, "cgfw_bench: %s\n", cgfw_errmsg());
		return err;
	}
	err = cgfw_change_begin(in->st, &c);
	if (!err)
		err = cgfw_change_attach(c, &cg);
	if (!err)
		err = cgfw_change_commit(c);
	cgfw_change_free(c);
	if (err) {
		fprintf(stderr, "cgfw_bench: %s\n", cgfw_errmsg());
		return err;
	}
	err = prog_load(in);
	if (err)
		return err;
	in->lpm = bench_lpm_bpf__open_and_load();
	if (!in->lpm) {
		fprintf(stderr, "cgfw_bench: cannot load the LPM-trie program: %s\n",
			strerror(errno));
		return -errno;
	}
	in->fd[P_EMPTY] = b->empty_fd;
	in->fd[P_LPM] = bpf_program__fd(in->lpm->progs.bench_lpm);
	mem_read(in, false);
	/*
	 * A rule set that outgrows the inner maps' capacity gets a new cgfw_rs
	 * (ruleset.c, grow): a program loaded now would still read the old one.
	 * So the program is loaded again once the rules are in.
	 */
	prog_unload(in);
	return 0;
}

static int setup(struct bench *b, const struct setspec *sets, size_t n)
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
	for (int f = 0; f < F_COUNT; f++) {
		parse_fixed(HIT_ADDR[f], &a);
		build_pkt(&b->pkt[f][K_HIT], &a);
		parse_fixed(MISS_ADDR[f], &a);
		build_pkt(&b->pkt[f][K_MISS], &a);
	}

	b->in = calloc(n, sizeof(*b->in));
	if (!b->in)
		return -ENOMEM;
	b->nin = n;
	for (size_t i = 0; i < n; i++) {
		b->in[i].spec = sets[i];
		b->in[i].fd[P_CGFW] = -1;
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
	struct cgfw_prefix *pfx = NULL;
	struct cgfw_rule *rules = NULL;
	struct bench_lpm4_key *k4 = NULL;
	struct bench_lpm6_key *k6 = NULL;
	uint8_t *vals = NULL;
	struct cgfw_status s;
	size_t n = 0, n4 = 0, n6 = 0;
	double t0;
	int err;

	err = gen_set(&in->spec, &pfx, &n, in->plan);
	if (err)
		return err;
	rules = calloc(n, sizeof(*rules));
	k4 = calloc(n, sizeof(*k4));
	k6 = calloc(n, sizeof(*k6));
	vals = calloc(n, 1);
	if (!rules || !k4 || !k6 || !vals) {
		err = -ENOMEM;
		fprintf(stderr, "cgfw_bench: out of memory for %zu rules\n", n);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct cgfw_rule *r = &rules[i];

		r->pfx = pfx[i];
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
		fprintf(stderr, "cgfw_bench: set %s: adding %zu rules: %s\n", in->spec.name, n,
			cgfw_errmsg());
		goto out;
	}
	if ((size_t)err != n) {
		fprintf(stderr,
			"cgfw_bench: set %s: %zu rules added but only %d changed the maps\n",
			in->spec.name, n, err);
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
	err = prog_load(in);
	if (err)
		goto out;
	mem_read(in, true);
out:
	free(pfx);
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
			"cgfw_bench: %s with set %s returned %u, expected %u (%s): the program "
			"does not parse the test packet or the rules are not loaded; the numbers "
			"would be meaningless\n",
			name, in->spec.name, got, want, want ? "pass" : "drop");
		return -EPROTO;
	}
	return 0;
}

/* ---- the lookup benchmark ------------------------------------------------------------ */

static void fmt_cell(const struct stat3 *s, char *buf, size_t n)
{
	snprintf(buf, n, "%.0f [%.0f–%.0f]", s->median, s->min, s->max);
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
	struct setspec sets[MAX_SETS];
	size_t nsets;
	unsigned rounds, repeat, insert;
	const char *json, *dat;
};

/* The set the targets are relative to: "1" if listed, else the first. */
static const struct inst *ref_inst(const struct bench *b)
{
	for (size_t i = 0; i < b->nin; i++)
		if (b->in[i].spec.kind == S_ONE)
			return &b->in[i];
	return &b->in[0];
}

/* The set the seen-IP bench runs on: the first with the most rules. */
static struct inst *big_inst(struct bench *b)
{
	struct inst *r = &b->in[0];

	for (size_t i = 1; i < b->nin; i++)
		if (b->in[i].loaded > r->loaded)
			r = &b->in[i];
	return r;
}

/* Median of @prog on (@f, @k) net of the empty program in the same set. */
static double net_ns(const struct inst *in, int prog, int f, int k)
{
	return in->res[case_index(prog, f, k)].median -
	       in->res[case_index(P_EMPTY, f, K_NONE)].median;
}

struct target {
	double net, ref, ratio, added, lpm;
	bool a, b;
};

static struct target target_of(const struct inst *in, const struct inst *ref, int f, int k)
{
	struct target t;

	t.net = net_ns(in, P_CGFW, f, k);
	t.ref = net_ns(ref, P_CGFW, f, k);
	t.ratio = t.ref > 0 ? t.net / t.ref : 0;
	t.added = t.net - t.ref;
	t.lpm = net_ns(in, P_LPM, f, k);
	t.a = t.ref > 0 && t.ratio <= TGT_RATIO;
	t.b = t.added <= t.lpm;
	return t;
}

static const char *pm(bool pass)
{
	return pass ? "PASS" : "MISS";
}

/* The shape of one family of a set: its lengths with their shares. */
static void shape(const struct inst *in, int f, char *buf, size_t n)
{
	const struct plan *pl = &in->plan[f];
	size_t tot = f ? in->loaded6 : in->loaded4, shown = 0, off = 0, used = 0;
	int lens = 0, order[129];

	for (int l = 0; l <= 128; l++)
		if (pl->cnt[l])
			order[lens++] = l;
	/* Largest share first (insertion sort: at most 129). */
	for (int i = 1; i < lens; i++)
		for (int j = i; j > 0 && pl->cnt[order[j]] > pl->cnt[order[j - 1]]; j--) {
			int t = order[j];

			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	buf[0] = 0;
	if (lens > 8 && in->spec.kind == S_LENGTHS) {
		int lo = 128, hi = 0;
		size_t mn = SIZE_MAX, mx = 0;

		for (int i = 0; i < lens; i++) {
			lo = order[i] < lo ? order[i] : lo;
			hi = order[i] > hi ? order[i] : hi;
			mn = pl->cnt[order[i]] < mn ? pl->cnt[order[i]] : mn;
			mx = pl->cnt[order[i]] > mx ? pl->cnt[order[i]] : mx;
		}
		snprintf(buf, n, "every length /%d–/%d, %zu–%zu each", lo, hi, mn, mx);
		return;
	}
	for (int i = 0; i < lens && off < n; i++) {
		if (shown == 6 && lens > 7) {
			snprintf(buf + off, n - off, ", %d more %.1f%%", lens - 6,
				 100.0 * (double)(tot - used) / (double)tot);
			return;
		}
		off += (size_t)snprintf(buf + off, n - off, "%s/%d %.1f%%", shown ? ", " : "",
					order[i], 100.0 * (double)pl->cnt[order[i]] / (double)tot);
		used += pl->cnt[order[i]];
		shown++;
	}
}

/* The seen-IP record: a fresh address inserts, a known one updates in place. */
struct seen_result {
	const struct inst *on;
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

	ret->on = in;
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

			fresh4(r * per + k, &a);
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

static void print_sets(const struct bench *b)
{
	char lb[48], s4[160], s6[160];

	printf("### Rule sets\n\n");
	printf("All deny, host-wide scope, both directions, plus the two HIT rules (%s/32, "
	       "%s/128). Prefixes of length L are the first values of a bijection on L bits "
	       "(IPv6: below 2000::/3) shifted into place, skipping any that overlaps %s or %s "
	       "(the MISS packets go to %s and %s). realK: the first K IPv4 lengths of "
	       "/32 /24 /16 /22 /20 /23 /21 /19 /18 /17 /28 /29 /30 /27 /26 /25 /15 /14 /13 /12 "
	       "/31 /11 /10 /9 /8 /7 /6 weighted 780 110 25 18 14 12 9 7 5 4 3 3 2 2 2 2 then "
	       "1 each (per mille, as FireHOL-style lists; lengths under /16 capped at an eighth "
	       "of their space), IPv6 5%% of the set over /128 /64 /48 /32 weighted 60 20 15 "
	       "5.\n\n",
	       HIT_ADDR[0], HIT_ADDR[1], KEEP_PFX[0], KEEP_PFX[1], MISS_ADDR[0], MISS_ADDR[1]);
	printf("| set | IPv4 rules | IPv4 lengths | IPv4 shape | IPv6 rules | IPv6 lengths | IPv6 "
	       "shape |\n|---|---:|---:|---|---:|---:|---|\n");
	for (size_t i = 0; i < b->nin; i++) {
		const struct inst *in = &b->in[i];

		shape(in, F4, s4, sizeof(s4));
		shape(in, F6, s6, sizeof(s6));
		printf("| %s | %zu | %u | %s | %zu | %u | %s |\n",
		       set_label(&in->spec, lb, sizeof(lb)), in->loaded4, in->lens4, s4,
		       in->loaded6, in->lens6, s6);
	}
}

static void print_cost(const struct bench *b, const struct opts *o)
{
	char lb[48];

	printf("\n### Datapath cost per packet (cgroup egress, BPF_PROG_RUN)\n\n");
	printf("ns per packet, median of %u rounds of %u runs [min–max]; every program and rule "
	       "set is loaded at once and the rounds interleave them, the same case in each set "
	       "back to back. HIT: the destination matches a deny rule (verdict drop, checked); "
	       "MISS: no rule matches (verdict pass, checked). The LPM trie is one "
	       "BPF_MAP_TYPE_LPM_TRIE per family holding the same rules, read with "
	       "bpf_skb_load_bytes.\n\n",
	       o->rounds, o->repeat);
	printf("| set | family | rules | prefix lengths | empty program | LPM trie hit | LPM trie "
	       "miss | cgfw hit | cgfw miss |\n");
	printf("|---|---|---:|---:|---:|---:|---:|---:|---:|\n");
	for (size_t ci = 0; ci < b->nin; ci++) {
		const struct inst *p = &b->in[ci];

		for (int f = 0; f < F_COUNT; f++) {
			char cell[5][48];
			int idx[5] = { case_index(P_EMPTY, f, K_NONE), case_index(P_LPM, f, K_HIT),
				       case_index(P_LPM, f, K_MISS), case_index(P_CGFW, f, K_HIT),
				       case_index(P_CGFW, f, K_MISS) };

			for (int k = 0; k < 5; k++)
				fmt_cell(&p->res[idx[k]], cell[k], sizeof(cell[k]));
			printf("| %s | IPv%c | %zu | %u | %s | %s | %s | %s | %s |\n",
			       f ? "" : set_label(&p->spec, lb, sizeof(lb)), f ? '6' : '4',
			       f ? p->loaded6 : p->loaded4, f ? p->lens6 : p->lens4, cell[0],
			       cell[1], cell[2], cell[3], cell[4]);
		}
	}
}

static void print_targets(const struct bench *b)
{
	const struct inst *ref = ref_inst(b);
	unsigned na = 0, nb = 0, nt = 0, nc = 0;
	char lb[48], rb[48];

	set_label(&ref->spec, rb, sizeof(rb));
	printf("\n### Verdict cost against the targets (issue 9)\n\n");
	printf("\"net\" is a program's median minus the empty program's in the same set and "
	       "rounds. (a) a set's cgfw cost net of empty is at most %.1f× the %s cost; (b) what "
	       "a set adds over %s is no more than the whole cost of the LPM trie holding it, net "
	       "of empty; (c) the %s cost net of empty is at most %.0f ns. Reported, not "
	       "enforced.\n\n",
	       TGT_RATIO, rb, rb, rb, TGT_SINGLE);
	printf("| set | case | cgfw net | × %s | (a) ≤ %.1f× | added over %s | LPM trie net | "
	       "(b) added ≤ trie |\n|---|---|---:|---:|---|---:|---:|---|\n",
	       rb, TGT_RATIO, rb);
	for (size_t i = 0; i < b->nin; i++) {
		const struct inst *in = &b->in[i];

		if (in == ref)
			continue;
		for (int f = 0; f < F_COUNT; f++)
			for (int k = K_HIT; k <= K_MISS; k++) {
				struct target t = target_of(in, ref, f, k);

				printf("| %s | IPv%c %s | %.0f | %.2f | %s | %+.0f | %.0f | %s |\n",
				       f || k ? "" : set_label(&in->spec, lb, sizeof(lb)),
				       f ? '6' : '4', kind_name[k], t.net, t.ratio, pm(t.a),
				       t.added, t.lpm, pm(t.b));
				na += t.a;
				nb += t.b;
				nt++;
			}
	}
	printf("\n| case | cgfw net, %s | (c) target | (c) |\n|---|---:|---:|---|\n", rb);
	for (int f = 0; f < F_COUNT; f++)
		for (int k = K_HIT; k <= K_MISS; k++) {
			double v = net_ns(ref, P_CGFW, f, k);

			printf("| IPv%c %s | %.0f | %.0f | %s |\n", f ? '6' : '4', kind_name[k], v,
			       TGT_SINGLE, pm(v <= TGT_SINGLE));
			nc += v <= TGT_SINGLE;
		}
	printf("\nPASS: (a) %u of %u, (b) %u of %u, (c) %u of 4%s.\n", na, nt, nb, nt, nc,
	       ref->spec.kind == S_ONE ? "" : " (no \"1\" set: relative to the first set)");
}

static void print_seen(const struct opts *o, const struct seen_result *seen)
{
	char buf[96], lb[48];

	printf("\n### Seen-IP record (cgfw, IPv4 MISS, set %s)\n\n",
	       set_label(&seen->on->spec, lb, sizeof(lb)));
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
}

static void print_memory(const struct bench *b)
{
	const struct inst *in = b->in, *first = &in[0];
	double fixed = (double)mem_total(first, false, "cgfw") / 1048576.0;
	char lb[48], hb[32];

	printf("\n### Kernel memory of the maps (fdinfo memlock)\n\n");
	printf("Bytes the kernel charges to each map (its own accounting, as `bpftool map show` "
	       "prints it) with no rules and with each set. `%s` is the rule set packets see "
	       "(slot 0 of cgfw_rs, an mmapable array whose whole capacity is allocated); its "
	       "capacity in elements of %d bytes is in the second table. The LPM trie's figure "
	       "counts its rule nodes only, not the intermediate nodes it adds.\n\n",
	       INNER, CGFW_RS_ELEM_SIZE);
	printf("| map | type | max entries | no rules |");
	for (size_t ci = 0; ci < b->nin; ci++)
		printf(" %s |", set_label(&in[ci].spec, lb, sizeof(lb)));
	printf("\n|---|---|---:|---:|");
	for (size_t ci = 0; ci < b->nin; ci++)
		printf("---:|");
	printf("\n");
	for (size_t m = 0; m < first->nmaps; m++) {
		const struct mapmem *mm = &first->maps[m];

		if (!strcmp(mm->name, INNER))
			printf("| %s | %s | per set | %lld |", mm->name, mm->type, mm->at0);
		else
			printf("| %s | %s | %u | %lld |", mm->name, mm->type, mm->max_entries,
			       mm->at0);
		for (size_t ci = 0; ci < b->nin; ci++)
			printf(" %lld |", in[ci].maps[m].atN);
		printf("\n");
	}

	printf("\nThe issue's bar: no worse than %.0f MiB fixed plus %.0f B per address rule. "
	       "Fixed: cgfw's maps with no rules, %.1f MiB (%s). Per rule: the growth over no "
	       "rules divided by the set's rules. The rule set's elements: in use (its header) / "
	       "capacity (allocated); \"in use\" B per rule is what the compiled set needs "
	       "(rule list, LPM image, decisions), without the capacity's headroom.\n\n",
	       TGT_FIXED_MB, TGT_PER_RULE, fixed, pm(fixed <= TGT_FIXED_MB));
	printf("| set | rules | rule set elements | cgfw maps | growth | B per rule | ≤ %.0f B | "
	       "total ≤ %.0f MiB + %.0f B × rules | in use, B per rule | LPM tries B per rule "
	       "|\n|---|---:|---:|---:|---:|---:|---|---|---:|---:|\n",
	       TGT_PER_RULE, TGT_FIXED_MB, TGT_PER_RULE);
	for (size_t ci = 0; ci < b->nin; ci++) {
		const struct inst *p = &in[ci];
		long long t0 = mem_total(p, false, "cgfw"), tn = mem_total(p, true, "cgfw");
		long long l0 = mem_total(p, false, "lpm"), ln = mem_total(p, true, "lpm");
		double per = (double)(tn - t0) / (double)p->loaded;
		double bar = TGT_FIXED_MB * 1048576.0 + TGT_PER_RULE * (double)p->loaded;

		printf("| %s | %s | %u / %u | %.1f MiB | %.1f MiB | %.1f | %s | %s | %.1f | %.1f |\n",
		       set_label(&p->spec, lb, sizeof(lb)), human(p->loaded, hb, sizeof(hb)),
		       p->rsN.elems, p->rsN.cap, (double)tn / 1048576.0,
		       (double)(tn - t0) / 1048576.0, per, pm(per <= TGT_PER_RULE),
		       pm((double)tn <= bar),
		       (double)((long long)p->rsN.elems - p->rs0.elems) * CGFW_RS_ELEM_SIZE /
			       (double)p->loaded,
		       (double)(ln - l0) / (double)p->loaded);
	}

	printf("\nWhere the rule set's elements go (%d bytes each): the rule list (one element a "
	       "rule, read back by user space), the host scope's block (its LPM image for both "
	       "families, decision records, port entries), the rest (header, scopes), and the "
	       "capacity left free (a new set doubles the capacity until it has a quarter "
	       "spare).\n\n",
	       CGFW_RS_ELEM_SIZE);
	printf("| set | rules | rule list | host scope block | block B per rule | decisions | other | "
	       "free capacity |\n|---|---:|---:|---:|---:|---:|---:|---:|\n");
	for (size_t ci = 0; ci < b->nin; ci++) {
		const struct inst *p = &in[ci];
		const struct rs_use *u = &p->rsN;

		printf("| %s | %zu | %u | %u | %.1f | %u | %u | %u (%.0f%%) |\n",
		       set_label(&p->spec, lb, sizeof(lb)), p->loaded, u->nrules, u->block,
		       (double)u->block * CGFW_RS_ELEM_SIZE / (double)p->loaded, u->ndec,
		       u->elems - u->nrules - u->block, u->cap - u->elems,
		       u->cap ? 100.0 * (u->cap - u->elems) / u->cap : 0);
	}
}

static void print_load(const struct bench *b)
{
	char lb[48];

	printf("\n### Rule-set load time (libcgfw)\n\n");
	printf("Wall time of one cgfw_rules_update() with the whole set into an empty rule set "
	       "(compile, new inner map, switch), no parsing; beside it the LPM tries' batch "
	       "updates of the same rules.\n\n");
	printf("| set | rules | cgfw_rules_update | rules/s | LPM tries |\n|---|---:|---:|---:|---:|\n");
	for (size_t ci = 0; ci < b->nin; ci++) {
		const struct inst *p = &b->in[ci];

		double rate = p->add_cgfw_s > 0 ? (double)p->loaded / p->add_cgfw_s : 0;

		printf("| %s | %zu | %.3f s | %.*f%s | %.3f s |\n",
		       set_label(&p->spec, lb, sizeof(lb)), p->loaded, p->add_cgfw_s,
		       rate >= 1e6 ? 2 : 0,
		       rate >= 1e6 ? rate / 1e6 :
		       rate >= 1e3 ? rate / 1e3 :
				     rate,
		       rate >= 1e6 ? "M" :
		       rate >= 1e3 ? "k" :
				     "",
		       p->add_lpm_s);
	}
}

static json_t *target_json(const struct target *t)
{
	json_t *o = json_object();

	json_object_set_new(o, "cgfw_net_ns", json_real(t->net));
	json_object_set_new(o, "ratio", json_real(t->ratio));
	json_object_set_new(o, "a_pass", json_boolean(t->a));
	json_object_set_new(o, "added_ns", json_real(t->added));
	json_object_set_new(o, "lpm_net_ns", json_real(t->lpm));
	json_object_set_new(o, "b_pass", json_boolean(t->b));
	return o;
}

static json_t *plan_json(const struct plan *pl)
{
	json_t *o = json_object();
	char k[8];

	for (int l = 0; l <= 128; l++)
		if (pl->cnt[l]) {
			snprintf(k, sizeof(k), "%d", l);
			json_object_set_new(o, k, json_integer((json_int_t)pl->cnt[l]));
		}
	return o;
}

static int write_json(const struct bench *b, const struct opts *o, const struct seen_result *seen)
{
	const struct inst *in = b->in, *ref = ref_inst(b);
	json_t *root = json_object(), *cfg = json_object(), *pts = json_array();
	json_t *tg = json_object(), *tgs = json_array(), *tsingle = json_object();
	json_t *jm = json_array(), *jms = json_array(), *js = json_object(), *names;
	double fixed = (double)mem_total(&in[0], false, "cgfw");
	char buf[96];
	int err = 0;

	json_object_set_new(cfg, "rounds", json_integer(o->rounds));
	json_object_set_new(cfg, "repeat", json_integer(o->repeat));
	json_object_set_new(cfg, "insert_packets", json_integer(o->insert));
	names = json_array();
	for (size_t ci = 0; ci < b->nin; ci++)
		json_array_append_new(names, json_string(in[ci].spec.name));
	json_object_set_new(cfg, "sets", names);
	json_object_set_new(cfg, "hit", json_pack("[ss]", HIT_ADDR[0], HIT_ADDR[1]));
	json_object_set_new(cfg, "miss", json_pack("[ss]", MISS_ADDR[0], MISS_ADDR[1]));
	json_object_set_new(root, "config", cfg);
	for (size_t ci = 0; ci < b->nin; ci++) {
		const struct inst *p = &in[ci];
		json_t *jp = json_object(), *jc = json_object();

		json_object_set_new(jp, "set", json_string(p->spec.name));
		json_object_set_new(jp, "nominal", json_integer((json_int_t)p->spec.n));
		json_object_set_new(jp, "rules", json_integer((json_int_t)p->loaded));
		json_object_set_new(jp, "rules_ipv4", json_integer((json_int_t)p->loaded4));
		json_object_set_new(jp, "rules_ipv6", json_integer((json_int_t)p->loaded6));
		json_object_set_new(jp, "prefix_lengths_ipv4", json_integer(p->lens4));
		json_object_set_new(jp, "prefix_lengths_ipv6", json_integer(p->lens6));
		json_object_set_new(jp, "rules_per_length_ipv4", plan_json(&p->plan[F4]));
		json_object_set_new(jp, "rules_per_length_ipv6", plan_json(&p->plan[F6]));
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

	json_object_set_new(tg, "reference", json_string(ref->spec.name));
	json_object_set_new(tg, "ratio_max", json_real(TGT_RATIO));
	json_object_set_new(tg, "single_max_ns", json_real(TGT_SINGLE));
	for (size_t ci = 0; ci < b->nin; ci++) {
		json_t *jt;

		if (&in[ci] == ref)
			continue;
		jt = json_object();
		json_object_set_new(jt, "set", json_string(in[ci].spec.name));
		for (int f = 0; f < F_COUNT; f++)
			for (int k = K_HIT; k <= K_MISS; k++) {
				struct target t = target_of(&in[ci], ref, f, k);

				snprintf(buf, sizeof(buf), "%s_%s", fam_name[f], kind_name[k]);
				json_object_set_new(jt, buf, target_json(&t));
			}
		json_array_append_new(tgs, jt);
	}
	json_object_set_new(tg, "sets", tgs);
	for (int f = 0; f < F_COUNT; f++)
		for (int k = K_HIT; k <= K_MISS; k++) {
			double v = net_ns(ref, P_CGFW, f, k);
			json_t *e = json_object();

			json_object_set_new(e, "cgfw_net_ns", json_real(v));
			json_object_set_new(e, "c_pass", json_boolean(v <= TGT_SINGLE));
			snprintf(buf, sizeof(buf), "%s_%s", fam_name[f], kind_name[k]);
			json_object_set_new(tsingle, buf, e);
		}
	json_object_set_new(tg, "single", tsingle);
	json_object_set_new(root, "targets", tg);

	json_object_set_new(js, "set", json_string(seen->on->spec.name));
	json_object_set_new(js, "insert", stat_json(&seen->insert, seen->rounds[0], o->rounds));
	json_object_set_new(js, "update", stat_json(&seen->update, seen->rounds[1], o->rounds));
	json_object_set_new(js, "empty", stat_json(&seen->empty, seen->rounds[2], o->rounds));
	json_object_set_new(js, "records_before", json_integer((json_int_t)seen->before));
	json_object_set_new(js, "records_after", json_integer((json_int_t)seen->after));
	json_object_set_new(root, "seen", js);

	for (size_t m = 0; m < in[0].nmaps; m++) {
		const struct mapmem *mm = &in[0].maps[m];
		json_t *o1 = json_object(), *a = json_array();

		json_object_set_new(o1, "map", json_string(mm->name));
		json_object_set_new(o1, "owner", json_string(mm->owner));
		json_object_set_new(o1, "type", json_string(mm->type));
		json_object_set_new(o1, "max_entries", json_integer(mm->max_entries));
		json_object_set_new(o1, "memlock_0", json_integer(mm->at0));
		for (size_t ci = 0; ci < b->nin; ci++) {
			json_t *e = json_object();

			json_object_set_new(e, "set", json_string(in[ci].spec.name));
			json_object_set_new(e, "rules", json_integer((json_int_t)in[ci].loaded));
			json_object_set_new(e, "memlock", json_integer(in[ci].maps[m].atN));
			if (!strcmp(mm->name, INNER)) {
				json_object_set_new(e, "max_entries", json_integer(in[ci].rsN.cap));
				json_object_set_new(e, "elems_in_use",
						    json_integer(in[ci].rsN.elems));
			}
			json_array_append_new(a, e);
		}
		json_object_set_new(o1, "memlock", a);
		json_array_append_new(jm, o1);
	}
	for (size_t ci = 0; ci < b->nin; ci++) {
		const struct inst *p = &in[ci];
		long long t0 = mem_total(p, false, "cgfw"), tn = mem_total(p, true, "cgfw");
		double per = (double)(tn - t0) / (double)p->loaded;
		json_t *e = json_object();

		json_object_set_new(e, "set", json_string(p->spec.name));
		json_object_set_new(e, "rules", json_integer((json_int_t)p->loaded));
		json_object_set_new(e, "cgfw_bytes_0", json_integer(t0));
		json_object_set_new(e, "cgfw_bytes", json_integer(tn));
		json_object_set_new(e, "bytes_per_rule", json_real(per));
		json_object_set_new(e, "rule_set_elems", json_integer(p->rsN.elems));
		json_object_set_new(e, "rule_list_elems", json_integer(p->rsN.nrules));
		json_object_set_new(e, "host_block_elems", json_integer(p->rsN.block));
		json_object_set_new(e, "decisions", json_integer(p->rsN.ndec));
		json_object_set_new(e, "rule_set_capacity", json_integer(p->rsN.cap));
		json_object_set_new(e, "bytes_per_rule_in_use",
				    json_real((double)((long long)p->rsN.elems - p->rs0.elems) *
					      CGFW_RS_ELEM_SIZE / (double)p->loaded));
		json_object_set_new(e, "per_rule_pass", json_boolean(per <= TGT_PER_RULE));
		json_object_set_new(
			e, "bar_pass",
			json_boolean((double)tn <=
				     TGT_FIXED_MB * 1048576.0 + TGT_PER_RULE * (double)p->loaded));
		json_array_append_new(jms, e);
	}
	json_object_set_new(root, "memory", jm);
	json_object_set_new(root, "memory_sets", jms);
	json_object_set_new(root, "memory_fixed_bytes", json_integer((json_int_t)fixed));
	json_object_set_new(root, "memory_fixed_pass",
			    json_boolean(fixed <= TGT_FIXED_MB * 1048576.0));
	if (json_dump_file(root, o->json, JSON_INDENT(1)) < 0) {
		fprintf(stderr, "cgfw_bench: cannot write %s\n", o->json);
		err = -EIO;
	}
	json_decref(root);
	return err;
}

/* One line per set: name, rules, per-family rules and lengths, then every case's median. */
static int write_dat(const struct bench *b, const char *path)
{
	FILE *f = fopen(path, "we");
	char buf[64];

	if (!f) {
		fprintf(stderr, "cgfw_bench: cannot write %s: %s\n", path, strerror(errno));
		return -errno;
	}
	fprintf(f, "# set rules rules_ipv4 rules_ipv6 lengths_ipv4 lengths_ipv6");
	for (size_t c = 0; c < NCASES; c++) {
		case_name(&cases[c], buf, sizeof(buf));
		fprintf(f, " %s", buf);
	}
	fprintf(f, "\n");
	for (size_t ci = 0; ci < b->nin; ci++) {
		const struct inst *p = &b->in[ci];

		fprintf(f, "%s %zu %zu %zu %u %u", p->spec.name, p->loaded, p->loaded4, p->loaded6,
			p->lens4, p->lens6);
		for (size_t c = 0; c < NCASES; c++)
			fprintf(f, " %.1f", p->res[c].median);
		fprintf(f, "\n");
	}
	return fclose(f) ? -EIO : 0;
}

static int cmd_lookup(const struct opts *o)
{
	struct bench b = {};
	struct seen_result seen = {};
	size_t total;
	char lb[48];
	int err;

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	err = setup(&b, o->sets, o->nsets);
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
		fprintf(stderr,
			"cgfw_bench: %s: %zu rules loaded (cgfw %.2f s, LPM tries %.2f s)\n",
			set_label(&in->spec, lb, sizeof(lb)), in->loaded, in->add_cgfw_s,
			in->add_lpm_s);
	}
	/*
	 * Rounds: every (case, set) once per round, the same case in each set
	 * back to back, the starting point moving by one each round, so drift
	 * hits every configuration alike.
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
	err = bench_seen(&b, big_inst(&b), o, &seen);
	if (err)
		goto out;

	print_sets(&b);
	print_cost(&b, o);
	print_targets(&b);
	print_seen(o, &seen);
	print_memory(&b);
	print_load(&b);
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

/* ---- rule files for the loading comparison ------------------------------------------ */

static int cmd_genrules(const char *fmt, const struct setspec *s, const char *path)
{
	bool nft = !strcmp(fmt, "nft"), ipt = !strcmp(fmt, "iptables");
	bool ip6t = !strcmp(fmt, "ip6tables"), plain = !strcmp(fmt, "cgfw");
	struct cgfw_prefix *p = NULL;
	size_t n = 0, written = 0, chunk = 0;
	FILE *f;

	if (!nft && !ipt && !ip6t && !plain) {
		fprintf(stderr, "cgfw_bench: unknown rule file format '%s'\n", fmt);
		return 2;
	}
	if (gen_set(s, &p, &n, NULL) < 0)
		return 1;
	f = fopen(path, "we");
	if (!f) {
		fprintf(stderr, "cgfw_bench: cannot write %s: %s\n", path, strerror(errno));
		free(p);
		return 1;
	}
	if (ipt || ip6t)
		fprintf(f, "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n"
			   ":OUTPUT ACCEPT [0:0]\n");
	if (nft)
		/* Host addresses in hash sets, prefixes in interval sets: nft's own best
		 * layout for a large blocklist, and cgfw's split too. Nested prefixes
		 * (the lengths and real sets have them) need auto-merge. */
		fprintf(f, "table inet cgfwbench {\n"
			   "\tset host4 { type ipv4_addr; }\n"
			   "\tset net4 { type ipv4_addr; flags interval; auto-merge; }\n"
			   "\tset host6 { type ipv6_addr; }\n"
			   "\tset net6 { type ipv6_addr; flags interval; auto-merge; }\n"
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
			char a[CGFW_ADDRSTRLEN];
			bool v4 = p[i].family == CGFW_FAMILY_INET;
			bool host = p[i].len == (v4 ? 32 : 128);

			if ((ipt && !v4) || (ip6t && v4))
				continue;
			if (nft && pass != (v4 ? 0 : 2) + !host)
				continue;
			cgfw_format_prefix(&p[i], a, sizeof(a));
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
	free(p);
	if (fclose(f) != 0) {
		fprintf(stderr, "cgfw_bench: cannot write %s: %s\n", path, strerror(errno));
		return 1;
	}
	printf("%zu\n", written);
	return 0;
}

/* ---- main ------------------------------------------------------------------------ */

#define SETS_FULL                                                                              \
	"1,hosts:10000,hosts:100000,hosts:1000000,lengths:1000000,real7:100000,real19:100000," \
	"real27:100000"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: cgfw_bench lookup [--sets SET,SET,...] [--rounds R] [--repeat N]\n"
		"                         [--insert K] [--json FILE] [--dat FILE]\n"
		"       cgfw_bench genrules cgfw|iptables|ip6tables|nft SET FILE\n"
		"SET: 1 | hosts:N | lengths:N | realK:N (K 1-27), N up to %d; genrules also takes\n"
		"a bare N (hosts:N). Default sets: %s\n",
		MAX_RULES, SETS_FULL);
}

static int parse_sets(const char *arg, struct opts *o)
{
	char *dup = strdup(arg), *save = NULL, *tok;
	int err = 0;

	if (!dup)
		return -ENOMEM;
	o->nsets = 0;
	for (tok = strtok_r(dup, ",", &save); tok && !err; tok = strtok_r(NULL, ",", &save)) {
		if (o->nsets == MAX_SETS || parse_set(tok, false, &o->sets[o->nsets]) < 0) {
			fprintf(stderr,
				"cgfw_bench: --sets: '%s': expected up to %d of 1, hosts:N, "
				"lengths:N, realK:N (K 1-27, N 2-%d)\n",
				tok, MAX_SETS, MAX_RULES);
			err = -EINVAL;
			break;
		}
		for (size_t i = 0; i < o->nsets; i++)
			if (!strcmp(o->sets[i].name, o->sets[o->nsets].name)) {
				fprintf(stderr, "cgfw_bench: --sets: %s twice\n", tok);
				err = -EINVAL;
			}
		o->nsets++;
	}
	free(dup);
	if (!err && !o->nsets) {
		fprintf(stderr, "cgfw_bench: --sets is empty\n");
		err = -EINVAL;
	}
	return err;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "sets", required_argument, NULL, 's' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "repeat", required_argument, NULL, 'n' },
		{ "insert", required_argument, NULL, 'i' },
		{ "json", required_argument, NULL, 'j' },
		{ "dat", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { .rounds = 7, .repeat = 200000, .insert = 20000 };
	struct setspec s;
	size_t v;
	int c;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "genrules")) {
		if (argc != 5 || parse_set(argv[3], true, &s) < 0) {
			usage(stderr);
			return 2;
		}
		return cmd_genrules(argv[2], &s, argv[4]);
	}
	if (strcmp(argv[1], "lookup")) {
		usage(stderr);
		return 2;
	}
	if (parse_sets(SETS_FULL, &o) < 0)
		return 1;
	optind = 2;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 's':
			if (parse_sets(optarg, &o) < 0)
				return 2;
			break;
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
