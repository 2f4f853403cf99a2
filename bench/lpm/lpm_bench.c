// SPDX-License-Identifier: GPL-2.0-only
/*
 * LPM micro-benchmark: what one longest-prefix-match lookup costs in the
 * kernel, measured with BPF_PROG_RUN net of an empty program, for the cgfw
 * LPM image (lib/lpm, bpf/include/cgfw_lpm.h) reached two ways (a slot of an
 * ARRAY_OF_MAPS, or one half of a global A/B array) beside one plain
 * BPF_MAP_TYPE_LPM_TRIE holding the same prefixes, in the same run.
 *
 *   lpm_bench [--rounds R] [--repeat N] [--list-size N] [--max-seconds S]
 *             [--smoke] [--primitives]
 *
 * Sets, per family: 1 prefix; 10k, 100k, 1M host addresses; 1M prefixes of
 * every length (IPv4 8-32, IPv6 16-128, uniform); three sets shaped like
 * published blocklists with 7, 19 and 27 distinct lengths (mostly hosts,
 * then /24, /16, /22, /20, ... for IPv4; /64, /48, /32, ... for IPv6).
 * Probes: "hit" (inside a random member), "miss" (an address no prefix
 * holds, when there is one), "deep" (the member address whose walk reads
 * the most elements), and "mix" (256 different addresses per run, half
 * hits, so the figure includes cache and TLB misses; per lookup).
 *
 * Every figure is the median over R interleaved rounds of N runs, in ns per
 * lookup net of the empty program. Every verdict is checked against the
 * user-space lookup first; a wrong one fails the benchmark. Memory is the
 * image's bytes per prefix and the trie's own accounting (fdinfo memlock).
 *
 * --primitives measures the building blocks instead (docs/LPM.md, table 1).
 *
 * Needs root (CAP_BPF, CAP_SYS_ADMIN); exits 77 otherwise. Sends nothing:
 * packets exist only as BPF_PROG_RUN input.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <sys/mman.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <cgfw/lpm.h>

#include "lpm_bench.h"
#include "lpm_bench.skel.h"
#include "lpm_prim.skel.h"

/* The datapath's walk again, counting the elements it reads. */
struct cview {
	const struct cgfw_lpm_elem *e;
	size_t n;
	unsigned int reads;
};
#define CGFW_LPM_CTX_T	    struct cview *
#define CGFW_LPM_ELEM(v, i) ((v)->reads++, (size_t)(i) < (v)->n ? &(v)->e[(i)] : NULL)
#include "cgfw_lpm.h"

struct opts {
	unsigned int rounds, repeat, list_size;
	double max_seconds;
	int smoke, primitives;
};

static double t0;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t rnd_state = 0x1234567887654321ull;

static uint64_t rnd(void)
{
	rnd_state ^= rnd_state >> 12;
	rnd_state ^= rnd_state << 25;
	rnd_state ^= rnd_state >> 27;
	return rnd_state * 2685821657736338717ull;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, unsigned int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

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

/* ---- packets ------------------------------------------------------------- */

struct pkt {
	uint8_t buf[128];
	uint32_t len;
};

static uint16_t ip_csum(const void *hdr, size_t len)
{
	const uint16_t *w = hdr;
	uint32_t sum = 0;

	for (size_t i = 0; i < len / 2; i++)
		sum += w[i];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* A UDP packet from a documentation address to @dst (BPF_PROG_RUN input only). */
static void build_pkt(struct pkt *p, int six, const uint8_t *dst)
{
	static const uint8_t src6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	struct ethhdr *eth = (struct ethhdr *)p->buf;
	struct udphdr *udp;

	memset(p, 0, sizeof(*p));
	if (!six) {
		struct iphdr *ip = (struct iphdr *)(p->buf + ETH_HLEN);

		eth->h_proto = htons(ETH_P_IP);
		ip->version = 4;
		ip->ihl = 5;
		ip->tot_len = htons(sizeof(*ip) + sizeof(*udp) + 16);
		ip->ttl = 64;
		ip->protocol = IPPROTO_UDP;
		ip->saddr = htonl(0xc0000201); /* 192.0.2.1 */
		memcpy(&ip->daddr, dst, 4);
		ip->check = ip_csum(ip, sizeof(*ip));
		udp = (struct udphdr *)(ip + 1);
		p->len = ETH_HLEN + sizeof(*ip) + sizeof(*udp) + 16;
	} else {
		struct ipv6hdr *ip6 = (struct ipv6hdr *)(p->buf + ETH_HLEN);

		eth->h_proto = htons(ETH_P_IPV6);
		ip6->version = 6;
		ip6->payload_len = htons(sizeof(*udp) + 16);
		ip6->nexthdr = IPPROTO_UDP;
		ip6->hop_limit = 64;
		memcpy(&ip6->saddr, src6, 16);
		memcpy(&ip6->daddr, dst, 16);
		udp = (struct udphdr *)(ip6 + 1);
		p->len = ETH_HLEN + sizeof(*ip6) + sizeof(*udp) + 16;
	}
	udp->source = htons(40000);
	udp->dest = htons(53);
	udp->len = htons(sizeof(*udp) + 16);
}

static int prog_run(int fd, const void *data, uint32_t len, unsigned int repeat, double *ret_ns,
		    uint32_t *ret_val)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = data, .data_size_in = len, .repeat = repeat);

	if (bpf_prog_test_run_opts(fd, &o) < 0)
		return -errno;
	if (ret_ns)
		*ret_ns = o.duration;
	if (ret_val)
		*ret_val = o.retval;
	return 0;
}

/* ---- rule sets -------------------------------------------------------------- */

enum kind { K_ONE, K_HOSTS, K_ALL, K_LIST };

struct bset {
	const char *name;
	enum kind kind;
	size_t n;
	int nlens;
};

/*
 * Lengths in the order of their share in published blocklists, with weights
 * in per mille; a set with K lengths takes the first K.
 */
static const int list4_len[27] = { 32, 24, 16, 22, 20, 23, 21, 19, 18, 17, 28, 29, 30, 27,
				   26, 25, 15, 14, 13, 12, 31, 11, 10, 9,  8,  7,  6 };
static const int list4_w[27] = { 780, 110, 25, 18, 14, 12, 9, 7, 5, 4, 3, 3, 2, 2,
				 2,   2,   1,  1,  1,  1,  1, 1, 1, 1, 1, 1, 1 };
static const int list6_len[27] = { 128, 64,  48,  32,  56,  40,	 44, 36, 29, 47, 46, 45, 60, 52,
				   96,	112, 120, 124, 126, 127, 33, 34, 35, 28, 24, 20, 16 };
static const int list6_w[27] = { 600, 150, 100, 40, 30, 20, 10, 8, 6, 5, 4, 4, 3, 3,
				 2,   2,   2,	1,  1,	1,  1,	1, 1, 1, 1, 1, 1 };

static void set_addr(uint8_t *a, int six)
{
	uint64_t x = rnd(), y = rnd();

	memcpy(a, &x, 8);
	memcpy(a + 8, &y, 8);
	if (!six) {
		a[0] = (uint8_t)(1 + a[0] % 223); /* unicast space, as lists are */
		memset(a + 4, 0, 12);
	} else {
		a[0] = (uint8_t)(0x20 | (a[0] & 0x1f)); /* 2000::/3 */
	}
}

static int pick_len(const int *lens, const int *w, int k)
{
	int total = 0, r;

	for (int i = 0; i < k; i++)
		total += w[i];
	r = (int)(rnd() % (uint64_t)total);
	for (int i = 0; i < k; i++) {
		if (r < w[i])
			return lens[i];
		r -= w[i];
	}
	return lens[0];
}

static struct cgfw_lpm_entry *make_set(const struct bset *s, int six, size_t *ret_n)
{
	struct cgfw_lpm_entry *e = calloc(s->n, sizeof(*e));
	uint8_t fam = six ? CGFW_FAMILY_INET6 : CGFW_FAMILY_INET;
	int w = six ? 128 : 32;

	if (!e)
		return NULL;
	for (size_t i = 0; i < s->n; i++) {
		e[i].family = fam;
		e[i].value = (uint32_t)i + 1;
		set_addr(e[i].addr, six);
		switch (s->kind) {
		case K_ONE: /* 192.0.2.0/24, 2001:db8::/32 */
			memset(e[i].addr, 0, 16);
			if (!six) {
				memcpy(e[i].addr, (uint8_t[]){ 192, 0, 2, 0 }, 4);
				e[i].len = 24;
			} else {
				memcpy(e[i].addr, (uint8_t[]){ 0x20, 0x01, 0x0d, 0xb8 }, 4);
				e[i].len = 32;
			}
			break;
		case K_HOSTS:
			e[i].len = (uint8_t)w;
			break;
		case K_ALL:
			e[i].len = (uint8_t)(six ? 16 + rnd() % 113 : 8 + rnd() % 25);
			break;
		case K_LIST:
			e[i].len = (uint8_t)(six ? pick_len(list6_len, list6_w, s->nlens) :
						   pick_len(list4_len, list4_w, s->nlens));
			break;
		}
	}
	*ret_n = s->n;
	return e;
}

/* An address inside @e, its host bits random. */
static void inside(const struct cgfw_lpm_entry *e, int six, uint8_t *a)
{
	uint8_t r[16];

	set_addr(r, six);
	for (int i = 0; i < 16; i++) {
		int b = e->len - 8 * i;
		uint8_t m = b >= 8 ? 0xff : b <= 0 ? 0 : (uint8_t)(0xff << (8 - b));

		a[i] = (uint8_t)((e->addr[i] & m) | (r[i] & ~m));
	}
	if (!six)
		memset(a + 4, 0, 12);
}

static unsigned int reads_of(const struct cgfw_lpm_image *img, int six, const uint8_t *a)
{
	size_t n;
	struct cview v = { .e = cgfw_lpm_elems(img, &n) };
	uint64_t hi = 0, lo = 0;

	v.n = n;
	for (int i = 0; i < 8; i++) {
		hi = hi << 8 | a[i];
		lo = lo << 8 | a[8 + i];
	}
	if (six)
		cgfw_lpm_lookup6(&v, 0, CGFW_LPM_ROOT_BITS, hi, lo);
	else
		cgfw_lpm_lookup4(&v, 0, CGFW_LPM_ROOT_BITS, (uint32_t)(hi >> 32));
	return v.reads;
}

/* ---- the programs and their maps ------------------------------------------- */

struct bench {
	struct lpm_bench_bpf *skel;
	size_t cap;		  /* elements per image map */
	struct cgfw_lpm_elem *ab; /* mmap of bench_ab: two halves of cap */
	int ab_live;		  /* the half programs read */
	size_t ab_used[2];
	int ctl_fd, outer_fd;
	int inner_fd[2]; /* two inner maps, used in turn */
	struct cgfw_lpm_elem *inner[2];
	size_t inner_used[2];
	int inner_live;
};

/* Make @img the image of slot 0: a fresh inner map, filled, then one switch. */
static int publish_aom(struct bench *b, const struct cgfw_lpm_image *img, double *ret_s)
{
	LIBBPF_OPTS(bpf_map_create_opts, mo, .map_flags = BPF_F_MMAPABLE);
	double t = now_s();
	size_t n, len = b->cap * sizeof(struct cgfw_lpm_elem);
	const struct cgfw_lpm_elem *e = cgfw_lpm_elems(img, &n);
	__u32 slot = 0;
	void *m;
	int fd, err = 0;

	if (n > b->cap)
		return -E2BIG;
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "lpm_image", 4, sizeof(*e), (__u32)b->cap, &mo);
	if (fd < 0)
		return -errno;
	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		err = -errno;
		goto out;
	}
	memcpy(m, e, n * sizeof(*e));
	munmap(m, len);
	if (bpf_map_update_elem(b->outer_fd, &slot, &fd, BPF_ANY))
		err = -errno;
	*ret_s = now_s() - t;
out:
	close(fd);
	return err;
}

/*
 * The same with two inner maps made once and used in turn: the slot update
 * returns after an RCU grace period, so the map it replaced is free to
 * rewrite next time.
 */
static int publish_aom_reuse(struct bench *b, const struct cgfw_lpm_image *img, double *ret_s)
{
	double t = now_s();
	size_t n;
	const struct cgfw_lpm_elem *e = cgfw_lpm_elems(img, &n);
	int h = !b->inner_live;
	__u32 slot = 0;

	if (n > b->cap)
		return -E2BIG;
	memcpy(b->inner[h], e, n * sizeof(*e));
	if (b->inner_used[h] > n)
		memset(b->inner[h] + n, 0, (b->inner_used[h] - n) * sizeof(*e));
	b->inner_used[h] = n;
	if (bpf_map_update_elem(b->outer_fd, &slot, &b->inner_fd[h], BPF_ANY))
		return -errno;
	b->inner_live = h;
	*ret_s = now_s() - t;
	return 0;
}

/* Write @img into the half no program reads, then flip the control word. */
static int publish_ab(struct bench *b, const struct cgfw_lpm_image *img, double *ret_s)
{
	double t = now_s();
	size_t n;
	const struct cgfw_lpm_elem *e = cgfw_lpm_elems(img, &n);
	int h = !b->ab_live;
	__u32 zero = 0, base = (__u32)(h * b->cap);

	if (n > b->cap)
		return -E2BIG;
	memcpy(b->ab + base, e, n * sizeof(*e));
	if (b->ab_used[h] > n) /* what the half's previous image left */
		memset(b->ab + base + n, 0, (b->ab_used[h] - n) * sizeof(*e));
	b->ab_used[h] = n;
	if (bpf_map_update_elem(b->ctl_fd, &zero, &base, BPF_ANY))
		return -errno;
	b->ab_live = h;
	*ret_s = now_s() - t;
	return 0;
}

static int trie_fd(struct bench *b, int six)
{
	return bpf_map__fd(six ? b->skel->maps.bench_trie6 : b->skel->maps.bench_trie4);
}

static void trie_key(const struct cgfw_lpm_entry *e, int six, void *k)
{
	if (six) {
		struct bench_trie6_key *k6 = k;

		k6->prefixlen = e->len;
		memcpy(k6->addr, e->addr, 16);
	} else {
		struct bench_trie4_key *k4 = k;

		k4->prefixlen = e->len;
		memcpy(k4->addr, e->addr, 4);
	}
	/* the trie wants host bits cleared */
	for (int i = 0; i < (six ? 16 : 4); i++) {
		int bb = e->len - 8 * i;
		uint8_t m = bb >= 8 ? 0xff : bb <= 0 ? 0 : (uint8_t)(0xff << (8 - bb));

		(six ? ((struct bench_trie6_key *)k)->addr :
		       ((struct bench_trie4_key *)k)->addr)[i] &= m;
	}
}

static int trie_fill(struct bench *b, const struct cgfw_lpm_entry *e, size_t n, int six, int del)
{
	int fd = trie_fd(b, six);
	uint8_t k[20];

	for (size_t i = 0; i < n; i++) {
		trie_key(&e[i], six, k);
		if (del) {
			if (bpf_map_delete_elem(fd, k) && errno != ENOENT)
				return -errno;
		} else if (bpf_map_update_elem(fd, k, &e[i].value, BPF_ANY)) {
			return -errno;
		}
	}
	return 0;
}

/* ---- measuring ---------------------------------------------------------------- */

enum { P_EMPTY, P_LOAD, P_TRIE, P_AOM, P_AB, P_COUNT };
static const char *const pname[P_COUNT] = { "empty", "load", "trie", "aom", "ab" };

static int prog_fd(struct bench *b, int p, int six)
{
	struct lpm_bench_bpf *s = b->skel;

	switch (p) {
	case P_EMPTY:
		return bpf_program__fd(s->progs.empty);
	case P_LOAD:
		return bpf_program__fd(six ? s->progs.load6 : s->progs.load4);
	case P_TRIE:
		return bpf_program__fd(six ? s->progs.trie6 : s->progs.trie4);
	case P_AOM:
		return bpf_program__fd(six ? s->progs.aom6 : s->progs.aom4);
	default:
		return bpf_program__fd(six ? s->progs.ab6 : s->progs.ab4);
	}
}

/* Every program must give the verdict of the user-space lookup. */
static int verify(struct bench *b, const struct cgfw_lpm_image *img, int six,
		  const struct cgfw_lpm_entry *e, size_t n, unsigned int probes)
{
	for (unsigned int i = 0; i < probes; i++) {
		uint8_t a[16];
		struct pkt p;
		uint32_t want, got = 0;

		if (i & 1 || !n)
			set_addr(a, six);
		else
			inside(&e[rnd() % n], six, a);
		want = cgfw_lpm_lookup(img, six ? CGFW_FAMILY_INET6 : CGFW_FAMILY_INET, a) ? 0 : 1;
		build_pkt(&p, six, a);
		for (int k = P_TRIE; k < P_COUNT; k++) {
			int err = prog_run(prog_fd(b, k, six), p.buf, p.len, 1, NULL, &got);

			if (err) {
				fprintf(stderr, "lpm_bench: BPF_PROG_RUN of %s: %s\n", pname[k],
					strerror(-err));
				return err;
			}
			if (got != want) {
				fprintf(stderr,
					"lpm_bench: %s gave verdict %u, the image says %u\n",
					pname[k], got, want);
				return -EPROTO;
			}
		}
	}
	return 0;
}

/* Net ns of each program for one packet, median of interleaved rounds. */
static int measure(struct bench *b, const struct opts *o, int six, const uint8_t *a,
		   double ret_net[P_COUNT])
{
	double t[P_COUNT][64];
	struct pkt p;
	int err;

	build_pkt(&p, six, a);
	for (unsigned int r = 0; r < o->rounds; r++)
		for (int k = 0; k < P_COUNT; k++) {
			err = prog_run(prog_fd(b, k, six), p.buf, p.len, o->repeat, &t[k][r], NULL);
			if (err)
				return err;
		}
	for (int k = 0; k < P_COUNT; k++)
		ret_net[k] = median(t[k], o->rounds);
	for (int k = 1; k < P_COUNT; k++)
		ret_net[k] -= ret_net[P_EMPTY];
	return 0;
}

/*
 * Per lookup over the BENCH_MIX addresses @addrs (16 bytes each) in one run
 * (bpf_loop): the trie and the image, net of the same loop without lookups.
 */
static int measure_loop(struct bench *b, const struct opts *o, int six, const uint8_t *addrs,
			double *ret_trie, double *ret_aom)
{
	struct lpm_bench_bpf *s = b->skel;
	int fds[3] = { bpf_program__fd(s->progs.mixnone4),
		       bpf_program__fd(six ? s->progs.mixtrie6 : s->progs.mixtrie4),
		       bpf_program__fd(six ? s->progs.mixaom6 : s->progs.mixaom4) };
	double t[3][64];
	unsigned int rep = o->repeat / BENCH_MIX * 4 + 1;
	struct pkt p;

	for (int i = 0; i < BENCH_MIX; i++) {
		const uint8_t *a = addrs + 16 * i;
		uint64_t hi = 0, lo = 0;

		for (int j = 0; j < 8; j++) {
			hi = hi << 8 | a[j];
			lo = lo << 8 | a[8 + j];
		}
		s->bss->mix4[i] = (uint32_t)(hi >> 32);
		s->bss->mix6[i][0] = hi;
		s->bss->mix6[i][1] = lo;
	}
	build_pkt(&p, six, addrs);
	for (unsigned int r = 0; r < o->rounds; r++)
		for (int k = 0; k < 3; k++) {
			int err = prog_run(fds[k], p.buf, p.len, rep, &t[k][r], NULL);

			if (err)
				return err;
		}
	for (int k = 0; k < 3; k++)
		t[k][0] = median(t[k], o->rounds);
	*ret_trie = (t[1][0] - t[0][0]) / BENCH_MIX;
	*ret_aom = (t[2][0] - t[0][0]) / BENCH_MIX;
	return 0;
}

/* The same address BENCH_MIX times: the walk alone, always in cache. */
static int measure_hot(struct bench *b, const struct opts *o, int six, const uint8_t *a,
		       double *ret_trie, double *ret_aom)
{
	static uint8_t addrs[16 * BENCH_MIX];

	for (int i = 0; i < BENCH_MIX; i++)
		memcpy(addrs + 16 * i, a, 16);
	return measure_loop(b, o, six, addrs, ret_trie, ret_aom);
}

/* Half inside random members, half random: cache and TLB misses included. */
static int measure_mix(struct bench *b, const struct opts *o, int six,
		       const struct cgfw_lpm_entry *e, size_t n, double *ret_trie, double *ret_aom)
{
	static uint8_t addrs[16 * BENCH_MIX];

	for (int i = 0; i < BENCH_MIX; i++) {
		if (i & 1 || !n)
			set_addr(addrs + 16 * i, six);
		else
			inside(&e[rnd() % n], six, addrs + 16 * i);
	}
	return measure_loop(b, o, six, addrs, ret_trie, ret_aom);
}

/* ---- the run --------------------------------------------------------------------- */

struct result {
	const char *set;
	int six;
	size_t prefixes;
	double compile_ms, aom_ms, reuse_ms, ab_ms, trie_ms;
	double img_bpp, trie_bpp;
	unsigned int depth;
	int have[3];
	unsigned int reads[3];
	double net[3][P_COUNT];
	double hot_trie[3], hot_aom[3];
	double mix_trie, mix_aom;
};

static void print_results(const struct result *r, size_t nr, const struct opts *o, size_t cap)
{
	static const char *const probe[3] = { "hit", "miss", "deep" };
	double one[2] = { 0, 0 };

	printf("\n### LPM lookup cost (BPF_PROG_RUN, cgroup_skb egress)\n\n");
	printf("ns, medians of %u interleaved rounds of %u runs. Whole program net of the empty "
	       "one: load = reading the destination address alone (bpf_skb_load_bytes), "
	       "trie = load + one BPF_MAP_TYPE_LPM_TRIE lookup of the same prefixes, aom = load + "
	       "the image in an ARRAY_OF_MAPS slot, ab = load + the image in one half of an A/B "
	       "array. Walk alone: per lookup of the same address %d times in one run "
	       "(bpf_loop, net of the loop): the lookup without the packet. mix: the same over %d "
	       "different addresses, half in the set. reads: elements the walk reads (root, "
	       "records, leaf).\n\n",
	       o->rounds, o->repeat, BENCH_MIX, BENCH_MIX);
	printf("| set | family | probe | reads | load | trie | aom | ab | trie walk | aom walk |\n");
	printf("|---|---|---|---:|---:|---:|---:|---:|---:|---:|\n");
	for (size_t i = 0; i < nr; i++) {
		for (int k = 0; k < 3; k++) {
			if (!r[i].have[k])
				continue;
			printf("| %s | IPv%d | %s | %u | %.0f | %.0f | %.0f | %.0f | %.1f | %.1f |\n",
			       r[i].set, r[i].six ? 6 : 4, probe[k], r[i].reads[k],
			       r[i].net[k][P_LOAD], r[i].net[k][P_TRIE], r[i].net[k][P_AOM],
			       r[i].net[k][P_AB], r[i].hot_trie[k], r[i].hot_aom[k]);
		}
		printf("| %s | IPv%d | mix | | | | | | %.1f | %.1f |\n", r[i].set, r[i].six ? 6 : 4,
		       r[i].mix_trie, r[i].mix_aom);
		if (r[i].prefixes == 1 && r[i].have[0])
			one[r[i].six] = r[i].hot_aom[0];
	}
	printf("\n### Memory and build time\n\n");
	printf("Replacing the live image, ms: aom new = create an inner map, fill it through "
	       "mmap, switch the slot; aom reuse = fill the spare of two inner maps, switch; ab = "
	       "fill the idle half, flip the control word. The slot switch includes the kernel's "
	       "RCU grace period. Image maps hold %zu elements (%.1f MiB).\n\n",
	       cap, (double)cap * CGFW_LPM_ELEM_SIZE / 1048576);
	printf("| set | family | prefixes | image B/prefix | trie B/prefix | max reads | "
	       "compile ms (median of 3) | aom new | aom reuse | ab | trie insert ms |\n");
	printf("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
	for (size_t i = 0; i < nr; i++)
		printf("| %s | IPv%d | %zu | %.1f | %.1f | %u | %.1f | %.1f | %.1f | %.1f | %.0f |\n",
		       r[i].set, r[i].six ? 6 : 4, r[i].prefixes, r[i].img_bpp, r[i].trie_bpp,
		       r[i].depth, r[i].compile_ms, r[i].aom_ms, r[i].reuse_ms, r[i].ab_ms,
		       r[i].trie_ms);
	printf("\nImage bytes include the fixed 1 MiB of roots (both families). Walk of the "
	       "1-prefix hit: IPv4 %.1f ns, IPv6 %.1f ns.\n",
	       one[0], one[1]);
}

/* What the verifier went through for each program (bpf_prog_info.verified_insns). */
static void print_verifier(struct lpm_bench_bpf *s)
{
	struct bpf_program *p;

	printf("\nVerifier, instructions processed:");
	bpf_object__for_each_program(p, s->obj)
	{
		struct bpf_prog_info info = { 0 };
		__u32 len = sizeof(info);

		if (!bpf_obj_get_info_by_fd(bpf_program__fd(p), &info, &len))
			printf(" %s %u,", bpf_program__name(p), info.verified_insns);
	}
	printf("\n");
}

static int run(const struct opts *o)
{
	struct bset sets[] = {
		{ "1", K_ONE, 1, 0 },
		{ "10k hosts", K_HOSTS, 10000, 0 },
		{ "100k hosts", K_HOSTS, 100000, 0 },
		{ "1M hosts", K_HOSTS, 1000000, 0 },
		{ "1M all lengths", K_ALL, 1000000, 0 },
		{ "list, 7 lengths", K_LIST, o->list_size, 7 },
		{ "list, 19 lengths", K_LIST, o->list_size, 19 },
		{ "list, 27 lengths", K_LIST, o->list_size, 27 },
	};
	const size_t nsets = sizeof(sets) / sizeof(sets[0]);
	struct cgfw_lpm_image *img[16] = { 0 };
	struct cgfw_lpm_entry *ent[16] = { 0 };
	size_t nent[16] = { 0 }, cap = 0;
	struct result res[16];
	struct bench b = { .inner_fd = { -1, -1 } };
	double compile[16];
	size_t nr = 0;
	int err = 0, tmpl = -1;

	if (o->smoke) {
		sets[1].n = 1000;
		sets[2].n = 3000;
		sets[3].n = 10000;
		sets[4].n = 10000;
		for (int i = 5; i < 8; i++)
			sets[i].n = 2000;
	}
	/* Compile everything first: the image maps are sized for the largest. */
	for (size_t i = 0; i < nsets * 2; i++) {
		struct cgfw_lpm_stats st;
		double t, ct[3];

		ent[i] = make_set(&sets[i / 2], (int)(i & 1), &nent[i]);
		if (!ent[i])
			return -ENOMEM;
		/* The median of three builds: one can be preempted on a shared machine. */
		for (int k = 0; k < 3; k++) {
			struct cgfw_lpm_image *again = NULL;

			t = now_s();
			err = cgfw_lpm_build(ent[i], nent[i], 0, k ? &again : &img[i]);
			ct[k] = (now_s() - t) * 1e3;
			cgfw_lpm_free(again);
			if (err) {
				fprintf(stderr, "lpm_bench: compiling %s: %s\n", sets[i / 2].name,
					strerror(-err));
				goto out;
			}
		}
		compile[i] = median(ct, 3);
		cgfw_lpm_stats(img[i], &st);
		if (st.elems > cap)
			cap = st.elems;
	}
	cap = (cap + 4095) & ~(size_t)4095;

	b.skel = lpm_bench_bpf__open();
	if (!b.skel) {
		err = -errno;
		goto out;
	}
	/*
	 * The inner maps' size is the template's: make one of the right size
	 * (libbpf 1.1 crashes in bpf_map__set_max_entries(bpf_map__inner_map())).
	 */
	{
		LIBBPF_OPTS(bpf_map_create_opts, mo, .map_flags = BPF_F_MMAPABLE);

		tmpl = bpf_map_create(BPF_MAP_TYPE_ARRAY, "lpm_tmpl", 4,
				      sizeof(struct cgfw_lpm_elem), (__u32)cap, &mo);
		if (tmpl < 0) {
			err = -errno;
			goto out;
		}
	}
	err = bpf_map__set_inner_map_fd(b.skel->maps.bench_images, tmpl);
	if (!err)
		err = bpf_map__set_max_entries(b.skel->maps.bench_ab, (__u32)(2 * cap));
	if (!err)
		err = lpm_bench_bpf__load(b.skel);
	if (err) {
		fprintf(stderr, "lpm_bench: loading the programs: %s\n", strerror(-err));
		goto out;
	}
	b.cap = cap;
	b.outer_fd = bpf_map__fd(b.skel->maps.bench_images);
	b.ctl_fd = bpf_map__fd(b.skel->maps.bench_ab_ctl);
	b.ab = mmap(NULL, 2 * cap * sizeof(struct cgfw_lpm_elem), PROT_READ | PROT_WRITE,
		    MAP_SHARED, bpf_map__fd(b.skel->maps.bench_ab), 0);
	if (b.ab == MAP_FAILED) {
		b.ab = NULL;
		err = -errno;
		goto out;
	}
	b.ab_live = 0;
	for (int h = 0; h < 2; h++) {
		LIBBPF_OPTS(bpf_map_create_opts, mo, .map_flags = BPF_F_MMAPABLE);

		b.inner_fd[h] = bpf_map_create(BPF_MAP_TYPE_ARRAY, "lpm_image", 4,
					       sizeof(struct cgfw_lpm_elem), (__u32)cap, &mo);
		if (b.inner_fd[h] < 0) {
			err = -errno;
			goto out;
		}
		b.inner[h] = mmap(NULL, cap * sizeof(struct cgfw_lpm_elem), PROT_READ | PROT_WRITE,
				  MAP_SHARED, b.inner_fd[h], 0);
		if (b.inner[h] == MAP_FAILED) {
			b.inner[h] = NULL;
			err = -errno;
			goto out;
		}
	}
	b.inner_live = 1;

	for (size_t i = 0; i < nsets * 2; i++) {
		struct result *r = &res[nr];
		int six = (int)(i & 1);
		struct cgfw_lpm_stats st;
		uint8_t a[16];
		double t = 0;
		int fd;

		if (now_s() - t0 > o->max_seconds) {
			fprintf(stderr,
				"lpm_bench: time budget (%.0f s) spent, stopping before %s\n",
				o->max_seconds, sets[i / 2].name);
			break;
		}
		memset(r, 0, sizeof(*r));
		r->set = sets[i / 2].name;
		r->six = six;
		cgfw_lpm_stats(img[i], &st);
		r->prefixes = six ? st.prefixes6 : st.prefixes4;
		r->compile_ms = compile[i];
		r->img_bpp = (double)st.bytes / (double)r->prefixes;
		r->depth = 0;
		err = publish_aom(&b, img[i], &t);
		if (err)
			goto fail;
		r->aom_ms = t * 1e3;
		err = publish_aom_reuse(&b, img[i], &t);
		if (err)
			goto fail;
		r->reuse_ms = t * 1e3;
		err = publish_ab(&b, img[i], &t);
		if (err)
			goto fail;
		r->ab_ms = t * 1e3;
		t = now_s();
		err = trie_fill(&b, ent[i], nent[i], six, 0);
		if (err)
			goto fail;
		r->trie_ms = (now_s() - t) * 1e3;
		fd = trie_fd(&b, six);
		r->trie_bpp = (double)map_memlock(fd) / (double)r->prefixes;

		err = verify(&b, img[i], six, ent[i], nent[i], o->smoke ? 500 : 10000);
		if (err)
			goto fail;

		/* hit: inside a random member */
		inside(&ent[i][rnd() % nent[i]], six, a);
		r->have[0] = 1;
		r->reads[0] = reads_of(img[i], six, a);
		err = measure(&b, o, six, a, r->net[0]);
		if (!err)
			err = measure_hot(&b, o, six, a, &r->hot_trie[0], &r->hot_aom[0]);
		if (err)
			goto fail;
		/* miss: an address no prefix holds, if one turns up */
		for (int k = 0; k < 100000; k++) {
			set_addr(a, six);
			if (!cgfw_lpm_lookup(img[i], six ? CGFW_FAMILY_INET6 : CGFW_FAMILY_INET,
					     a)) {
				r->have[1] = 1;
				break;
			}
		}
		if (r->have[1]) {
			r->reads[1] = reads_of(img[i], six, a);
			err = measure(&b, o, six, a, r->net[1]);
			if (!err)
				err = measure_hot(&b, o, six, a, &r->hot_trie[1], &r->hot_aom[1]);
			if (err)
				goto fail;
		}
		/* deep: the member address whose walk reads the most */
		{
			uint8_t best[16];
			unsigned int most = 0;

			for (size_t k = 0; k < nent[i]; k++) {
				unsigned int rd;

				inside(&ent[i][k], six, a);
				rd = reads_of(img[i], six, a);
				if (rd > most) {
					most = rd;
					memcpy(best, a, 16);
				}
			}
			r->depth = most;
			r->have[2] = most > r->reads[0];
			if (r->have[2]) {
				r->reads[2] = most;
				err = measure(&b, o, six, best, r->net[2]);
				if (!err)
					err = measure_hot(&b, o, six, best, &r->hot_trie[2],
							  &r->hot_aom[2]);
				if (err)
					goto fail;
			}
		}
		err = measure_mix(&b, o, six, ent[i], nent[i], &r->mix_trie, &r->mix_aom);
		if (err)
			goto fail;
		err = trie_fill(&b, ent[i], nent[i], six, 1);
		if (err)
			goto fail;
		fprintf(stderr, "lpm_bench: %s IPv%d done (%.0f s)\n", r->set, six ? 6 : 4,
			now_s() - t0);
		nr++;
		continue;
fail:
		fprintf(stderr, "lpm_bench: %s IPv%d: %s\n", r->set, six ? 6 : 4, strerror(-err));
		goto out;
	}
	print_results(res, nr, o, cap);
	print_verifier(b.skel);
out:
	if (b.ab)
		munmap(b.ab, 2 * b.cap * sizeof(struct cgfw_lpm_elem));
	for (int h = 0; h < 2; h++) {
		if (b.inner[h])
			munmap(b.inner[h], b.cap * sizeof(struct cgfw_lpm_elem));
		if (b.inner_fd[h] >= 0)
			close(b.inner_fd[h]);
	}
	lpm_bench_bpf__destroy(b.skel);
	if (tmpl >= 0)
		close(tmpl);
	for (size_t i = 0; i < nsets * 2; i++) {
		cgfw_lpm_free(img[i]);
		free(ent[i]);
	}
	return err;
}

/* ---- primitives ---------------------------------------------------------------------- */

/*
 * The building blocks, one program each (lpm_prim.bpf.c): a single access
 * per run net of empty, and a chain of PRIM_K dependent accesses per run net
 * of the same loop without them.
 */
static int primitives(const struct opts *o)
{
	struct lpm_prim_bpf *s = lpm_prim_bpf__open_and_load();
	struct {
		const char *name;
		struct bpf_program *prog;
		int chain;
	} pr[32];
	double t[32][64], med[32];
	int np = 0, err = 0;
	struct pkt p;
	uint8_t dst[16] = { 192, 0, 2, 7 };

	if (!s) {
		fprintf(stderr, "lpm_bench: loading the primitive programs: %s\n", strerror(errno));
		return -errno;
	}
#define PR(n, c)                   \
	pr[np++] = (typeof(pr[0])) \
	{                          \
		#n, s->progs.n, c  \
	}
	PR(p_empty, 0);
	PR(p_loop, 1);
	PR(p_arr1, 0);
	PR(p_arr_same, 1);
	PR(p_arr_rand, 1);
	PR(p_aom1, 0);
	PR(p_aom_same, 1);
	PR(p_aom_rand, 1);
	PR(p_aomf1, 0);
	PR(p_aomf_same, 1);
	PR(p_hash1, 0);
	PR(p_hash_chain, 1);
	PR(p_trie1, 0);
	PR(p_trie_big4, 0);
	PR(p_trie_big6, 0);
	PR(p_popcount, 1);
#undef PR
	/* Arrays: a random permutation-ish chain; the hash: keys 0..PRIM_HASH-1. */
	for (__u32 i = 0; i < PRIM_ARR; i++) {
		__u32 v = (__u32)rnd();

		if (bpf_map_update_elem(bpf_map__fd(s->maps.arr), &i, &v, 0) ||
		    bpf_map_update_elem(bpf_map__fd(s->maps.inner), &i, &v, 0) ||
		    bpf_map_update_elem(bpf_map__fd(s->maps.innerf), &i, &v, 0)) {
			err = -errno;
			goto out;
		}
	}
	for (__u64 i = 0; i < PRIM_HASH; i++) {
		struct prim_hkey k = { i, 2, 3, 4 };
		__u32 v = (__u32)(rnd() % PRIM_HASH);

		if (bpf_map_update_elem(bpf_map__fd(s->maps.h32), &k, &v, 0)) {
			err = -errno;
			goto out;
		}
	}
	{
		struct bench_trie4_key k4 = { 24, { 192, 0, 2, 0 } };
		struct bench_trie6_key k6 = { 32, { 0x20, 0x01, 0x0d, 0xb8 } };
		int f1 = bpf_map__fd(s->maps.trie1), f4 = bpf_map__fd(s->maps.trie_big4);
		int f6 = bpf_map__fd(s->maps.trie_big6);
		__u32 one = 1;
		size_t big = o->smoke ? 10000 : 1000000;

		bpf_map_update_elem(f1, &k4, &one, 0);
		bpf_map_update_elem(f4, &k4, &one, 0);
		bpf_map_update_elem(f6, &k6, &one, 0);
		for (size_t i = 0; i < big; i++) {
			struct cgfw_lpm_entry e = { .len = (uint8_t)(8 + rnd() % 25) };

			set_addr(e.addr, 0);
			trie_key(&e, 0, &k4);
			bpf_map_update_elem(f4, &k4, &one, 0);
			e.len = (uint8_t)(16 + rnd() % 113);
			set_addr(e.addr, 1);
			trie_key(&e, 1, &k6);
			bpf_map_update_elem(f6, &k6, &one, 0);
		}
	}
	build_pkt(&p, 0, dst);
	for (unsigned int r = 0; r < o->rounds; r++)
		for (int i = 0; i < np; i++) {
			err = prog_run(bpf_program__fd(pr[i].prog), p.buf, p.len, o->repeat,
				       &t[i][r], NULL);
			if (err)
				goto out;
		}
	for (int i = 0; i < np; i++)
		med[i] = median(t[i], o->rounds);
	printf("\n### Primitive costs (BPF_PROG_RUN, median of %u rounds of %u runs)\n\n",
	       o->rounds, o->repeat);
	printf("| program | ns per run | net of empty | per access (chains: net of the loop, / %d) |\n",
	       PRIM_K);
	printf("|---|---:|---:|---:|\n");
	for (int i = 0; i < np; i++) {
		if (pr[i].chain && i > 1)
			printf("| %s | %.1f | %.1f | %.2f |\n", pr[i].name, med[i], med[i] - med[0],
			       (med[i] - med[1]) / PRIM_K);
		else if (pr[i].chain)
			printf("| %s | %.1f | %.1f | %.2f (one iteration) |\n", pr[i].name, med[i],
			       med[i] - med[0], (med[i] - med[0]) / PRIM_K);
		else
			printf("| %s | %.1f | %.1f | |\n", pr[i].name, med[i], med[i] - med[0]);
	}
out:
	lpm_prim_bpf__destroy(s);
	return err;
}

/* ---- main ------------------------------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f, "Usage: lpm_bench [--rounds R] [--repeat N] [--list-size N] [--max-seconds S]\n"
		   "                 [--smoke] [--primitives]\n");
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "rounds", required_argument, NULL, 'r' },
		{ "repeat", required_argument, NULL, 'n' },
		{ "list-size", required_argument, NULL, 'l' },
		{ "max-seconds", required_argument, NULL, 't' },
		{ "smoke", no_argument, NULL, 's' },
		{ "primitives", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct opts o = { .rounds = 7, .repeat = 1000000, .list_size = 100000, .max_seconds = 900 };
	int c, err;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'r':
			o.rounds = (unsigned int)strtoul(optarg, NULL, 0);
			break;
		case 'n':
			o.repeat = (unsigned int)strtoul(optarg, NULL, 0);
			break;
		case 'l':
			o.list_size = (unsigned int)strtoul(optarg, NULL, 0);
			break;
		case 't':
			o.max_seconds = strtod(optarg, NULL);
			break;
		case 's':
			o.smoke = 1;
			break;
		case 'p':
			o.primitives = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (o.rounds < 1 || o.rounds > 64 || o.repeat < 1 || o.list_size < 1 ||
	    o.list_size > 2000000) {
		usage(stderr);
		return 2;
	}
	if (o.smoke) {
		o.rounds = o.rounds > 3 ? 3 : o.rounds;
		o.repeat = o.repeat > 20000 ? 20000 : o.repeat;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "lpm_bench: skipped: needs root (BPF_PROG_RUN)\n");
		return 77;
	}
	t0 = now_s();
	err = o.primitives ? primitives(&o) : run(&o);
	return err ? 1 : 0;
}
