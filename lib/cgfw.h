/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * libcgfw: everything the cgfw CLI, the OCI hook and the tests share.
 *
 * Conventions: functions return 0 (or a count) on success and -errno on
 * failure, never exit, and leave a one-line message naming the input and the
 * cause in cgfw_errmsg(). -EINVAL always means "bad input" (exit status 2);
 * anything else is a runtime failure (exit status 1). Out-parameters are
 * named ret_*.
 */
#ifndef CGFW_LIB_H
#define CGFW_LIB_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cgfw/abi.h>

/* ---- errors ---------------------------------------------------------- */

const char *cgfw_errmsg(void);
int cgfw_seterr(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cgfw_clearerr(void);

/* ---- addresses, ports, protocols ----------------------------------------- */

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

/* ---- cgroups -------------------------------------------------------------- */

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

/* ---- rules ---------------------------------------------------------------- */

enum cgfw_action { CGFW_ALLOW = 1, CGFW_DENY = 2 };

struct cgfw_rule {
	uint64_t scope; /* cgroup id, or CGFW_SCOPE_HOST (0) */
	struct cgfw_prefix pfx;
	uint8_t proto;	/* 0: any protocol (no ports) */
	uint16_t port_lo, port_hi;
	uint8_t dirs;	/* CGFW_DIR_BIT()s */
	uint8_t action; /* enum cgfw_action */
	uint8_t origin; /* CGFW_ORIGIN_* */
};

struct cgfw_rule_key;
struct cgfw_rule_val;
struct cgfw_port_rule_val;

/* Map key of a rule (either map). */
void cgfw_rule_key(const struct cgfw_rule *r, struct cgfw_rule_key *ret);
/* Add or remove a rule's bits in a map value. Returns whether the value changed. */
bool cgfw_rule_val_apply(struct cgfw_rule_val *v, const struct cgfw_rule *r, bool add);
/* -ENOSPC when all port entries of the value are taken. */
int cgfw_port_val_apply(struct cgfw_port_rule_val *v, const struct cgfw_rule *r, bool add,
			bool *ret_changed);
bool cgfw_rule_val_empty(const struct cgfw_rule_val *v);
bool cgfw_port_val_empty(const struct cgfw_port_rule_val *v);

/* ---- pinned state --------------------------------------------------------- */

/* Root of the pinned state; $CGFW_BPFFS_ROOT overrides (tests use their own). */
const char *cgfw_state_root(void);

struct cgfw_state;

enum cgfw_open_flags {
	CGFW_OPEN_CREATE = 1 << 0, /* create and pin the maps when absent */
	CGFW_OPEN_LOCK = 1 << 1,   /* hold the state lock until close */
	CGFW_OPEN_SHARED = 1 << 2, /* shared lock (readers) instead of exclusive */
	CGFW_OPEN_HELD = 1 << 3,   /* the caller holds the exclusive lock already */
};

int cgfw_state_open(unsigned flags, struct cgfw_state **ret);
void cgfw_state_close(struct cgfw_state *st);
/* -ENOENT when there is no pinned state at all. */
bool cgfw_state_exists(void);

struct cgfw_attachment {
	uint64_t id;
	char path[PATH_MAX]; /* relative to the cgroup2 mount */
	uint8_t def[CGFW_DIR_COUNT];
	uint64_t attached_ns;
	bool ingress, egress; /* links present and live */
};

int cgfw_attach(struct cgfw_state *st, const struct cgfw_cgroup *cg);
int cgfw_detach(struct cgfw_state *st, const char *user_path, const struct cgfw_cgroup *cg);
/* Detach by cgroup id (the directory may be gone). -ENOENT if not attached. */
int cgfw_detach_id(struct cgfw_state *st, uint64_t id);
int cgfw_set_default(struct cgfw_state *st, const struct cgfw_cgroup *cg, uint8_t dirs,
		     uint8_t verdict);
int cgfw_attachments(struct cgfw_state *st, struct cgfw_attachment **ret, size_t *ret_n);
/* Find an attachment by cgroup id; -ENOENT if the cgroup is not attached. */
int cgfw_attachment_get(struct cgfw_state *st, uint64_t id, struct cgfw_attachment *ret);

/*
 * Apply a batch of rules atomically with respect to failure: either every
 * rule is added (or removed) or the maps are left as they were.
 * progress: called now and then with (done, total), may be NULL.
 * Returns the number of rules that changed something.
 */
typedef void (*cgfw_progress_fn)(size_t done, size_t total, void *arg);
int cgfw_rules_update(struct cgfw_state *st, const struct cgfw_rule *rules, size_t n, bool add,
		      cgfw_progress_fn progress, void *arg);
/*
 * The same with an operation per rule: adds[i] says whether rules[i] is added
 * or removed (adds NULL: add_all for every rule). Rules of one key apply in
 * array order, so "remove the old set, add the new one" swaps each key in one
 * map update.
 */
int cgfw_rules_update_ops(struct cgfw_state *st, const struct cgfw_rule *rules, const bool *adds,
			  bool add_all, size_t n, cgfw_progress_fn progress, void *arg);
/*
 * And with a switch of the caller's (mid), run after the new keys are written
 * and before the emptied ones are deleted: packets meet old+new rules under
 * either setting, never a rule set missing a rule both versions share. A
 * failing mid rolls the rules back.
 */
int cgfw_rules_update_mid(struct cgfw_state *st, const struct cgfw_rule *rules, const bool *adds,
			  bool add_all, size_t n, cgfw_progress_fn progress, void *arg,
			  int (*mid)(void *), void *mid_arg);
/* Every rule, in key order of the maps; scope 0 first. */
int cgfw_rules_list(struct cgfw_state *st, struct cgfw_rule **ret, size_t *ret_n);
/* Remove every rule of one scope (used by detach). */
int cgfw_rules_flush_scope(struct cgfw_state *st, uint64_t scope);

struct cgfw_seen {
	uint64_t cgid;
	uint8_t family, dir;
	uint8_t addr[16];
	uint64_t packets, bytes, dropped;
	uint64_t first_ns, last_ns; /* CLOCK_REALTIME */
};

int cgfw_seen_list(struct cgfw_state *st, uint64_t cgid, struct cgfw_seen **ret, size_t *ret_n);
int cgfw_seen_flush(struct cgfw_state *st, uint64_t cgid);

struct cgfw_status {
	char root[PATH_MAX];
	uint32_t layout_version;
	uint64_t created_ns;
	size_t attachments;
	size_t rules4, rules6;
	uint32_t lens4, lens6; /* prefix lengths in use */
	uint64_t packets[CGFW_DIR_COUNT][8];
	uint64_t bytes[CGFW_DIR_COUNT][8];
};

int cgfw_status_get(struct cgfw_state *st, struct cgfw_status *ret);
const char *cgfw_reason_name(int reason);

/* Remove all pinned state (links first, then maps). */
int cgfw_reset(void);

/* ---- JSON (jansson) ------------------------------------------------------ */

struct json_t;
struct json_t *cgfw_rule_json(const struct cgfw_rule *r, const char *cgroup);
struct json_t *cgfw_seen_json(const struct cgfw_seen *s, const char *cgroup);
struct json_t *cgfw_attachment_json(const struct cgfw_attachment *a);

/* ---- files ----------------------------------------------------------------- */

/*
 * Read one address or prefix per line ('#' comments and blank lines skipped)
 * into rules copied from tmpl. A bad line is an error naming FILE:LINE.
 */
int cgfw_rules_from_file(const char *path, const struct cgfw_rule *tmpl, struct cgfw_rule **ret,
			 size_t *ret_n);

#endif /* CGFW_LIB_H */
