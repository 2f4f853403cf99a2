/* SPDX-License-Identifier: GPL-2.0-only */
/* Internals shared by the cgroup module's files. */
#ifndef CGFW_CGROUP_INTERNAL_H
#define CGFW_CGROUP_INTERNAL_H

#include <cgfw/cgroup_map.h>
#include <cgfw/flow_map.h>
#include <cgfw/lengths_map.h>
#include <cgfw/meta_map.h>
#include <cgfw/rule_map.h>
#include <cgfw/seen_map.h>

#include <cgfw/cgroup.h>

struct cgfw_state {
	struct cgfw_pin *pin;
	bool own_pin; /* opened by cgfw_state_open(), closed with the state */
	int rules_fd, prules_fd, lens_fd, cgroups_fd, seen_fd, flows_fd, meta_fd, stats_fd;
};

static inline const char *cgfw_state_root_of(const struct cgfw_state *st)
{
	return cgfw_pin_root(st->pin);
}

int cgfw_lens_read(struct cgfw_state *st, struct cgfw_lens_val *ret);
/* Rebuild the lists from the counts and publish them. */
int cgfw_lens_publish(struct cgfw_state *st, struct cgfw_lens_val *v);

#endif /* CGFW_CGROUP_INTERNAL_H */
