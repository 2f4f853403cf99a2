/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * cgfw core: what every other module builds on, and nothing that needs the
 * kernel's BPF interface (no libbpf here). Errors, addresses and ports, the
 * rule model, names of the ABI's codes, clocks, paths, line files, atomic
 * JSON files, cgroup v2 paths, and the cleanup helpers.
 *
 * Conventions of the whole library: functions return 0 (or a count) on
 * success and -errno on failure, never print and never exit, and leave a
 * one-line message naming the input and the cause in cgfw_errmsg().
 * -EINVAL always means "bad input" (exit status 2); anything else is a
 * runtime failure (exit status 1). Out-parameters are named ret_* and are
 * written only on success.
 */
#ifndef CGFW_CORE_H
#define CGFW_CORE_H

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <cgfw/abi.h>

/* ---- ownership: cleanup helpers in the systemd style ------------------------ */

#define _cleanup_(f) __attribute__((cleanup(f)))

static inline void cgfw_freep(void *p)
{
	free(*(void **)p);
}

static inline void cgfw_closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}

static inline void cgfw_fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

#define _cleanup_free_	 _cleanup_(cgfw_freep)
#define _cleanup_close_	 _cleanup_(cgfw_closep)
#define _cleanup_fclose_ _cleanup_(cgfw_fclosep)

/* Hand over what a cleanup variable owns: the variable forgets it. */
#define TAKE_PTR(p)                     \
	({                              \
		__typeof__(p) _p = (p); \
		(p) = NULL;             \
		_p;                     \
	})
#define TAKE_FD(fd)             \
	({                      \
		int _fd = (fd); \
		(fd) = -1;      \
		_fd;            \
	})

#define CGFW_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Room for @k more zeroed elements of @size bytes at the end of the array
 * *@p, which has *@n in use and *@cap allocated (doubling, from @first), at
 * most @max in all; the index of the first new one in *@ret_at, and *@n
 * counts them. -E2BIG past @max (the message names @what), -ENOMEM.
 */
int cgfw_array_add(void **p, size_t *n, size_t *cap, size_t size, size_t k, size_t first,
		   size_t max, const char *what, size_t *ret_at);

/* ---- errors ------------------------------------------------------------------ */

const char *cgfw_errmsg(void);
/*
 * Set the message and return -err. Control bytes of the arguments (a newline
 * in a path, an escape sequence) are escaped, so a message is always one line.
 */
int cgfw_seterr(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cgfw_clearerr(void);
/* Something done that the user should hear of (printed by the CLI on stderr). */
void cgfw_notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The notices in order, each once, then NULL (and the list is empty again). */
const char *cgfw_notice_next(void);
/*
 * The kernel refusing something (a program, a map) with -EINVAL is a runtime
 * failure, never the user's bad input: the exit status must say so.
 */
static inline int cgfw_runtime_err(int err)
{
	return err == -EINVAL ? -EIO : err;
}
/* Copy @s into @buf with control bytes (but tab) as \xNN: one line, safe to echo. */
const char *cgfw_escape(const char *s, char *buf, size_t n);

/* ---- addresses, ports, protocols ------------------------------------------------ */

struct cgfw_prefix {
	uint8_t family; /* CGFW_FAMILY_INET / CGFW_FAMILY_INET6 */
	uint8_t len;
	uint8_t addr[16]; /* network byte order, host bits cleared */
};

#define CGFW_ADDRSTRLEN 64 /* enough for an IPv6 address with /128 */

/* "ADDR" or "ADDR/LEN"; host bits are cleared (10.1.2.3/8 -> 10.0.0.0/8). */
int cgfw_parse_prefix(const char *s, struct cgfw_prefix *ret);
/* "ADDR" only (no length); ret->len is the full length. */
int cgfw_parse_addr(const char *s, struct cgfw_prefix *ret);
/* Writes "ADDR/LEN", or just "ADDR" for a full-length prefix. */
void cgfw_format_prefix(const struct cgfw_prefix *p, char *buf, size_t n);
void cgfw_format_addr(uint8_t family, const uint8_t addr[16], char *buf, size_t n);
void cgfw_mask(uint8_t family, uint8_t len, const uint8_t in[16], uint8_t out[16]);
bool cgfw_prefix_contains(const struct cgfw_prefix *p, uint8_t family, const uint8_t addr[16]);

/* "N" or "N-M", 1..65535, N <= M. */
int cgfw_parse_ports(const char *s, uint16_t *ret_lo, uint16_t *ret_hi);
/* "tcp", "udp" or "icmp" ("icmpv6"/"icmp6" are aliases; ICMPv6 is implied for IPv6 rules). */
int cgfw_parse_proto(const char *s, uint8_t *ret);
const char *cgfw_proto_name(uint8_t proto);

/* ---- the rule model ------------------------------------------------------------- */

enum cgfw_action { CGFW_ALLOW = 1, CGFW_DENY = 2 };

struct cgfw_rule {
	uint64_t scope; /* cgroup id, or CGFW_SCOPE_HOST (0) */
	struct cgfw_prefix pfx;
	uint8_t proto; /* 0: any protocol (no ports) */
	uint16_t port_lo, port_hi;
	uint8_t dirs;	/* CGFW_DIR_BIT()s */
	uint8_t action; /* enum cgfw_action */
	uint8_t origin; /* CGFW_ORIGIN_* */
};

/* A packet to explain: one end is the workload's (local), the other the remote one. */
struct cgfw_explain_pkt {
	int dir;	/* CGFW_DIR_INGRESS (remote -> local) or CGFW_DIR_EGRESS */
	uint8_t family; /* CGFW_FAMILY_* */
	uint8_t proto;	/* CGFW_PROTO_TCP (a SYN), _UDP, _ICMP (echo request) or another */
	uint8_t remote[16], local[16]; /* network order; local may be all zero */
	uint16_t rport, lport;	       /* host order */
};

/*
 * The frame of @x (Ethernet first, as BPF_PROG_RUN wants it) into @b; its
 * length, or 0 when it does not fit or the family is not IPv4/IPv6.
 */
size_t cgfw_packet_build(const struct cgfw_explain_pkt *x, uint8_t *b, size_t cap);

/* ---- names of the ABI's codes ------------------------------------------------------ */

const char *cgfw_dir_name(int dir);		/* "ingress", "egress" */
const char *cgfw_dirs_name(uint8_t dirs);	/* "both", "ingress", "egress" */
const char *cgfw_verdict_name(uint8_t verdict); /* "allow", "deny" */
const char *cgfw_reason_name(int reason);	/* enum cgfw_reason */
const char *cgfw_tc_reason_name(int reason);	/* enum cgfw_tc_reason */
const char *cgfw_tc_kind_name(uint8_t kind);	/* CGFW_TC_TPROXY ... */

/* ---- clocks ---------------------------------------------------------------------- */

uint64_t cgfw_now_realtime(void);
/* A CLOCK_BOOTTIME / CLOCK_MONOTONIC timestamp as CLOCK_REALTIME (0 stays 0). */
uint64_t cgfw_boot_to_realtime(uint64_t boot_ns);
uint64_t cgfw_mono_to_realtime(uint64_t mono_ns);

/* ---- paths ------------------------------------------------------------------------ */

/* Root of the pinned state; $CGFW_BPFFS_ROOT overrides (tests use their own). */
const char *cgfw_state_root(void);
/* Saved policies and records ($CGFW_STATE_DIR, default /var/lib/cgfw). */
const char *cgfw_var_dir(void);

/* ---- line files -------------------------------------------------------------------- */

/*
 * Call @fn for every line of @path ("-": stdin) with '#' comments, surrounding
 * blanks and blank lines removed. @path must be a regular file (or stdin);
 * a failing @fn stops the walk and its error is returned with FILE:LINE
 * before its message.
 */
typedef int (*cgfw_line_fn)(char *line, void *arg);
int cgfw_lines_each(const char *path, cgfw_line_fn fn, void *arg);

/*
 * Read one address or prefix per line into rules copied from tmpl. A bad
 * line is an error naming FILE:LINE.
 */
int cgfw_rules_from_file(const char *path, const struct cgfw_rule *tmpl, struct cgfw_rule **ret,
			 size_t *ret_n);

/* ---- JSON (jansson) --------------------------------------------------------------- */

struct json_t;
/* "2026-12-01T12:00:00.000Z", or null for 0. */
struct json_t *cgfw_time_json(uint64_t realtime_ns);
/*
 * Files of cgfw's own state. Written to PATH.tmp (0600, never through a
 * link), fsynced and renamed: readers see the old file or the new one. Read
 * only when owned by us and writable by nobody else, so state someone else
 * planted is refused. -ENOENT when the file does not exist; -EINVAL (message
 * FILE:LINE:COL) when damaged.
 */
int cgfw_write_json_file(const char *path, struct json_t *j);
int cgfw_read_json_file(const char *path, struct json_t **ret);
/* 0 when the open file is owned by us and not writable by others, else -EPERM naming @path. */
int cgfw_check_owned(int fd, const char *path);

/* ---- cgroup v2 paths ------------------------------------------------------------------ */

struct cgfw_cgroup {
	char abs[PATH_MAX]; /* absolute path of the cgroup directory */
	char rel[PATH_MAX]; /* path relative to the cgroup2 mount ("" for the root) */
	uint64_t id;	    /* cgroup v2 id (the directory's inode number) */
};

/* mountinfo: path of a mountinfo file; NULL means /proc/self/mountinfo. */
int cgfw_cgroup2_mount(const char *mountinfo, char *buf, size_t n);
/*
 * Resolve a user-supplied cgroup path: absolute on the cgroup2 filesystem or
 * relative to its mount. A v1 hierarchy or a missing directory is an error
 * naming the path and the v2 mount. With must_exist false, a missing cgroup
 * still resolves (id 0) so callers can create it.
 */
int cgfw_cgroup_resolve(const char *mountinfo, const char *path, bool must_exist,
			struct cgfw_cgroup *ret);
/* Create the cgroup (and parents) with libcgroup if it does not exist. */
int cgfw_cgroup_create(const struct cgfw_cgroup *cg);
/* Move the calling process into the cgroup. */
int cgfw_cgroup_enter(const struct cgfw_cgroup *cg);
/* "/" for the root, else the path relative to the mount. */
static inline const char *cgfw_cgroup_name(const struct cgfw_cgroup *cg)
{
	return cg->rel[0] ? cg->rel : "/";
}

#endif /* CGFW_CORE_H */
