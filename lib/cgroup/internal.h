/* SPDX-License-Identifier: GPL-2.0-only */
/* Internals shared by the cgroup module's files. */
#ifndef CGFW_CGROUP_INTERNAL_H
#define CGFW_CGROUP_INTERNAL_H

#include <cgfw/cgroup_map.h>
#include <cgfw/flow_map.h>
#include <cgfw/meta_map.h>
#include <cgfw/ruleset_map.h>
#include <cgfw/seen_map.h>

#include <cgfw/cgroup.h>

struct cgfw_state {
	struct cgfw_pin *pin;
	bool own_pin; /* opened by cgfw_state_open(), closed with the state */
	bool locked;  /* the pin holds the exclusive lock */
	int cgroups_fd, rs_fd, seen_fd, pc_fd, flows_fd, meta_fd, cgstats_fd;
	uint32_t hz; /* from cgfw_meta: the jiffies' rate and a fixed point */
	uint64_t anchor_j, anchor_boot_ns;
};

static inline const char *cgfw_state_root_of(const struct cgfw_state *st)
{
	return cgfw_pin_root(st->pin);
}

/* ---- rule sets in user memory (ruleset.c) ---------------------------------------------- */

struct rs_scope {
	uint64_t cgid;
	uint8_t def[CGFW_DIR_COUNT];
	bool used;
	bool audit;
};

/* A rule set: what the live one holds, and what a change turns it into. */
struct rs {
	uint64_t gen, policy;
	struct rs_scope *scopes; /* index: slot; [0] is the host scope */
	size_t nscopes;
	struct cgfw_rs_rule *rules; /* sorted (cgfw_rs_rule_cmp), act never 0 */
	size_t nrules;
};

/* The live rule set, read back (copied: the caller owns it). */
int cgfw_rs_read(struct cgfw_state *st, struct rs *ret);
void cgfw_rs_free(struct rs *rs);
/* The order of rules in a set: slot, family, address, length, protocol, ports. */
int cgfw_rs_rule_cmp(const void *a, const void *b);
/* The slot of cgroup @cgid in @rs (0 for CGFW_SCOPE_HOST); -ENOENT if none. */
int cgfw_rs_slot(const struct rs *rs, uint64_t cgid);
/* Make @slot exist (and empty) in @rs. */
int cgfw_rs_scope_set(struct rs *rs, uint32_t slot, uint64_t cgid);
/* Remove the scope of @slot and its rules. */
void cgfw_rs_scope_drop(struct rs *rs, uint32_t slot);

/*
 * Apply rules to @rs: adds[i] says whether rules[i] is added or removed
 * (adds NULL: add_all). Rules of one key apply in array order. Returns the
 * number of rules that changed something; -EINVAL naming the input for a
 * rule of a scope @rs does not have or too many port ranges.
 */
int cgfw_rs_apply(struct rs *rs, const struct cgfw_rule *rules, const bool *adds, bool add_all,
		  size_t n);

/*
 * Compile @rs into the elements of a rule set. @old (may be NULL) is the live
 * set's elements: the block of a scope whose rules did not change is copied
 * from there. ret_n: elements in use.
 */
int cgfw_rs_compile(const struct rs *rs, const union cgfw_rs_elem *old, size_t nold,
		    union cgfw_rs_elem **ret, size_t *ret_n);
/* Compile and make live: a fresh inner map, one switch. */
int cgfw_rs_commit(struct cgfw_state *st, const struct rs *rs);

struct cgfw_rs_pkt;
struct cgfw_match;
/*
 * What the rules of rule set @e (n elements) say about packet @p of the
 * cgroup in @slot, computed by the datapath's own code (cgfw_rules.h).
 */
void cgfw_rs_match(const union cgfw_rs_elem *e, size_t n, uint32_t slot,
		   const struct cgfw_rs_pkt *p, struct cgfw_match *ret);

/* The live inner map mapped read-only, and its size in elements. */
int cgfw_rs_map_live(struct cgfw_state *st, const union cgfw_rs_elem **ret, size_t *ret_n,
		     size_t *ret_mapped);
void cgfw_rs_unmap(const union cgfw_rs_elem *e, size_t mapped);

/* ---- changes (rules.c) -------------------------------------------------------------------- */

struct cgfw_change {
	struct cgfw_state *st;
	struct rs rs;	/* what the change makes */
	struct rs orig; /* what was live: the rollback if linking fails */
	struct pend {
		uint64_t id;
		uint32_t slot;
		char abs[PATH_MAX];
		bool registered; /* this change made its registry entry */
	} *att;
	size_t natt;
	uint64_t *det;
	size_t ndet;
	bool committed;
};

/* ---- programs (attach.c) ---------------------------------------------------------------- */

/*
 * The registry entry of @cg: its slot, reserved now if it has none
 * (ret_new), free in both the registry and @rs.
 */
int cgfw_register(struct cgfw_state *st, const struct rs *rs, const struct cgfw_cgroup *cg,
		  uint32_t *ret_slot, bool *ret_new);
/* Link the programs of (@id, @slot) to the cgroup at @abs (NULL: swap them into its links). */
int cgfw_link(struct cgfw_state *st, uint64_t id, uint32_t slot, const char *abs);
int cgfw_unlink(struct cgfw_state *st, uint64_t id);
/* Forget a cgroup whose programs are gone: seen entries, flows, registry entry. */
int cgfw_forget(struct cgfw_state *st, uint64_t id);

/*
 * Open the cgroup object with pinning under @pin_root, let @prep set what it
 * needs (rodata, inner map), and load it: with the rule walks inline where
 * the kernel's verifier takes them, else (kernels before 6.6, a refused
 * load, or CGFW_WALK_CALLS=1 in the environment) through cgfw_eval
 * (cgfw_walk_calls in bpf/cgroup/cgfw_cgroup.bpf.c). 0 or -errno of the
 * last load.
 */
struct cgfw_cgroup_bpf;
int cgfw_cgroup_open_load(const char *pin_root, int (*prep)(struct cgfw_cgroup_bpf *, void *),
			  void *arg, struct cgfw_cgroup_bpf **ret);

/* Load the programs of (@cgid, @slot) against the pinned maps. */
int cgfw_cgroup_skel_load(struct cgfw_state *st, uint64_t cgid, uint32_t slot, void **ret_skel);
void cgfw_cgroup_skel_free(void *skel);
/* Make registry and links match the live rule set (after a command died). */
int cgfw_state_repair(struct cgfw_state *st);
/* Reload every attached cgroup's programs (after cgfw_rs was replaced). */
int cgfw_reload_programs(struct cgfw_state *st);

/* ---- the utility programs (util.c) -------------------------------------------------------- */

/*
 * Empty every CPU's seen cache into cgfw_seen. ret_offline (may be NULL): the
 * slots of CPUs that are offline, for the caller to add.
 */
int cgfw_seen_drain(struct cgfw_state *st, struct cgfw_seen_slot **ret_offline, size_t *ret_n);
/* Forget the cached seen entries of @cgid (0: all). */
int cgfw_seen_forget_cached(struct cgfw_state *st, uint64_t cgid);
/* The counters by reason, summed over the CPUs (seen.c). */
int cgfw_counters_get(struct cgfw_state *st, uint64_t packets[CGFW_DIR_COUNT][8],
		      uint64_t bytes[CGFW_DIR_COUNT][8]);

/* A jiffies stamp of the datapath as CLOCK_REALTIME ns (0 stays 0). */
uint64_t cgfw_jiffies_to_realtime(const struct cgfw_state *st, uint64_t j);

#endif /* CGFW_CGROUP_INTERNAL_H */
