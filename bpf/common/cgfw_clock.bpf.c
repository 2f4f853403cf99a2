// SPDX-License-Identifier: GPL-2.0-only
/*
 * The datapath's clock, read by user space with BPF_PROG_RUN (lib/pin/clock.c).
 *
 * The programs of both datapaths run their clocks on jiffies: bpf_jiffies64()
 * is inlined to a load, where a clock source is a helper call per packet. So
 * user space needs the current jiffies beside CLOCK_BOOTTIME, read together,
 * and from two such readings the tick rate, without the kernel's config
 * (CONFIG_HZ is not always in /boot or /proc).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

__u64 cgfw_jiffies = 0;
__u64 cgfw_boot_ns = 0;

SEC("syscall")
int cgfw_clock(void *ctx)
{
	cgfw_jiffies = bpf_jiffies64();
	cgfw_boot_ns = bpf_ktime_get_boot_ns();
	return 0;
}
