// SPDX-License-Identifier: GPL-2.0-only
/* Clocks: the datapath stamps CLOCK_BOOTTIME/MONOTONIC, people read CLOCK_REALTIME. */
#include <time.h>

#include <cgfw/core.h>

static uint64_t now(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t cgfw_now_realtime(void)
{
	return now(CLOCK_REALTIME);
}

static uint64_t to_realtime(clockid_t c, uint64_t ns)
{
	uint64_t base = now(c), rn = now(CLOCK_REALTIME);

	if (!ns)
		return 0;
	return ns > base ? rn : rn - (base - ns);
}

uint64_t cgfw_boot_to_realtime(uint64_t boot_ns)
{
	return to_realtime(CLOCK_BOOTTIME, boot_ns);
}

uint64_t cgfw_mono_to_realtime(uint64_t mono_ns)
{
	return to_realtime(CLOCK_MONOTONIC, mono_ns);
}
