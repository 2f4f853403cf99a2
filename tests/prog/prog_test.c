// SPDX-License-Identifier: GPL-2.0-only
/*
 * The real cgroup_skb programs run with BPF_PROG_RUN on crafted packets.
 *
 * Table-driven, after Katran's packet fixtures: each case sets the rules and
 * the cgroup's defaults, then runs its steps in order; each step is a packet
 * (described, built by tests/lib/pkt.c), a direction, the verdict the program must
 * return (1 pass, 0 drop) and the reason it must count in cgfw_pc. Steps
 * within a case share the flow table, so "egress first, then its reply" is
 * two steps.
 *
 * BPF_PROG_RUN for cgroup_skb (net/bpf/test_run.c, bpf_prog_test_run_skb):
 * data_in must start with a 14-byte Ethernet header; the kernel takes
 * skb->protocol from its EtherType (eth_type_trans) and pulls it, so the
 * program sees the skb from the IP header on, as on a real socket, and
 * skb->len is the IP packet's length. No __sk_buff ctx is needed. Recent
 * kernels refuse (-EINVAL) an IPv4/IPv6 EtherType with less than a whole IP
 * header, so unreadable headers are made malformed rather than cut.
 *
 * CGFW_PROG_VERBOSE=1 prints every step's verdict.
 *
 * Needs root (CAP_BPF, CAP_SYS_ADMIN): exits 77 (skipped) otherwise. The
 * state lives under its own CGFW_BPFFS_ROOT, named as the shell harness names
 * a run's (/sys/fs/bpf/cgfw-test-PID-prog-cgroup_skb, so that its reaper
 * removes what a killed run left), and is removed at the end.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <check.h>

#include <cgfw/flow_map.h>
#include <cgfw/meta_map.h>
#include <cgfw/seen_map.h>

#include <cgfw/cgroup.h>
#include <cgfw/ops.h>
#include "cgfw_cgroup.skel.h"
#include "pkt.h"

#define CGID  0x7e57c0de0001ull /* the cgroup the program instance enforces */
#define OTHER 0x7e57c0de0002ull /* another attached cgroup */

#define L4 "192.0.2.1" /* the workload's own addresses */
#define L6 "2001:db8::1"

/* ---- packets (tests/lib/pkt.h) ----------------------------------------------- */

#define V4(s, d)    .family = 4, .src = (s), .dst = (d)
#define V6(s, d)    .family = 6, .src = (s), .dst = (d)
#define TCP(sp, dp) .proto = IPPROTO_TCP, .sport = (sp), .dport = (dp), .tcp_flags = 0x02
#define UDP(sp, dp) .proto = IPPROTO_UDP, .sport = (sp), .dport = (dp)
#define ICMP4	    .proto = IPPROTO_ICMP, .icmp_type = 8
#define ICMP6	    .proto = IPPROTO_ICMPV6, .icmp_type = 128
#define EXT(...)    .ext = { __VA_ARGS__ }
#define FIRST	    PKT_FIRST
#define LATER	    PKT_LATER
#define HOP	    PKT_HOP
#define RTG	    PKT_RTG
#define DST	    PKT_DST
#define FRG	    PKT_FRG
#define AUTH	    PKT_AUTH

/* ---- rules ---------------------------------------------------------------- */

enum scope { CG, HOST, OTH };

struct rule_spec {
	enum scope scope;
	const char *pfx;
	const char *proto; /* NULL: any protocol */
	const char *ports; /* NULL: every port */
	uint8_t dirs;
	uint8_t action;
};

#define IN   CGFW_DIR_BIT(CGFW_DIR_INGRESS)
#define OUT  CGFW_DIR_BIT(CGFW_DIR_EGRESS)
#define BOTH CGFW_DIR_BOTH
#define A    CGFW_VERDICT_ALLOW
#define D    CGFW_VERDICT_DENY

#define ALLOW(sc, pfx, proto, ports, dirs) { sc, pfx, proto, ports, dirs, CGFW_ALLOW }
#define DENY(sc, pfx, proto, ports, dirs)  { sc, pfx, proto, ports, dirs, CGFW_DENY }

/* ---- the table ---------------------------------------------------------- */

struct step {
	const char *desc;
	int dir;
	struct pkt_spec pkt;
	int pass;   /* expected return value: 1 pass, 0 drop */
	int reason; /* enum cgfw_reason counted */
};

struct test_case {
	const char *desc;
	uint8_t def_in, def_out;
	struct rule_spec rules[8];
	struct step steps[10];
};

#define EG	CGFW_DIR_EGRESS
#define ING	CGFW_DIR_INGRESS
#define PASS(r) 1, CGFW_R_##r
#define DROP(r) 0, CGFW_R_##r

/* clang-format off: one case per line reads better than the formatter's layout */
static const struct test_case cases[] = {
	{
		"no rules, default allow",
		A,
		A,
		{},
		{
			{ "tcp4 egress",
			  EG,
			  { V4(L4, "198.51.100.7"), TCP(40000, 443) },
			  PASS(ALLOW_DEFAULT) },
			{ "udp6 ingress",
			  ING,
			  { V6("2001:db8:ffff::7", L6), UDP(53, 40000) },
			  PASS(ALLOW_DEFAULT) },
			{ "icmp4 egress", EG, { V4(L4, "203.0.113.1"), ICMP4 }, PASS(ALLOW_DEFAULT) },
			{ "ARP frame: not IP, default", EG, { .family = 0 }, PASS(UNPARSED) },
		},
	},
	{
		"no rules, default deny",
		D,
		D,
		{},
		{
			{ "tcp4 egress",
			  EG,
			  { V4(L4, "198.51.100.7"), TCP(40000, 443) },
			  DROP(DROP_DEFAULT) },
			{ "tcp6 ingress",
			  ING,
			  { V6("2001:db8:ffff::7", L6), TCP(443, 40000) },
			  DROP(DROP_DEFAULT) },
			{ "ARP frame: not IP, default", ING, { .family = 0 }, DROP(UNPARSED) },
		},
	},
	{
		"defaults per direction: ingress deny, egress allow",
		D,
		A,
		{},
		{
			{ "egress passes",
			  EG,
			  { V4(L4, "198.51.100.7"), UDP(40000, 53) },
			  PASS(ALLOW_DEFAULT) },
			{ "its reply passes (no inbound, outbound works)",
			  ING,
			  { V4("198.51.100.7", L4), UDP(53, 40000) },
			  PASS(ALLOW_REPLY) },
			{ "unsolicited ingress dropped",
			  ING,
			  { V4("198.51.100.7", L4), UDP(53, 40001) },
			  DROP(DROP_DEFAULT) },
		},
	},
	{
		"deny one host on egress",
		A,
		A,
		{ DENY(CG, "198.51.100.7", NULL, NULL, OUT) },
		{
			{ "tcp to it",
			  EG,
			  { V4(L4, "198.51.100.7"), TCP(40000, 443) },
			  DROP(DROP_RULE) },
			{ "udp to it",
			  EG,
			  { V4(L4, "198.51.100.7"), UDP(40000, 53) },
			  DROP(DROP_RULE) },
			{ "icmp to it", EG, { V4(L4, "198.51.100.7"), ICMP4 }, DROP(DROP_RULE) },
			{ "the next address",
			  EG,
			  { V4(L4, "198.51.100.8"), TCP(40000, 443) },
			  PASS(ALLOW_DEFAULT) },
			{ "ingress from it: rule is egress only",
			  ING,
			  { V4("198.51.100.7", L4), TCP(443, 40000) },
			  PASS(ALLOW_DEFAULT) },
		},
	},
	{
		"ingress rules match the source, egress rules the destination",
		A,
		A,
		{ DENY(CG, "198.51.100.7", NULL, NULL, IN) },
		{
			{ "ingress from it",
			  ING,
			  { V4("198.51.100.7", L4), TCP(443, 40000) },
			  DROP(DROP_RULE) },
			{ "ingress to it (not the remote end)",
			  ING,
			  { V4("198.51.100.8", "198.51.100.7"), TCP(443, 40000) },
			  PASS(ALLOW_DEFAULT) },
			{ "egress to it",
			  EG,
			  { V4(L4, "198.51.100.7"), TCP(40000, 443) },
			  PASS(ALLOW_DEFAULT) },
		},
	},
	{
		"longest prefix wins: allow /25 inside deny /24",
		A,
		A,
		{ DENY(CG, "198.51.100.0/24", NULL, NULL, OUT),
		  ALLOW(CG, "198.51.100.128/25", NULL, NULL, OUT) },
		{
			{ "in the /25",
			  EG,
			  { V4(L4, "198.51.100.200"), TCP(40000, 443) },
			  PASS(ALLOW_RULE) },
			{ "only in the /24",
			  EG,
			  { V4(L4, "198.51.100.100"), TCP(40000, 443) },
			  DROP(DROP_RULE) },
		},
	},
	{
		"longest prefix wins: deny /32 inside allow /24, default deny",
		A,
		D,
		{ ALLOW(CG, "198.51.100.0/24", NULL, NULL, OUT),
		  DENY(CG, "198.51.100.66", NULL, NULL, OUT) },
		{
			{ "the /32",
			  EG,
			  { V4(L4, "198.51.100.66"), TCP(40000, 443) },
			  DROP(DROP_RULE) },
			{ "its neighbour in the /24",
			  EG,
			  { V4(L4, "198.51.100.67"), TCP(40000, 443) },
			  PASS(ALLOW_RULE) },
			{ "outside both",
			  EG,
			  { V4(L4, "203.0.113.1"), TCP(40000, 443) },
			  DROP(DROP_DEFAULT) },
		},
	},
	{
		"longest prefix wins (IPv6)",
		A,
		A,
		{ DENY(CG, "2001:db8:ffff::/48", NULL, NULL, OUT),
		  ALLOW(CG, "2001:db8:ffff:1::/64", NULL, NULL, OUT) },
		{
			{ "in the /64",
			  EG,
			  { V6(L6, "2001:db8:ffff:1::9"), TCP(40000, 443) },
			  PASS(ALLOW_RULE) },
			{ "only in the /48",
			  EG,
			  { V6(L6, "2001:db8:ffff:2::9"), TCP(40000, 443) },
			  DROP(DROP_RULE) },
			{ "outside",
			  EG,
			  { V6(L6, "2001:db8:fffe::9"), TCP(40000, 443) },
			  PASS(ALLOW_DEFAULT) },
		},
	},
	{
		"a port rule beats a portless rule at the same length",
		A,
		A,
		{ DENY(CG, "203.0.113.0/24", NULL, NULL, OUT),
		  ALLOW(CG, "203.0.113.0/24", "tcp", "443", OUT) },
		{
			{ "tcp 443",
			  EG,
			  { V4(L4, "203.0.113.9"), TCP(40000, 443) },
			  PASS(ALLOW_RULE) },
			{ "tcp 80", EG, { V4(L4, "203.0.113.9"), TCP(40000, 80) }, DROP(DROP_RULE) },
			{ "udp 443",
			  EG,
			  { V4(L4, "203.0.113.9"), UDP(40000, 443) },
			  DROP(DROP_RULE) },
		},
	},
	{
		"a longer prefix beats a port rule",
		A,
		A,
		{ ALLOW(CG, "203.0.113.0/24", "tcp", "443", OUT),
		  DENY(CG, "203.0.113.5", NULL, NULL, OUT),
		  DENY(CG, "198.51.100.0/24", "tcp", "443", OUT),
		  ALLOW(CG, "198.51.100.5", NULL, NULL, OUT) },
		{
			{ "deny /32 over allow /24 tcp 443",
			  EG,
			  { V4(L4, "203.0.113.5"), TCP(40000, 443) },
			  DROP(DROP_RULE) },
			{ "allow /24 tcp 443 elsewhere",
			  EG,
			  { V4(L4, "203.0.113.6"), TCP(40000, 443) },
			  PASS(ALLOW_RULE) },
			{ "allow /32 over deny /24 tcp 443",
			  EG,
			  { V4(L4, "198.51.100.5"), TCP(40000, 443) },
			  PASS(ALLOW_RULE) },
			{ "deny /24 tcp 443 elsewhere",
			  EG,
			  { V4(L4, "198.51.100.6"), TCP(40000, 443) },
			  DROP(DROP_RULE) },
		},
	},
	{
		"deny beats allow at a tie",
		A,
		D,
		{ ALLOW(CG, "198.51.100.0/24", NULL, NULL, OUT),
		  DENY(CG, "198.51.100.0/24", NULL, NULL, OUT),
		  ALLOW(CG, "203.0.113.0/24", "tcp", "80", OUT),
		  DENY(CG, "203.0.113.0/24", "tcp", "80-90", OUT) },
		{
			{ "same prefix, allow and deny",
			  EG,
			  { V4(L4, "198.51.100.1"), TCP(40000, 80) },
			  DROP(DROP_RULE) },
			{ "port in both ranges",
			  EG,
			  { V4(L4, "203.0.113.1"), TCP(40000, 80) },
			  DROP(DROP_RULE) },
			{ "port in the deny range only",
			  EG,
			  { V4(L4, "203.0.113.1"), TCP(40000, 90) },
			  DROP(DROP_RULE) },
			{ "port in neither",
			  EG,
			  { V4(L4, "203.0.113.1"), TCP(40000, 91) },
			  DROP(DROP_DEFAULT) },
		},
	},
	{
		"host-wide and cgroup rules combine",
		A,
		A,
		{ DENY(HOST, "198.51.100.0/24", NULL, NULL, BOTH),
		  ALLOW(CG, "198.51.100.10", NULL, NULL, OUT),
		  ALLOW(HOST, "203.0.113.0/24", NULL, NULL, OUT),
		  DENY(CG, "203.0.113.0/24", NULL, NULL, OUT),
		  DENY(CG, "192.0.2.128/25", NULL, NULL, OUT),
		  ALLOW(HOST, "192.0.2.200", NULL, NULL, OUT),
		  DENY(HOST, "2001:db8:ffff::/48", "udp", "53", OUT) },
		{
			{ "cgroup allow /32 over host deny /24",
			  EG,
			  { V4(L4, "198.51.100.10"), TCP(40000, 443) },
			  PASS(ALLOW_RULE) },
			{ "host deny /24",
			  EG,
			  { V4(L4, "198.51.100.11"), TCP(40000, 443) },
			  DROP(DROP_RULE) },
			{ "host deny /24 on ingress",
			  ING,
			  { V4("198.51.100.10", L4), TCP(443, 40000) },
			  DROP(DROP_RULE) },
			{ "host allow vs cgroup deny, same /24: deny",
			  EG,
			  { V4(L4, "203.0.113.9"), TCP(40000, 443) },
			  DROP(DROP_RULE) },
			{ "host allow /32 over cgroup deny /25",
			  EG,
			  { V4(L4, "192.0.2.200"), TCP(40000, 443) },
			  PASS(ALLOW_RULE) },
			{ "cgroup deny /25",
			  EG,
			  { V4(L4, "192.0.2.129"), TCP(40000, 443) },
			  DROP(DROP_RULE) },
			{ "host port rule (IPv6)",
			  EG,
			  { V6(L6, "2001:db8:ffff::53"), UDP(40000, 53) },
			  DROP(DROP_RULE) },
		},
	},
	{
		"another cgroup's rules do not apply",
		A,
		A,
		{ DENY(OTH, "198.51.100.0/24", NULL, NULL, BOTH),
		  DENY(OTH, "203.0.113.0/24", "tcp", NULL, BOTH) },
		{
			{ "other cgroup's portless deny",
			  EG,
			  { V4(L4, "198.51.100.1"), TCP(40000, 443) },
			  PASS(ALLOW_DEFAULT) },
			{ "other cgroup's port deny",
			  EG,
			  { V4(L4, "203.0.113.1"), TCP(40000, 443) },
			  PASS(ALLOW_DEFAULT) },
		},
	},
	{
		"default deny drops what no rule matches",
		D,
		D,
		{ ALLOW(CG, "192.0.2.0/24", NULL, NULL, OUT),
		  ALLOW(HOST, "2001:db8:ffff::/48", NULL, NULL, IN) },
		{
			{ "allowed /24",
			  EG,
			  { V4(L4, "192.0.2.77"), UDP(40000, 53) },
			  PASS(ALLOW_RULE) },
			{ "unmatched v4",
			  EG,
			  { V4(L4, "198.51.100.1"), UDP(40000, 53) },
			  DROP(DROP_DEFAULT) },
			{ "allowed v6 ingress (host rule)",
			  ING,
			  { V6("2001:db8:ffff::1", L6), UDP(53, 40000) },
			  PASS(ALLOW_RULE) },
			{ "unmatched v6 ingress",
			  ING,
			  { V6("2001:db8:fffe::1", L6), UDP(53, 40000) },
			  DROP(DROP_DEFAULT) },
		},
	},
	{
		"IPv4 fragments and port-scoped rules",
		A,
		A,
		{ DENY(CG, "198.51.100.0/24", "tcp", "80", OUT),
		  DENY(CG, "203.0.113.0/24", NULL, NULL, OUT),
		  DENY(CG, "192.0.2.100", "tcp", NULL, OUT) },
		{
			{ "unfragmented tcp 80",
			  EG,
			  { V4(L4, "198.51.100.5"), TCP(40000, 80) },
			  DROP(DROP_RULE) },
			{ "first fragment tcp 80",
			  EG,
			  { V4(L4, "198.51.100.5"), TCP(40000, 80), .frag = FIRST },
			  DROP(DROP_RULE) },
			{ "later fragment: no port, port rule does not match",
			  EG,
			  { V4(L4, "198.51.100.5"), TCP(40000, 80), .frag = LATER },
			  PASS(ALLOW_DEFAULT) },
			{ "later fragment, portless deny",
			  EG,
			  { V4(L4, "203.0.113.5"), TCP(40000, 80), .frag = LATER },
			  DROP(DROP_RULE) },
			{ "later fragment, tcp all-ports deny",
			  EG,
			  { V4(L4, "192.0.2.100"), TCP(40000, 80), .frag = LATER },
			  DROP(DROP_RULE) },
			{ "later udp fragment, tcp all-ports deny",
			  EG,
			  { V4(L4, "192.0.2.100"), UDP(40000, 80), .frag = LATER },
			  PASS(ALLOW_DEFAULT) },
		},
	},
	{
		"IPv6 fragments and port-scoped rules",
		A,
		A,
		{ DENY(CG, "2001:db8:ffff::/48", "udp", "53", OUT) },
		{
			{ "unfragmented udp 53",
			  EG,
			  { V6(L6, "2001:db8:ffff::53"), UDP(40000, 53) },
			  DROP(DROP_RULE) },
			{ "first fragment udp 53",
			  EG,
			  { V6(L6, "2001:db8:ffff::53"), UDP(40000, 53), EXT(FRG), .frag = FIRST },
			  DROP(DROP_RULE) },
			{ "later fragment",
			  EG,
			  { V6(L6, "2001:db8:ffff::53"), UDP(40000, 53), EXT(FRG), .frag = LATER },
			  PASS(ALLOW_DEFAULT) },
		},
	},
	{
		"a reply of an allowed flow passes default deny",
		D,
		D,
		{ ALLOW(CG, "198.51.100.0/24", "tcp", "443", OUT) },
		{
			{ "egress syn, allowed by rule",
			  EG,
			  { V4(L4, "198.51.100.9"), TCP(40000, 443) },
			  PASS(ALLOW_RULE) },
			{ "its reply",
			  ING,
			  { V4("198.51.100.9", L4), TCP(443, 40000) },
			  PASS(ALLOW_REPLY) },
			{ "same peer, other local port",
			  ING,
			  { V4("198.51.100.9", L4), TCP(443, 40001) },
			  DROP(DROP_DEFAULT) },
			{ "other peer, same ports",
			  ING,
			  { V4("198.51.100.10", L4), TCP(443, 40000) },
			  DROP(DROP_DEFAULT) },
			{ "same ports, udp",
			  ING,
			  { V4("198.51.100.9", L4), UDP(443, 40000) },
			  DROP(DROP_DEFAULT) },
			{ "a denied flow",
			  EG,
			  { V4(L4, "203.0.113.1"), TCP(40002, 443) },
			  DROP(DROP_DEFAULT) },
			{ "has no reply",
			  ING,
			  { V4("203.0.113.1", L4), TCP(443, 40002) },
			  DROP(DROP_DEFAULT) },
		},
	},
	{
		"a reply of an allowed inbound flow (IPv6)",
		D,
		D,
		{ ALLOW(CG, "2001:db8:ffff::/48", "tcp", "22", IN) },
		{
			{ "reply before the flow",
			  EG,
			  { V6(L6, "2001:db8:ffff::5"), TCP(22, 50000) },
			  DROP(DROP_DEFAULT) },
			{ "inbound ssh, allowed by rule",
			  ING,
			  { V6("2001:db8:ffff::5", L6), TCP(50000, 22) },
			  PASS(ALLOW_RULE) },
			{ "its reply",
			  EG,
			  { V6(L6, "2001:db8:ffff::5"), TCP(22, 50000) },
			  PASS(ALLOW_REPLY) },
			{ "not its reply (other port)",
			  EG,
			  { V6(L6, "2001:db8:ffff::5"), TCP(22, 50001) },
			  DROP(DROP_DEFAULT) },
			{ "inbound to another port",
			  ING,
			  { V6("2001:db8:ffff::5", L6), TCP(50000, 23) },
			  DROP(DROP_DEFAULT) },
		},
	},
	{
		"ingress port rules match the local (destination) port",
		D,
		A,
		{ ALLOW(CG, "0.0.0.0/0", "tcp", "22", IN) },
		{
			{ "to local port 22",
			  ING,
			  { V4("198.51.100.5", L4), TCP(50000, 22) },
			  PASS(ALLOW_RULE) },
			{ "from remote port 22",
			  ING,
			  { V4("198.51.100.5", L4), TCP(22, 50000) },
			  DROP(DROP_DEFAULT) },
		},
	},
	{
		"IPv4 options before the ports",
		A,
		A,
		{ DENY(CG, "198.51.100.0/24", "tcp", "22", OUT) },
		{
			{ "4 bytes of options, tcp 22",
			  EG,
			  { V4(L4, "198.51.100.5"), TCP(40000, 22), .ip_opts = 4 },
			  DROP(DROP_RULE) },
			{ "40 bytes of options, tcp 22",
			  EG,
			  { V4(L4, "198.51.100.5"), TCP(40000, 22), .ip_opts = 40 },
			  DROP(DROP_RULE) },
			{ "40 bytes of options, tcp 2222",
			  EG,
			  { V4(L4, "198.51.100.5"), TCP(40000, 2222), .ip_opts = 40 },
			  PASS(ALLOW_DEFAULT) },
		},
	},
	{
		"IPv6 extension headers before the ports",
		A,
		A,
		{ DENY(CG, "2001:db8:ffff::/48", "tcp", "22", OUT) },
		{
			{ "hop-by-hop",
			  EG,
			  { V6(L6, "2001:db8:ffff::1"), TCP(40000, 22), EXT(HOP) },
			  DROP(DROP_RULE) },
			{ "hop-by-hop, destination (16 bytes), routing",
			  EG,
			  { V6(L6, "2001:db8:ffff::1"), TCP(40000, 22), EXT(HOP, DST, RTG) },
			  DROP(DROP_RULE) },
			{ "authentication header",
			  EG,
			  { V6(L6, "2001:db8:ffff::1"), TCP(40000, 22), EXT(AUTH) },
			  DROP(DROP_RULE) },
			{ "hop-by-hop, first fragment",
			  EG,
			  { V6(L6, "2001:db8:ffff::1"), TCP(40000, 22), EXT(HOP, FRG),
			    .frag = FIRST },
			  DROP(DROP_RULE) },
			{ "destination options, other port",
			  EG,
			  { V6(L6, "2001:db8:ffff::1"), TCP(40000, 2222), EXT(DST) },
			  PASS(ALLOW_DEFAULT) },
		},
	},
	{
		"truncated headers, default allow",
		A,
		A,
		{ DENY(CG, "198.51.100.0/24", NULL, NULL, OUT),
		  DENY(CG, "2001:db8:ffff::/48", NULL, NULL, OUT),
		  DENY(CG, "203.0.113.0/24", "tcp", "80", OUT) },
		{
			/* (The kernel refuses to BPF_PROG_RUN an IP EtherType with less than a
			 * whole IP header, so unreadable headers are made malformed instead.) */
			{ "IPv4 header length 16 (IHL 4): unparsed",
			  EG,
			  { V4(L4, "198.51.100.5"), TCP(40000, 80), .ihl = 4 },
			  PASS(UNPARSED) },
			{ "version 6 under the IPv4 EtherType: unparsed",
			  EG,
			  { V4(L4, "198.51.100.5"), TCP(40000, 80), .version = 6 },
			  PASS(UNPARSED) },
			{ "version 4 under the IPv6 EtherType: unparsed",
			  EG,
			  { V6(L6, "2001:db8:ffff::1"), TCP(40000, 80), .version = 4 },
			  PASS(UNPARSED) },
			{ "IHL 15, options cut short, denied address",
			  EG,
			  { V4(L4, "198.51.100.5"), TCP(40000, 80), .ihl = 15 },
			  DROP(DROP_RULE) },
			{ "tcp header cut to 2 bytes, denied address",
			  EG,
			  { V4(L4, "198.51.100.5"), TCP(40000, 80), .cut = 22 },
			  DROP(DROP_RULE) },
			{ "udp header cut to 1 byte, denied address (v6)",
			  EG,
			  { V6(L6, "2001:db8:ffff::1"), UDP(40000, 80), .cut = 41 },
			  DROP(DROP_RULE) },
			{ "extension header cut, denied address",
			  EG,
			  { V6(L6, "2001:db8:ffff::1"), TCP(40000, 80), EXT(HOP), .cut = 44 },
			  DROP(DROP_RULE) },
			{ "tcp header cut: no port for a port rule",
			  EG,
			  { V4(L4, "203.0.113.5"), TCP(40000, 80), .cut = 22 },
			  PASS(ALLOW_DEFAULT) },
			{ "ARP frame", EG, { .family = 0 }, PASS(UNPARSED) },
		},
	},
	{
		"truncated headers, default deny",
		A,
		D,
		{ ALLOW(CG, "203.0.113.0/24", "tcp", "443", OUT) },
		{
			{ "IPv4 header length 16 (IHL 4)",
			  EG,
			  { V4(L4, "203.0.113.5"), TCP(40000, 443), .ihl = 4 },
			  DROP(UNPARSED) },
			{ "tcp header cut: port unknown, port allow does not match",
			  EG,
			  { V4(L4, "203.0.113.5"), TCP(40000, 443), .cut = 22 },
			  DROP(DROP_DEFAULT) },
			{ "whole tcp header",
			  EG,
			  { V4(L4, "203.0.113.5"), TCP(40000, 443) },
			  PASS(ALLOW_RULE) },
		},
	},
	{
		"more IPv6 extension headers than the parser walks",
		A,
		A,
		{ DENY(CG, "2001:db8:ffff::/48", NULL, NULL, OUT),
		  DENY(CG, "2001:db8:fffe::/48", "tcp", "22", OUT) },
		{
			{ "7 headers, denied address",
			  EG,
			  { V6(L6, "2001:db8:ffff::1"), TCP(40000, 22),
			    EXT(HOP, DST, DST, DST, DST, DST, DST) },
			  DROP(DROP_RULE) },
			{ "6 headers, port rule",
			  EG,
			  { V6(L6, "2001:db8:fffe::1"), TCP(40000, 22),
			    EXT(HOP, DST, DST, DST, DST, DST) },
			  DROP(DROP_RULE) },
		},
	},
	{
		"ICMP rules (icmpv6 stored as icmp)",
		A,
		D,
		{ ALLOW(CG, "198.51.100.0/24", "icmp", NULL, OUT),
		  ALLOW(CG, "2001:db8:ffff::/48", "icmp", NULL, OUT) },
		{
			{ "icmp4 echo", EG, { V4(L4, "198.51.100.1"), ICMP4 }, PASS(ALLOW_RULE) },
			{ "tcp4",
			  EG,
			  { V4(L4, "198.51.100.1"), TCP(40000, 80) },
			  DROP(DROP_DEFAULT) },
			{ "icmp6 echo", EG, { V6(L6, "2001:db8:ffff::1"), ICMP6 }, PASS(ALLOW_RULE) },
			{ "udp6",
			  EG,
			  { V6(L6, "2001:db8:ffff::1"), UDP(40000, 53) },
			  DROP(DROP_DEFAULT) },
		},
	},
	{
		"port ranges",
		A,
		A,
		{ DENY(CG, "198.51.100.0/24", "udp", "5000-6000", OUT) },
		{
			{ "4999",
			  EG,
			  { V4(L4, "198.51.100.1"), UDP(40000, 4999) },
			  PASS(ALLOW_DEFAULT) },
			{ "5000", EG, { V4(L4, "198.51.100.1"), UDP(40000, 5000) }, DROP(DROP_RULE) },
			{ "5500", EG, { V4(L4, "198.51.100.1"), UDP(40000, 5500) }, DROP(DROP_RULE) },
			{ "6000", EG, { V4(L4, "198.51.100.1"), UDP(40000, 6000) }, DROP(DROP_RULE) },
			{ "6001",
			  EG,
			  { V4(L4, "198.51.100.1"), UDP(40000, 6001) },
			  PASS(ALLOW_DEFAULT) },
			{ "tcp 5500",
			  EG,
			  { V4(L4, "198.51.100.1"), TCP(40000, 5500) },
			  PASS(ALLOW_DEFAULT) },
		},
	},
	{
		"/0 rules, one family at a time",
		A,
		A,
		{ DENY(CG, "0.0.0.0/0", NULL, NULL, OUT),
		  ALLOW(CG, "192.0.2.0/24", NULL, NULL, OUT) },
		{
			{ "inside the allowed /24",
			  EG,
			  { V4(L4, "192.0.2.77"), TCP(40000, 443) },
			  PASS(ALLOW_RULE) },
			{ "anywhere else",
			  EG,
			  { V4(L4, "198.51.100.1"), TCP(40000, 443) },
			  DROP(DROP_RULE) },
			{ "IPv6 is not under 0.0.0.0/0",
			  EG,
			  { V6(L6, "2001:db8:ffff::1"), TCP(40000, 443) },
			  PASS(ALLOW_DEFAULT) },
			{ "ingress: rules are egress only",
			  ING,
			  { V4("198.51.100.1", L4), TCP(443, 40000) },
			  PASS(ALLOW_DEFAULT) },
		},
	},
};
/* clang-format on */

#define NCASES ((int)(sizeof(cases) / sizeof(cases[0])))

/* ---- the harness -------------------------------------------------------- */

static char root[PATH_MAX];
static struct cgfw_state *st;
static struct cgfw_cgroup_prog *cgprog;
static struct cgfw_cgroup_bpf *skel;
static int ncpu;

/* Attach @id (a scope only: no directory, no links) with these defaults. */
static void set_cgroup(uint64_t id, uint8_t def_in, uint8_t def_out)
{
	struct cgfw_cgroup cg = { .id = id };
	struct cgfw_change *c = NULL;

	snprintf(cg.rel, sizeof(cg.rel), "cgfw-prog-test/%llx", (unsigned long long)id);
	ck_assert_msg(cgfw_change_begin(st, &c) == 0, "%s", cgfw_errmsg());
	ck_assert_msg(cgfw_change_attach(c, &cg) == 0, "%s", cgfw_errmsg());
	ck_assert_msg(cgfw_change_default(c, id, CGFW_DIR_BIT(CGFW_DIR_INGRESS), def_in) == 0, "%s",
		      cgfw_errmsg());
	ck_assert_msg(cgfw_change_default(c, id, CGFW_DIR_BIT(CGFW_DIR_EGRESS), def_out) == 0, "%s",
		      cgfw_errmsg());
	ck_assert_msg(cgfw_change_commit(c) == 0, "%s", cgfw_errmsg());
	cgfw_change_free(c);
}

static void clear_map(int fd, size_t key_size)
{
	char key[64];

	ck_assert_uint_le(key_size, sizeof(key));
	while (bpf_map_get_next_key(fd, NULL, key) == 0)
		ck_assert_int_eq(bpf_map_delete_elem(fd, key), 0);
}

static void remove_all_rules(void)
{
	struct cgfw_rule *rules = NULL;
	size_t n = 0;

	ck_assert_msg(cgfw_rules_list(st, &rules, &n) == 0, "%s", cgfw_errmsg());
	if (n)
		ck_assert_msg(cgfw_rules_update(st, rules, n, false, NULL, NULL) >= 0, "%s",
			      cgfw_errmsg());
	free(rules);
	ck_assert_msg(cgfw_rules_list(st, &rules, &n) == 0, "%s", cgfw_errmsg());
	ck_assert_msg(n == 0, "%zu rules left after removing all", n);
	free(rules);
}

static void to_rule(const struct rule_spec *s, struct cgfw_rule *r)
{
	memset(r, 0, sizeof(*r));
	r->scope = s->scope == CG ? CGID : s->scope == OTH ? OTHER : CGFW_SCOPE_HOST;
	ck_assert_msg(cgfw_parse_prefix(s->pfx, &r->pfx) == 0, "%s", cgfw_errmsg());
	if (s->proto)
		ck_assert_msg(cgfw_parse_proto(s->proto, &r->proto) == 0, "%s", cgfw_errmsg());
	if (s->ports)
		ck_assert_msg(cgfw_parse_ports(s->ports, &r->port_lo, &r->port_hi) == 0, "%s",
			      cgfw_errmsg());
	r->dirs = s->dirs;
	r->action = s->action;
	r->origin = CGFW_ORIGIN_MANUAL;
}

static void add_rules(const struct rule_spec *specs, size_t max)
{
	struct cgfw_rule rules[16];
	size_t n = 0;

	for (; n < max && specs[n].pfx; n++)
		to_rule(&specs[n], &rules[n]);
	if (n)
		ck_assert_msg(cgfw_rules_update(st, rules, n, true, NULL, NULL) > 0, "%s",
			      cgfw_errmsg());
}

/* Packets and bytes per (direction, reason), summed over CPUs (both cgfw_pc entries). */
static void read_stats(struct cgfw_stat_val out[CGFW_DIR_COUNT * CGFW_R_COUNT])
{
	struct cgfw_pc_val *per = calloc((size_t)ncpu, sizeof(*per));
	int fd = bpf_map__fd(skel->maps.cgfw_pc);

	ck_assert_ptr_nonnull(per);
	for (int k = 0; k < CGFW_DIR_COUNT * CGFW_R_COUNT; k++)
		out[k].packets = out[k].bytes = 0;
	for (__u32 e = 0; e < 2; e++) {
		ck_assert_int_eq(bpf_map_lookup_elem(fd, &e, per), 0);
		for (int k = 0; k < CGFW_DIR_COUNT * CGFW_R_COUNT; k++)
			for (int c = 0; c < ncpu; c++) {
				out[k].packets += per[c].stats[k].packets;
				out[k].bytes += per[c].stats[k].bytes;
			}
	}
	free(per);
}

/* Run one frame through the program of @dir; returns its verdict. */
static int run(int dir, const uint8_t *frame, size_t len, const char *what)
{
	struct bpf_program *prog = dir == CGFW_DIR_INGRESS ? skel->progs.cgfw_ingress :
							     skel->progs.cgfw_egress;
	LIBBPF_OPTS(bpf_test_run_opts, topts, .data_in = frame, .data_size_in = (__u32)len,
		    .repeat = 1);
	int err = bpf_prog_test_run_opts(bpf_program__fd(prog), &topts);

	ck_assert_msg(err == 0, "%s: BPF_PROG_RUN of %zu bytes: %s", what, len, strerror(-err));
	return (int)topts.retval;
}

static void run_step(const struct test_case *tc, const struct step *s)
{
	struct cgfw_stat_val before[CGFW_DIR_COUNT * CGFW_R_COUNT];
	struct cgfw_stat_val after[CGFW_DIR_COUNT * CGFW_R_COUNT];
	struct pkt frame;
	size_t len;
	int got, slot = s->dir * CGFW_R_COUNT + s->reason;

	ck_assert_msg(pkt_build(&s->pkt, &frame) == 0, "[%s] %s: cannot build the packet", tc->desc,
		      s->desc);
	len = frame.len;
	read_stats(before);
	got = run(s->dir, frame.b, len, s->desc);
	read_stats(after);
	if (getenv("CGFW_PROG_VERBOSE"))
		fprintf(stderr, "[%s] %s: %s (%zu bytes)\n", tc->desc, s->desc,
			got ? "pass" : "drop", len);
	ck_assert_msg(got == s->pass, "[%s] %s: %s, want %s", tc->desc, s->desc,
		      got ? "pass" : "drop", s->pass ? "pass" : "drop");
	for (int k = 0; k < CGFW_DIR_COUNT * CGFW_R_COUNT; k++) {
		__u64 dp = after[k].packets - before[k].packets;
		__u64 db = after[k].bytes - before[k].bytes;

		if (k == slot) {
			ck_assert_msg(dp == 1, "[%s] %s: not counted as %s/%s", tc->desc, s->desc,
				      s->dir ? "egress" : "ingress", cgfw_reason_name(s->reason));
			ck_assert_msg(db == len - ETH_HLEN, "[%s] %s: %llu bytes counted, want %zu",
				      tc->desc, s->desc, (unsigned long long)db, len - ETH_HLEN);
		} else {
			ck_assert_msg(dp == 0, "[%s] %s: counted as %s/%s, want %s", tc->desc,
				      s->desc, k / CGFW_R_COUNT ? "egress" : "ingress",
				      cgfw_reason_name(k % CGFW_R_COUNT),
				      cgfw_reason_name(s->reason));
		}
	}
}

/* Start a case from nothing: no rules, no flows, no seen addresses. */
static void fresh(uint8_t def_in, uint8_t def_out)
{
	remove_all_rules();
	clear_map(bpf_map__fd(skel->maps.cgfw_flows), sizeof(struct cgfw_flow_key));
	ck_assert_int_eq(cgfw_seen_flush(st, CGID), 0);
	set_cgroup(CGID, def_in, def_out);
}

START_TEST(test_table)
{
	const struct test_case *tc = &cases[_i];

	fresh(tc->def_in, tc->def_out);
	add_rules(tc->rules, sizeof(tc->rules) / sizeof(tc->rules[0]));
	for (size_t i = 0; i < sizeof(tc->steps) / sizeof(tc->steps[0]) && tc->steps[i].desc; i++)
		run_step(tc, &tc->steps[i]);
	remove_all_rules();
}
END_TEST

/* Removing a rule takes effect for the next packet; so does a new default. */
START_TEST(test_rule_removed)
{
	static const struct test_case tc = { .desc = "rule removed" };
	struct rule_spec spec = DENY(CG, "198.51.100.0/24", "tcp", "443", OUT);
	struct step s = {
		"tcp 443", EG, { V4(L4, "198.51.100.3"), TCP(40000, 443) }, DROP(DROP_RULE)
	};
	struct cgfw_rule r;

	fresh(A, A);
	to_rule(&spec, &r);
	ck_assert_int_eq(cgfw_rules_update(st, &r, 1, true, NULL, NULL), 1);
	run_step(&tc, &s);
	ck_assert_int_eq(cgfw_rules_update(st, &r, 1, false, NULL, NULL), 1);
	s.pass = 1;
	s.reason = CGFW_R_ALLOW_DEFAULT;
	run_step(&tc, &s);
	set_cgroup(CGID, A, D);
	s.pass = 0;
	s.reason = CGFW_R_DROP_DEFAULT;
	run_step(&tc, &s);
}
END_TEST

/* What the programs record as "seen" for a remote address. */
START_TEST(test_seen_recorded)
{
	static const struct test_case tc = { .desc = "seen" };
	struct rule_spec spec = DENY(CG, "198.51.100.99", "udp", "53", OUT);
	struct step steps[] = {
		{ "udp 53", EG, { V4(L4, "198.51.100.99"), UDP(40000, 53) }, DROP(DROP_RULE) },
		{ "udp 53 again", EG, { V4(L4, "198.51.100.99"), UDP(40000, 53) }, DROP(DROP_RULE) },
		{ "tcp 443", EG, { V4(L4, "198.51.100.99"), TCP(40000, 443) }, PASS(ALLOW_DEFAULT) },
		{ "inbound",
		  ING,
		  { V4("198.51.100.99", L4), TCP(443, 40000) },
		  PASS(ALLOW_DEFAULT) },
	};
	struct cgfw_seen *seen = NULL;
	struct cgfw_rule r;
	size_t n = 0, want_bytes = 0;
	int found = 0;

	fresh(A, A);
	to_rule(&spec, &r);
	ck_assert_int_eq(cgfw_rules_update(st, &r, 1, true, NULL, NULL), 1);
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		struct pkt frame;

		run_step(&tc, &steps[i]);
		ck_assert_int_eq(pkt_build(&steps[i].pkt, &frame), 0);
		if (steps[i].dir == EG)
			want_bytes += frame.len - ETH_HLEN;
	}
	ck_assert_msg(cgfw_seen_list(st, CGID, &seen, &n) == 0, "%s", cgfw_errmsg());
	for (size_t i = 0; i < n; i++) {
		char a[CGFW_ADDRSTRLEN];

		cgfw_format_addr(seen[i].family, seen[i].addr, a, sizeof(a));
		ck_assert_uint_eq(seen[i].cgid, CGID);
		ck_assert_str_eq(a, "198.51.100.99");
		if (seen[i].dir == CGFW_DIR_EGRESS) {
			ck_assert_uint_eq(seen[i].packets, 3);
			ck_assert_uint_eq(seen[i].dropped, 2);
			ck_assert_uint_eq(seen[i].bytes, want_bytes);
		} else {
			ck_assert_uint_eq(seen[i].packets, 1);
			ck_assert_uint_eq(seen[i].dropped, 0);
		}
		ck_assert_msg(seen[i].first_ns > 0 && seen[i].first_ns <= seen[i].last_ns,
			      "%s: first_ns %llu, last_ns %llu", seen[i].dir ? "egress" : "ingress",
			      (unsigned long long)seen[i].first_ns,
			      (unsigned long long)seen[i].last_ns);
		found++;
	}
	ck_assert_int_eq(found, 2);
	free(seen);
	remove_all_rules();
}
END_TEST

static void set_audit(uint64_t id, bool audit)
{
	struct cgfw_change *c = NULL;

	ck_assert_msg(cgfw_change_begin(st, &c) == 0, "%s", cgfw_errmsg());
	ck_assert_msg(cgfw_change_audit(c, id, audit) == 0, "%s", cgfw_errmsg());
	ck_assert_msg(cgfw_change_commit(c) == 0, "%s", cgfw_errmsg());
	cgfw_change_free(c);
}

/* Audit: what would be dropped passes, counted under its own reasons; enforce drops again. */
START_TEST(test_audit)
{
	static const struct test_case tc = { .desc = "audit" };
	struct rule_spec spec = DENY(CG, "198.51.100.0/24", "tcp", "443", OUT);
	struct step by_rule = { "denied by a rule",
				EG,
				{ V4(L4, "198.51.100.3"), TCP(40000, 443) },
				PASS(AUDIT_RULE) };
	struct step by_default = { "denied by the default",
				   EG,
				   { V4(L4, "203.0.113.3"), TCP(40000, 80) },
				   PASS(AUDIT_DEFAULT) };
	struct step allowed = {
		"allowed anyway", ING, { V4("203.0.113.3", L4), TCP(80, 40000) }, PASS(ALLOW_REPLY)
	};
	struct cgfw_rule r;

	fresh(A, D);
	to_rule(&spec, &r);
	ck_assert_int_eq(cgfw_rules_update(st, &r, 1, true, NULL, NULL), 1);
	set_audit(CGID, true);
	run_step(&tc, &by_rule);
	run_step(&tc, &by_default);
	set_audit(CGID, false);
	by_rule.pass = 0;
	by_rule.reason = CGFW_R_DROP_RULE;
	run_step(&tc, &by_rule);
	by_default.pass = 0;
	by_default.reason = CGFW_R_DROP_DEFAULT;
	run_step(&tc, &by_default);
	/* What audit let out opened no flow: the answer is not a reply (the default
	 * lets it in, and that makes its way back a reply). */
	allowed.reason = CGFW_R_ALLOW_DEFAULT;
	run_step(&tc, &allowed);
	by_default.pass = 1;
	by_default.reason = CGFW_R_ALLOW_REPLY;
	run_step(&tc, &by_default);
	remove_all_rules();
}
END_TEST

/* Every rule counts the packets and bytes it decides, and when it last did. */
START_TEST(test_rule_counters)
{
	static const struct test_case tc = { .desc = "counters" };
	struct rule_spec specs[2] = { DENY(CG, "198.51.100.0/24", "udp", "53", OUT),
				      ALLOW(HOST, "198.51.100.0/24", NULL, NULL, OUT) };
	struct step dns = {
		"udp 53", EG, { V4(L4, "198.51.100.9"), UDP(40000, 53) }, DROP(DROP_RULE)
	};
	struct step web = {
		"tcp 443", EG, { V4(L4, "198.51.100.9"), TCP(40000, 443) }, PASS(ALLOW_RULE)
	};
	struct cgfw_rule rules[2], *list = NULL;
	struct cgfw_rule_stats *stats = NULL;
	struct pkt f1, f2;
	size_t n = 0;

	fresh(A, A);
	to_rule(&specs[0], &rules[0]);
	to_rule(&specs[1], &rules[1]);
	ck_assert_int_eq(cgfw_rules_update(st, rules, 2, true, NULL, NULL), 2);
	for (int i = 0; i < 3; i++)
		run_step(&tc, &dns);
	run_step(&tc, &web);
	ck_assert_int_eq(pkt_build(&dns.pkt, &f1), 0);
	ck_assert_int_eq(pkt_build(&web.pkt, &f2), 0);
	/* A change elsewhere carries the counts into the new rule set. */
	{
		struct rule_spec other = DENY(HOST, "203.0.113.0/24", NULL, NULL, IN);
		struct cgfw_rule r;

		to_rule(&other, &r);
		ck_assert_int_eq(cgfw_rules_update(st, &r, 1, true, NULL, NULL), 1);
	}
	ck_assert_msg(cgfw_rules_list_stats(st, &list, &stats, &n) == 0, "%s", cgfw_errmsg());
	for (size_t i = 0; i < n; i++) {
		if (list[i].proto == CGFW_PROTO_UDP) {
			ck_assert_uint_eq(stats[i].packets, 3);
			ck_assert_uint_eq(stats[i].bytes, 3 * (f1.len - ETH_HLEN));
			ck_assert_uint_gt(stats[i].last_ns, 0);
		} else if (list[i].pfx.len == 24 && list[i].pfx.addr[0] == 198) {
			ck_assert_uint_eq(stats[i].packets, 1);
			ck_assert_uint_eq(stats[i].bytes, f2.len - ETH_HLEN);
		} else {
			ck_assert_uint_eq(stats[i].packets, 0);
			ck_assert_uint_eq(stats[i].last_ns, 0);
		}
	}
	free(list);
	free(stats);
	remove_all_rules();
}
END_TEST

static int setup_state(void)
{
	int err;

	snprintf(root, sizeof(root), "/sys/fs/bpf/cgfw-test-%d-prog-cgroup_skb", (int)getpid());
	setenv("CGFW_BPFFS_ROOT", root, 1);
	cgfw_reset(); /* a leftover of an earlier run with the same pid */

	err = cgfw_state_open(CGFW_OPEN_CREATE | CGFW_OPEN_LOCK, &st);
	if (err) {
		fprintf(stderr, "cgfw_prog_test: %s\n", cgfw_errmsg());
		return err;
	}
	/* The program instance of CGID, in its slot, on the pinned maps. */
	{
		struct cgfw_cgroup cg = { .id = CGID, .rel = "cgfw-prog-test/cgid" };
		struct cgfw_change *c = NULL;

		err = cgfw_change_begin(st, &c);
		if (!err)
			err = cgfw_change_attach(c, &cg);
		if (!err)
			err = cgfw_change_commit(c);
		cgfw_change_free(c);
	}
	if (!err)
		err = cgfw_cgroup_prog_load(st, CGID, &cgprog);
	if (err) {
		fprintf(stderr, "cgfw_prog_test: %s\n", cgfw_errmsg());
		return err;
	}
	skel = cgprog->skel;
	ncpu = libbpf_num_possible_cpus();
	return ncpu > 0 ? 0 : -EIO;
}

static void setup_cgroups(void)
{
	set_cgroup(CGID, A, A);
	set_cgroup(OTHER, A, A);
}

static void teardown_state(void)
{
	cgfw_cgroup_prog_free(cgprog);
	cgfw_state_close(st);
	if (root[0] && cgfw_reset() < 0)
		fprintf(stderr, "cgfw_prog_test: cleanup: %s\n", cgfw_errmsg());
}

int main(void)
{
	Suite *s;
	TCase *tc;
	SRunner *sr;
	int failed;

	if (geteuid() != 0) {
		printf("SKIP: cgfw_prog_test needs root (BPF_PROG_RUN, bpffs)\n");
		return 77;
	}
	if (setup_state() < 0) {
		teardown_state();
		return EXIT_FAILURE;
	}

	s = suite_create("prog");
	tc = tcase_create("cgroup_skb");
	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, setup_cgroups, NULL);
	tcase_add_loop_test(tc, test_table, 0, NCASES);
	tcase_add_test(tc, test_rule_removed);
	tcase_add_test(tc, test_seen_recorded);
	tcase_add_test(tc, test_audit);
	tcase_add_test(tc, test_rule_counters);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_SILENT);
	teardown_state();

	/* Failures first, then Check's summary line last. */
	{
		TestResult **res = srunner_results(sr);
		int n = srunner_ntests_run(sr);

		for (int i = 0; i < n; i++)
			if (tr_rtype(res[i]) != CK_PASS)
				printf("%s:%d:%s:%s: %s\n", tr_lfile(res[i]), tr_lno(res[i]),
				       tr_rtype(res[i]) == CK_FAILURE ? "Failure" : "Error",
				       tr_tcname(res[i]), tr_msg(res[i]));
		free(res);
	}
	srunner_print(sr, CK_MINIMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
