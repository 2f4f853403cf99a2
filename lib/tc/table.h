/* SPDX-License-Identifier: GPL-2.0-only */
/* The TC rule table's encoding, shared by layout.c, routes.c and rules.c. */
#ifndef CGFW_TC_TABLE_H
#define CGFW_TC_TABLE_H

#include "internal.h"

/* The entries of one head key (destination prefix and protocol) and its current layout. */
struct kset {
	struct cgfw_tc_key head;
	bool existed;
	struct cgfw_tc_val *old; /* the current head, when it exists */
	struct cgfw_tc_entry *e;
	size_t n, cap;
	struct cgfw_tc_key *oldsub; /* sub-keys of the current layout */
	size_t noldsub, capsub;
	bool changed;
};

typedef int (*lookup_fn)(void *ctx, const struct cgfw_tc_key *k, struct cgfw_tc_val *v);
/*
 * Writes of one change, streamed: (key, value) pairs collect in a buffer that
 * goes to the kernel in batches, and only the keys written are kept, for the
 * rollback. With no fd the plan only counts. User space thus needs about 200
 * bytes per rule however large the change, and kernel memory is what runs
 * out first.
 */
#define PLAN_BUF 8192

struct plan {
	int fd; /* -1: count only */
	struct cgfw_tc_key k[PLAN_BUF];
	struct cgfw_tc_val v[PLAN_BUF];
	size_t n;		  /* buffered */
	struct cgfw_tc_key *done; /* written, for the rollback */
	size_t ndone, capdone;
	size_t count; /* planned in all */
};

struct keylist {
	struct cgfw_tc_key *k;
	size_t n, cap;
};

/* Routes for tproxy prefixes, per network namespace, reference-counted. */
struct rdelta {
	struct cgfw_tc_route_key key;
	int delta;
	uint32_t refs;
	bool owned, existed, added;
};

/* layout.c */
void cgfw_tc_head_key(const struct cgfw_tc_rule *r, struct cgfw_tc_key *k);
void cgfw_tc_rule_entry(const struct cgfw_tc_rule *r, struct cgfw_tc_entry *e);
void cgfw_tc_entry_rule(const struct cgfw_tc_key *k, const struct cgfw_tc_entry *e,
			struct cgfw_tc_rule *r);
/* The precedence of tc_rule_map.h as one number, as the datapath computes it. */
uint64_t cgfw_tc_rank(const struct cgfw_tc_entry *e);
bool cgfw_tc_same_match(const struct cgfw_tc_entry *a, const struct cgfw_tc_entry *b);
int cgfw_tc_cmp_rank(const void *x, const void *y);
int cgfw_tc_fd_lookup(void *ctx, const struct cgfw_tc_key *k, struct cgfw_tc_val *v);
int cgfw_tc_push_entry(struct kset *ks, const struct cgfw_tc_entry *e);
/* Every entry of a head's current layout, and its sub-keys. */
int cgfw_tc_decode(lookup_fn fn, void *ctx, struct kset *ks);
int cgfw_tc_plan_flush(struct plan *p);
int cgfw_tc_plan_write(struct plan *p, const struct cgfw_tc_key *k, const struct cgfw_tc_val *v);
int cgfw_tc_keylist_add(struct keylist *l, const struct cgfw_tc_key *k);
/*
 * Lay out a key's entries (in rank order) as sub-keys of generation @gen,
 * planned in @p (NULL: not planned), and the head that refers to them, in
 * *ret_head.
 */
int cgfw_tc_layout(struct kset *ks, uint16_t gen, struct plan *p, struct cgfw_tc_val *ret_head);

/* routes.c */
void cgfw_tc_route_key_of(struct cgfw_tc *tc, const struct cgfw_tc_key *hk,
			  struct cgfw_tc_route_key *k);
void cgfw_tc_route_prefix(const struct cgfw_tc_route_key *k, struct cgfw_prefix *p);
/* Merge per-rule deltas into one per prefix; read the current references. */
int cgfw_tc_routes_prepare(struct cgfw_tc *tc, struct rdelta *rd, size_t *n);
/* Add the routes that go from no rule to some; undo on failure. */
int cgfw_tc_routes_add(struct rdelta *rd, size_t n);
/* After the rules: record the references, remove routes no rule needs any more. */
void cgfw_tc_routes_commit(struct cgfw_tc *tc, struct rdelta *rd, size_t n);
void cgfw_tc_routes_undo(struct rdelta *rd, size_t n);

#endif /* CGFW_TC_TABLE_H */
