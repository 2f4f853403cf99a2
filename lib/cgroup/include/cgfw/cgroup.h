/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * cgfw cgroup: the cgroup datapath's driver. Its pinned maps, the rule set
 * and changes to it, attaching the cgroup_skb programs to cgroups, the seen
 * addresses, status and the JSON forms of its objects. Conventions as in
 * core.h.
 */
#ifndef CGFW_CGROUP_H
#define CGFW_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cgfw/core.h>
#include <cgfw/pin.h>

/* ---- the cgroup datapath's state ------------------------------------------------ */

struct cgfw_state;

/* Open the pinned maps with a root of its own (flags: CGFW_OPEN_*). */
int cgfw_state_open(unsigned flags, struct cgfw_state **ret);
/* Open them on a root the caller holds (created when the pin allows it). */
int cgfw_state_open_at(struct cgfw_pin *pin, struct cgfw_state **ret);
void cgfw_state_close(struct cgfw_state *st);
static inline void cgfw_state_closep(struct cgfw_state **st)
{
	cgfw_state_close(*st);
}
#define _cleanup_state_ _cleanup_(cgfw_state_closep)
/* Was the cgroup state ever made? (No lock, no open.) */
bool cgfw_state_exists(void);

/* ---- attachments ------------------------------------------------------------------ */

struct cgfw_attachment {
	uint64_t id;
	char path[PATH_MAX]; /* relative to the cgroup2 mount */
	uint8_t def[CGFW_DIR_COUNT];
	uint64_t attached_ns;
	bool ingress, egress; /* links present and live */
	bool audit;	      /* audit mode: would-drops pass and are reported */
	uint32_t slot;	      /* its scope in the rule set */
};

int cgfw_attach(struct cgfw_state *st, const struct cgfw_cgroup *cg);
/* Detach by path; the directory may be gone (looked up by its recorded path). */
int cgfw_detach(struct cgfw_state *st, const char *user_path, const struct cgfw_cgroup *cg);
/* Detach by cgroup id (the directory may be gone). -ENOENT if not attached. */
int cgfw_detach_id(struct cgfw_state *st, uint64_t id);
int cgfw_set_default(struct cgfw_state *st, const struct cgfw_cgroup *cg, uint8_t dirs,
		     uint8_t verdict);
int cgfw_attachments(struct cgfw_state *st, struct cgfw_attachment **ret, size_t *ret_n);
/* Find an attachment by cgroup id; -ENOENT if the cgroup is not attached. */
int cgfw_attachment_get(struct cgfw_state *st, uint64_t id, struct cgfw_attachment *ret);
/* The attachment's path for listings: "/" for the root, "id:N" when unknown. */
const char *cgfw_attachment_name(const struct cgfw_attachment *att, size_t n, uint64_t id,
				 char *buf, size_t len);

/* ---- changes ---------------------------------------------------------------------------- */

/*
 * A change to the cgroup datapath: attachments, detachments, defaults and
 * rules, all made live by one atomic switch of the rule set at commit, so
 * packets see the old state or the new one, never a part, and a command
 * killed at any moment leaves one of the two (the next command finishes
 * linking or unlinking programs and says so on stderr, cgfw_notices()).
 * Nothing is enforced before the commit; a change that is freed without a
 * commit leaves no trace.
 */
struct cgfw_change;

int cgfw_change_begin(struct cgfw_state *st, struct cgfw_change **ret);
void cgfw_change_free(struct cgfw_change *c);
static inline void cgfw_change_freep(struct cgfw_change **c)
{
	cgfw_change_free(*c);
}
#define _cleanup_change_ _cleanup_(cgfw_change_freep)
/*
 * Attach @cg (default allow both ways; an attached cgroup keeps what it has).
 * With @cg->abs empty, only its scope is made and no programs are linked: for
 * callers that run the programs themselves (tests, cgfw_cgroup_prog_load).
 */
int cgfw_change_attach(struct cgfw_change *c, const struct cgfw_cgroup *cg);
/* Detach cgroup @id: its scope and rules go; -EINVAL if it is not attached. */
int cgfw_change_detach(struct cgfw_change *c, uint64_t id);
int cgfw_change_default(struct cgfw_change *c, uint64_t id, uint8_t dirs, uint8_t verdict);
/* Audit mode on or off for cgroup @id: in audit, what would be dropped passes,
 * counted (reason audit_*) and reported by `cgfw monitor`. */
int cgfw_change_audit(struct cgfw_change *c, uint64_t id, bool audit);
/*
 * Add or remove rules: adds[i] says which for rules[i] (adds NULL: add_all).
 * Rules of one key apply in array order. Returns the number of rules that
 * changed something, or -EINVAL naming the rule (a scope that is not
 * attached, too many port ranges).
 */
int cgfw_change_rules(struct cgfw_change *c, const struct cgfw_rule *rules, const bool *adds,
		      bool add_all, size_t n);
/* The hash of the saved policy the new state enforces (0: none). */
void cgfw_change_policy(struct cgfw_change *c, uint64_t hash);
/* Make it live. On failure nothing changed. */
int cgfw_change_commit(struct cgfw_change *c);

/* ---- rules --------------------------------------------------------------------------- */

/*
 * Shorthands for a change of rules alone. progress: called with (done,
 * total), may be NULL. Return the number of rules that changed something.
 */
int cgfw_rules_update(struct cgfw_state *st, const struct cgfw_rule *rules, size_t n, bool add,
		      cgfw_progress_fn progress, void *arg);
int cgfw_rules_update_ops(struct cgfw_state *st, const struct cgfw_rule *rules, const bool *adds,
			  bool add_all, size_t n, cgfw_progress_fn progress, void *arg);
/* Every rule in force, sorted by scope, then prefix; scope 0 first. */
int cgfw_rules_list(struct cgfw_state *st, struct cgfw_rule **ret, size_t *ret_n);
/* The policy hash of the rule set in force (cgfw_change_policy). */
int cgfw_rules_policy(struct cgfw_state *st, uint64_t *ret);

/*
 * What each rule decided, as cgfw_rules_list lists them: stats[i] is the
 * counter of rules[i]'s key (the rules one key merges share it: they decide
 * together). A rule counts every packet it decides, also in audit mode.
 */
struct cgfw_rule_stats {
	uint64_t packets, bytes;
	uint64_t last_ns; /* CLOCK_REALTIME of the last hit; 0: never */
};

int cgfw_rules_list_stats(struct cgfw_state *st, struct cgfw_rule **ret,
			  struct cgfw_rule_stats **ret_stats, size_t *ret_n);

/* ---- programs ------------------------------------------------------------------------- */

/* One attached cgroup's programs, loaded but not attached (tests, `cgfw explain`). */
struct cgfw_cgroup_prog {
	void *skel;
	int ingress_fd, egress_fd;
};

int cgfw_cgroup_prog_load(struct cgfw_state *st, uint64_t cgid, struct cgfw_cgroup_prog **ret);
void cgfw_cgroup_prog_free(struct cgfw_cgroup_prog *p);

/* ---- explain ---------------------------------------------------------------------------- */

/* What the programs of one attached cgroup (the packet's or an ancestor's) decided. */
struct cgfw_explain_step {
	uint64_t cgid;
	char path[PATH_MAX]; /* relative to the cgroup2 mount, "/" for the root */
	uint32_t slot;
	uint8_t verdict; /* CGFW_VERDICT_ALLOW or _DENY, as the program returned it */
	uint8_t reason;	 /* enum cgfw_reason */
	uint8_t def;	 /* the cgroup's default for the direction */
	uint8_t act;	 /* action bits at the deciding prefix */
	bool reply, audit;
	uint64_t gen; /* the rule set that decided */
	/* The deciding rules: [0] host-wide, [1] the cgroup's own (both when tied). */
	uint32_t rule_host, rule_cg; /* ordinals in their scopes */
	bool has_rule[2];
	struct cgfw_rule rule[2]; /* its strongest action and origin for the direction */
	struct cgfw_rule_stats stats[2];
};

/*
 * Run @x through the programs of @cg and of each attached ancestor, innermost
 * first, with the datapath's own code (nothing is counted or recorded). The
 * packet passes if every step allows it. -EINVAL if none is attached.
 */
int cgfw_explain(struct cgfw_state *st, const struct cgfw_cgroup *cg,
		 const struct cgfw_explain_pkt *x, struct cgfw_explain_step **ret, size_t *ret_n);
/* The same for many packets: the explain instances loaded once. */
struct cgfw_explainer;
int cgfw_explainer_open(struct cgfw_state *st, const struct cgfw_cgroup *cg,
			struct cgfw_explainer **ret);
int cgfw_explainer_run(struct cgfw_explainer *x, const struct cgfw_explain_pkt *p,
		       struct cgfw_explain_step **ret, size_t *ret_n);
void cgfw_explainer_free(struct cgfw_explainer *x);

/* ---- seen addresses ---------------------------------------------------------------------- */

struct cgfw_seen {
	uint64_t cgid;
	uint8_t family, dir;
	uint8_t addr[16];
	uint64_t packets, bytes, dropped;
	uint64_t first_ns, last_ns; /* CLOCK_REALTIME */
};

/* cgid 0: every cgroup's. */
int cgfw_seen_list(struct cgfw_state *st, uint64_t cgid, struct cgfw_seen **ret, size_t *ret_n);
int cgfw_seen_flush(struct cgfw_state *st, uint64_t cgid);

/* ---- status ----------------------------------------------------------------------------- */

struct cgfw_status {
	char root[PATH_MAX];
	uint32_t layout_version;
	uint64_t created_ns;
	size_t attachments;
	size_t rules4, rules6;
	uint32_t lens4, lens6; /* prefix lengths in use */
	uint64_t packets[CGFW_DIR_COUNT][8];
	uint64_t bytes[CGFW_DIR_COUNT][8];
	/* Fill levels: entries in use and capacity. */
	size_t seen_entries, seen_max;	 /* the seen-address LRU (the per-CPU caches drained) */
	size_t flows_entries, flows_max; /* admitted flows (LRU) */
	size_t rs_elems, rs_capacity;	 /* the rule set's 32-byte elements */
	uint64_t rs_gen;		 /* its change number */
};

int cgfw_status_get(struct cgfw_state *st, struct cgfw_status *ret);
/*
 * The verdict counters of one attached cgroup (by direction and reason),
 * kept for the first CGFW_CGSTATS_SLOTS scope slots; -ENOENT if not attached,
 * -ERANGE for a cgroup beyond them (it is in the totals of cgfw_status_get).
 */
int cgfw_cgroup_counters(struct cgfw_state *st, uint64_t cgid, uint64_t packets[CGFW_DIR_COUNT][8],
			 uint64_t bytes[CGFW_DIR_COUNT][8]);

/* ---- JSON (jansson) ---------------------------------------------------------------------- */

struct json_t;
struct json_t *cgfw_rule_json(const struct cgfw_rule *r, const char *cgroup);
struct json_t *cgfw_seen_json(const struct cgfw_seen *s, const char *cgroup);
struct json_t *cgfw_attachment_json(const struct cgfw_attachment *a);

#endif /* CGFW_CGROUP_H */
