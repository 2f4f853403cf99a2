// SPDX-License-Identifier: GPL-2.0-only
/*
 * tc_peer: the other ends of the TC end-to-end tests.
 *
 *   listen tcp|udp ADDR PORT [--transparent] [--max N] [--timeout S]
 *       A (transparent) listener. Prints "READY" once bound, then for every
 *       connection or datagram "CONN|DGRAM peer=A:P origdst=A:P" and answers
 *       the client with "ORIGDST A P". TCP: the original destination is the
 *       accepted socket's local address. UDP: IP_RECVORIGDSTADDR; with
 *       --transparent the answer leaves from the original destination (as a
 *       transparent proxy does), else from the listening socket.
 *   connect tcp|udp ADDR PORT [--timeout S] [--src ADDR] [--sport P] [--unconnected]
 *       Sends "hello", prints "REPLY <line>" and "PEER A P". Exit 0 on an
 *       answer, 1 refused or reset, 3 timeout.
 *   ping ADDR [--timeout S]          ICMP/ICMPv6 echo; exit 0 answered, 3 timeout.
 *   flood udp ADDR PORT COUNT        COUNT datagrams as fast as possible.
 *   bpfcount create PIN | read PIN   A cls_bpf program that counts packets and
 *       returns TC_ACT_UNSPEC (pinned at PIN, its map at PIN_map), or its count.
 *
 * Every wait is bounded by --timeout (default 3 s).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

static int timeout_s = 3;

static int die(const char *what)
{
	fprintf(stderr, "tc_peer: %s: %s\n", what, strerror(errno));
	return 2;
}

static int parse_sa(const char *addr, const char *port, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)atoi(port));
		*len = sizeof(*s4);
		return 0;
	}
	if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)atoi(port));
		*len = sizeof(*s6);
		return 0;
	}
	fprintf(stderr, "tc_peer: invalid address '%s'\n", addr);
	return -1;
}

static void fmt_sa(const struct sockaddr_storage *ss, char *buf, size_t n)
{
	char a[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s = (const void *)ss;

		inet_ntop(AF_INET, &s->sin_addr, a, sizeof(a));
		snprintf(buf, n, "%s %u", a, ntohs(s->sin_port));
	} else {
		const struct sockaddr_in6 *s = (const void *)ss;

		inet_ntop(AF_INET6, &s->sin6_addr, a, sizeof(a));
		snprintf(buf, n, "%s %u", a, ntohs(s->sin6_port));
	}
}

static void colon(char *s)
{
	char *sp = strrchr(s, ' ');

	if (sp)
		*sp = ':';
}

static int wait_fd(int fd, short ev, int ms)
{
	struct pollfd p = { .fd = fd, .events = ev };
	int r = poll(&p, 1, ms);

	return r;
}

static int listen_main(int argc, char **argv)
{
	struct sockaddr_storage ss;
	socklen_t len;
	bool udp, transparent = false;
	int max = 0, served = 0, fd, one = 1;
	time_t end;

	if (argc < 4)
		return fprintf(stderr, "usage: listen tcp|udp ADDR PORT [opts]\n"), 2;
	udp = !strcmp(argv[1], "udp");
	for (int i = 4; i < argc; i++) {
		if (!strcmp(argv[i], "--transparent"))
			transparent = true;
		else if (!strcmp(argv[i], "--max") && i + 1 < argc)
			max = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--timeout") && i + 1 < argc)
			timeout_s = atoi(argv[++i]);
	}
	if (parse_sa(argv[2], argv[3], &ss, &len) < 0)
		return 2;
	fd = socket(ss.ss_family, udp ? SOCK_DGRAM : SOCK_STREAM, 0);
	if (fd < 0)
		return die("socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (transparent) {
		if (ss.ss_family == AF_INET)
			setsockopt(fd, SOL_IP, IP_TRANSPARENT, &one, sizeof(one));
		else
			setsockopt(fd, SOL_IPV6, IPV6_TRANSPARENT, &one, sizeof(one));
	}
	if (udp) {
		setsockopt(fd, SOL_IP, IP_RECVORIGDSTADDR, &one, sizeof(one));
		if (ss.ss_family == AF_INET6)
			setsockopt(fd, SOL_IPV6, IPV6_RECVORIGDSTADDR, &one, sizeof(one));
	}
	if (bind(fd, (struct sockaddr *)&ss, len) < 0)
		return die("bind");
	if (!udp && listen(fd, 64) < 0)
		return die("listen");
	printf("READY\n");
	fflush(stdout);
	end = time(NULL) + timeout_s;
	while (time(NULL) < end && (!max || served < max)) {
		struct sockaddr_storage peer, orig;
		char p[64], o[64], msg[128], buf[256];
		socklen_t pl = sizeof(peer), ol = sizeof(orig);

		if (wait_fd(fd, POLLIN, 200) <= 0)
			continue;
		if (!udp) {
			int c = accept(fd, (struct sockaddr *)&peer, &pl);

			if (c < 0)
				continue;
			getsockname(c, (struct sockaddr *)&orig, &ol);
			fmt_sa(&peer, p, sizeof(p));
			fmt_sa(&orig, o, sizeof(o));
			snprintf(msg, sizeof(msg), "ORIGDST %s\n", o);
			if (wait_fd(c, POLLIN, 1000) > 0)
				(void)!read(c, buf, sizeof(buf));
			(void)!write(c, msg, strlen(msg));
			close(c);
			colon(p);
			colon(o);
			printf("CONN peer=%s origdst=%s\n", p, o);
		} else {
			char cbuf[256];
			struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
			struct msghdr mh = { .msg_name = &peer,
					     .msg_namelen = sizeof(peer),
					     .msg_iov = &iov,
					     .msg_iovlen = 1,
					     .msg_control = cbuf,
					     .msg_controllen = sizeof(cbuf) };
			bool have = false;
			int rf;

			if (recvmsg(fd, &mh, 0) < 0)
				continue;
			memset(&orig, 0, sizeof(orig));
			for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm;
			     cm = CMSG_NXTHDR(&mh, cm)) {
				if ((cm->cmsg_level == SOL_IP && cm->cmsg_type == IP_ORIGDSTADDR) ||
				    (cm->cmsg_level == SOL_IPV6 &&
				     cm->cmsg_type == IPV6_ORIGDSTADDR)) {
					memcpy(&orig, CMSG_DATA(cm),
					       cm->cmsg_len - CMSG_LEN(0) < sizeof(orig) ?
						       cm->cmsg_len - CMSG_LEN(0) :
						       sizeof(orig));
					have = true;
				}
			}
			if (!have)
				getsockname(fd, (struct sockaddr *)&orig, &ol);
			fmt_sa(&peer, p, sizeof(p));
			fmt_sa(&orig, o, sizeof(o));
			snprintf(msg, sizeof(msg), "ORIGDST %s\n", o);
			rf = fd;
			if (transparent) {
				/* Answer from the address the client sent to. */
				rf = socket(orig.ss_family, SOCK_DGRAM, 0);
				setsockopt(rf, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
				if (orig.ss_family == AF_INET)
					setsockopt(rf, SOL_IP, IP_TRANSPARENT, &one, sizeof(one));
				else
					setsockopt(rf, SOL_IPV6, IPV6_TRANSPARENT, &one,
						   sizeof(one));
				if (bind(rf, (struct sockaddr *)&orig,
					 orig.ss_family == AF_INET ?
						 sizeof(struct sockaddr_in) :
						 sizeof(struct sockaddr_in6)) < 0) {
					perror("tc_peer: bind to the original destination");
					close(rf);
					rf = fd;
				}
			}
			sendto(rf, msg, strlen(msg), 0, (struct sockaddr *)&peer, mh.msg_namelen);
			if (rf != fd)
				close(rf);
			colon(p);
			colon(o);
			printf("DGRAM peer=%s origdst=%s\n", p, o);
		}
		fflush(stdout);
		served++;
	}
	close(fd);
	return 0;
}

static int connect_main(int argc, char **argv)
{
	struct sockaddr_storage ss, src, peer;
	socklen_t len, sl = 0, pl = sizeof(peer);
	const char *srcaddr = NULL, *sport = "0";
	bool udp, unconnected = false;
	char buf[256], p[64];
	int fd, r, err = 0;
	ssize_t n;

	if (argc < 4)
		return fprintf(stderr, "usage: connect tcp|udp ADDR PORT [opts]\n"), 2;
	udp = !strcmp(argv[1], "udp");
	for (int i = 4; i < argc; i++) {
		if (!strcmp(argv[i], "--timeout") && i + 1 < argc)
			timeout_s = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--src") && i + 1 < argc)
			srcaddr = argv[++i];
		else if (!strcmp(argv[i], "--sport") && i + 1 < argc)
			sport = argv[++i];
		else if (!strcmp(argv[i], "--unconnected"))
			unconnected = true;
	}
	if (parse_sa(argv[2], argv[3], &ss, &len) < 0)
		return 2;
	fd = socket(ss.ss_family, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return die("socket");
	if (srcaddr || strcmp(sport, "0")) {
		if (parse_sa(srcaddr		     ? srcaddr :
			     ss.ss_family == AF_INET ? "0.0.0.0" :
						       "::",
			     sport, &src, &sl) < 0)
			return 2;
		if (bind(fd, (struct sockaddr *)&src, sl) < 0)
			return die("bind");
	}
	if (udp && unconnected) {
		if (sendto(fd, "hello\n", 6, 0, (struct sockaddr *)&ss, len) < 0)
			return die("sendto");
		if (wait_fd(fd, POLLIN, timeout_s * 1000) <= 0) {
			fprintf(stderr, "tc_peer: timeout\n");
			return 3;
		}
		n = recvfrom(fd, buf, sizeof(buf) - 1, 0, (struct sockaddr *)&peer, &pl);
		if (n < 0)
			return fprintf(stderr, "tc_peer: %s\n", strerror(errno)), 1;
		buf[n] = 0;
		buf[strcspn(buf, "\n")] = 0;
		fmt_sa(&peer, p, sizeof(p));
		printf("REPLY %s\nPEER %s\n", buf, p);
		return 0;
	}
	r = connect(fd, (struct sockaddr *)&ss, len);
	if (r < 0 && errno != EINPROGRESS)
		return fprintf(stderr, "tc_peer: connect: %s\n", strerror(errno)), 1;
	if (!udp) {
		socklen_t el = sizeof(err);

		if (wait_fd(fd, POLLOUT, timeout_s * 1000) <= 0) {
			fprintf(stderr, "tc_peer: connect: timeout\n");
			return 3;
		}
		getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el);
		if (err)
			return fprintf(stderr, "tc_peer: connect: %s\n", strerror(err)), 1;
	}
	if (send(fd, "hello\n", 6, 0) < 0)
		return fprintf(stderr, "tc_peer: send: %s\n", strerror(errno)), 1;
	if (wait_fd(fd, POLLIN, timeout_s * 1000) <= 0) {
		fprintf(stderr, "tc_peer: timeout waiting for the answer\n");
		return 3;
	}
	n = recv(fd, buf, sizeof(buf) - 1, 0);
	if (n < 0)
		return fprintf(stderr, "tc_peer: recv: %s\n", strerror(errno)), 1;
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
	getpeername(fd, (struct sockaddr *)&peer, &pl);
	fmt_sa(&peer, p, sizeof(p));
	printf("REPLY %s\nPEER %s\n", buf, p);
	close(fd);
	return 0;
}

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

static int ping_main(int argc, char **argv)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char pkt[64], buf[256];
	int fd;
	time_t end;

	if (argc < 2)
		return fprintf(stderr, "usage: ping ADDR\n"), 2;
	for (int i = 2; i < argc; i++)
		if (!strcmp(argv[i], "--timeout") && i + 1 < argc)
			timeout_s = atoi(argv[++i]);
	if (parse_sa(argv[1], "0", &ss, &len) < 0)
		return 2;
	memset(pkt, 0, sizeof(pkt));
	if (ss.ss_family == AF_INET) {
		struct icmphdr *h = (void *)pkt;

		fd = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
		h->type = ICMP_ECHO;
		h->un.echo.id = htons((uint16_t)getpid());
		h->un.echo.sequence = htons(1);
		h->checksum = csum(pkt, sizeof(pkt));
	} else {
		struct icmp6_hdr *h = (void *)pkt;

		fd = socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6); /* the kernel sums it */
		h->icmp6_type = ICMP6_ECHO_REQUEST;
		h->icmp6_id = htons((uint16_t)getpid());
		h->icmp6_seq = htons(1);
	}
	if (fd < 0)
		return die("socket");
	if (sendto(fd, pkt, sizeof(pkt), 0, (struct sockaddr *)&ss, len) < 0)
		return die("sendto");
	end = time(NULL) + timeout_s;
	while (time(NULL) <= end) {
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
				return 0;
			}
		} else if ((uint8_t)buf[0] == ICMP6_ECHO_REPLY) {
			printf("ECHO REPLY\n");
			return 0;
		}
	}
	fprintf(stderr, "tc_peer: ping: timeout\n");
	return 3;
}

static int flood_main(int argc, char **argv)
{
	struct sockaddr_storage ss;
	socklen_t len;
	long count;
	int fd;

	if (argc < 5)
		return fprintf(stderr, "usage: flood udp ADDR PORT COUNT\n"), 2;
	count = atol(argv[4]);
	if (count < 1 || count > 10000000)
		return fprintf(stderr, "tc_peer: COUNT must be 1..10000000\n"), 2;
	if (parse_sa(argv[2], argv[3], &ss, &len) < 0)
		return 2;
	fd = socket(ss.ss_family, SOCK_DGRAM, 0);
	if (fd < 0)
		return die("socket");
	for (long i = 0; i < count; i++) {
		/* A different source port now and then: many flows, not one. */
		if (sendto(fd, "x", 1, 0, (struct sockaddr *)&ss, len) < 0 && errno != ENOBUFS &&
		    errno != EAGAIN)
			return die("sendto");
	}
	printf("SENT %ld\n", count);
	return 0;
}

static int bpfcount_main(int argc, char **argv)
{
	char mp[4096];
	__u32 zero = 0;
	__u64 v = 0;
	int mfd, pfd;

	if (argc < 3)
		return fprintf(stderr, "usage: bpfcount create|read PIN\n"), 2;
	snprintf(mp, sizeof(mp), "%s_map", argv[2]);
	if (!strcmp(argv[1], "read")) {
		mfd = bpf_obj_get(mp);
		if (mfd < 0 || bpf_map_lookup_elem(mfd, &zero, &v) < 0)
			return die(mp);
		printf("%llu\n", (unsigned long long)v);
		return 0;
	}
	mfd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "tc_peer_cnt", 4, 8, 1, NULL);
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

		pfd = bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "tc_peer_count", "GPL", insn,
				    sizeof(insn) / sizeof(insn[0]), NULL);
	}
	if (pfd < 0)
		return die("prog");
	unlink(argv[2]);
	unlink(mp);
	if (bpf_obj_pin(pfd, argv[2]) < 0 || bpf_obj_pin(mfd, mp) < 0)
		return die("pin");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return fprintf(stderr, "usage: tc_peer listen|connect|ping|flood|bpfcount ...\n"),
		       2;
	if (!strcmp(argv[1], "listen"))
		return listen_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "connect"))
		return connect_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "ping"))
		return ping_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "flood"))
		return flood_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "bpfcount"))
		return bpfcount_main(argc - 1, argv + 1);
	fprintf(stderr, "tc_peer: unknown command '%s'\n", argv[1]);
	return 2;
}
