// SPDX-License-Identifier: GPL-2.0-only
/*
 * `cgfw explain`: which verdict the cgroup programs give a packet, and what
 * decided it, from the datapath's own code. For the cgroup and each attached
 * ancestor (whose programs run for it too), an instance of the programs is
 * loaded with cgfw_explain set: it reads the live rule set and flows like
 * the attached ones, counts and records nothing, and writes what decided to
 * its own cgfw_xout (explain_map.h). A packet is built for it and run with
 * BPF_PROG_RUN. The deciding rules are named by their ordinals in their
 * scopes, which the rule list maps back to rules.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <cgfw/explain_map.h>

#include "internal.h"
#include "cgfw_cgroup.skel.h"

/* ---- the rules that decided -------------------------------------------------------------- */

/* Rule @ord of the scope of @slot as the strongest (origin, action) it has for @dir. */
static bool rule_at(const union cgfw_rs_elem *e, uint32_t slot, uint32_t ord, int dir,
		    struct cgfw_rule *r, struct cgfw_rule_stats *s, const struct cgfw_state *st)
{
	const struct cgfw_rs_header *h = &e[CGFW_RS_HDR].hdr;
	const struct cgfw_rs_scope *sc;
	const struct cgfw_rs_rule *k;
	size_t first = 0;
	uint8_t act;

	if (ord == CGFW_RS_NORULE || slot >= h->nscopes)
		return false;
	sc = &e[CGFW_RS_SCOPE(slot)].scope;
	while (first < h->nrules && e[h->rules + first].rule.slot < slot)
		first++;
	if (ord >= sc->nrules || first + ord >= h->nrules)
		return false;
	k = &e[h->rules + first + ord].rule;
	act = k->act[dir];
	memset(r, 0, sizeof(*r));
	r->scope = sc->cgid;
	r->pfx.family = k->family;
	r->pfx.len = k->len;
	memcpy(r->pfx.addr, k->addr, 16);
	r->proto = k->proto;
	if (k->proto && k->proto != CGFW_PROTO_ICMP) {
		r->port_lo = k->lo;
		r->port_hi = k->hi;
	}
	r->dirs = CGFW_DIR_BIT(dir);
	/* Deny wins: name a deny bit when there is one, then the origin. */
	r->action = (act & CGFW_ACT_DENY_ANY) ? CGFW_DENY : CGFW_ALLOW;
	for (int o = 0; o < CGFW_ORIGIN_COUNT; o++)
		if (act & (r->action == CGFW_DENY ? CGFW_ACT_DENY_BIT(o) : CGFW_ACT_ALLOW_BIT(o))) {
			r->origin = (uint8_t)o;
			break;
		}
	memset(s, 0, sizeof(*s));
	if (sc->nrules <= sc->len) {
		const struct cgfw_rs_cnt *c = &e[sc->img + sc->len - sc->nrules + ord].cnt;

		s->packets = c->packets;
		s->bytes = c->bytes;
		s->last_ns = cgfw_jiffies_to_realtime(st, c->last_j);
	}
	return true;
}

/* ---- the explainer ---------------------------------------------------------------------- */

/* Explain instances of one cgroup's programs. */
struct xinst {
	uint64_t cgid;
	uint32_t slot;
	char path[PATH_MAX];
	struct cgfw_cgroup_bpf *skel;
};

struct cgfw_explainer {
	struct cgfw_state *st;
	uint64_t cgid;	  /* the packet's cgroup */
	struct xinst *in; /* innermost first */
	size_t n;
};

struct load_args {
	const struct cgfw_state *st;
	const struct xinst *x;
};

static int prep_explain(struct cgfw_cgroup_bpf *skel, void *arg)
{
	const struct load_args *a = arg;

	skel->rodata->cgfw_cgid = a->x->cgid;
	skel->rodata->cgfw_slot = a->x->slot;
	skel->rodata->cgfw_tick_ns = cgfw_clock_tick_ns(a->st->hz);
	skel->rodata->cgfw_explain = 1;
	return 0;
}

static int load_one(struct cgfw_state *st, struct xinst *x)
{
	struct load_args a = { st, x };
	int err;

	x->skel = NULL;
	err = cgfw_cgroup_open_load(cgfw_state_root_of(st), prep_explain, &a, &x->skel);
	if (err)
		return cgfw_seterr(cgfw_runtime_err(err), "cannot load the explain programs: %s",
				   strerror(-err));
	return 0;
}

void cgfw_explainer_free(struct cgfw_explainer *x)
{
	if (!x)
		return;
	for (size_t i = 0; i < x->n; i++)
		cgfw_cgroup_bpf__destroy(x->in[i].skel);
	free(x->in);
	free(x);
}

int cgfw_explainer_open(struct cgfw_state *st, const struct cgfw_cgroup *cg,
			struct cgfw_explainer **ret)
{
	struct cgfw_explainer *x = calloc(1, sizeof(*x));
	struct rs rs = {};
	char rel[PATH_MAX];
	int err;

	if (!x)
		return cgfw_seterr(ENOMEM, "out of memory");
	x->st = st;
	x->cgid = cg->id;
	err = cgfw_rs_read(st, &rs);
	if (err) {
		free(x);
		return err;
	}
	/* The cgroup, then each ancestor up to the root: every attached one runs. */
	snprintf(rel, sizeof(rel), "%s", cg->rel);
	for (;;) {
		struct cgfw_cgroup a;
		int slot;

		if (cgfw_cgroup_resolve(NULL, rel[0] ? rel : "/", true, &a) == 0 &&
		    (slot = cgfw_rs_slot(&rs, a.id)) > 0) {
			struct xinst *m = realloc(x->in, (x->n + 1) * sizeof(*m));

			if (!m) {
				err = cgfw_seterr(ENOMEM, "out of memory");
				break;
			}
			x->in = m;
			memset(&m[x->n], 0, sizeof(m[x->n]));
			m[x->n].cgid = a.id;
			m[x->n].slot = (uint32_t)slot;
			snprintf(m[x->n].path, sizeof(m[x->n].path), "%s", rel[0] ? rel : "/");
			x->n++;
			err = load_one(st, &m[x->n - 1]);
			if (err)
				break;
		}
		if (!rel[0])
			break;
		{
			char *slash = strrchr(rel, '/');

			if (slash)
				*slash = 0;
			else
				rel[0] = 0;
		}
	}
	cgfw_rs_free(&rs);
	if (!err && !x->n)
		err = cgfw_seterr(EINVAL, "cgroup %s is not attached, nor is any of its ancestors",
				  cgfw_cgroup_name(cg));
	if (err) {
		cgfw_explainer_free(x);
		return err;
	}
	*ret = x;
	return 0;
}

static int run_one(const struct xinst *in, int dir, const uint8_t *pkt, size_t len,
		   struct cgfw_explain_out *ret)
{
	LIBBPF_OPTS(bpf_test_run_opts, topts, .data_in = pkt, .data_size_in = (__u32)len,
		    .repeat = 1);
	struct bpf_program *prog = dir == CGFW_DIR_INGRESS ? in->skel->progs.cgfw_ingress :
							     in->skel->progs.cgfw_egress;
	int fd = bpf_map__fd(in->skel->maps.cgfw_xout);
	__u32 zero = 0;

	memset(ret, 0, sizeof(*ret));
	if (bpf_map_update_elem(fd, &zero, ret, BPF_ANY) < 0)
		return cgfw_seterr(errno, "cannot reset the explanation: %s", strerror(errno));
	if (bpf_prog_test_run_opts(bpf_program__fd(prog), &topts))
		return cgfw_seterr(errno, "cannot run the packet through the program: %s",
				   strerror(errno));
	if (bpf_map_lookup_elem(fd, &zero, ret) < 0)
		return cgfw_seterr(errno, "cannot read the explanation: %s", strerror(errno));
	if (!ret->ran || (uint32_t)(ret->verdict == CGFW_VERDICT_ALLOW) != topts.retval)
		return cgfw_seterr(EPROTO, "the program's explanation does not match its verdict");
	return 0;
}

int cgfw_explainer_run(struct cgfw_explainer *ex, const struct cgfw_explain_pkt *x,
		       struct cgfw_explain_step **ret, size_t *ret_n)
{
	_cleanup_free_ struct cgfw_explain_step *steps = NULL;
	struct cgfw_state *st = ex->st;
	const union cgfw_rs_elem *e = NULL;
	uint8_t pkt[128];
	size_t len, ne = 0, mapped = 0;
	int err = 0;

	if (x->dir != CGFW_DIR_INGRESS && x->dir != CGFW_DIR_EGRESS)
		return cgfw_seterr(EINVAL, "explain needs a direction: --ingress or --egress");
	if (x->family != CGFW_FAMILY_INET && x->family != CGFW_FAMILY_INET6)
		return cgfw_seterr(EINVAL, "explain needs an IPv4 or IPv6 address");
	len = cgfw_packet_build(x, pkt, sizeof(pkt));
	if (!len)
		return cgfw_seterr(EINVAL, "cannot build the packet");
	steps = calloc(ex->n, sizeof(*steps));
	if (!steps)
		return cgfw_seterr(ENOMEM, "out of memory");
	for (size_t i = 0; i < ex->n && !err; i++) {
		struct cgfw_explain_step *s = &steps[i];
		struct cgfw_explain_out o;

		err = run_one(&ex->in[i], x->dir, pkt, len, &o);
		s->cgid = ex->in[i].cgid;
		snprintf(s->path, sizeof(s->path), "%s", ex->in[i].path);
		s->verdict = o.verdict;
		s->reason = o.reason;
		s->def = o.def;
		s->reply = o.reply;
		s->audit = o.audit;
		s->act = o.act;
		s->gen = o.gen;
		s->slot = ex->in[i].slot;
		s->rule_host = o.rule_host;
		s->rule_cg = o.rule_cg;
	}
	if (!err)
		err = cgfw_rs_map_live(st, &e, &ne, &mapped);
	if (err)
		return err;
	/* The rules are named from the rule set that decided. */
	for (size_t i = 0; i < ex->n; i++)
		if (e[CGFW_RS_HDR].hdr.gen != steps[i].gen)
			err = cgfw_seterr(EAGAIN, "the rules changed while explaining; try again");
	for (size_t i = 0; i < ex->n && !err; i++) {
		struct cgfw_explain_step *s = &steps[i];

		s->has_rule[0] = rule_at(e, CGFW_RS_SLOT_HOST, s->rule_host, x->dir, &s->rule[0],
					 &s->stats[0], st);
		s->has_rule[1] =
			rule_at(e, s->slot, s->rule_cg, x->dir, &s->rule[1], &s->stats[1], st);
	}
	cgfw_rs_unmap(e, mapped);
	if (err)
		return err;
	*ret = TAKE_PTR(steps);
	*ret_n = ex->n;
	return 0;
}

int cgfw_explain(struct cgfw_state *st, const struct cgfw_cgroup *cg,
		 const struct cgfw_explain_pkt *x, struct cgfw_explain_step **ret, size_t *ret_n)
{
	struct cgfw_explainer *ex = NULL;
	int err;

	if (x->dir != CGFW_DIR_INGRESS && x->dir != CGFW_DIR_EGRESS)
		return cgfw_seterr(EINVAL, "explain needs a direction: --ingress or --egress");
	err = cgfw_explainer_open(st, cg, &ex);
	if (!err)
		err = cgfw_explainer_run(ex, x, ret, ret_n);
	cgfw_explainer_free(ex);
	return err;
}
