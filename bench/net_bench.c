// SPDX-License-Identifier: GPL-2.0-only
/*
 * net_bench: the two ends of the traffic benchmarks (net_datapath.sh,
 * intercept.sh, policy_swap.sh). Every client is bounded in count and time
 * and prints one JSON line on stdout; servers print "READY" once bound and
 * exit after --timeout seconds at the latest.
 *
 *   net_bench serve PORT [--addr A] [--sink] [--transparent] [--timeout S]
 *       TCP server, one connection at a time: echo (the default) answers
 *       every byte it reads; --sink reads until EOF and answers with the
 *       byte count (8 bytes). --transparent sets IP_TRANSPARENT so a TPROXY
 *       rule or bpf_sk_assign can hand it connections for other addresses.
 *   net_bench rr ADDR PORT [--time S] [--count N]
 *       One connection, 1-byte request and reply, N times or S seconds.
 *   net_bench crr ADDR[-LAST] PORT [--time S] [--count N]
 *       A new connection per request: connect, 1 byte, read the reply,
 *       close. ADDR-LAST cycles the last IPv4 octet (198.51.100.1-254), so
 *       TIME_WAIT sockets do not exhaust the ports of one destination.
 *   net_bench bulk ADDR PORT [--time S]
 *       Sends for S seconds, then reads the sink's byte count.
 *   net_bench udpsend --rate R --count N [--time S] ADDR PORT [ADDR PORT...]
 *       R datagrams/s to each target (a sequence number and a send time in
 *       each), N per target at most; counts what the kernel refused (EPERM
 *       is a cgroup egress drop). Stops early on SIGTERM.
 *   net_bench udprecv PORT [PORT...] [--addr A] [--timeout S]
 *       Counts datagrams per port until SIGTERM; socket-buffer overflows are
 *       counted apart (SO_RXQ_OVFL) so they are not mistaken for a firewall.
 *
 * Sequence numbers received (or refused, for udpsend) are reported as ranges
 * [first, last, send time of first, send time of last], the first 32 of them.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_SAMPLES  (4u << 20) /* latency samples kept per run */
#define MAX_RANGES   32
#define MAX_STREAMS  8
#define BULK_CHUNK   (128 * 1024)
#define IO_TIMEOUT_S 2

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int die(const char *what)
{
	fprintf(stderr, "net_bench: %s: %s\n", what, strerror(errno));
	return 1;
}

static uint64_t now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t mono_ns(void)
{
	return now_ns(CLOCK_MONOTONIC);
}

static int parse_addr(const char *addr, uint16_t port, struct sockaddr_storage *ss,
		      socklen_t *len)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		*len = sizeof(*s4);
		return 0;
	}
	if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		*len = sizeof(*s6);
		return 0;
	}
	fprintf(stderr, "net_bench: '%s' is not an IPv4 or IPv6 address\n", addr);
	return -1;
}

static int parse_port(const char *s, uint16_t *ret)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v < 1 || v > 65535) {
		fprintf(stderr, "net_bench: '%s' is not a port\n", s);
		return -1;
	}
	*ret = (uint16_t)v;
	return 0;
}

static void set_timeouts(int fd)
{
	struct timeval tv = { .tv_sec = IO_TIMEOUT_S };

	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

static void nodelay(int fd)
{
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* read exactly n bytes; 0 ok, -1 error or EOF */
static int read_full(int fd, void *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, (char *)buf + got, n - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

/* ---- latency samples ---- */

struct samples {
	uint32_t *ns;
	size_t n, cap;
};

static void sample_add(struct samples *s, uint64_t ns)
{
	if (s->n < s->cap)
		s->ns[s->n++] = ns > UINT32_MAX ? UINT32_MAX : (uint32_t)ns;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static double pct_us(const struct samples *s, double p)
{
	size_t i;

	if (!s->n)
		return 0;
	i = (size_t)(p * (double)(s->n - 1) + 0.5);
	return s->ns[i] / 1000.0;
}

static void print_latency(const struct samples *s)
{
	double sum = 0;

	for (size_t i = 0; i < s->n; i++)
		sum += s->ns[i];
	qsort(s->ns, s->n, sizeof(*s->ns), cmp_u32);
	printf("\"mean_us\":%.3f,\"p50_us\":%.3f,\"p99_us\":%.3f,\"min_us\":%.3f,\"max_us\":%.3f",
	       s->n ? sum / (double)s->n / 1000.0 : 0.0, pct_us(s, 0.5), pct_us(s, 0.99),
	       pct_us(s, 0.0), pct_us(s, 1.0));
}

/* ---- sequence ranges ---- */

struct ranges {
	uint64_t lo[MAX_RANGES], hi[MAX_RANGES], tlo[MAX_RANGES], thi[MAX_RANGES];
	size_t n;      /* ranges seen (may exceed MAX_RANGES) */
	uint64_t last; /* last sequence number added */
	uint64_t count;
};

static void range_add(struct ranges *r, uint64_t seq, uint64_t t)
{
	if (r->count && seq == r->last + 1) {
		if (r->n <= MAX_RANGES) {
			r->hi[r->n - 1] = seq;
			r->thi[r->n - 1] = t;
		}
	} else {
		if (r->n < MAX_RANGES) {
			r->lo[r->n] = r->hi[r->n] = seq;
			r->tlo[r->n] = r->thi[r->n] = t;
		}
		r->n++;
	}
	r->last = seq;
	r->count++;
}

static void print_ranges(const char *name, const struct ranges *r)
{
	size_t n = r->n < MAX_RANGES ? r->n : MAX_RANGES;

	printf("\"%s_nranges\":%zu,\"%s\":[", name, r->n, name);
	for (size_t i = 0; i < n; i++)
		printf("%s[%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 "]", i ? "," : "",
		       r->lo[i], r->hi[i], r->tlo[i], r->thi[i]);
	printf("]");
}

/* ---- TCP server ---- */

static int cmd_serve(int argc, char **argv)
{
	const char *addr = "::";
	bool sink = false, transparent = false;
	int timeout = 600, one = 1, zero = 0, lfd;
	struct sockaddr_storage ss;
	socklen_t len;
	uint16_t port;
	char *buf;

	if (argc < 1 || parse_port(argv[0], &port) < 0)
		return 2;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--addr") && i + 1 < argc)
			addr = argv[++i];
		else if (!strcmp(argv[i], "--sink"))
			sink = true;
		else if (!strcmp(argv[i], "--transparent"))
			transparent = true;
		else if (!strcmp(argv[i], "--timeout") && i + 1 < argc)
			timeout = atoi(argv[++i]);
		else
			return 2;
	}
	if (parse_addr(addr, port, &ss, &len) < 0)
		return 2;
	alarm(timeout > 0 ? (unsigned)timeout : 600);
	buf = malloc(BULK_CHUNK * 2);
	lfd = socket(ss.ss_family, SOCK_STREAM, 0);
	if (!buf || lfd < 0)
		return die("socket");
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(lfd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (transparent &&
	    setsockopt(lfd, ss.ss_family == AF_INET ? IPPROTO_IP : IPPROTO_IPV6,
		       ss.ss_family == AF_INET ? IP_TRANSPARENT : IPV6_TRANSPARENT, &one,
		       sizeof(one)) < 0)
		return die("IP_TRANSPARENT");
	if (bind(lfd, (struct sockaddr *)&ss, len) < 0 || listen(lfd, 1024) < 0)
		return die("bind/listen");
	printf("READY\n");
	fflush(stdout);

	while (!stop) {
		int fd = accept(lfd, NULL, NULL);
		uint64_t total = 0;

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return die("accept");
		}
		nodelay(fd);
		for (;;) {
			ssize_t r = read(fd, buf, BULK_CHUNK * 2);

			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				break;
			total += (uint64_t)r;
			if (!sink && write(fd, buf, (size_t)r) != r)
				break;
		}
		if (sink && write(fd, &total, sizeof(total)) != (ssize_t)sizeof(total))
			fprintf(stderr, "net_bench: sink: cannot send the count\n");
		close(fd);
	}
	return 0;
}

/* ---- TCP clients ---- */

struct run_opts {
	double time_s;
	uint64_t count;
};

static int parse_run_opts(int argc, char **argv, int first, struct run_opts *o)
{
	for (int i = first; i < argc; i++) {
		if (!strcmp(argv[i], "--time") && i + 1 < argc)
			o->time_s = atof(argv[++i]);
		else if (!strcmp(argv[i], "--count") && i + 1 < argc)
			o->count = strtoull(argv[++i], NULL, 10);
		else
			return -1;
	}
	if (o->time_s <= 0 || o->time_s > 600 || !o->count) {
		fprintf(stderr, "net_bench: --time must be in (0, 600], --count > 0\n");
		return -1;
	}
	return 0;
}

static int tcp_connect(const struct sockaddr_storage *ss, socklen_t len)
{
	int fd = socket(ss->ss_family, SOCK_STREAM, 0);

	if (fd < 0)
		return -1;
	set_timeouts(fd);
	if (connect(fd, (const struct sockaddr *)ss, len) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static int cmd_rr(int argc, char **argv)
{
	struct run_opts o = { .time_s = 1, .count = 1000000 };
	struct samples s = {};
	struct sockaddr_storage ss;
	socklen_t len;
	uint64_t t0, end;
	uint16_t port;
	char c = 'x';
	int fd;

	if (argc < 2 || parse_port(argv[1], &port) < 0 ||
	    parse_addr(argv[0], port, &ss, &len) < 0 || parse_run_opts(argc, argv, 2, &o) < 0)
		return 2;
	s.cap = o.count < MAX_SAMPLES ? o.count : MAX_SAMPLES;
	s.ns = malloc(s.cap * sizeof(*s.ns));
	if (!s.ns)
		return die("malloc");
	fd = tcp_connect(&ss, len);
	if (fd < 0)
		return die("connect");
	nodelay(fd);
	t0 = mono_ns();
	end = t0 + (uint64_t)(o.time_s * 1e9);
	for (uint64_t i = 0; i < o.count; i++) {
		uint64_t a = mono_ns(), b;

		if (a >= end)
			break;
		if (write(fd, &c, 1) != 1 || read_full(fd, &c, 1) < 0)
			return die("request/reply");
		b = mono_ns();
		sample_add(&s, b - a);
	}
	close(fd);
	printf("{\"mode\":\"rr\",\"n\":%zu,\"s\":%.6f,", s.n, (double)(mono_ns() - t0) / 1e9);
	print_latency(&s);
	printf("}\n");
	return 0;
}

static int cmd_crr(int argc, char **argv)
{
	struct run_opts o = { .time_s = 1, .count = 1000000 };
	struct samples s = {};
	struct sockaddr_storage ss;
	socklen_t len;
	uint64_t t0, t1, end, failed = 0;
	char base[INET6_ADDRSTRLEN + 8], *dash;
	unsigned first = 0, last = 0, cur;
	uint16_t port;
	const char *err_what = NULL;
	int err_no = 0;

	if (argc < 2 || parse_port(argv[1], &port) < 0 || parse_run_opts(argc, argv, 2, &o) < 0)
		return 2;
	snprintf(base, sizeof(base), "%s", argv[0]);
	dash = strchr(base, '-');
	if (dash) {
		char *dot = strrchr(base, '.');

		*dash = '\0';
		if (!dot || dot > dash || sscanf(dot + 1, "%u", &first) != 1 ||
		    sscanf(dash + 1, "%u", &last) != 1 || first > last || last > 255) {
			fprintf(stderr, "net_bench: '%s' is not A.B.C.X-Y\n", argv[0]);
			return 2;
		}
		*dot = '\0';
	}
	if (!dash && parse_addr(base, port, &ss, &len) < 0)
		return 2;
	s.cap = o.count < MAX_SAMPLES ? o.count : MAX_SAMPLES;
	s.ns = malloc(s.cap * sizeof(*s.ns));
	if (!s.ns)
		return die("malloc");
	cur = first;
	t0 = mono_ns();
	end = t0 + (uint64_t)(o.time_s * 1e9);
	for (uint64_t i = 0; i < o.count && !stop; i++) {
		uint64_t a = mono_ns();
		char c = 'x';
		int fd;

		if (a >= end)
			break;
		if (dash) {
			char one[INET6_ADDRSTRLEN + 8];

			snprintf(one, sizeof(one), "%s.%u", base, cur);
			cur = cur == last ? first : cur + 1;
			if (parse_addr(one, port, &ss, &len) < 0)
				return 2;
		}
		fd = tcp_connect(&ss, len);
		if (fd < 0) {
			err_what = "connect";
			err_no = errno;
			failed++;
			continue;
		}
		if (write(fd, &c, 1) != 1 || read_full(fd, &c, 1) < 0) {
			err_what = "request/reply";
			err_no = errno;
			failed++;
		} else {
			sample_add(&s, mono_ns() - a);
		}
		close(fd);
		/* A path that refuses everything would spin through the count. */
		if (failed > 20 && failed > s.n)
			break;
	}
	t1 = mono_ns();
	if (err_what)
		fprintf(stderr, "net_bench: crr: %" PRIu64 " failed, last: %s: %s\n", failed,
			err_what, strerror(err_no));
	printf("{\"mode\":\"crr\",\"n\":%zu,\"failed\":%" PRIu64 ",\"s\":%.6f,\"cps\":%.1f,", s.n,
	       failed, (double)(t1 - t0) / 1e9, (double)s.n / ((double)(t1 - t0) / 1e9));
	print_latency(&s);
	printf("}\n");
	return failed ? 1 : 0;
}

static int cmd_bulk(int argc, char **argv)
{
	struct run_opts o = { .time_s = 1, .count = 1 };
	struct sockaddr_storage ss;
	socklen_t len;
	uint64_t t0, t1, end, sent = 0, got = 0;
	uint16_t port;
	char *buf;
	int fd;

	if (argc < 2 || parse_port(argv[1], &port) < 0 ||
	    parse_addr(argv[0], port, &ss, &len) < 0 || parse_run_opts(argc, argv, 2, &o) < 0)
		return 2;
	buf = calloc(1, BULK_CHUNK);
	if (!buf)
		return die("malloc");
	fd = tcp_connect(&ss, len);
	if (fd < 0)
		return die("connect");
	t0 = mono_ns();
	end = t0 + (uint64_t)(o.time_s * 1e9);
	while (mono_ns() < end) {
		ssize_t w = write(fd, buf, BULK_CHUNK);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return die("send");
		sent += (uint64_t)w;
	}
	shutdown(fd, SHUT_WR);
	if (read_full(fd, &got, sizeof(got)) < 0)
		return die("reading the sink's count");
	t1 = mono_ns();
	close(fd);
	if (got != sent) {
		fprintf(stderr,
			"net_bench: bulk: sent %" PRIu64 " bytes, the sink got %" PRIu64 "\n", sent,
			got);
		return 1;
	}
	printf("{\"mode\":\"bulk\",\"bytes\":%" PRIu64 ",\"s\":%.6f,\"gbit\":%.4f}\n", got,
	       (double)(t1 - t0) / 1e9, (double)got * 8 / ((double)(t1 - t0) / 1e9) / 1e9);
	return 0;
}

/* ---- UDP stream ---- */

struct dgram {
	uint64_t seq;
	uint64_t t_ns; /* CLOCK_REALTIME at the sender */
	uint8_t pad[48];
};

static int cmd_udpsend(int argc, char **argv)
{
	struct {
		char addr[INET6_ADDRSTRLEN];
		uint16_t port;
		int fd;
		uint64_t sent, eperm, errors;
		struct ranges refused;
	} *st;
	double rate = 0, time_s = 60;
	uint64_t count = 0, period, t0, seq = 0, rt0;
	size_t n = 0;
	int i;

	st = calloc(MAX_STREAMS, sizeof(*st));
	if (!st)
		return die("malloc");
	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--rate") && i + 1 < argc) {
			rate = atof(argv[++i]);
		} else if (!strcmp(argv[i], "--count") && i + 1 < argc) {
			count = strtoull(argv[++i], NULL, 10);
		} else if (!strcmp(argv[i], "--time") && i + 1 < argc) {
			time_s = atof(argv[++i]);
		} else if (i + 1 < argc && n < MAX_STREAMS) {
			struct sockaddr_storage ss;
			socklen_t len;

			if (parse_port(argv[i + 1], &st[n].port) < 0 ||
			    parse_addr(argv[i], st[n].port, &ss, &len) < 0)
				return 2;
			snprintf(st[n].addr, sizeof(st[n].addr), "%s", argv[i]);
			st[n].fd = socket(ss.ss_family, SOCK_DGRAM, 0);
			if (st[n].fd < 0 || connect(st[n].fd, (struct sockaddr *)&ss, len) < 0)
				return die("udp socket");
			n++;
			i++;
		} else {
			return 2;
		}
	}
	if (!n || rate < 1 || rate > 1e6 || !count || time_s <= 0 || time_s > 600) {
		fprintf(stderr, "net_bench: udpsend: --rate 1..1e6, --count > 0, --time (0, 600], "
				"a target\n");
		return 2;
	}
	/* Sleep to the microsecond, not to the default 50 us slack. */
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	period = (uint64_t)(1e9 / rate);
	rt0 = now_ns(CLOCK_REALTIME);
	t0 = mono_ns();
	for (seq = 0; seq < count && !stop; seq++) {
		uint64_t due = t0 + seq * period, now = mono_ns();

		if (now - t0 > (uint64_t)(time_s * 1e9))
			break;
		if (now < due) {
			struct timespec ts = { .tv_sec = (time_t)(due / 1000000000ull),
					       .tv_nsec = (long)(due % 1000000000ull) };

			clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
		}
		for (size_t k = 0; k < n; k++) {
			struct dgram d = { .seq = seq, .t_ns = now_ns(CLOCK_REALTIME) };

			if (send(st[k].fd, &d, sizeof(d), 0) == (ssize_t)sizeof(d)) {
				st[k].sent++;
			} else if (errno == EPERM) {
				st[k].eperm++;
				range_add(&st[k].refused, seq, d.t_ns);
			} else {
				st[k].errors++;
			}
		}
	}
	printf("{\"mode\":\"udpsend\",\"rate\":%.0f,\"ticks\":%" PRIu64 ",\"t0_ns\":%" PRIu64
	       ",\"t1_ns\":%" PRIu64 ",\"s\":%.6f,\"streams\":[",
	       rate, seq, rt0, now_ns(CLOCK_REALTIME), (double)(mono_ns() - t0) / 1e9);
	for (size_t k = 0; k < n; k++) {
		printf("%s{\"addr\":\"%s\",\"port\":%u,\"sent\":%" PRIu64 ",\"eperm\":%" PRIu64
		       ",\"errors\":%" PRIu64 ",",
		       k ? "," : "", st[k].addr, st[k].port, st[k].sent, st[k].eperm, st[k].errors);
		print_ranges("refused", &st[k].refused);
		printf("}");
	}
	printf("]}\n");
	return 0;
}

static int cmd_udprecv(int argc, char **argv)
{
	struct {
		uint16_t port;
		int fd;
		uint32_t ovfl;
		struct ranges got;
	} *st;
	struct pollfd pfd[MAX_STREAMS];
	const char *addr = "0.0.0.0";
	int timeout = 600, one = 1, big = 32 << 20;
	size_t n = 0;

	st = calloc(MAX_STREAMS, sizeof(*st));
	if (!st)
		return die("malloc");
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--addr") && i + 1 < argc)
			addr = argv[++i];
		else if (!strcmp(argv[i], "--timeout") && i + 1 < argc)
			timeout = atoi(argv[++i]);
		else if (n < MAX_STREAMS && parse_port(argv[i], &st[n].port) == 0)
			n++;
		else
			return 2;
	}
	if (!n)
		return 2;
	for (size_t k = 0; k < n; k++) {
		struct sockaddr_storage ss;
		socklen_t len;

		if (parse_addr(addr, st[k].port, &ss, &len) < 0)
			return 2;
		st[k].fd = socket(ss.ss_family, SOCK_DGRAM, 0);
		if (st[k].fd < 0)
			return die("udp socket");
		/* FORCE: beyond rmem_max (CAP_NET_ADMIN), so a busy CPU does not drop. */
		if (setsockopt(st[k].fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big)) < 0)
			setsockopt(st[k].fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
		setsockopt(st[k].fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one));
		if (bind(st[k].fd, (struct sockaddr *)&ss, len) < 0)
			return die("bind");
		pfd[k] = (struct pollfd){ .fd = st[k].fd, .events = POLLIN };
	}
	signal(SIGALRM, on_signal);
	alarm(timeout > 0 ? (unsigned)timeout : 600);
	printf("READY\n");
	fflush(stdout);

	while (!stop) {
		if (poll(pfd, n, 200) <= 0)
			continue;
		for (size_t k = 0; k < n; k++) {
			if (!(pfd[k].revents & POLLIN))
				continue;
			for (;;) {
				char cbuf[CMSG_SPACE(sizeof(uint32_t))];
				struct dgram d;
				struct iovec iov = { .iov_base = &d, .iov_len = sizeof(d) };
				struct msghdr m = { .msg_iov = &iov,
						    .msg_iovlen = 1,
						    .msg_control = cbuf,
						    .msg_controllen = sizeof(cbuf) };
				ssize_t r = recvmsg(st[k].fd, &m, MSG_DONTWAIT);

				if (r < 0)
					break;
				for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c;
				     c = CMSG_NXTHDR(&m, c)) {
					if (c->cmsg_level == SOL_SOCKET &&
					    c->cmsg_type == SO_RXQ_OVFL)
						memcpy(&st[k].ovfl, CMSG_DATA(c),
						       sizeof(uint32_t));
				}
				if (r == (ssize_t)sizeof(d))
					range_add(&st[k].got, d.seq, d.t_ns);
			}
		}
	}
	printf("{\"mode\":\"udprecv\",\"ports\":[");
	for (size_t k = 0; k < n; k++) {
		printf("%s{\"port\":%u,\"received\":%" PRIu64 ",\"overflow\":%u,", k ? "," : "",
		       st[k].port, st[k].got.count, st[k].ovfl);
		print_ranges("ranges", &st[k].got);
		printf("}");
	}
	printf("]}\n");
	return 0;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: net_bench serve PORT [--addr A] [--sink] [--transparent] [--timeout S]\n"
		"       net_bench rr|bulk ADDR PORT [--time S] [--count N]\n"
		"       net_bench crr ADDR[-LAST] PORT [--time S] [--count N]\n"
		"       net_bench udpsend --rate R --count N [--time S] ADDR PORT [ADDR PORT...]\n"
		"       net_bench udprecv PORT [PORT...] [--addr A] [--timeout S]\n");
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	int rc = 2;

	/* No SA_RESTART: a blocking call returns EINTR and the loop sees 'stop'. */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (argc >= 2) {
		if (!strcmp(argv[1], "serve"))
			rc = cmd_serve(argc - 2, argv + 2);
		else if (!strcmp(argv[1], "rr"))
			rc = cmd_rr(argc - 2, argv + 2);
		else if (!strcmp(argv[1], "crr"))
			rc = cmd_crr(argc - 2, argv + 2);
		else if (!strcmp(argv[1], "bulk"))
			rc = cmd_bulk(argc - 2, argv + 2);
		else if (!strcmp(argv[1], "udpsend"))
			rc = cmd_udpsend(argc - 2, argv + 2);
		else if (!strcmp(argv[1], "udprecv"))
			rc = cmd_udprecv(argc - 2, argv + 2);
	}
	if (rc == 2)
		usage();
	return rc;
}
