/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * cgfw cgroup: the cgroup datapath's driver. Its pinned maps, attaching the
 * cgroup_skb programs to cgroups, rule encoding and rule batches, the seen
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

/* ---- rules --------------------------------------------------------------------------- */

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

/*
 * Apply a batch of rules atomically with respect to failure: either every
 * rule is added (or removed) or the maps are left as they were.
 * progress: called now and then with (done, total), may be NULL.
 * Returns the number of rules that changed something.
 */
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
};

int cgfw_status_get(struct cgfw_state *st, struct cgfw_status *ret);

/* ---- JSON (jansson) ---------------------------------------------------------------------- */

struct json_t;
struct json_t *cgfw_rule_json(const struct cgfw_rule *r, const char *cgroup);
struct json_t *cgfw_seen_json(const struct cgfw_seen *s, const char *cgroup);
struct json_t *cgfw_attachment_json(const struct cgfw_attachment *a);

#endif /* CGFW_CGROUP_H */
