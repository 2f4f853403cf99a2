// SPDX-License-Identifier: GPL-2.0-only
/*
 * The whole command line in one table: `cgfw COMMAND` and `cgfw OBJECT VERB`
 * (bpftool style), each entry with its positional arguments, its options (from
 * opt.c), the state it opens, and its help. Usage lines and --help are made
 * from the table, so they cannot drift from what the parser accepts.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>

#include <cgfw/ops.h>

#include "cli.h"

#define OPTS(...) ((const enum opt_id[]){ __VA_ARGS__, O_NONE })
#define NOOPTS	  ((const enum opt_id[]){ O_NONE })

#define RULE_OPTS OPTS(O_CGROUP, O_INGRESS, O_EGRESS, O_PROTO, O_PORT, O_FROM_FILE)
#define RULE_HELP(what)                                                                              \
	what "\n\n"                                                                                  \
	     "ADDR is IPv4 or IPv6; host bits of a prefix are cleared (10.1.2.3/8 is 10.0.0.0/8).\n" \
	     "Without --cgroup the rule applies to every attached cgroup; without a direction,\n"    \
	     "to both. --port matches the destination port (the remote service on egress, the\n"     \
	     "local service on ingress) and needs --proto tcp or udp. --from-file reads one\n"       \
	     "address or prefix per line ('#' comments allowed), all or nothing.\n\n"                \
	     "Precedence: longest prefix; at equal length a rule with a protocol beats one\n"        \
	     "without; then deny beats allow; then replies of allowed flows; then the default.\n"

#define TC_RULE_HELP                                                                             \
	"Matching: --dst PREFIX (IPv4 or IPv6), --src PREFIX (default: any), --proto tcp|udp,\n" \
	"--ports LOW[-HIGH] (destination ports), --iface IFACE (default: every attached\n"       \
	"interface). The same match identifies a rule for 'del'.\n\n"                            \
	"Precedence, shared by tproxy, redirect and inbound rules: the longest destination\n"    \
	"prefix wins; then the longest source prefix; then a rule bound to the interface\n"      \
	"beats one for every interface; then the narrowest port range; then the lowest first\n"  \
	"port. Adding a rule with the same match and kind changes its target; the same match\n"  \
	"with another kind is refused.\n\n"                                                      \
	"--from-file FILE (or - for stdin) reads one rule per line in the options' syntax\n"     \
	"('--dst 198.51.100.0/24 --proto tcp --ports 80 --to 9000', '#' comments); options\n"    \
	"on the command line are defaults for every line. All or nothing.\n"

#define TC_MATCH OPTS(O_DST, O_SRC, O_TC_PROTO, O_PORTS, O_IFACE, O_FROM_FILE)
#define TC_ADD	 OPTS(O_DST, O_SRC, O_TC_PROTO, O_PORTS, O_TO, O_IFACE, O_FROM_FILE)

/* The verbs of tproxy, inbound and redirect: the same commands for another kind. */
/* clang-format off */
#define TC_RULE_VERBS(kind, add_help, add_opts)						\
	{ .name = "add", .summary = "add rules (or change the target of an existing match)",	\
	  .fn = cmd_tc_rule_change, .opts = add_opts, .state = S_TC_CREATE,			\
	  .data = (kind) | 1 << 8, .help = add_help "\n" TC_RULE_HELP },			\
	{ .name = "del", .summary = "remove the rule with this match",				\
	  .fn = cmd_tc_rule_change, .opts = TC_MATCH, .state = S_TC_LOCK, .data = (kind),	\
	  .help = "Remove the rule with the same match (--dst, --src, --proto, --ports,\n"	\
		  "--iface).\n" },								\
	{ .name = "delete", .fn = cmd_tc_rule_change, .opts = TC_MATCH, .state = S_TC_LOCK,	\
	  .flags = CMD_HIDDEN, .data = (kind) },						\
	{ .name = "list", .summary = "the rules with their packet and byte counters",		\
	  .fn = cmd_tc_rule_list, .state = S_TC_READ, .data = (kind),				\
	  .help = "Every rule of this kind with its id and its packet and byte counters.\n" },	\
	{ .name = "show", .fn = cmd_tc_rule_list, .state = S_TC_READ, .flags = CMD_HIDDEN,	\
	  .data = (kind) },									\
	{ .name = "flush", .summary = "remove every rule of this kind",			\
	  .fn = cmd_tc_rule_flush, .state = S_TC_LOCK, .data = (kind),				\
	  .help = "Remove every rule of this kind.\n" },					\
	{ NULL }
/* clang-format on */

static const struct cmd tc_verbs[] = {
	{ .name = "attach",
	  .summary = "put the programs on an interface",
	  .fn = cmd_tc_attach,
	  .args = "IFACE",
	  .min_args = 1,
	  .max_args = 1,
	  .opts = OPTS(O_STATEFUL, O_ICMP, O_NO_SSH, O_MODE),
	  .state = S_TC_CREATE,
	  .help = "Put cgfw's ingress and egress programs on IFACE (Ethernet or L3 device; never\n"
		  "loopback). A tcx link where the kernel has tcx, else a cls_bpf filter on a clsact\n"
		  "qdisc at the lowest free priority; other programs and filters on the interface\n"
		  "keep running. Every interface shares one set of pinned maps (rules, counters).\n"
		  "Attaching again changes the settings atomically.\n\n"
		  "--stateful: inbound TCP and UDP pass only when they belong to a local socket (an\n"
		  "established flow, a reply to a flow this host opened), match a tproxy, redirect or\n"
		  "inbound rule, or are: ssh (tcp/22) to one of IFACE's own addresses, a DHCP client\n"
		  "reply (udp 67->68, 547->546). ICMP echo requests are dropped, other ICMP passes;\n"
		  "other IP protocols pass. A packet that cannot be parsed is dropped.\n\n"
		  "Inside another network namespace run cgfw with nsenter --net=/run/netns/NAME:\n"
		  "'ip netns exec' remounts /sys and hides the bpffs that holds cgfw's state.\n" },
	{ .name = "detach",
	  .summary = "remove the programs from an interface",
	  .fn = cmd_tc_detach,
	  .args = "IFACE",
	  .min_args = 1,
	  .max_args = 1,
	  .state = S_TC_LOCK,
	  .help = "Remove the programs and leave IFACE as it was found (the clsact qdisc goes only if\n"
		  "cgfw added it and no other filter uses it).\n" },
	{ .name = "list",
	  .summary = "attached interfaces, rule counts and counters",
	  .fn = cmd_tc_list,
	  .state = S_TC_READ,
	  .help = "Attached interfaces, the addresses the ssh exception uses, rule counts and the\n"
		  "datapath counters by reason.\n" },
	{ .name = "sync",
	  .summary = "refresh the interfaces' own addresses",
	  .fn = cmd_tc_sync,
	  .opts = OPTS(O_WATCH),
	  .state = S_NONE,
	  .help = "Copy the interfaces' current addresses into the ssh exception (attach does it\n"
		  "too); --watch follows address changes until Ctrl-C.\n" },
	{ NULL },
};

static const struct cmd tproxy_verbs[] = { TC_RULE_VERBS(
	CGFW_TC_TPROXY,
	"Packets arriving on an attached interface that match are spliced into the\n"
	"listener at ADDR:PORT (default address: the packet's own destination, which\n"
	"finds listeners on the wildcard address) with bpf_sk_assign: the accepted TCP\n"
	"socket's local address, or a UDP datagram's IP_RECVORIGDSTADDR, is the original\n"
	"destination. Packets of an established flow go to their own socket first. No\n"
	"listener: dropped and counted (drop_no_listener). A first fragment that matches\n"
	"is dropped (drop_fragment): later fragments could not follow it.\n"
	"cgfw adds a local route (table local, proto 207) for each intercepted prefix,\n"
	"as bpf_sk_assign needs, and removes it with the last rule that needs it; a\n"
	"route that was already there is used and left alone.\n",
	TC_ADD) };

static const struct cmd inbound_verbs[] = { TC_RULE_VERBS(
	CGFW_TC_INBOUND,
	"On interfaces attached with --stateful, packets matching an inbound rule are\n"
	"admitted to the local stack (services this host offers). Elsewhere they pass\n"
	"anyway. A matching inbound rule also wins over less specific tproxy and\n"
	"redirect rules (precedence below).\n",
	TC_ADD) };

static const struct cmd redirect_verbs[] = { TC_RULE_VERBS(
	CGFW_TC_REDIRECT,
	"Ingress rewrites the destination of matching packets to ADDR:PORT, fixing the\n"
	"IPv4 header and TCP/UDP checksums, and remembers the original in an LRU\n"
	"connection map (262144 flows). Egress rewrites the source of the replies back,\n"
	"so the client sees the address and port it dialled. Use it for services on\n"
	"this host (or reached back through an attached interface). Fragments: a first\n"
	"fragment that matches is dropped (drop_fragment); later fragments and packets\n"
	"too short to parse are never rewritten.\n",
	TC_ADD) };

static const struct cmd policy_verbs[] = {
	{ .name = "check",
	  .summary = "validate policy files",
	  .fn = cmd_policy_check,
	  .args = "FILE...",
	  .min_args = 1,
	  .max_args = -1,
	  .state = S_NONE,
	  .help = "Validate only; every error as FILE:LINE:COL: message, exit 2. Policy files (YAML,\n"
		  "see policies/README.md) key rules by cgroup path and name.\n" },
	{ .name = "apply",
	  .summary = "enforce policy files atomically",
	  .fn = cmd_policy_apply,
	  .args = "FILE...",
	  .min_args = 1,
	  .max_args = -1,
	  .state = S_NONE,
	  .help = "Enforce atomically: the previous policy stays in force until the new one is\n"
		  "completely in place; applying the same files twice changes nothing. A workload\n"
		  "whose cgroup does not exist yet is pending, enforced when it appears (OCI hook,\n"
		  "cgfw exec, a later apply). Saved for 'cgfw restore'. Rules a policy owns are kept\n"
		  "apart from rules added by hand (list shows the origin).\n" },
	{ .name = "diff",
	  .summary = "what apply would change",
	  .fn = cmd_policy_apply,
	  .args = "FILE...",
	  .min_args = 1,
	  .max_args = -1,
	  .state = S_NONE,
	  .data = 1,
	  .help = "What apply would change (+ add, - remove, ~ change, ! note).\n" },
	{ .name = "show",
	  .summary = "the applied policy and each workload's state",
	  .fn = cmd_policy_show,
	  .state = S_NONE,
	  .help = "The applied policy: each workload with its cgroup, defaults, rule count, state\n"
		  "(enforced, pending, hook-only) and running containers; the interfaces.\n" },
	{ NULL },
};

const struct cmd cgfw_commands[] = {
	{ .name = "attach",
	  .summary = "attach the firewall to a cgroup v2 cgroup",
	  .fn = cmd_attach,
	  .args = "CGROUP",
	  .min_args = 1,
	  .max_args = 1,
	  .state = S_CG_CREATE,
	  .help = "Attach cgfw's ingress and egress programs to CGROUP, an absolute path on the\n"
		  "cgroup2 filesystem or a path relative to its mount (app.slice). Descendant\n"
		  "cgroups are covered. Other programs on the cgroup keep running. Idempotent;\n"
		  "re-attaching swaps in the current program atomically. Enforcement continues\n"
		  "after cgfw exits.\n" },
	{ .name = "detach",
	  .summary = "detach from a cgroup and drop its rules and records",
	  .fn = cmd_detach,
	  .args = "CGROUP",
	  .min_args = 1,
	  .max_args = 1,
	  .state = S_CG_LOCK,
	  .help = "Remove cgfw's programs from CGROUP together with its rules, default verdicts,\n"
		  "seen addresses and flows. Works after the cgroup directory was removed.\n" },
	{ .name = "block",
	  .summary = "deny an address or prefix",
	  .fn = cmd_rule,
	  .args = "ADDR[/LEN]",
	  .max_args = 1,
	  .opts = RULE_OPTS,
	  .state = S_CG_CREATE,
	  .data = CGFW_DENY | 1 << 8,
	  .help = RULE_HELP("Deny traffic to and from an address or prefix.") },
	{ .name = "unblock",
	  .summary = "remove a block rule",
	  .fn = cmd_rule,
	  .args = "ADDR[/LEN]",
	  .max_args = 1,
	  .opts = RULE_OPTS,
	  .state = S_CG_CREATE,
	  .data = CGFW_DENY,
	  .help = RULE_HELP("Remove a rule added with 'cgfw block' (same arguments).") },
	{ .name = "allow",
	  .summary = "allow an address or prefix (for default deny)",
	  .fn = cmd_rule,
	  .args = "ADDR[/LEN]",
	  .max_args = 1,
	  .opts = RULE_OPTS,
	  .state = S_CG_CREATE,
	  .data = CGFW_ALLOW | 1 << 8,
	  .help = RULE_HELP("Allow traffic to and from an address or prefix. Replies of flows an\n"
			    "allow rule admits are admitted too.") },
	{ .name = "unallow",
	  .summary = "remove an allow rule",
	  .fn = cmd_rule,
	  .args = "ADDR[/LEN]",
	  .max_args = 1,
	  .opts = RULE_OPTS,
	  .state = S_CG_CREATE,
	  .data = CGFW_ALLOW,
	  .help = RULE_HELP("Remove a rule added with 'cgfw allow' (same arguments).") },
	{ .name = "default",
	  .summary = "set a cgroup's default verdict",
	  .fn = cmd_default,
	  .args = "allow|deny",
	  .min_args = 1,
	  .max_args = 1,
	  .opts = OPTS(O_CGROUP, O_INGRESS, O_EGRESS, O_AUDIT, O_ENFORCE),
	  .required = OPTS(O_CGROUP),
	  .state = S_CG_LOCK,
	  .help = "The verdict for packets no rule matches (allowlist mode is 'deny'). Without a\n"
		  "direction, both. The cgroup must be attached. --audit puts the cgroup in audit\n"
		  "mode (what its defaults and rules would drop passes, is counted as audit_rule or\n"
		  "audit_default and reaches 'cgfw monitor' as audit); --enforce leaves it. The\n"
		  "default and the mode change together, in one switch.\n" },
	{ .name = "explain",
	  .summary = "why a packet is allowed or dropped",
	  .fn = cmd_explain,
	  .args = "PROTO ADDR[:PORT]",
	  .min_args = 2,
	  .max_args = 2,
	  .opts = OPTS(O_CGROUP, O_XIFACE, O_INGRESS, O_EGRESS, O_XFROM),
	  .state = S_CG_READ,
	  .help = "Run a packet (PROTO tcp, udp, icmp or a number; ADDR[:PORT] the remote end,\n"
		  "[IPV6]:PORT with a port) through the cgroup programs of CGROUP and of each\n"
		  "attached ancestor, with the datapath's own code, without counting it, and print\n"
		  "the verdict and what decided it: the rule (scope, prefix, protocol, ports,\n"
		  "origin; for policy rules the workload, file and line), a reply of an admitted\n"
		  "flow (give the workload's end with --from to match one), or the default.\n"
		  "With --iface, the interface programs instead (ingress unless --egress): ADDR:PORT\n"
		  "is the packet's destination and --from its source; it prints the tproxy,\n"
		  "redirect or inbound rule that decides (and whether the listener is there), or\n"
		  "the stateful verdict.\n" },
	{ .name = "list",
	  .summary = "show attachments and rules",
	  .fn = cmd_list,
	  .opts = OPTS(O_CGROUP, O_STATS),
	  .state = S_CG_READ,
	  .help = "Attached cgroups with their defaults and mode (enforce or audit), and every rule\n"
		  "with its scope, action, direction, prefix, protocol, ports and origin (manual or\n"
		  "policy). With --cgroup, that cgroup's attachment, its rules and the host-wide\n"
		  "rules; with --stats, each rule's packets, bytes and last hit.\n" },
	{ .name = "seen",
	  .summary = "remote addresses each workload exchanged packets with",
	  .fn = cmd_seen,
	  .opts = OPTS(O_CGROUP),
	  .state = S_CG_READ,
	  .help = "Per attached cgroup, remote address and direction: packets, bytes, dropped\n"
		  "packets, first and last seen. Kept in an LRU map of 65536 entries.\n" },
	{ .name = "status",
	  .summary = "state, counts and datapath counters",
	  .fn = cmd_status,
	  .state = S_CG_READ,
	  .help = "The state root and its layout version, attachments, rule counts and the\n"
		  "datapath's counters by direction and reason.\n" },
	{ .name = "exec",
	  .summary = "run a command inside a cgroup",
	  .fn = cmd_exec,
	  .args = "-- CMD [ARGS...]",
	  .min_args = 1,
	  .max_args = -1,
	  .opts = OPTS(O_CGROUP),
	  .required = OPTS(O_CGROUP),
	  .state = S_NONE,
	  .flags = CMD_TAIL,
	  .help = "Create CGROUP if needed (libcgroup), enforce a policy workload waiting for it,\n"
		  "move into it and run CMD.\n" },
	{ .name = "tc",
	  .summary = "attach the interface programs (tproxy, stateful inbound, redirect)",
	  .sub = tc_verbs },
	{ .name = "tproxy",
	  .summary = "intercept flows into a local transparent listener",
	  .sub = tproxy_verbs },
	{ .name = "inbound",
	  .summary = "admit inbound traffic on stateful interfaces",
	  .sub = inbound_verbs },
	{ .name = "redirect",
	  .summary = "rewrite destinations (DNAT) and restore replies",
	  .sub = redirect_verbs },
	{ .name = "monitor",
	  .summary = "stream decision events (drops, intercepts, redirects)",
	  .fn = cmd_monitor,
	  .opts = OPTS(O_COUNT),
	  .state = S_NONE,
	  .help = "Print decision events as they happen: drops, intercepts and redirects of the\n"
		  "interface programs, and drops of the cgroup programs. --json prints one JSON\n"
		  "object per line. The datapath sends at most 1000 events per second per CPU\n"
		  "(bursts of 256) through a 256 KiB ring buffer; beyond that it drops events,\n"
		  "never packets, and the count of events not sent is reported. Ctrl-C (SIGINT)\n"
		  "or SIGTERM stops it.\n" },
	{ .name = "metrics",
	  .summary = "counters and levels in the Prometheus text format",
	  .fn = cmd_metrics,
	  .opts = OPTS(O_LISTEN),
	  .state = S_NONE,
	  .help = "Print the state's metrics in the Prometheus text exposition format (0.0.4),\n"
		  "for node_exporter's textfile collector: verdict counters by cgroup, direction\n"
		  "and reason and over all cgroups, each cgroup's mode and defaults, every rule's\n"
		  "packets, bytes and last hit, the TC counters and rules, map fill levels and\n"
		  "capacities, lost events, the state layout version. Nothing attached: only\n"
		  "cgfw_build_info and cgfw_state_present.\n\n"
		  "--listen ADDR:PORT serves them at http://ADDR:PORT/metrics instead (other\n"
		  "paths: 404), reading the state afresh for every scrape, until SIGINT or\n"
		  "SIGTERM. ADDR is a numeric IPv4 address or an IPv6 address in brackets; any\n"
		  "address is accepted, so choose a loopback one (127.0.0.1:9469, as\n"
		  "cgfw-metrics.service does) unless the port is firewalled. --json does not\n"
		  "apply.\n" },
	{ .name = "policy",
	  .summary = "check, apply, diff or show policy files",
	  .sub = policy_verbs },
	{ .name = "restore",
	  .summary = "re-create the saved policy (at boot)",
	  .fn = cmd_restore,
	  .state = S_NONE,
	  .help = "Re-apply the saved policy, the rules of running containers and what 'cgfw save'\n"
		  "saved, e.g. after a reboot or after the pins under /sys/fs/bpf were lost.\n"
		  "Idempotent.\n" },
	{ .name = "save",
	  .summary = "save attachments and manual rules for restore",
	  .fn = cmd_save,
	  .state = S_NONE,
	  .help = "Write the attachments, their defaults and the rules added by hand to\n"
		  "/var/lib/cgfw/manual.json ($CGFW_STATE_DIR), which 'cgfw restore' re-creates\n"
		  "after a reboot. Policy rules are saved by 'cgfw policy apply' already.\n" },
	{ .name = "oci-hook",
	  .summary = "OCI runtime hook (createRuntime, poststop)",
	  .fn = cmd_oci_hook,
	  .args = "[createRuntime|poststop] < STATE.json",
	  .max_args = 1,
	  .state = S_NONE,
	  .help = "Called by the container runtime with the OCI state on stdin. At createRuntime,\n"
		  "enforces the workload named by the annotation io.cgfw.policy on the container's\n"
		  "cgroup before its process runs; an unknown name fails the start. At poststop,\n"
		  "removes what it created. Without a stage, it is taken from the state's status.\n" },
	{ .name = "reset",
	  .summary = "detach everything and remove all state",
	  .fn = cmd_reset,
	  .opts = OPTS(O_YES),
	  .state = S_NONE,
	  .help = "Detach every cgroup and interface, remove cgfw's routes, every rule and the\n"
		  "pinned state. Saved policies under /var/lib/cgfw stay.\n" },
	{ .name = "help",
	  .summary = "show help for a command",
	  .fn = cmd_help,
	  .args = "[COMMAND [VERB]]",
	  .max_args = 2,
	  .state = S_NONE,
	  .help = "Show the commands, or the help of one.\n" },
	{ .name = "version",
	  .summary = "print the version",
	  .fn = cmd_version,
	  .state = S_NONE,
	  .help = "The version of cgfw and of its pinned state's layout.\n" },
	{ NULL },
};

/* ---- help, made from the table ------------------------------------------------------------ */

static void synopsis(FILE *f, const struct cmd *cmd, const char *path)
{
	int col = fprintf(f, "Usage: cgfw %s", path);

	if (cmd->args)
		col += fprintf(f, " %s", cmd->args);
	for (const enum opt_id *o = cmd->opts; o && *o; o++) {
		const struct opt *op = &cli_opts[*o];
		bool req = false;
		char buf[96];

		for (const enum opt_id *r = cmd->required; r && *r; r++)
			req |= *r == *o;
		snprintf(buf, sizeof(buf), "%s--%s%s%s%s", req ? "" : "[", op->name,
			 op->metavar ? " " : "", op->metavar ? op->metavar : "", req ? "" : "]");
		if (col + 1 + (int)strlen(buf) > 90) {
			fprintf(f, "\n      ");
			col = 6;
		}
		col += fprintf(f, " %s", buf);
	}
	fputc('\n', f);
}

void cli_help(FILE *f, const struct cmd *cmd, const char *path)
{
	if (cmd->sub) {
		fprintf(f, "Usage: cgfw %s VERB [ARGS...]\n\n%s.\n\nVerbs:\n", path, cmd->summary);
		for (const struct cmd *v = cmd->sub; v->name; v++)
			if (!(v->flags & CMD_HIDDEN))
				fprintf(f, "  %-8s %s\n", v->name, v->summary);
		fprintf(f, "\nSee 'cgfw %s VERB --help'.\n", path);
		return;
	}
	synopsis(f, cmd, path);
	if (cmd->help)
		fprintf(f, "\n%s", cmd->help);
	if (cmd->opts && *cmd->opts) {
		fprintf(f, "\nOptions:\n");
		for (const enum opt_id *o = cmd->opts; *o; o++) {
			const struct opt *op = &cli_opts[*o];
			char buf[64];

			snprintf(buf, sizeof(buf), "--%s%s%s", op->name, op->metavar ? " " : "",
				 op->metavar ? op->metavar : "");
			fprintf(f, "  %-26s %s\n", buf, op->help);
		}
	}
	fprintf(f, "  %-26s %s\n", "-j, --json",
		"machine-readable output (-p, --pretty: indented)");
}

static void main_usage(FILE *f)
{
	fprintf(f, "Usage: cgfw [--json] [--pretty] COMMAND [ARGS...]\n"
		   "       cgfw help [COMMAND [VERB]] | cgfw COMMAND [VERB] --help\n\n"
		   "Per-workload firewall: cgroup_skb programs enforce IP rules per cgroup v2;\n"
		   "TC programs intercept, filter and redirect traffic on interfaces.\n\n"
		   "Commands:\n");
	for (const struct cmd *c = cgfw_commands; c->name; c++)
		fprintf(f, "  %-10s %s\n", c->name, c->summary);
	fprintf(f,
		"\nGlobal options:\n"
		"  -j, --json     machine-readable output (errors as {\"error\": ...} on stderr)\n"
		"  -p, --pretty   indented JSON (implies --json)\n"
		"  -V, --version  print the version\n"
		"\nState lives under %s; exit status 0 ok, 1 failure, 2 bad input.\n",
		cgfw_state_root());
}

static const struct cmd *find(const struct cmd *table, const char *name)
{
	for (const struct cmd *c = table; c && c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

int cmd_help(struct ctx *c)
{
	const struct cmd *cmd;
	char path[64];

	if (!c->argc) {
		main_usage(stdout);
		return 0;
	}
	cmd = find(cgfw_commands, c->argv[0]);
	if (!cmd)
		return cli_usage(c, "unknown command '%s'", c->argv[0]);
	snprintf(path, sizeof(path), "%s", cmd->name);
	if (c->argc > 1) {
		if (!cmd->sub || !(cmd = find(cmd->sub, c->argv[1])))
			return cli_usage(c, "unknown verb '%s' of '%s'", c->argv[1], path);
		snprintf(path, sizeof(path), "%s %s", c->argv[0], cmd->name);
	}
	cli_help(stdout, cmd, path);
	return 0;
}

int cmd_version(struct ctx *c)
{
	if (json_mode)
		print_json(json_pack("{s:s, s:i}", "version", CGFW_VERSION, "layout_version",
				     CGFW_LAYOUT_VERSION));
	else
		printf("cgfw %s (state layout %d)\n", CGFW_VERSION, CGFW_LAYOUT_VERSION);
	return 0;
}

/* ---- the state a command opens -------------------------------------------------------------- */

int cli_open(struct ctx *c)
{
	int err;

	switch (c->cmd->state) {
	case S_NONE:
		return 0;
	case S_CG_CREATE:
	case S_CG_LOCK:
		err = cgfw_state_open(c->cmd->state == S_CG_CREATE ?
					      CGFW_OPEN_CREATE | CGFW_OPEN_LOCK :
					      CGFW_OPEN_LOCK,
				      &c->st);
		/* Under the lock: finish what a killed policy apply left in the store. */
		return err ? err : cgfw_store_repair(c->st);
	case S_CG_READ:
		/* Nothing was ever attached: an empty listing, not an error. */
		if (!cgfw_state_exists())
			return 0;
		return cgfw_state_open(CGFW_OPEN_LOCK | CGFW_OPEN_SHARED, &c->st);
	case S_TC_CREATE:
		return cgfw_tc_open(CGFW_OPEN_CREATE | CGFW_OPEN_LOCK, &c->tc);
	case S_TC_LOCK:
	case S_TC_READ:
		err = cgfw_tc_open(c->cmd->state == S_TC_LOCK ? CGFW_OPEN_LOCK :
								CGFW_OPEN_LOCK | CGFW_OPEN_SHARED,
				   &c->tc);
		/* No TC state: the command sees none (nothing to list or delete). */
		return err == -ENOENT ? 0 : err;
	}
	return 0;
}

/* ---- dispatch ---------------------------------------------------------------------------- */

/* libbpf's own log (the verifier's among it), for whoever debugs a load: CGFW_DEBUG=1. */
static int debug_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return vfprintf(stderr, fmt, ap);
}

static bool wants_help(int argc, char **argv)
{
	for (int i = 0; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return true;
	return false;
}

int main(int argc, char **argv)
{
	struct ctx c = {};
	const struct cmd *cmd;
	int i = 1, err;

	libbpf_set_print(getenv("CGFW_DEBUG") ? debug_print : NULL);
	/* Global options come before the command (and may come among its arguments). */
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-j") || !strcmp(argv[i], "--json") ||
		    !strcmp(argv[i], "-p") || !strcmp(argv[i], "--pretty")) {
			cli_global(argv[i]);
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			main_usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "-V") || !strcmp(argv[i], "--version")) {
			return cmd_version(&c);
		} else {
			return cli_fail(&c,
					cli_usage(NULL, "unknown option '%s' (see 'cgfw --help')",
						  argv[i]));
		}
	}
	if (i >= argc) {
		main_usage(stderr);
		return EXIT_USAGE;
	}
	cmd = find(cgfw_commands, argv[i]);
	if (!cmd)
		return cli_fail(&c,
				cli_usage(NULL, "unknown command '%s' (see 'cgfw help')", argv[i]));
	snprintf(c.name, sizeof(c.name), "%s", cmd->name);
	i++;
	if (cmd->sub) {
		const struct cmd *verb;

		if (i >= argc || argv[i][0] == '-') {
			if (wants_help(argc - i, argv + i)) {
				cli_help(stdout, cmd, c.name);
				return 0;
			}
			if (i < argc && (!strcmp(argv[i], "-j") || !strcmp(argv[i], "--json") ||
					 !strcmp(argv[i], "-p") || !strcmp(argv[i], "--pretty")))
				cli_global(argv[i]);
			return cli_fail(&c, cli_usage(&c, "expected a verb"));
		}
		verb = find(cmd->sub, argv[i]);
		if (!verb)
			return cli_fail(&c, cli_usage(&c, "unknown verb '%s'", argv[i]));
		snprintf(c.name, sizeof(c.name), "%s %s", cmd->name, verb->name);
		cmd = verb;
		i++;
	}
	c.cmd = cmd;
	if (!(cmd->flags & CMD_TAIL) && wants_help(argc - i, argv + i)) {
		cli_help(stdout, cmd, c.name);
		return 0;
	}
	err = cli_parse(&c, argc - i, argv + i);
	if (!err)
		err = cmd->fn(&c);
	cgfw_state_close(c.st);
	cgfw_tc_close(c.tc);
	cli_notices();
	if (err < 0)
		return cli_fail(&c, err);
	return err;
}
