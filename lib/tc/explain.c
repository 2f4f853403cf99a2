// SPDX-License-Identifier: GPL-2.0-only
/*
 * `cgfw explain --iface`: what the interface programs do with a packet, from
 * their own code. An explain instance of the programs (cgfw_explain set, the
 * interface's own settings) runs a built packet with BPF_PROG_RUN on the
 * interface (its ifindex in the context) and reports through its private
 * cgfw_tc_xout (explain_map.h); nothing is counted, written or sent.
 */
#include <errno.h>
#include <linux/pkt_cls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <cgfw/explain_map.h>

#include "internal.h"
#include "cgfw_tc.skel.h"

int cgfw_tc_explain(struct cgfw_tc *tc, const char *ifname, const struct cgfw_explain_pkt *x,
		    struct cgfw_tc_explanation *ret)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = cgfw_tc_root(tc));
	struct cgfw_tc_iface *ifs = NULL, *f = NULL;
	struct cgfw_tc_explanation r = {};
	struct cgfw_tc_explain_out o = {};
	struct cgfw_tc_bpf *skel = NULL;
	struct __sk_buff ctx = {};
	uint8_t pkt[128];
	size_t n = 0, len;
	__u32 zero = 0;
	int err;

	err = cgfw_tc_ifaces(tc, &ifs, &n);
	if (err)
		return err;
	for (size_t i = 0; i < n && !f; i++)
		if (ifs[i].this_netns && !strcmp(ifs[i].name, ifname))
			f = &ifs[i];
	if (!f) {
		free(ifs);
		return cgfw_seterr(EINVAL, "interface %s is not attached in this network namespace",
				   ifname);
	}
	len = cgfw_packet_build(x, pkt, sizeof(pkt));
	if (!len) {
		free(ifs);
		return cgfw_seterr(EINVAL, "explain needs an IPv4 or IPv6 address");
	}
	skel = cgfw_tc_bpf__open_opts(&opts);
	if (!skel) {
		free(ifs);
		return cgfw_seterr(errno, "cannot open the TC BPF object: %s", strerror(errno));
	}
	skel->rodata->cgfw_flags = f->flags;
	skel->rodata->cgfw_attach_id = f->attach_id;
	skel->rodata->cgfw_l2_len = 14; /* BPF_PROG_RUN hands over an Ethernet frame */
	skel->rodata->cgfw_tick_ns = cgfw_clock_tick_ns(tc->hz);
	skel->rodata->cgfw_explain = 1;
	err = cgfw_tc_bpf__load(skel);
	if (err) {
		err = cgfw_seterr(cgfw_runtime_err(err), "cannot load the explain programs: %s",
				  strerror(-err));
		goto out;
	}
	ctx.ifindex = f->ifindex;
	{
		LIBBPF_OPTS(bpf_test_run_opts, topts, .data_in = pkt, .data_size_in = (__u32)len,
			    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = 1);
		struct bpf_program *p = x->dir == CGFW_DIR_EGRESS ? skel->progs.cgfw_tc_egress :
								    skel->progs.cgfw_tc_ingress;

		if (bpf_prog_test_run_opts(bpf_program__fd(p), &topts)) {
			err = cgfw_seterr(errno, "cannot run the packet through the program: %s",
					  strerror(errno));
			goto out;
		}
		r.verdict = topts.retval;
	}
	if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.cgfw_tc_xout), &zero, &o) < 0 || !o.ran) {
		err = cgfw_seterr(EPROTO, "the program did not explain its verdict");
		goto out;
	}
	r.reason = o.reason;
	r.listener = o.listener;
	snprintf(r.ifname, sizeof(r.ifname), "%s", f->name);
	r.flags = f->flags;
	if (o.rule_id) {
		struct cgfw_tc_rule *rules = NULL;
		size_t nr = 0;

		err = cgfw_tc_rules_list(tc, 0, &rules, &nr);
		for (size_t i = 0; !err && i < nr; i++)
			if (rules[i].id == o.rule_id) {
				r.rule = rules[i];
				r.has_rule = true;
			}
		free(rules);
		if (err)
			goto out;
	}
out:
	cgfw_tc_bpf__destroy(skel);
	free(ifs);
	if (!err)
		*ret = r;
	return err;
}
