// SPDX-License-Identifier: GPL-2.0-only
/*
 * Table-driven BPF_PROG_RUN tests of the TC programs, in the style of
 * Katran's packet fixtures: each row is a crafted packet, the program
 * instance it goes through, and what must come out: the verdict, the reason
 * counted, the rule whose counter moved and, for rewrites, the packet itself
 * (addresses, ports and valid checksums).
 *
 * BPF_PROG_RUN does not run a program at tc ingress, so bpf_sk_assign()
 * refuses every socket there: a packet that found its tproxy listener shows
 * as drop_assign (and one that found none as drop_no_listener). The e2e tests
 * show the real interception.
 *
 * The packets come from tests/lib/pkt.c. Runs in its own network namespace
 * (listeners, routes) and its own bpffs root ($CGFW_BPFFS_ROOT, else
 * /sys/fs/bpf/cgfw-test-PID-tc-prog_packets, named as the shell harness names
 * a run's so that its reaper removes what a killed run left).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/pkt_cls.h>

#include <cgfw/ops.h>
#include <cgfw/tc.h>
#include "pkt.h"

#define PASS ((int)TC_ACT_UNSPEC)
#define DROP ((int)TC_ACT_SHOT)

/* ---- what came out ------------------------------------------------------------------- */

struct expect_out {
	bool check;
	bool src; /* the rewritten address is the source (egress) */
	const char *addr;
	uint16_t port;
	bool csum_zero; /* UDP checksum must still be 0 */
};

static int check_out(const struct pkt *in, const struct expect_out *x, uint8_t *out, size_t len,
		     char *why, size_t wn)
{
	uint8_t want[16];
	size_t aoff, l4 = in->l4;
	uint16_t port;

	if (len < l4 + 8)
		return snprintf(why, wn, "%zu bytes came out", len), -1;
	if (in->family == 4) {
		aoff = in->l3 + (x->src ? 12 : 16);
		inet_pton(AF_INET, x->addr, want);
		if (memcmp(out + aoff, want, 4))
			return snprintf(why, wn, "IPv4 %s address not rewritten",
					x->src ? "source" : "destination"),
			       -1;
		if (!pkt_ip_csum_ok(in, out, len))
			return snprintf(why, wn, "IPv4 header checksum wrong"), -1;
	} else {
		aoff = in->l3 + (x->src ? 8 : 24);
		inet_pton(AF_INET6, x->addr, want);
		if (memcmp(out + aoff, want, 16))
			return snprintf(why, wn, "IPv6 %s address not rewritten",
					x->src ? "source" : "destination"),
			       -1;
	}
	port = (uint16_t)(out[l4 + (x->src ? 0 : 2)] << 8 | out[l4 + (x->src ? 1 : 3)]);
	if (port != x->port)
		return snprintf(why, wn, "port %u, expected %u", port, x->port), -1;
	if (x->csum_zero) {
		if (out[l4 + 6] || out[l4 + 7])
			return snprintf(why, wn, "UDP checksum 0 was replaced"), -1;
		return 0;
	}
	if (!pkt_l4_csum_ok(in, out, len))
		return snprintf(why, wn, "%s checksum wrong", in->proto == 6 ? "TCP" : "UDP"), -1;
	return 0;
}

/* ---- the table ----------------------------------------------------------------------------- */

enum { P = 1, S, I, N, E }; /* plain, stateful, stateful+icmp, stateful+no-ssh, egress */

struct row {
	const char *name;
	int prog;
	struct pkt_spec sp;
	int verdict;
	int reason;
	const char *rule; /* label of the rule whose counter must move, or NULL */
	struct expect_out out;
};

#define V4(s, d)	 .family = 4, .src = s, .dst = d
#define V6(s, d)	 .family = 6, .src = s, .dst = d
#define TCP(sp_, dp_, f) .proto = 6, .sport = sp_, .dport = dp_, .tcp_flags = f
#define UDP(sp_, dp_)	 .proto = 17, .sport = sp_, .dport = dp_
#define SYN		 0x02
#define ACK		 0x10
/* seven IPv6 extension headers, one more than the programs walk */
#define EXT7 .ext = { PKT_HOP, PKT_DST, PKT_DST, PKT_DST, PKT_DST, PKT_DST, PKT_DST }

/* clang-format off: one case per line reads better than the formatter's layout */
static const struct row rows[] = {
	/* not IP, and what cannot be parsed */
	{ "ARP frame", P, { .family = 0 }, PASS, CGFW_TC_R_PASS_NOT_IP },
	{ "ARP frame, stateful", S, { .family = 0 }, PASS, CGFW_TC_R_PASS_NOT_IP },
	/* (BPF_PROG_RUN itself refuses frames shorter than Ethernet + 20 or + 40 bytes.) */
	{ "IPv4 header claims 60 bytes, packet has 24",
	  P,
	  { V4("203.0.113.9", "198.51.100.10"), TCP(1000, 80, SYN), .ihl = 15, .cut = 24 },
	  PASS,
	  CGFW_TC_R_PASS_MALFORMED },
	{ "IPv4 header claims 60 bytes, stateful",
	  S,
	  { V4("203.0.113.9", "198.51.100.10"), TCP(1000, 80, SYN), .ihl = 15, .cut = 24 },
	  DROP,
	  CGFW_TC_R_DROP_MALFORMED },
	{ "IPv4 header and nothing else, TCP",
	  P,
	  { V4("203.0.113.9", "198.51.100.10"), TCP(1000, 80, SYN), .cut = 20 },
	  PASS,
	  CGFW_TC_R_PASS_MALFORMED },
	{ "IPv4 header length 16 (ihl 4)",
	  P,
	  { V4("203.0.113.9", "198.51.100.10"), TCP(1000, 80, SYN), .ihl = 4 },
	  PASS,
	  CGFW_TC_R_PASS_MALFORMED },
	{ "IPv4 frame with version 6",
	  S,
	  { V4("203.0.113.9", "198.51.100.10"), TCP(1000, 80, SYN), .version = 6 },
	  DROP,
	  CGFW_TC_R_DROP_MALFORMED },
	{ "TCP header cut to 2 bytes",
	  P,
	  { V4("203.0.113.9", "198.51.100.10"), TCP(1000, 80, SYN), .cut = 22 },
	  PASS,
	  CGFW_TC_R_PASS_MALFORMED },
	{ "TCP header cut to 2 bytes, stateful",
	  S,
	  { V4("203.0.113.9", "198.51.100.10"), TCP(1000, 80, SYN), .cut = 22 },
	  DROP,
	  CGFW_TC_R_DROP_MALFORMED },
	{ "TCP header cut before the flags",
	  P,
	  { V4("203.0.113.9", "198.51.100.10"), TCP(1000, 80, SYN), .cut = 28 },
	  PASS,
	  CGFW_TC_R_PASS_MALFORMED },
	{ "UDP header cut to 3 bytes",
	  P,
	  { V4("203.0.113.9", "198.51.100.10"), UDP(1000, 53), .cut = 23 },
	  PASS,
	  CGFW_TC_R_PASS_MALFORMED },
	{ "IPv6 header and nothing else, TCP",
	  P,
	  { V6("2001:db8:1::1", "2001:db8:2::1"), TCP(1000, 80, SYN), .cut = 40 },
	  PASS,
	  CGFW_TC_R_PASS_MALFORMED },
	{ "IPv6 header and nothing else, stateful",
	  S,
	  { V6("2001:db8:1::1", "2001:db8:2::1"), UDP(1000, 53), .cut = 40 },
	  DROP,
	  CGFW_TC_R_DROP_MALFORMED },
	{ "IPv6 with 7 extension headers (more than walked)",
	  P,
	  { V6("2001:db8:1::1", "2001:db8:2::1"), TCP(1000, 80, SYN), EXT7 },
	  PASS,
	  CGFW_TC_R_PASS_MALFORMED },
	{ "IPv6 with 7 extension headers, stateful",
	  S,
	  { V6("2001:db8:1::1", "2001:db8:2::1"), TCP(1000, 80, SYN), EXT7 },
	  DROP,
	  CGFW_TC_R_DROP_MALFORMED },
	{ "IPv6 extension header cut",
	  P,
	  { V6("2001:db8:1::1", "2001:db8:2::1"), TCP(1000, 80, SYN), .ext = { PKT_HOP, PKT_DST },
	    .cut = 44 },
	  PASS,
	  CGFW_TC_R_PASS_MALFORMED },

	/* tproxy, its precedence, IP options and IPv6 extension headers */
	{ "IPv4 SYN to an intercepted port, listener there",
	  P,
	  { V4("203.0.113.9", "198.51.100.10"), TCP(1000, 80, SYN) },
	  DROP,
	  CGFW_TC_R_DROP_ASSIGN,
	  "tp80" },
	{ "IPv4 with 12 bytes of IP options, intercepted",
	  P,
	  { V4("203.0.113.9", "198.51.100.10"), TCP(1000, 80, SYN), .ip_opts = 12 },
	  DROP,
	  CGFW_TC_R_DROP_ASSIGN,
	  "tp80" },
	{ "IPv4 ACK of no flow to an intercepted port: to the listener",
	  P,
	  { V4("203.0.113.9", "198.51.100.10"), TCP(1001, 80, ACK) },
	  DROP,
	  CGFW_TC_R_DROP_ASSIGN,
	  "tp80" },
	{ "IPv4 SYN to an intercepted port without listener",
	  P,
	  { V4("203.0.113.9", "198.51.100.10"), TCP(1000, 81, SYN) },
	  DROP,
	  CGFW_TC_R_DROP_NO_LISTENER,
	  "tp81" },
	{ "port 91, outside every range: not intercepted",
	  P,
	  { V4("203.0.113.9", "198.51.100.10"), TCP(1000, 91, SYN) },
	  PASS,
	  CGFW_TC_R_PASS_NOMATCH },
	{ "port 85: the 80-90 range rule",
	  P,
	  { V4("203.0.113.9", "198.51.100.10"), TCP(1000, 85, SYN) },
	  DROP,
	  CGFW_TC_R_DROP_NO_LISTENER,
	  "tprange" },
	{ "port 80: the single port beats the 80-90 range",
	  P,
	  { V4("203.0.113.9", "198.51.100.11"), TCP(1000, 80, SYN) },
	  DROP,
	  CGFW_TC_R_DROP_ASSIGN,
	  "tp80" },
	{ "source in 192.0.2.0/24: the rule with a source prefix wins",
	  P,
	  { V4("192.0.2.1", "198.51.100.10"), TCP(1000, 80, SYN) },
	  DROP,
	  CGFW_TC_R_DROP_NO_LISTENER,
	  "tpsrc" },
	{ "198.51.100.20/32 inbound beats the /24 tproxy",
	  P,
	  { V4("203.0.113.9", "198.51.100.20"), TCP(1000, 80, SYN) },
	  PASS,
	  CGFW_TC_R_PASS_INBOUND,
	  "in20" },
	{ "other protocol (GRE) to an intercepted prefix",
	  P,
	  { V4("203.0.113.9", "198.51.100.10"), .proto = 47 },
	  PASS,
	  CGFW_TC_R_PASS_NOMATCH },
	{ "UDP to an intercepted port",
	  P,
	  { V4("203.0.113.9", "198.51.100.10"), UDP(1000, 53) },
	  DROP,
	  CGFW_TC_R_DROP_ASSIGN,
	  "tp53u" },
	{ "IPv6 SYN behind hop-by-hop and destination options",
	  P,
	  { V6("2001:db8:1::1", "2001:db8:2::1"), TCP(1000, 80, SYN), .ext = { PKT_HOP, PKT_DST } },
	  DROP,
	  CGFW_TC_R_DROP_ASSIGN,
	  "tp6" },
	{ "IPv6 UDP, listener on the packet's own address (default --to)",
	  P,
	  { V6("2001:db8:1::1", "2001:db8:2::1"), UDP(1000, 53) },
	  DROP,
	  CGFW_TC_R_DROP_ASSIGN,
	  "tp6u" },
	{ "IPv6 SYN to a prefix without rule",
	  P,
	  { V6("2001:db8:1::1", "2001:db8:9::1"), TCP(1000, 80, SYN) },
	  PASS,
	  CGFW_TC_R_PASS_NOMATCH },

	/* fragments */
	{ "IPv4 first fragment of an intercepted UDP flow",
	  P,
	  { V4("203.0.113.9", "198.51.100.10"), UDP(1000, 53), .frag = PKT_FIRST },
	  DROP,
	  CGFW_TC_R_DROP_FRAGMENT,
	  "tp53u" },
	{ "IPv4 later fragment to an intercepted prefix",
	  P,
	  { V4("203.0.113.9", "198.51.100.10"), UDP(1000, 53), .frag = PKT_LATER },
	  PASS,
	  CGFW_TC_R_PASS_FRAGMENT },
	{ "IPv4 later fragment, stateful",
	  S,
	  { V4("203.0.113.9", "192.0.2.2"), UDP(1000, 53), .frag = PKT_LATER },
	  PASS,
	  CGFW_TC_R_PASS_FRAGMENT },
	{ "IPv4 first fragment, no rule",
	  P,
	  { V4("203.0.113.9", "192.0.2.2"), UDP(1000, 53), .frag = PKT_FIRST },
	  PASS,
	  CGFW_TC_R_PASS_NOMATCH },
	{ "IPv6 first fragment of an intercepted UDP flow",
	  P,
	  { V6("2001:db8:1::1", "2001:db8:2::1"), UDP(1000, 53), .ext = { PKT_FRG },
	    .frag = PKT_FIRST },
	  DROP,
	  CGFW_TC_R_DROP_FRAGMENT,
	  "tp6u" },
	{ "IPv6 later fragment behind hop-by-hop",
	  P,
	  { V6("2001:db8:1::1", "2001:db8:2::1"), UDP(1000, 53), .ext = { PKT_HOP, PKT_FRG },
	    .frag = PKT_LATER },
	  PASS,
	  CGFW_TC_R_PASS_FRAGMENT },
	{ "IPv4 first fragment of a redirected flow",
	  P,
	  { V4("192.0.2.1", "203.0.113.5"), UDP(40000, 53), .frag = PKT_FIRST },
	  DROP,
	  CGFW_TC_R_DROP_FRAGMENT,
	  "rdu" },

	/* redirect: the rewritten packet, checksums recomputed independently */
	{ "redirect IPv4 TCP SYN",
	  P,
	  { V4("192.0.2.1", "203.0.113.5"), TCP(40000, 80, SYN) },
	  PASS,
	  CGFW_TC_R_REDIRECT,
	  "rd",
	  { true, false, "192.0.2.2", 8080 } },
	{ "redirect IPv4 TCP with IP options",
	  P,
	  { V4("192.0.2.1", "203.0.113.5"), TCP(40001, 80, SYN), .ip_opts = 8 },
	  PASS,
	  CGFW_TC_R_REDIRECT,
	  "rd",
	  { true, false, "192.0.2.2", 8080 } },
	{ "redirect IPv4 UDP",
	  P,
	  { V4("192.0.2.1", "203.0.113.5"), UDP(40000, 53) },
	  PASS,
	  CGFW_TC_R_REDIRECT,
	  "rdu",
	  { true, false, "192.0.2.2", 8053 } },
	{ "redirect IPv4 UDP without checksum keeps none",
	  P,
	  { V4("192.0.2.1", "203.0.113.5"), UDP(40002, 53), .no_csum = true },
	  PASS,
	  CGFW_TC_R_REDIRECT,
	  "rdu",
	  { true, false, "192.0.2.2", 8053, true } },
	{ "redirect IPv6 TCP behind a hop-by-hop header",
	  P,
	  { V6("2001:db8:1::1", "2001:db8:3::5"), TCP(40000, 80, SYN), .ext = { PKT_HOP } },
	  PASS,
	  CGFW_TC_R_REDIRECT,
	  "rd6",
	  { true, false, "2001:db8:1::2", 8080 } },
	{ "egress: reply of the redirected IPv4 TCP flow",
	  E,
	  { V4("192.0.2.2", "192.0.2.1"), TCP(8080, 40000, SYN | ACK) },
	  PASS,
	  CGFW_TC_R_RESTORE,
	  NULL,
	  { true, true, "203.0.113.5", 80 } },
	{ "egress: reply of the redirected IPv4 UDP flow",
	  E,
	  { V4("192.0.2.2", "192.0.2.1"), UDP(8053, 40000) },
	  PASS,
	  CGFW_TC_R_RESTORE,
	  NULL,
	  { true, true, "203.0.113.5", 53 } },
	{ "egress: reply of the redirected IPv6 flow",
	  E,
	  { V6("2001:db8:1::2", "2001:db8:1::1"), TCP(8080, 40000, SYN | ACK) },
	  PASS,
	  CGFW_TC_R_RESTORE,
	  NULL,
	  { true, true, "2001:db8:3::5", 80 } },
	{ "egress: unrelated packet untouched",
	  E,
	  { V4("192.0.2.2", "192.0.2.1"), TCP(8080, 40099, ACK) },
	  PASS,
	  CGFW_TC_R_PASS_NOMATCH },

	/* stateful inbound */
	{ "stateful: SYN to a port with an inbound rule",
	  S,
	  { V4("192.0.2.1", "192.0.2.2"), TCP(1000, 7000, SYN) },
	  PASS,
	  CGFW_TC_R_PASS_INBOUND,
	  "in7000" },
	{ "stateful: unsolicited SYN",
	  S,
	  { V4("192.0.2.1", "192.0.2.2"), TCP(1000, 7001, SYN) },
	  DROP,
	  CGFW_TC_R_DROP_UNSOLICITED },
	{ "stateful: unsolicited UDP",
	  S,
	  { V4("192.0.2.1", "192.0.2.2"), UDP(1000, 7001) },
	  DROP,
	  CGFW_TC_R_DROP_UNSOLICITED },
	{ "stateful: ACK of no local flow",
	  S,
	  { V4("192.0.2.1", "192.0.2.2"), TCP(1000, 7001, ACK) },
	  DROP,
	  CGFW_TC_R_DROP_UNSOLICITED },
	{ "stateful: ACK of an established local flow",
	  S,
	  { V4("127.0.0.1", "127.0.0.1"), TCP(7100, 0, ACK) },
	  PASS,
	  CGFW_TC_R_PASS_ESTABLISHED },
	{ "stateful: ssh to the interface's address",
	  S,
	  { V4("192.0.2.1", "192.0.2.2"), TCP(1000, 22, SYN) },
	  PASS,
	  CGFW_TC_R_PASS_SSH },
	{ "stateful: ssh to another address",
	  S,
	  { V4("192.0.2.1", "192.0.2.99"), TCP(1000, 22, SYN) },
	  DROP,
	  CGFW_TC_R_DROP_UNSOLICITED },
	{ "stateful: ssh to the interface's IPv6 address",
	  S,
	  { V6("2001:db8:1::1", "2001:db8:1::2"), TCP(1000, 22, SYN) },
	  PASS,
	  CGFW_TC_R_PASS_SSH },
	{ "stateful --no-ssh: ssh to the interface's address",
	  N,
	  { V4("192.0.2.1", "192.0.2.2"), TCP(1000, 22, SYN) },
	  DROP,
	  CGFW_TC_R_DROP_UNSOLICITED },
	{ "stateful: DHCP client reply",
	  S,
	  { V4("192.0.2.1", "255.255.255.255"), UDP(67, 68) },
	  PASS,
	  CGFW_TC_R_PASS_DHCP },
	{ "stateful: DHCPv6 client reply",
	  S,
	  { V6("fe80::1", "fe80::2"), UDP(547, 546) },
	  PASS,
	  CGFW_TC_R_PASS_DHCP },
	{ "stateful: intercepted flows still intercepted",
	  S,
	  { V4("203.0.113.9", "198.51.100.10"), TCP(1000, 80, SYN) },
	  DROP,
	  CGFW_TC_R_DROP_ASSIGN,
	  "tp80" },
	{ "stateful: ICMP echo request",
	  S,
	  { V4("192.0.2.1", "192.0.2.2"), .proto = 1, .icmp_type = 8 },
	  DROP,
	  CGFW_TC_R_DROP_ICMP },
	{ "stateful --icmp: ICMP echo request",
	  I,
	  { V4("192.0.2.1", "192.0.2.2"), .proto = 1, .icmp_type = 8 },
	  PASS,
	  CGFW_TC_R_PASS_ICMP },
	{ "stateful: ICMP destination unreachable",
	  S,
	  { V4("192.0.2.1", "192.0.2.2"), .proto = 1, .icmp_type = 3 },
	  PASS,
	  CGFW_TC_R_PASS_ICMP },
	{ "stateful: ICMPv6 echo request",
	  S,
	  { V6("2001:db8:1::1", "2001:db8:1::2"), .proto = 58, .icmp_type = 128 },
	  DROP,
	  CGFW_TC_R_DROP_ICMP },
	{ "stateful: ICMPv6 neighbour solicitation",
	  S,
	  { V6("2001:db8:1::1", "2001:db8:1::2"), .proto = 58, .icmp_type = 135 },
	  PASS,
	  CGFW_TC_R_PASS_ICMP },
	{ "stateful: other protocol (GRE)",
	  S,
	  { V4("192.0.2.1", "192.0.2.2"), .proto = 47 },
	  PASS,
	  CGFW_TC_R_PASS_OTHER },

	/* one destination with many rules: port index and overflow chunks */
	{ "many rules on one /32: single port via the port index",
	  P,
	  { V4("192.0.2.1", "203.0.113.77"), TCP(1000, 1010, SYN) },
	  PASS,
	  CGFW_TC_R_PASS_INBOUND,
	  "many1010" },
	{ "many rules on one /32: range in an overflow chunk",
	  P,
	  { V4("192.0.2.1", "203.0.113.77"), TCP(1000, 2750, SYN) },
	  PASS,
	  CGFW_TC_R_PASS_INBOUND,
	  "range2700" },
	{ "many rules on one /32: a single port beats the range around it",
	  P,
	  { V4("192.0.2.1", "203.0.113.77"), TCP(1000, 2005, SYN) },
	  PASS,
	  CGFW_TC_R_PASS_INBOUND,
	  "many2005" },
	{ "many rules on one /32: no port matches",
	  P,
	  { V4("192.0.2.1", "203.0.113.77"), TCP(1000, 999, SYN) },
	  PASS,
	  CGFW_TC_R_PASS_NOMATCH },
};
/* clang-format on */

/* ---- rules ----------------------------------------------------------------------------------- */

struct trule {
	char label[16];
	uint8_t kind;
	const char *dst, *src, *proto, *ports, *to;
	char ports_buf[16];
	uint32_t id;
};

static struct trule trules[64] = {
	{ "tp80", CGFW_TC_TPROXY, "198.51.100.0/24", NULL, "tcp", "80", "127.0.0.1:9000" },
	{ "tp81", CGFW_TC_TPROXY, "198.51.100.0/24", NULL, "tcp", "81", "127.0.0.1:9001" },
	{ "tprange", CGFW_TC_TPROXY, "198.51.100.0/24", NULL, "tcp", "80-90", "127.0.0.1:9003" },
	{ "tpsrc", CGFW_TC_TPROXY, "198.51.100.0/24", "192.0.2.0/24", "tcp", "80",
	  "127.0.0.1:9002" },
	{ "tp53u", CGFW_TC_TPROXY, "198.51.100.0/24", NULL, "udp", "53", "127.0.0.1:9053" },
	{ "tp6", CGFW_TC_TPROXY, "2001:db8:2::/48", NULL, "tcp", "80", "[::1]:9000" },
	{ "tp6u", CGFW_TC_TPROXY, "2001:db8:2::/48", NULL, "udp", "53", "9053" },
	{ "in20", CGFW_TC_INBOUND, "198.51.100.20", NULL, "tcp", "80", NULL },
	{ "rd", CGFW_TC_REDIRECT, "203.0.113.5", NULL, "tcp", "80", "192.0.2.2:8080" },
	{ "rdu", CGFW_TC_REDIRECT, "203.0.113.5", NULL, "udp", "53", "192.0.2.2:8053" },
	{ "rd6", CGFW_TC_REDIRECT, "2001:db8:3::5", NULL, "tcp", "80", "[2001:db8:1::2]:8080" },
	{ "in7000", CGFW_TC_INBOUND, "192.0.2.2", NULL, "tcp", "7000", NULL },
};

static size_t ntrules = 12;

static void add_many(void)
{
	/* 20 single ports and 8 ranges on one address: port index plus chunks. */
	for (int p = 1000; p < 1020; p++) {
		struct trule *t = &trules[ntrules++];

		snprintf(t->label, sizeof(t->label), "many%d", p);
		t->kind = CGFW_TC_INBOUND;
		t->dst = "203.0.113.77";
		t->proto = "tcp";
		snprintf(t->ports_buf, sizeof(t->ports_buf), "%d", p);
		t->ports = t->ports_buf;
	}
	for (int r = 0; r < 8; r++) {
		struct trule *t = &trules[ntrules++];

		snprintf(t->label, sizeof(t->label), "range%d", 2000 + 100 * r);
		t->kind = CGFW_TC_INBOUND;
		t->dst = "203.0.113.77";
		t->proto = "tcp";
		snprintf(t->ports_buf, sizeof(t->ports_buf), "%d-%d", 2000 + 100 * r,
			 2099 + 100 * r);
		t->ports = t->ports_buf;
	}
	{
		struct trule *t = &trules[ntrules++];

		snprintf(t->label, sizeof(t->label), "many2005");
		t->kind = CGFW_TC_INBOUND;
		t->dst = "203.0.113.77";
		t->proto = "tcp";
		t->ports = "2005";
	}
}

static int load_rules(struct cgfw_tc *tc)
{
	struct cgfw_tc_rule r[64], *all = NULL;
	size_t n = 0;
	int err;

	add_many();
	for (size_t i = 0; i < ntrules; i++) {
		memset(&r[i], 0, sizeof(r[i]));
		r[i].kind = trules[i].kind;
		if (cgfw_tc_rule_set(&r[i], "dst", trules[i].dst) ||
		    (trules[i].src && cgfw_tc_rule_set(&r[i], "src", trules[i].src)) ||
		    cgfw_tc_rule_set(&r[i], "proto", trules[i].proto) ||
		    cgfw_tc_rule_set(&r[i], "ports", trules[i].ports) ||
		    (trules[i].to && cgfw_tc_rule_set(&r[i], "to", trules[i].to))) {
			fprintf(stderr, "rule %s: %s\n", trules[i].label, cgfw_errmsg());
			return -1;
		}
	}
	err = cgfw_tc_rules_update(tc, r, ntrules, true);
	if (err != (int)ntrules) {
		fprintf(stderr, "adding %zu rules: %d %s\n", ntrules, err, cgfw_errmsg());
		return -1;
	}
	err = cgfw_tc_rules_list(tc, 0, &all, &n);
	if (err || n != ntrules) {
		fprintf(stderr, "listing: %d, %zu rules (expected %zu)\n", err, n, ntrules);
		return -1;
	}
	/* Rule ids follow the order of the batch? No: find each by its match. */
	for (size_t i = 0; i < ntrules; i++)
		for (size_t j = 0; j < n; j++)
			if (all[j].kind == r[i].kind && all[j].proto == r[i].proto &&
			    all[j].port_lo == r[i].port_lo && all[j].port_hi == r[i].port_hi &&
			    all[j].dst.len == r[i].dst.len &&
			    !memcmp(all[j].dst.addr, r[i].dst.addr, 16) &&
			    all[j].src.len == r[i].src.len)
				trules[i].id = all[j].id;
	free(all);
	return 0;
}

static uint64_t rule_packets(struct cgfw_tc *tc, const char *label)
{
	struct cgfw_tc_rule *all = NULL;
	uint32_t id = 0;
	uint64_t v = 0;
	size_t n = 0;

	for (size_t i = 0; i < ntrules; i++)
		if (!strcmp(trules[i].label, label))
			id = trules[i].id;
	if (cgfw_tc_rules_list(tc, 0, &all, &n))
		return 0;
	for (size_t j = 0; j < n; j++)
		if (all[j].id == id)
			v = all[j].packets;
	free(all);
	return v;
}

/* ---- environment ----------------------------------------------------------------------------- */

/* An established TCP flow on loopback: its client port. */
static int local_flow(uint16_t *ret_cport)
{
	struct sockaddr_in s = { .sin_family = AF_INET, .sin_port = htons(7100) };
	socklen_t len = sizeof(s);
	int l = pkt_listener(AF_INET, SOCK_STREAM, "127.0.0.1", 7100), c;

	if (l < 0)
		return -1;
	inet_pton(AF_INET, "127.0.0.1", &s.sin_addr);
	c = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(c, (struct sockaddr *)&s, sizeof(s)) < 0 || accept(l, NULL, NULL) < 0)
		return -1;
	getsockname(c, (struct sockaddr *)&s, &len);
	*ret_cport = ntohs(s.sin_port);
	return 0;
}

static void stats(struct cgfw_tc *tc, uint64_t ret[2][CGFW_TC_R_COUNT])
{
	struct cgfw_tc_stats s;

	memset(ret, 0, sizeof(uint64_t) * 2 * CGFW_TC_R_COUNT);
	if (cgfw_tc_stats_get(tc, &s) == 0)
		memcpy(ret, s.packets, sizeof(s.packets));
}

/*
 * Layout churn: rules for one destination added one at a time (inline, then
 * the port index and overflow chunks) and removed one at a time, each step
 * checked with a packet per rule; at the end the table holds what it held.
 */
static int run_verdict(int fd, const struct pkt_spec *sp, int *ret)
{
	struct pkt k;
	LIBBPF_OPTS(bpf_test_run_opts, opts, .repeat = 1);

	if (pkt_build(sp, &k) < 0)
		return -1;
	opts.data_in = k.b;
	opts.data_size_in = (__u32)k.len;
	if (bpf_prog_test_run_opts(fd, &opts) < 0)
		return -1;
	*ret = (int)opts.retval;
	return 0;
}

static int churn_rule(struct cgfw_tc *tc, int i, bool add)
{
	struct cgfw_tc_rule r = { .kind = CGFW_TC_TPROXY };
	char ports[16];

	/* single ports, and every fifth a range: both layouts */
	if (i % 5 == 4)
		snprintf(ports, sizeof(ports), "%d-%d", 20000 + i * 10, 20000 + i * 10 + 9);
	else
		snprintf(ports, sizeof(ports), "%d", 3000 + i);
	if (cgfw_tc_rule_set(&r, "dst", "203.0.113.88") || cgfw_tc_rule_set(&r, "proto", "tcp") ||
	    cgfw_tc_rule_set(&r, "ports", ports) || cgfw_tc_rule_set(&r, "to", "127.0.0.1:9001"))
		return -1;
	return cgfw_tc_rules_update(tc, &r, 1, add) == 1 ? 0 : -1;
}

static int churn_port(int i)
{
	return i % 5 == 4 ? 20000 + i * 10 + 5 : 3000 + i;
}

static int churn(struct cgfw_tc *tc, struct cgfw_tc_prog *prog)
{
	struct cgfw_tc_stats s0, s1;
	const int n = 40;
	int bad = 0, v;

	cgfw_tc_stats_get(tc, &s0);
	for (int i = 0; i < n && !bad; i++) {
		if (churn_rule(tc, i, true)) {
			printf("not ok - churn: adding rule %d: %s\n", i, cgfw_errmsg());
			return 1;
		}
		/* every rule so far matches (no listener on 9001: drop), the next port not */
		for (int j = 0; j <= i; j++) {
			struct pkt_spec sp = { V4("203.0.113.9", "203.0.113.88"),
					       TCP(1000, (uint16_t)churn_port(j), SYN) };

			if (run_verdict(prog->ingress_fd, &sp, &v) || v != DROP) {
				printf("not ok - churn: after %d adds, port %d not matched\n",
				       i + 1, churn_port(j));
				bad = 1;
				break;
			}
		}
		{
			struct pkt_spec sp = { V4("203.0.113.9", "203.0.113.88"),
					       TCP(1000, (uint16_t)churn_port(i + 1), SYN) };

			if (run_verdict(prog->ingress_fd, &sp, &v) || v != PASS) {
				printf("not ok - churn: after %d adds, port %d matched\n", i + 1,
				       churn_port(i + 1));
				bad = 1;
			}
		}
	}
	if (!bad)
		printf("ok - churn: %d rules on one destination added one at a time\n", n);
	for (int i = 0; i < n && !bad; i++) {
		struct pkt_spec sp = { V4("203.0.113.9", "203.0.113.88"),
				       TCP(1000, (uint16_t)churn_port(i), SYN) };

		if (churn_rule(tc, i, false)) {
			printf("not ok - churn: deleting rule %d: %s\n", i, cgfw_errmsg());
			return 1;
		}
		if (run_verdict(prog->ingress_fd, &sp, &v) || v != PASS) {
			printf("not ok - churn: port %d still matched after its delete\n",
			       churn_port(i));
			bad = 1;
		}
		for (int j = i + 1; j < n && !bad; j++) {
			struct pkt_spec sj = { V4("203.0.113.9", "203.0.113.88"),
					       TCP(1000, (uint16_t)churn_port(j), SYN) };

			if (run_verdict(prog->ingress_fd, &sj, &v) || v != DROP) {
				printf("not ok - churn: after %d deletes, port %d lost\n", i + 1,
				       churn_port(j));
				bad = 1;
			}
		}
	}
	cgfw_tc_stats_get(tc, &s1);
	if (!bad && (s1.table_entries != s0.table_entries ||
		     s1.rules[CGFW_TC_TPROXY] != s0.rules[CGFW_TC_TPROXY])) {
		printf("not ok - churn: the table holds %u entries, %zu tproxy rules; "
		       "before: %u, %zu\n",
		       s1.table_entries, s1.rules[CGFW_TC_TPROXY], s0.table_entries,
		       s0.rules[CGFW_TC_TPROXY]);
		bad = 1;
	}
	if (!bad)
		printf("ok - churn: removed one at a time; the table is back to %u entries\n",
		       s1.table_entries);
	return bad;
}

int main(int argc, char **argv)
{
	char root[128];
	struct cgfw_tc *tc = NULL;
	struct cgfw_tc_prog *prog[6] = {};
	struct cgfw_prefix own[2];
	uint16_t cport = 0;
	int failed = 0, err;

	if (geteuid() != 0) {
		fprintf(stderr, "tc_prog_test: skipped: needs root\n");
		return 77;
	}
	if (pkt_own_netns() < 0) {
		fprintf(stderr, "tc_prog_test: no network namespace of its own\n");
		return 1;
	}
	if (!getenv("CGFW_BPFFS_ROOT")) {
		snprintf(root, sizeof(root), "/sys/fs/bpf/cgfw-test-%d-tc-prog_packets", getpid());
		setenv("CGFW_BPFFS_ROOT", root, 1);
	}
	err = cgfw_tc_open(CGFW_OPEN_CREATE | CGFW_OPEN_LOCK, &tc);
	if (err) {
		fprintf(stderr, "tc_prog_test: %s\n", cgfw_errmsg());
		return 1;
	}
	if (load_rules(tc) < 0) {
		failed = 1;
		goto out;
	}
	/* Listeners for the rules that should find one; 9001-9003 stay empty. */
	if (pkt_listener(AF_INET, SOCK_STREAM, "127.0.0.1", 9000) < 0 ||
	    pkt_listener(AF_INET6, SOCK_STREAM, "::1", 9000) < 0 ||
	    pkt_listener(AF_INET, SOCK_DGRAM, "127.0.0.1", 9053) < 0 ||
	    pkt_listener(AF_INET6, SOCK_DGRAM, "::", 9053) < 0 || local_flow(&cport) < 0) {
		failed = 1;
		goto out;
	}
	cgfw_parse_addr("192.0.2.2", &own[0]);
	cgfw_parse_addr("2001:db8:1::2", &own[1]);
	if (cgfw_tc_ifaddr_set(tc, 100, own, 2) < 0 || cgfw_tc_ifaddr_set(tc, 101, own, 2) < 0 ||
	    cgfw_tc_ifaddr_set(tc, 102, own, 2) < 0) {
		fprintf(stderr, "tc_prog_test: %s\n", cgfw_errmsg());
		failed = 1;
		goto out;
	}
	if (cgfw_tc_prog_load(tc, 0, 99, 14, &prog[P]) ||
	    cgfw_tc_prog_load(tc, CGFW_TC_STATEFUL, 100, 14, &prog[S]) ||
	    cgfw_tc_prog_load(tc, CGFW_TC_STATEFUL | CGFW_TC_ICMP, 101, 14, &prog[I]) ||
	    cgfw_tc_prog_load(tc, CGFW_TC_STATEFUL | CGFW_TC_NO_SSH, 102, 14, &prog[N])) {
		fprintf(stderr, "tc_prog_test: %s\n", cgfw_errmsg());
		failed = 1;
		goto out;
	}
	prog[E] = prog[P];

	printf("1..%zu\n", sizeof(rows) / sizeof(rows[0]));
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		struct pkt_spec sp = r->sp;
		struct pkt k;
		uint8_t out[512];
		uint64_t before[2][CGFW_TC_R_COUNT], after[2][CGFW_TC_R_COUNT], rb = 0, ra = 0;
		int dir = r->prog == E ? 1 : 0;
		char why[160] = "";
		LIBBPF_OPTS(bpf_test_run_opts, opts, .repeat = 1);

		if (sp.dport == 0 && sp.sport == 7100)
			sp.dport = cport; /* the local flow's client port */
		if (pkt_build(&sp, &k) < 0) {
			printf("not ok %zu - %s: cannot build the packet\n", i + 1, r->name);
			failed++;
			continue;
		}
		opts.data_in = k.b;
		opts.data_size_in = (__u32)k.len;
		opts.data_out = out;
		opts.data_size_out = sizeof(out);
		stats(tc, before);
		if (r->rule)
			rb = rule_packets(tc, r->rule);
		err = bpf_prog_test_run_opts(
			r->prog == E ? prog[P]->egress_fd : prog[r->prog]->ingress_fd, &opts);
		stats(tc, after);
		if (r->rule)
			ra = rule_packets(tc, r->rule);
		if (err) {
			snprintf(why, sizeof(why), "BPF_PROG_RUN: %s", strerror(errno));
		} else if ((int)opts.retval != r->verdict) {
			snprintf(why, sizeof(why), "verdict %d, expected %d", (int)opts.retval,
				 r->verdict);
		} else if (after[dir][r->reason] != before[dir][r->reason] + 1) {
			int got = -1;

			for (int x = 0; x < CGFW_TC_R_COUNT; x++)
				if (after[dir][x] != before[dir][x])
					got = x;
			snprintf(why, sizeof(why), "reason %s, expected %s",
				 got < 0 ? "none" : cgfw_tc_reason_name(got),
				 cgfw_tc_reason_name(r->reason));
		} else if (r->rule && ra != rb + 1) {
			snprintf(why, sizeof(why), "rule %s counted %llu packets, expected 1",
				 r->rule, (unsigned long long)(ra - rb));
		} else if (r->out.check) {
			check_out(&k, &r->out, out, opts.data_size_out, why, sizeof(why));
		}
		if (why[0]) {
			printf("not ok %zu - %s: %s\n", i + 1, r->name, why);
			failed++;
		} else {
			printf("ok %zu - %s\n", i + 1, r->name);
		}
	}
	failed += churn(tc, prog[P]);
out:
	for (int p = P; p <= N; p++)
		cgfw_tc_prog_free(prog[p]);
	cgfw_tc_close(tc);
	cgfw_reset();
	if (failed)
		fprintf(stderr, "tc_prog_test: %d failed\n", failed);
	return failed ? 1 : 0;
}
