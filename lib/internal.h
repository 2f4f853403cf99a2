/* SPDX-License-Identifier: GPL-2.0-only */
/* Library internals shared between the lib/ source files. */
#ifndef CGFW_INTERNAL_H
#define CGFW_INTERNAL_H

#include <cgfw/cgroup_map.h>
#include <cgfw/flow_map.h>
#include <cgfw/lengths_map.h>
#include <cgfw/meta_map.h>
#include <cgfw/rule_map.h>
#include <cgfw/seen_map.h>

#include "cgfw.h"

struct cgfw_state {
	char root[PATH_MAX];
	int dir_fd;	/* the root directory; flock()ed when locked */
	int rules_fd, prules_fd, lens_fd, cgroups_fd, seen_fd, flows_fd, meta_fd, stats_fd;
};

#define CGFW_LINKS_DIR "links"

/* Dump a whole map: keys and values in two malloc()ed arrays. */
int cgfw_map_dump(int fd, size_t key_size, size_t val_size, void **ret_keys, void **ret_vals,
		  size_t *ret_n);
/* Load the cgroup programs with @cgid baked in; maps come from the pins under root. */
struct cgfw_cgroup;
int cgfw_lens_read(struct cgfw_state *st, struct cgfw_lens_val *ret);
int cgfw_lens_publish(struct cgfw_state *st, struct cgfw_lens_val *v);
void cgfw_lens_rebuild(struct cgfw_lens_val *v);
uint64_t cgfw_boot_to_realtime(uint64_t boot_ns);
uint64_t cgfw_now_realtime(void);

#endif /* CGFW_INTERNAL_H */
