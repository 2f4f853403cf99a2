/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The cgfw command line: one table of nested commands (`cgfw OBJECT VERB`,
 * bpftool style, cmd.c), one table of typed options declared once with their
 * help (opt.c, the xdp-tools params idea), output and errors in one place
 * (out.c). Command files only check their arguments, call the library and
 * print.
 */
#ifndef CGFW_CLI_H
#define CGFW_CLI_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include <cgfw/cgroup.h>
#include <cgfw/tc.h>

#define EXIT_RUNTIME 1
#define EXIT_USAGE   2

/* ---- options (opt.c) ------------------------------------------------------------------ */

enum opt_id {
	O_NONE = 0, /* ends an option list */
	O_CGROUP,
	O_INGRESS,
	O_EGRESS,
	O_PROTO,
	O_PORT,
	O_FROM_FILE,
	O_YES,
	O_STATEFUL,
	O_ICMP,
	O_NO_SSH,
	O_MODE,
	O_DST,
	O_SRC,
	O_TC_PROTO,
	O_PORTS,
	O_TO,
	O_IFACE,
	O_WATCH,
	O_COUNT,
	O_AUDIT,
	O_ENFORCE,
	O_STATS,
	O_XFROM,
	O_XIFACE,
	O_LISTEN,
	O_MAX,
};

enum opt_type {
	T_FLAG,	  /* no value */
	T_STRING, /* a value checked by the command */
	T_FILE,	  /* a path, "-" for stdin */
	T_PROTO,  /* tcp, udp, icmp */
	T_PORTS,  /* N or N-M */
	T_COUNT,  /* a positive number */
	T_ENUM,	  /* one of choices */
	T_TC,	  /* a field of a TC rule (cgfw_tc_rule_set) */
};

struct opt {
	const char *name;  /* --NAME */
	const char *alias; /* another spelling, or NULL */
	enum opt_type type;
	const char *metavar;
	const char *help;
	const char *const *choices; /* T_ENUM, NULL-terminated */
};

/* The value of an option as given on the command line. */
struct optval {
	bool set;
	const char *str;
	uint16_t lo, hi; /* T_PORTS */
	uint8_t proto;	 /* T_PROTO */
	long num;	 /* T_COUNT */
	int choice;	 /* T_ENUM: index into choices */
};

extern const struct opt cli_opts[O_MAX];

/* ---- commands (cmd.c) -------------------------------------------------------------------- */

struct ctx;

/* How a command opens the pinned state (cli_open()). */
enum state_mode {
	S_NONE = 0,
	S_CG_CREATE, /* cgroup state, created when absent, exclusive lock */
	S_CG_LOCK,   /* cgroup state that must exist, exclusive lock */
	S_CG_READ,   /* cgroup state if any (none: c->st stays NULL), shared lock */
	S_TC_CREATE,
	S_TC_LOCK, /* absent: c->tc stays NULL */
	S_TC_READ,
};

enum cmd_flags {
	CMD_TAIL = 1 << 0,   /* the first positional ends the options (exec) */
	CMD_HIDDEN = 1 << 1, /* an alias: not listed */
};

struct cmd {
	const char *name;
	const char *summary;
	const struct cmd *sub; /* an object's verbs; NULL for a command */
	int (*fn)(struct ctx *c);
	const char *args; /* positional arguments, for the synopsis */
	int min_args, max_args;
	const enum opt_id *opts;     /* O_NONE-terminated */
	const enum opt_id *required; /* O_NONE-terminated, or NULL */
	enum state_mode state;
	unsigned flags;
	long data; /* the command's own parameter (e.g. a TC rule kind) */
	const char *help;
};

struct ctx {
	const struct cmd *cmd;
	char name[64]; /* "tproxy add", for messages */
	int argc;      /* positional arguments */
	char **argv;
	struct optval v[O_MAX];
	struct cgfw_tc_rule rule; /* T_TC options, as typed */
	bool usage;		  /* the error is a usage error (message with a help hint) */
	/* Opened by cli_open(), closed after the command. */
	struct cgfw_state *st;
	struct cgfw_tc *tc;
};

/* The whole command line, in cmd.c. */
extern const struct cmd cgfw_commands[];

/* Parse argv (after the command's name) into @c. */
int cli_parse(struct ctx *c, int argc, char **argv);
/* Open the state the command declares. */
int cli_open(struct ctx *c);
/* Print the help of a command or an object. */
void cli_help(FILE *f, const struct cmd *cmd, const char *path);
/* -j/--json, -p/--pretty: allowed before the command and among its arguments. */
void cli_global(const char *arg);

/* The commands (cmd.c, cgroup.c, tc.c, monitor.c, metrics.c, policy.c). */
int cmd_help(struct ctx *c);
int cmd_version(struct ctx *c);
int cmd_attach(struct ctx *c);
int cmd_detach(struct ctx *c);
int cmd_rule(struct ctx *c); /* block, unblock, allow, unallow: data = action | add << 8 */
int cmd_default(struct ctx *c);
int cmd_explain(struct ctx *c);
int cmd_list(struct ctx *c);
int cmd_seen(struct ctx *c);
int cmd_status(struct ctx *c);
int cmd_exec(struct ctx *c);
int cmd_reset(struct ctx *c);
int cmd_tc_attach(struct ctx *c);
int cmd_tc_detach(struct ctx *c);
int cmd_tc_list(struct ctx *c);
int cmd_tc_sync(struct ctx *c);
int cmd_tc_rule_change(struct ctx *c); /* data = kind | add << 8 */
int cmd_tc_rule_list(struct ctx *c);   /* data = kind */
int cmd_tc_rule_flush(struct ctx *c);  /* data = kind */
int cmd_monitor(struct ctx *c);
int cmd_metrics(struct ctx *c);
int cmd_policy_check(struct ctx *c);
int cmd_policy_apply(struct ctx *c); /* data: 1 for diff */
int cmd_policy_show(struct ctx *c);
int cmd_restore(struct ctx *c);
int cmd_save(struct ctx *c);
int cmd_oci_hook(struct ctx *c);

/* SIGINT and SIGTERM set *ret_stop (no SA_RESTART: a wait ends at once). */
#include <signal.h>
void cli_catch_signals(volatile sig_atomic_t **ret_stop);

/* Option helpers. */
static inline bool opt_set(const struct ctx *c, enum opt_id id)
{
	return c->v[id].set;
}

static inline const char *opt_str(const struct ctx *c, enum opt_id id)
{
	return c->v[id].set ? c->v[id].str : NULL;
}

/* --ingress/--egress as CGFW_DIR_BIT()s; neither: both. */
uint8_t opt_dirs(const struct ctx *c);

/* ---- output and errors (out.c) ---------------------------------------------------------------- */

extern bool json_mode, json_pretty;

/* A usage error: -EINVAL, printed with a pointer to the command's help. */
int cli_usage(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Print the error of a failed command (text, or {"error": ...} under --json); the exit code. */
/* Print the library's notices (cgfw_notice) on stderr. */
void cli_notices(void);
int cli_fail(const struct ctx *c, int err);
/* Print JSON on stdout and free it. */
void print_json(json_t *j);

#endif /* CGFW_CLI_H */
