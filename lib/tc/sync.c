// SPDX-License-Identifier: GPL-2.0-only
/*
 * Keeping the interfaces' own addresses (the stateful ssh exception) in sync
 * with the kernel, and tearing every interface down (cgfw reset).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

int cgfw_tc_sync(struct cgfw_tc *tc, size_t *ret_changed)
{
	struct cgfw_tc_iface *all = NULL;
	size_t n = 0, changed = 0;
	int err;

	err = cgfw_tc_ifaces(tc, &all, &n);
	for (size_t i = 0; !err && i < n; i++) {
		struct cgfw_nl_link lk;

		if (!all[i].this_netns || cgfw_nl_link_get(NULL, all[i].ifindex, &lk) < 0)
			continue;
		err = cgfw_tc_sync_addrs(tc, all[i].attach_id, all[i].ifindex);
		if (err > 0) {
			changed += (size_t)err;
			err = 0;
		}
	}
	free(all);
	if (ret_changed)
		*ret_changed = changed;
	return err;
}

int cgfw_tc_watch(volatile sig_atomic_t *stop, void (*changed)(size_t n, void *arg), void *arg)
{
	int fd = cgfw_nl_watch_open(), err = 0;
	time_t last = 0;

	if (fd < 0)
		return fd;
	while (!*stop) {
		struct cgfw_tc *tc = NULL;
		size_t n = 0;

		/* The lock only while syncing: other cgfw commands run meanwhile. */
		err = cgfw_tc_open(CGFW_OPEN_LOCK, &tc);
		if (!err)
			err = cgfw_tc_sync(tc, &n);
		cgfw_tc_close(tc);
		if (err)
			break;
		if (changed)
			changed(n, arg);
		last = time(NULL);
		/* Wait for an address change, or resync every 30 s anyway. */
		while (!*stop && time(NULL) - last < 30) {
			int r = cgfw_nl_watch_wait(fd, 500);

			if (r > 0)
				break;
			if (r < 0 && r != -EINTR) {
				err = cgfw_seterr(r, "waiting for address changes failed: %s",
						  strerror(-r));
				break;
			}
		}
		if (err)
			break;
	}
	cgfw_nl_watch_close(fd);
	return err;
}

int cgfw_tc_teardown(void)
{
	struct cgfw_tc *tc = NULL;
	struct cgfw_tc_iface *all = NULL;
	struct cgfw_tc_route *routes = NULL;
	size_t n = 0, nr = 0;
	int err;

	err = cgfw_tc_open(CGFW_OPEN_LOCK, &tc);
	if (err == -ENOENT)
		return 0;
	if (err)
		return err;
	err = cgfw_tc_ifaces(tc, &all, &n);
	for (size_t i = 0; !err && i < n; i++)
		if (all[i].this_netns)
			err = cgfw_tc_detach(tc, all[i].name);
	if (!err)
		err = cgfw_tc_routes(tc, &routes, &nr);
	if (!err) {
		struct cgfw_prefix *p = calloc(nr ? nr : 1, sizeof(*p));
		int *errs = calloc(nr ? nr : 1, sizeof(*errs));
		size_t m = 0;

		for (size_t i = 0; p && errs && i < nr; i++)
			if (routes[i].this_netns && routes[i].owned)
				p[m++] = routes[i].pfx;
		if (p && errs)
			err = cgfw_nl_local_routes(false, p, m, errs);
		free(p);
		free(errs);
	}
	free(all);
	free(routes);
	cgfw_tc_close(tc);
	return err;
}
