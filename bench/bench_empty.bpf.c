// SPDX-License-Identifier: GPL-2.0-only
/*
 * Baseline: the cost of running any cgroup_skb program at all under
 * BPF_PROG_RUN. Everything cgfw adds is measured above this floor.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

SEC("cgroup_skb/egress")
int bench_empty(struct __sk_buff *skb)
{
	return 1;
}

/* Its ingress twin: bench/net_datapath.sh attaches the pair to a cgroup, the
 * floor under traffic of any cgroup_skb firewall that filters both ways. */
SEC("cgroup_skb/ingress")
int bench_empty_in(struct __sk_buff *skb)
{
	return 1;
}
