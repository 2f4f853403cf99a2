// SPDX-License-Identifier: GPL-2.0-only
/*
 * cgfw_peer: the other end of the end-to-end suites (tests/e2e, tests/tc) and
 * of the traffic benchmarks (net_datapath.sh, intercept.sh, policy_swap.sh in
 * bench/). Every server ends after --timeout seconds at the latest (or on
 * SIGTERM/SIGINT), every client is bounded in count and time.
 *
 *   serve --tcp ADDR:PORT ... --udp ADDR:PORT ... [--echo | --origdst | --sink]
 *         [--transparent] [--serial] [--timeout S]
 *       Prints "READY" once every socket is bound, then a line per connection
 *       or datagram, "CONN|DGRAM peer=A:P origdst=A:P" (the original
 *       destination: the accepted socket's own address for TCP,
 *       IP_RECVORIGDSTADDR for UDP). It answers:
 *         --echo     (the default) every byte it reads (TCP: until EOF)
 *         --origdst  "ORIGDST A P"; with --transparent the UDP answer leaves
 *                    from the original destination, as a transparent proxy's
 *         --sink     TCP: nothing until EOF, then the byte count (8 bytes)
 *       --transparent sets IP_TRANSPARENT (tproxy, bpf_sk_assign). Each TCP
 *       connection is served by a child process, so a stalled client holds up
 *       no other; --serial serves one TCP connection at a time in the server
 *       itself and prints no line per connection (the benchmarks: nothing
 *       between the socket calls).
 *   connect tcp|udp ADDR PORT [--timeout S] [--count N] [--src ADDR]
 *           [--sport P] [--unconnected] [--echo] [--size N]
 *       N attempts (a connection, or a datagram exchange) that each send a
 *       line and print "REPLY <first line of the answer>" and "PEER A P" (the
 *       address that answered); --echo: the answer must be the line itself.
 *       Exit 0: every attempt answered; 3: every attempt was stopped the way a
 *       firewall stops it (no answer within --timeout, or EPERM from the
 *       kernel); 1: anything else (refused, reset, a wrong echo, a mix).
 *   ping ADDR [--timeout S]          ICMP/ICMPv6 echo: exit 0 answered, 3 not
 *   flood udp ADDR PORT COUNT        COUNT datagrams as fast as possible
 *   rr ADDR PORT [--time S] [--count N]
 *       One connection, 1-byte request and reply, N times or S seconds.
 *   crr ADDR[-LAST] PORT [--time S] [--count N]
 *       A new connection per request: connect, 1 byte, read the reply, close.
 *       ADDR-LAST cycles the last IPv4 octet (198.51.100.1-254), so TIME_WAIT
 *       sockets do not exhaust the ports of one destination.
 *   bulk ADDR PORT [--time S]        sends for S seconds into a --sink server
 *   udpsend --rate R --count N [--time S] ADDR PORT [ADDR PORT...]
 *       R datagrams/s to each target (a sequence number and a send time in
 *       each), N per target at most; counts what the kernel refused (EPERM is
 *       a cgroup egress drop). Stops early on SIGTERM.
 *   udprecv PORT [PORT...] [--addr A] [--timeout S]
 *       Counts datagrams per port until SIGTERM; socket-buffer overflows are
 *       counted apart (SO_RXQ_OVFL) so they are not mistaken for a firewall.
 *   bpfcount create PIN | read PIN
 *       A cls_bpf program that counts packets and returns TC_ACT_UNSPEC
 *       (pinned at PIN, its map at PIN_map), or its count.
 *
 * rr, crr, bulk, udpsend and udprecv print one JSON line; sequence numbers
 * received (or refused, for udpsend) as ranges [first, last, send time of
 * first, send time of last], the first 32 of them.
 *
 * Exit 2: bad usage. Network safety: every address it sends to or binds must
 * be loopback or in 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24 or
 * 2001:db8::/32 (a server may also bind the wildcard); anything else is
 * refused with exit 2.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <linux/bpf.h>

#ifndef IP_RECVORIGDSTADDR
#define IP_RECVORIGDSTADDR 20
#endif
#ifndef IPV6_RECVORIGDSTADDR
#define IPV6_RECVORIGDSTADDR 74
#endif
#ifndef IPV6_ORIGDSTADDR
#define IPV6_ORIGDSTADDR 74
#endif

#define MAX_SAMPLES  (4u << 20) /* latency samples kept per run */
#define MAX_RANGES   32
#define MAX_STREAMS  8
#define MAX_SOCKS    16
#define BULK_CHUNK   (128 * 1024)
#define IO_TIMEOUT_S 2

enum { OK = 0, FAILED = 1, USAGE = 2, BLOCKED = 3 };

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int die(const char *what)
{
	fprintf(stderr, "cgfw_peer: %s: %s\n", what, strerror(errno));
	return FAILED;
}

static int usage_err(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "cgfw_peer: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return USAGE;
}

/* One line on stdout in one write(), so that the lines of a server's children interleave whole. */
static void say(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof(buf) - 2)
		n = (int)sizeof(buf) - 2;
	buf[n++] = '\n';
	(void)!write(STDOUT_FILENO, buf, (size_t)n);
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

/* ---- addresses ---- */

static int parse_port(const char *s, uint16_t *ret)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v < 0 || v > 65535) {
		fprintf(stderr, "cgfw_peer: '%s' is not a port\n", s);
		return -1;
	}
	*ret = (uint16_t)v;
	return 0;
}

/* Network safety: loopback and the documentation ranges, and for a socket
 * that only binds, the wildcard. */
static bool safe_addr(const struct sockaddr_storage *ss, bool bind_only)
{
	if (ss->ss_family == AF_INET) {
		uint32_t a = ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr);

		return a >> 24 == 127 || a >> 8 == 0xc00002 || a >> 8 == 0xc63364 ||
		       a >> 8 == 0xcb0071 || (bind_only && a == 0);
	} else {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)ss)->sin6_addr;

		return IN6_IS_ADDR_LOOPBACK(a) || !memcmp(a->s6_addr, "\x20\x01\x0d\xb8", 4) ||
		       (bind_only && IN6_IS_ADDR_UNSPECIFIED(a));
	}
}

static int parse_addr(const char *addr, uint16_t port, struct sockaddr_storage *ss, socklen_t *len)
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
	fprintf(stderr, "cgfw_peer: '%s' is not an IPv4 or IPv6 address\n", addr);
	return -1;
}

/* parse_addr, and the address must be one the tests may use. */
static int parse_safe(const char *addr, uint16_t port, bool bind_only, struct sockaddr_storage *ss,
		      socklen_t *len)
{
	if (parse_addr(addr, port, ss, len) < 0)
		return -1;
	if (!safe_addr(ss, bind_only)) {
		fprintf(stderr,
			"cgfw_peer: refusing %s: outside loopback and the documentation "
			"ranges\n",
			addr);
		return -1;
	}
	return 0;
}

/* ADDR:PORT, [V6ADDR]:PORT */
static int parse_hostport(const char *spec, bool bind_only, struct sockaddr_storage *ss,
			  socklen_t *len)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon = strrchr(spec, ':');
	size_t n;
	uint16_t port;

	if (!colon || parse_port(colon + 1, &port) < 0)
		return usage_err("'%s' is not ADDR:PORT", spec);
	n = (size_t)(colon - spec);
	if (n >= 2 && spec[0] == '[' && spec[n - 1] == ']') {
		spec++;
		n -= 2;
	}
	if (n >= sizeof(host))
		return usage_err("'%s' is not ADDR:PORT", spec);
	memcpy(host, spec, n);
	host[n] = '\0';
	return parse_safe(host, port, bind_only, ss, len) < 0 ? USAGE : 0;
}

/* "A P", or "A:P" with @sep ':' */
static void fmt_sa(const struct sockaddr_storage *ss, char sep, char *buf, size_t n)
{
	char a[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &s->sin_addr, a, sizeof(a));
		port = ntohs(s->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)ss;

		inet_ntop(AF_INET6, &s->sin6_addr, a, sizeof(a));
		port = ntohs(s->sin6_port);
	}
	snprintf(buf, n, "%s%c%u", a, sep, port);
}

static double parse_secs(const char *s)
{
	return atof(s);
}

static int ms_of(double s)
{
	return s <= 0 ? 0 : s > 3600 ? 3600000 : (int)(s * 1000);
}

static int wait_fd(int fd, short ev, int ms)
{
	struct pollfd p = { .fd = fd, .events = ev };

	return poll(&p, 1, ms);
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

static int set_transparent(int fd, int family)
{
	int one = 1;

	return family == AF_INET ? setsockopt(fd, SOL_IP, IP_TRANSPARENT, &one, sizeof(one)) :
				   setsockopt(fd, SOL_IPV6, IPV6_TRANSPARENT, &one, sizeof(one));
}

/* ---- serve ---- */

enum answer { ANSWER_ECHO, ANSWER_ORIGDST, ANSWER_SINK };

struct listener {
	int fd;
	bool udp;
};

/* 0 and the socket in *@ret_fd, or an exit status. */
static int open_listener(const struct sockaddr_storage *ss, socklen_t len, bool udp,
			 bool transparent, int *ret_fd)
{
	int fd = socket(ss->ss_family, udp ? SOCK_DGRAM : SOCK_STREAM, 0), one = 1;

	if (fd < 0)
		return die("socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss->ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (transparent && set_transparent(fd, ss->ss_family) < 0)
		return die("IP_TRANSPARENT");
	if (udp) {
		setsockopt(fd, SOL_IP, IP_RECVORIGDSTADDR, &one, sizeof(one));
		if (ss->ss_family == AF_INET6)
			setsockopt(fd, SOL_IPV6, IPV6_RECVORIGDSTADDR, &one, sizeof(one));
	}
	if (bind(fd, (const struct sockaddr *)ss, len) < 0)
		return die("bind");
	if (!udp && listen(fd, 1024) < 0)
		return die("listen");
	*ret_fd = fd;
	return OK;
}

/* One TCP connection, by @answer; @line (if any) is printed before the
 * client can have all of its answer. */
static void serve_conn(int fd, enum answer answer, char *buf, const char *line)
{
	uint64_t total = 0;

	if (answer == ANSWER_ORIGDST) {
		struct sockaddr_storage orig;
		socklen_t ol = sizeof(orig);
		char o[64], msg[96];

		getsockname(fd, (struct sockaddr *)&orig, &ol);
		fmt_sa(&orig, ' ', o, sizeof(o));
		snprintf(msg, sizeof(msg), "ORIGDST %s\n", o);
		if (wait_fd(fd, POLLIN, 1000) > 0)
			(void)!read(fd, buf, 256);
		if (line)
			say("%s", line);
		(void)!write(fd, msg, strlen(msg));
		return;
	}
	for (;;) {
		ssize_t r = read(fd, buf, BULK_CHUNK * 2);

		if (r < 0 && errno == EINTR && !stop)
			continue;
		if (r <= 0)
			break;
		total += (uint64_t)r;
		if (answer == ANSWER_ECHO && write(fd, buf, (size_t)r) != r)
			break;
	}
	if (line)
		say("%s", line);
	if (answer == ANSWER_SINK && write(fd, &total, sizeof(total)) != (ssize_t)sizeof(total))
		fprintf(stderr, "cgfw_peer: sink: cannot send the count\n");
}

static void serve_dgram(int fd, enum answer answer, bool transparent, char *buf)
{
	struct sockaddr_storage peer, orig;
	socklen_t ol = sizeof(orig);
	char cbuf[256], p[64], o[64], msg[96];
	struct iovec iov = { .iov_base = buf, .iov_len = 65536 };
	struct msghdr mh = { .msg_name = &peer,
			     .msg_namelen = sizeof(peer),
			     .msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	bool have = false;
	ssize_t n;
	int rf = fd, one = 1;

	n = recvmsg(fd, &mh, MSG_DONTWAIT);
	if (n < 0)
		return;
	memset(&orig, 0, sizeof(orig));
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		if ((cm->cmsg_level == SOL_IP && cm->cmsg_type == IP_ORIGDSTADDR) ||
		    (cm->cmsg_level == SOL_IPV6 && cm->cmsg_type == IPV6_ORIGDSTADDR)) {
			size_t l = cm->cmsg_len - CMSG_LEN(0);

			memcpy(&orig, CMSG_DATA(cm), l < sizeof(orig) ? l : sizeof(orig));
			have = true;
		}
	}
	if (!have)
		getsockname(fd, (struct sockaddr *)&orig, &ol);
	fmt_sa(&peer, ':', p, sizeof(p));
	fmt_sa(&orig, ':', o, sizeof(o));
	/* The line first: a client that has its answer finds it written. */
	say("DGRAM peer=%s origdst=%s", p, o);
	if (answer == ANSWER_ECHO) {
		sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&peer, mh.msg_namelen);
	} else if (answer == ANSWER_ORIGDST) {
		fmt_sa(&orig, ' ', o, sizeof(o));
		snprintf(msg, sizeof(msg), "ORIGDST %s\n", o);
		if (transparent) {
			/* Answer from the address the client sent to. */
			rf = socket(orig.ss_family, SOCK_DGRAM, 0);
			setsockopt(rf, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
			set_transparent(rf, orig.ss_family);
			if (bind(rf, (struct sockaddr *)&orig,
				 orig.ss_family == AF_INET ? sizeof(struct sockaddr_in) :
							     sizeof(struct sockaddr_in6)) < 0) {
				perror("cgfw_peer: bind to the original destination");
				close(rf);
				rf = fd;
			}
		}
		sendto(rf, msg, strlen(msg), 0, (struct sockaddr *)&peer, mh.msg_namelen);
		if (rf != fd)
			close(rf);
	}
}

/* Accept one connection and serve it in a child process. */
static void fork_conn(int lfd, const struct listener *ls, size_t n, enum answer answer, char *buf)
{
	struct sockaddr_storage peer, orig;
	socklen_t pl = sizeof(peer), ol = sizeof(orig);
	char p[64], o[64], line[160];
	int fd = accept(lfd, (struct sockaddr *)&peer, &pl);
	pid_t pid;

	if (fd < 0)
		return;
	pid = fork();
	if (pid != 0) {
		if (pid < 0)
			perror("cgfw_peer: fork");
		close(fd);
		return;
	}
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	for (size_t i = 0; i < n; i++)
		close(ls[i].fd);
	set_timeouts(fd);
	nodelay(fd);
	getsockname(fd, (struct sockaddr *)&orig, &ol);
	fmt_sa(&peer, ':', p, sizeof(p));
	fmt_sa(&orig, ':', o, sizeof(o));
	snprintf(line, sizeof(line), "CONN peer=%s origdst=%s", p, o);
	serve_conn(fd, answer, buf, line);
	close(fd);
	_exit(0);
}

static int cmd_serve(int argc, char **argv)
{
	struct {
		struct sockaddr_storage ss;
		socklen_t len;
		bool udp;
	} spec[MAX_SOCKS];
	struct listener ls[MAX_SOCKS];
	struct pollfd pfd[MAX_SOCKS];
	enum answer answer = ANSWER_ECHO;
	bool transparent = false, serial = false;
	double timeout = 60;
	size_t n = 0;
	char *buf;

	for (int i = 0; i < argc; i++) {
		bool udp = !strcmp(argv[i], "--udp");

		if ((udp || !strcmp(argv[i], "--tcp")) && i + 1 < argc) {
			if (n == MAX_SOCKS)
				return usage_err("at most %d sockets", MAX_SOCKS);
			if (parse_hostport(argv[++i], true, &spec[n].ss, &spec[n].len))
				return USAGE;
			spec[n++].udp = udp;
		} else if (!strcmp(argv[i], "--echo")) {
			answer = ANSWER_ECHO;
		} else if (!strcmp(argv[i], "--origdst")) {
			answer = ANSWER_ORIGDST;
		} else if (!strcmp(argv[i], "--sink")) {
			answer = ANSWER_SINK;
		} else if (!strcmp(argv[i], "--transparent")) {
			transparent = true;
		} else if (!strcmp(argv[i], "--serial")) {
			serial = true;
		} else if (!strcmp(argv[i], "--timeout") && i + 1 < argc) {
			timeout = parse_secs(argv[++i]);
		} else {
			return usage_err("serve: unknown option '%s'", argv[i]);
		}
	}
	if (!n)
		return usage_err("serve: no --tcp or --udp socket");
	if (timeout <= 0 || timeout > 3600)
		return usage_err("serve: --timeout must be in (0, 3600]");
	if (serial && (n != 1 || spec[0].udp))
		return usage_err("serve: --serial takes one --tcp socket");
	buf = malloc(BULK_CHUNK * 2);
	if (!buf)
		return die("malloc");
	for (size_t i = 0; i < n; i++) {
		int fd, rc = open_listener(&spec[i].ss, spec[i].len, spec[i].udp, transparent, &fd);

		if (rc)
			return rc;
		ls[i] = (struct listener){ .fd = fd, .udp = spec[i].udp };
		pfd[i] = (struct pollfd){ .fd = fd, .events = POLLIN };
	}
	signal(SIGALRM, on_signal);
	signal(SIGCHLD, SIG_IGN); /* the connections' children are reaped by the kernel */
	alarm((unsigned)(timeout + 0.999));
	say("READY");

	if (serial) {
		/* The benchmarks' server: blocking calls, one connection at a time. */
		while (!stop) {
			int fd = accept(ls[0].fd, NULL, NULL);

			if (fd < 0) {
				if (errno == EINTR || errno == ECONNABORTED)
					continue;
				return die("accept");
			}
			nodelay(fd);
			serve_conn(fd, answer, buf, NULL);
			close(fd);
		}
		return OK;
	}
	while (!stop) {
		if (poll(pfd, n, 200) <= 0)
			continue;
		for (size_t i = 0; i < n; i++) {
			if (!(pfd[i].revents & POLLIN))
				continue;
			if (ls[i].udp)
				serve_dgram(ls[i].fd, answer, transparent, buf);
			else
				fork_conn(ls[i].fd, ls, n, answer, buf);
		}
	}
	return OK;
}

/* ---- connect ---- */

struct attempt_opts {
	bool udp, unconnected, echo;
	int timeout_ms;
	size_t size;
	struct sockaddr_storage dst, src;
	socklen_t dst_len, src_len;
};

static int blocked_or_failed(int err)
{
	return err == EPERM ? BLOCKED : FAILED;
}

/* One attempt: OK (and the REPLY and PEER lines), BLOCKED or FAILED (and why). */
static int attempt(const struct attempt_opts *o, int i, char *why, size_t wn)
{
	char payload[1100], reply[4096], p[64];
	struct sockaddr_storage peer = {};
	socklen_t pl = sizeof(peer);
	size_t plen, got = 0;
	int fd, rc = FAILED, err = 0;
	ssize_t r;

	plen = (size_t)snprintf(payload, sizeof(payload), "cgfw-peer %d ", i);
	memset(payload + plen, 'x', o->size);
	plen += o->size;
	payload[plen++] = '\n';
	fd = socket(o->dst.ss_family, (o->udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return snprintf(why, wn, "socket: %s", strerror(errno)), FAILED;
	if (o->src_len && bind(fd, (const struct sockaddr *)&o->src, o->src_len) < 0) {
		snprintf(why, wn, "bind: %s", strerror(errno));
		goto out;
	}
	if (o->udp && o->unconnected) {
		if (sendto(fd, payload, plen, 0, (const struct sockaddr *)&o->dst, o->dst_len) <
		    0) {
			rc = blocked_or_failed(errno);
			snprintf(why, wn, "sendto: %s", strerror(errno));
			goto out;
		}
	} else {
		if (connect(fd, (const struct sockaddr *)&o->dst, o->dst_len) < 0 &&
		    errno != EINPROGRESS) {
			rc = blocked_or_failed(errno);
			snprintf(why, wn, "connect: %s", strerror(errno));
			goto out;
		}
		if (!o->udp) {
			socklen_t el = sizeof(err);

			if (wait_fd(fd, POLLOUT, o->timeout_ms) <= 0) {
				rc = BLOCKED;
				snprintf(why, wn, "connect: no answer in %.1f s",
					 o->timeout_ms / 1e3);
				goto out;
			}
			getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el);
			if (err) {
				rc = blocked_or_failed(err);
				snprintf(why, wn, "connect: %s", strerror(err));
				goto out;
			}
		}
		/* Now: a TCP socket the server has closed has no peer any more. */
		getpeername(fd, (struct sockaddr *)&peer, &pl);
		if (send(fd, payload, plen, 0) != (ssize_t)plen) {
			rc = blocked_or_failed(errno);
			snprintf(why, wn, "send: %s", strerror(errno));
			goto out;
		}
		if (!o->udp)
			shutdown(fd, SHUT_WR);
	}
	/* The answer: a datagram, or everything until the server closes. */
	for (;;) {
		if (wait_fd(fd, POLLIN, o->timeout_ms) <= 0) {
			rc = BLOCKED;
			snprintf(why, wn, "no answer in %.1f s", o->timeout_ms / 1e3);
			goto out;
		}
		if (o->udp && o->unconnected)
			r = recvfrom(fd, reply + got, sizeof(reply) - 1 - got, 0,
				     (struct sockaddr *)&peer, &pl);
		else
			r = recv(fd, reply + got, sizeof(reply) - 1 - got, 0);
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (r < 0) {
			rc = blocked_or_failed(errno);
			snprintf(why, wn, "recv: %s", strerror(errno));
			goto out;
		}
		got += (size_t)r;
		if (o->udp || r == 0 || got == sizeof(reply) - 1)
			break;
	}
	reply[got] = '\0';
	if (o->echo && (got != plen || memcmp(reply, payload, plen))) {
		snprintf(why, wn, "short or wrong echo (%zu of %zu bytes)", got, plen);
		goto out;
	}
	fmt_sa(&peer, ' ', p, sizeof(p));
	reply[strcspn(reply, "\n")] = '\0';
	printf("REPLY %s\nPEER %s\n", reply, p);
	fflush(stdout);
	rc = OK;
out:
	close(fd);
	return rc;
}

static int cmd_connect(int argc, char **argv)
{
	struct attempt_opts o = { .timeout_ms = 3000, .size = 16 };
	const char *src = NULL, *sport = "0";
	int count = 1, n_ok = 0, n_blocked = 0;
	char dst[80];
	uint16_t port, sp;

	if (argc < 3 || (strcmp(argv[0], "tcp") && strcmp(argv[0], "udp")))
		return usage_err("usage: connect tcp|udp ADDR PORT [options]");
	o.udp = !strcmp(argv[0], "udp");
	for (int i = 3; i < argc; i++) {
		if (!strcmp(argv[i], "--timeout") && i + 1 < argc)
			o.timeout_ms = ms_of(parse_secs(argv[++i]));
		else if (!strcmp(argv[i], "--count") && i + 1 < argc)
			count = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--src") && i + 1 < argc)
			src = argv[++i];
		else if (!strcmp(argv[i], "--sport") && i + 1 < argc)
			sport = argv[++i];
		else if (!strcmp(argv[i], "--size") && i + 1 < argc)
			o.size = (size_t)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--unconnected"))
			o.unconnected = true;
		else if (!strcmp(argv[i], "--echo"))
			o.echo = true;
		else
			return usage_err("connect: unknown option '%s'", argv[i]);
	}
	/* Bounded: 1..1000 attempts of 0.1..10 s each. */
	count = count < 1 ? 1 : count > 1000 ? 1000 : count;
	o.timeout_ms = o.timeout_ms < 100 ? 100 : o.timeout_ms > 10000 ? 10000 : o.timeout_ms;
	o.size = o.size > 1000 ? 1000 : o.size;
	if (parse_port(argv[2], &port) < 0 || parse_port(sport, &sp) < 0 ||
	    parse_safe(argv[1], port, false, &o.dst, &o.dst_len) < 0)
		return USAGE;
	if (src || sp) {
		if (parse_safe(src			  ? src :
			       o.dst.ss_family == AF_INET ? "0.0.0.0" :
							    "::",
			       sp, true, &o.src, &o.src_len) < 0)
			return USAGE;
	}
	snprintf(dst, sizeof(dst), "%s port %s/%s", argv[1], argv[2], argv[0]);
	for (int i = 0; i < count && !stop; i++) {
		char why[160] = "";
		int rc = attempt(&o, i, why, sizeof(why));

		n_ok += rc == OK;
		n_blocked += rc == BLOCKED;
		if (rc != OK)
			fprintf(stderr, "cgfw_peer: %s %s: %s\n", dst,
				rc == BLOCKED ? "blocked" : "error", why);
	}
	if (count > 1)
		fprintf(stderr, "cgfw_peer: %s: %d answered, %d blocked, %d other\n", dst, n_ok,
			n_blocked, count - n_ok - n_blocked);
	return n_ok == count ? OK : n_blocked == count ? BLOCKED : FAILED;
}

/* ---- ping, flood ---- */

static uint16_t csum(const void *d, size_t n)
{
	const uint16_t *w = d;
	uint32_t s = 0;

	for (; n > 1; n -= 2)
		s += *w++;
	if (n)
		s += *(const uint8_t *)w;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static int cmd_ping(int argc, char **argv)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char pkt[64], buf[256];
	int fd, timeout_ms = 3000;
	uint64_t end;

	if (argc < 1)
		return usage_err("usage: ping ADDR [--timeout S]");
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--timeout") && i + 1 < argc)
			timeout_ms = ms_of(parse_secs(argv[++i]));
		else
			return usage_err("ping: unknown option '%s'", argv[i]);
	}
	if (parse_safe(argv[0], 0, false, &ss, &len) < 0)
		return USAGE;
	memset(pkt, 0, sizeof(pkt));
	if (ss.ss_family == AF_INET) {
		struct icmphdr *h = (struct icmphdr *)pkt;

		fd = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
		h->type = ICMP_ECHO;
		h->un.echo.id = htons((uint16_t)getpid());
		h->un.echo.sequence = htons(1);
		h->checksum = csum(pkt, sizeof(pkt));
	} else {
		struct icmp6_hdr *h = (struct icmp6_hdr *)pkt;

		fd = socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6); /* the kernel sums it */
		h->icmp6_type = ICMP6_ECHO_REQUEST;
		h->icmp6_id = htons((uint16_t)getpid());
		h->icmp6_seq = htons(1);
	}
	if (fd < 0)
		return die("socket");
	if (sendto(fd, pkt, sizeof(pkt), 0, (struct sockaddr *)&ss, len) < 0)
		return die("sendto");
	end = mono_ns() + (uint64_t)timeout_ms * 1000000;
	while (mono_ns() <= end) {
		ssize_t n;

		if (wait_fd(fd, POLLIN, 200) <= 0)
			continue;
		n = recv(fd, buf, sizeof(buf), 0);
		if (n <= 0)
			continue;
		if (ss.ss_family == AF_INET) {
			size_t hl = ((uint8_t)buf[0] & 0xf) * 4;

			if ((size_t)n > hl && (uint8_t)buf[hl] == ICMP_ECHOREPLY) {
				printf("ECHO REPLY\n");
				return OK;
			}
		} else if ((uint8_t)buf[0] == ICMP6_ECHO_REPLY) {
			printf("ECHO REPLY\n");
			return OK;
		}
	}
	fprintf(stderr, "cgfw_peer: ping %s: no answer\n", argv[0]);
	return BLOCKED;
}

static int cmd_flood(int argc, char **argv)
{
	struct sockaddr_storage ss;
	socklen_t len;
	uint16_t port;
	long count;
	int fd;

	if (argc < 4 || strcmp(argv[0], "udp"))
		return usage_err("usage: flood udp ADDR PORT COUNT");
	count = atol(argv[3]);
	if (count < 1 || count > 10000000)
		return usage_err("flood: COUNT must be 1..10000000");
	if (parse_port(argv[2], &port) < 0 || parse_safe(argv[1], port, false, &ss, &len) < 0)
		return USAGE;
	fd = socket(ss.ss_family, SOCK_DGRAM, 0);
	if (fd < 0)
		return die("socket");
	for (long i = 0; i < count && !stop; i++) {
		if (sendto(fd, "x", 1, 0, (struct sockaddr *)&ss, len) < 0 && errno != ENOBUFS &&
		    errno != EAGAIN)
			return die("sendto");
	}
	printf("SENT %ld\n", count);
	return OK;
}

/* ---- latency samples, sequence ranges (the benchmarks) ---- */

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

/* ---- TCP clients of the benchmarks: rr, crr, bulk ---- */

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
		fprintf(stderr, "cgfw_peer: --time must be in (0, 600], --count > 0\n");
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
	    parse_safe(argv[0], port, false, &ss, &len) < 0 ||
	    parse_run_opts(argc, argv, 2, &o) < 0)
		return USAGE;
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
	return OK;
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
		return USAGE;
	snprintf(base, sizeof(base), "%s", argv[0]);
	dash = strchr(base, '-');
	if (dash) {
		char *dot = strrchr(base, '.');
		char one[INET6_ADDRSTRLEN + 8];

		*dash = '\0';
		if (!dot || dot > dash || sscanf(dot + 1, "%u", &first) != 1 ||
		    sscanf(dash + 1, "%u", &last) != 1 || first > last || last > 255)
			return usage_err("'%s' is not A.B.C.X-Y", argv[0]);
		*dot = '\0';
		/* One /24: its first address is as safe as all of them. */
		snprintf(one, sizeof(one), "%s.%u", base, first);
		if (parse_safe(one, port, false, &ss, &len) < 0)
			return USAGE;
	}
	if (!dash && parse_safe(base, port, false, &ss, &len) < 0)
		return USAGE;
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
				return USAGE;
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
		fprintf(stderr, "cgfw_peer: crr: %" PRIu64 " failed, last: %s: %s\n", failed,
			err_what, strerror(err_no));
	printf("{\"mode\":\"crr\",\"n\":%zu,\"failed\":%" PRIu64 ",\"s\":%.6f,\"cps\":%.1f,", s.n,
	       failed, (double)(t1 - t0) / 1e9, (double)s.n / ((double)(t1 - t0) / 1e9));
	print_latency(&s);
	printf("}\n");
	return failed ? FAILED : OK;
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
	    parse_safe(argv[0], port, false, &ss, &len) < 0 ||
	    parse_run_opts(argc, argv, 2, &o) < 0)
		return USAGE;
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
			"cgfw_peer: bulk: sent %" PRIu64 " bytes, the sink got %" PRIu64 "\n", sent,
			got);
		return FAILED;
	}
	printf("{\"mode\":\"bulk\",\"bytes\":%" PRIu64 ",\"s\":%.6f,\"gbit\":%.4f}\n", got,
	       (double)(t1 - t0) / 1e9, (double)got * 8 / ((double)(t1 - t0) / 1e9) / 1e9);
	return OK;
}

/* ---- UDP stream of the benchmarks: udpsend, udprecv ---- */

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
			    parse_safe(argv[i], st[n].port, false, &ss, &len) < 0)
				return USAGE;
			snprintf(st[n].addr, sizeof(st[n].addr), "%s", argv[i]);
			st[n].fd = socket(ss.ss_family, SOCK_DGRAM, 0);
			if (st[n].fd < 0 || connect(st[n].fd, (struct sockaddr *)&ss, len) < 0)
				return die("udp socket");
			n++;
			i++;
		} else {
			return usage_err("udpsend: unknown argument '%s'", argv[i]);
		}
	}
	if (!n || rate < 1 || rate > 1e6 || !count || time_s <= 0 || time_s > 600)
		return usage_err("udpsend: --rate 1..1e6, --count > 0, --time (0, 600], a target");
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
	return OK;
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
			return USAGE;
	}
	if (!n)
		return usage_err("udprecv: no port");
	for (size_t k = 0; k < n; k++) {
		struct sockaddr_storage ss;
		socklen_t len;

		if (parse_safe(addr, st[k].port, true, &ss, &len) < 0)
			return USAGE;
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
						memcpy(&st[k].ovfl, CMSG_DATA(c), sizeof(uint32_t));
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
	return OK;
}

/* ---- bpfcount: somebody else's cls_bpf program ---- */

static int cmd_bpfcount(int argc, char **argv)
{
	char mp[4096];
	__u32 zero = 0;
	__u64 v = 0;
	int mfd, pfd;

	if (argc < 2 || (strcmp(argv[0], "create") && strcmp(argv[0], "read")))
		return usage_err("usage: bpfcount create|read PIN");
	snprintf(mp, sizeof(mp), "%s_map", argv[1]);
	if (!strcmp(argv[0], "read")) {
		mfd = bpf_obj_get(mp);
		if (mfd < 0 || bpf_map_lookup_elem(mfd, &zero, &v) < 0)
			return die(mp);
		printf("%llu\n", (unsigned long long)v);
		return OK;
	}
	mfd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "cgfw_peer_cnt", 4, 8, 1, NULL);
	if (mfd < 0)
		return die("map");
	{
		struct bpf_insn insn[] = {
			/* *(u32 *)(fp - 4) = 0 */
			{ .code = BPF_ST | BPF_MEM | BPF_W,
			  .dst_reg = BPF_REG_10,
			  .off = -4,
			  .imm = 0 },
			{ .code = BPF_ALU64 | BPF_MOV | BPF_X,
			  .dst_reg = BPF_REG_2,
			  .src_reg = BPF_REG_10 },
			{ .code = BPF_ALU64 | BPF_ADD | BPF_K, .dst_reg = BPF_REG_2, .imm = -4 },
			/* r1 = map */
			{ .code = BPF_LD | BPF_DW | BPF_IMM,
			  .dst_reg = BPF_REG_1,
			  .src_reg = BPF_PSEUDO_MAP_FD,
			  .imm = mfd },
			{ 0 },
			{ .code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_map_lookup_elem },
			{ .code = BPF_JMP | BPF_JEQ | BPF_K,
			  .dst_reg = BPF_REG_0,
			  .off = 2,
			  .imm = 0 },
			{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_1, .imm = 1 },
			{ .code = BPF_STX | BPF_ATOMIC | BPF_DW,
			  .dst_reg = BPF_REG_0,
			  .src_reg = BPF_REG_1,
			  .imm = BPF_ADD },
			/* TC_ACT_UNSPEC: the next filter runs */
			{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = -1 },
			{ .code = BPF_JMP | BPF_EXIT },
		};

		pfd = bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "cgfw_peer_count", "GPL", insn,
				    sizeof(insn) / sizeof(insn[0]), NULL);
	}
	if (pfd < 0)
		return die("prog");
	unlink(argv[1]);
	unlink(mp);
	if (bpf_obj_pin(pfd, argv[1]) < 0 || bpf_obj_pin(mfd, mp) < 0)
		return die("pin");
	return OK;
}

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
} cmds[] = {
	{ "serve", cmd_serve },	      { "connect", cmd_connect }, { "ping", cmd_ping },
	{ "flood", cmd_flood },	      { "rr", cmd_rr },		  { "crr", cmd_crr },
	{ "bulk", cmd_bulk },	      { "udpsend", cmd_udpsend }, { "udprecv", cmd_udprecv },
	{ "bpfcount", cmd_bpfcount },
};

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };

	/* No SA_RESTART: a blocking call returns EINTR and the loop sees 'stop'. */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	for (size_t i = 0; argc >= 2 && i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].fn(argc - 2, argv + 2);
	fprintf(stderr, "usage: cgfw_peer serve|connect|ping|flood|rr|crr|bulk|udpsend|udprecv|"
			"bpfcount ... (see tests/lib/peer.c)\n");
	return USAGE;
}
