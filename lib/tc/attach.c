// SPDX-License-Identifier: GPL-2.0-only
/*
 * Attaching the TC programs to interfaces. One program pair per interface,
 * its settings baked in; all of them share the pinned maps.
 *
 * Where the kernel has tcx, the programs go in tcx links (pinned under
 * links/), appended after any other tcx program. Otherwise they are cls_bpf
 * filters on a clsact qdisc at the lowest free priority, next to whatever
 * filters are there. Detach removes exactly what attach added: the links, or
 * the two filters and, when cgfw created it and nothing else uses it, the
 * clsact qdisc. Returning TC_ACT_UNSPEC (TCX_NEXT) for every packet it
 * passes lets the programs and filters after cgfw run.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_arp.h>
#include <linux/pkt_sched.h>

#include "internal.h"

/* Not in the 6.1 uapi headers this builds against. */
#ifndef BPF_TCX_INGRESS
#define BPF_TCX_INGRESS 46
#define BPF_TCX_EGRESS	47
#endif
#define LINK_TYPE_TCX 11

#define CGFW_TC_HANDLE 0xcf1

#ifndef ARPHRD_RAWIP
#define ARPHRD_RAWIP 519
#endif

static const char *const dir_name[2] = { "ingress", "egress" };

/* Pin name of an interface's tcx link, relative to the root. */
static void link_name(struct cgfw_tc *tc, uint32_t ifindex, int dir, char *buf, size_t n)
{
	snprintf(buf, n, CGFW_LINKS_DIR "/tc-%llu-%u-%s", (unsigned long long)tc->netns, ifindex,
		 dir_name[dir]);
}

static void link_pin(struct cgfw_tc *tc, uint32_t ifindex, int dir, char *buf, size_t n)
{
	char name[96];

	link_name(tc, ifindex, dir, name, sizeof(name));
	cgfw_pin_path(tc->pin, name, buf, n);
}

static void iface_key(struct cgfw_tc *tc, uint32_t ifindex, struct cgfw_tc_iface_key *k)
{
	memset(k, 0, sizeof(*k));
	k->netns = tc->netns;
	k->ifindex = ifindex;
}

static uint32_t prog_id(int fd)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	return bpf_obj_get_info_by_fd(fd, &info, &len) == 0 ? info.id : 0;
}

/* Is the pinned tcx link present and attached to this interface? */
static bool tcx_live(struct cgfw_tc *tc, uint32_t ifindex, int dir)
{
	struct bpf_link_info info;
	char name[96];

	link_name(tc, ifindex, dir, name, sizeof(name));
	/* tcx link info starts with the ifindex, where the xdp one does. */
	return cgfw_pin_link_info(tc->pin, name, &info) == 0 && info.type == LINK_TYPE_TCX &&
	       info.xdp.ifindex == ifindex;
}

static bool clsact_live(uint32_t ifindex, const struct cgfw_tc_iface_val *v, int dir)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = (int)ifindex,
		    .attach_point = dir ? BPF_TC_EGRESS : BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = v->handle, .priority = v->prio[dir]);

	return bpf_tc_query(&hook, &opts) == 0 && opts.prog_id == v->prog_id[dir];
}

/* ---- addresses for the ssh exception --------------------------------------------- */

static int ifaddr_conv(const void *key, const void *val, void *out, void *arg)
{
	const struct cgfw_tc_ifaddr_key *k = key;

	if (k->attach_id != *(const uint32_t *)arg)
		return 0;
	memcpy(out, k, sizeof(*k));
	return 1;
}

/* The addresses recorded for one attachment. */
static int ifaddr_dump(struct cgfw_tc *tc, uint32_t attach_id, struct cgfw_tc_ifaddr_key **ret,
		       size_t *ret_n)
{
	return cgfw_map_collect(tc->ifaddr_fd, CGFW_TC_IFADDR_PIN, sizeof(**ret), sizeof(__u32),
				sizeof(**ret), ifaddr_conv, &attach_id, (void **)ret, ret_n);
}

static void prefix_ifaddr(uint32_t attach_id, const struct cgfw_prefix *p,
			  struct cgfw_tc_ifaddr_key *k)
{
	memset(k, 0, sizeof(*k));
	k->attach_id = attach_id;
	k->family = p->family;
	memcpy(k->addr, p->addr, 16);
}

int cgfw_tc_ifaddr_set(struct cgfw_tc *tc, uint32_t attach_id, const struct cgfw_prefix *addrs,
		       size_t n)
{
	struct cgfw_tc_ifaddr_key *cur = NULL, k;
	size_t nc = 0, changed = 0;
	__u32 one = 1;
	int err;

	err = ifaddr_dump(tc, attach_id, &cur, &nc);
	if (err)
		return err;
	for (size_t i = 0; i < nc; i++) {
		bool keep = false;

		for (size_t j = 0; j < n && !keep; j++) {
			prefix_ifaddr(attach_id, &addrs[j], &k);
			keep = !memcmp(&k, &cur[i], sizeof(k));
		}
		if (!keep && bpf_map_delete_elem(tc->ifaddr_fd, &cur[i]) == 0)
			changed++;
	}
	for (size_t j = 0; j < n; j++) {
		prefix_ifaddr(attach_id, &addrs[j], &k);
		if (bpf_map_update_elem(tc->ifaddr_fd, &k, &one, BPF_NOEXIST) == 0) {
			changed++;
		} else if (errno != EEXIST) {
			err = cgfw_seterr(errno, "cannot record interface addresses in %s: %s",
					  CGFW_TC_IFADDR_PIN, strerror(errno));
			break;
		}
	}
	free(cur);
	return err ? err : (int)changed;
}

int cgfw_tc_sync_addrs(struct cgfw_tc *tc, uint32_t attach_id, uint32_t ifindex)
{
	struct cgfw_prefix *a = NULL;
	size_t n = 0;
	int err;

	err = cgfw_nl_addrs(ifindex, &a, &n);
	if (!err)
		err = cgfw_tc_ifaddr_set(tc, attach_id, a, n);
	free(a);
	return err;
}

/* ---- tcx --------------------------------------------------------------------------- */

static int tcx_attach(struct cgfw_tc *tc, uint32_t ifindex, const int prog_fd[2])
{
	char p[2][PATH_MAX];
	int dir, err = 0;

	for (dir = 0; dir < 2; dir++) {
		int fd = bpf_link_create(prog_fd[dir], (int)ifindex,
					 dir ? BPF_TCX_EGRESS : BPF_TCX_INGRESS, NULL);

		link_pin(tc, ifindex, dir, p[dir], sizeof(p[dir]));
		if (fd < 0) {
			err = -errno;
			break;
		}
		unlink(p[dir]); /* a stale pin of a vanished link */
		err = bpf_obj_pin(fd, p[dir]) < 0 ? -errno : 0;
		close(fd);
		if (err) {
			err = cgfw_seterr(err, "cannot pin the tcx link at %s: %s", p[dir],
					  strerror(-err));
			break;
		}
	}
	if (err && dir == 1)
		unlink(p[0]);
	return err;
}

static int tcx_update(struct cgfw_tc *tc, uint32_t ifindex, const int prog_fd[2])
{
	for (int dir = 0; dir < 2; dir++) {
		char p[PATH_MAX];
		int fd, err;

		link_pin(tc, ifindex, dir, p, sizeof(p));
		fd = bpf_obj_get(p);
		if (fd >= 0 && tcx_live(tc, ifindex, dir)) {
			/* The new program replaces the old one in place. */
			err = bpf_link_update(fd, prog_fd[dir], NULL) < 0 ? -errno : 0;
			close(fd);
			if (err)
				return cgfw_seterr(err, "cannot update the %s tcx link: %s",
						   dir_name[dir], strerror(-err));
			continue;
		}
		if (fd >= 0)
			close(fd);
		unlink(p);
		fd = bpf_link_create(prog_fd[dir], (int)ifindex,
				     dir ? BPF_TCX_EGRESS : BPF_TCX_INGRESS, NULL);
		if (fd < 0)
			return cgfw_seterr(errno, "cannot attach the %s tcx link: %s",
					   dir_name[dir], strerror(errno));
		err = bpf_obj_pin(fd, p) < 0 ? -errno : 0;
		close(fd);
		if (err)
			return cgfw_seterr(err, "cannot pin the tcx link at %s: %s", p,
					   strerror(-err));
	}
	return 0;
}

/* ---- clsact ------------------------------------------------------------------------- */

static uint32_t clsact_parent(int dir)
{
	return TC_H_MAKE(TC_H_CLSACT, dir ? TC_H_MIN_EGRESS : TC_H_MIN_INGRESS);
}

static int filters_count(uint32_t ifindex, int dir, size_t *ret)
{
	uint16_t *prios = NULL;
	int err = cgfw_nl_filter_prios(ifindex, clsact_parent(dir), &prios, ret);

	free(prios);
	return err;
}

static int free_prio(uint32_t ifindex, int dir, uint16_t *ret)
{
	uint16_t *prios = NULL;
	size_t n = 0;
	int err = cgfw_nl_filter_prios(ifindex, clsact_parent(dir), &prios, &n);

	if (err)
		return err;
	/* The lowest free priority: cgfw runs as early as it can, displacing nobody. */
	for (uint32_t p = 1; p <= 0xffff; p++) {
		bool used = false;

		for (size_t i = 0; i < n && !used; i++)
			used = prios[i] == p;
		if (!used) {
			*ret = (uint16_t)p;
			free(prios);
			return 0;
		}
	}
	free(prios);
	return cgfw_seterr(ENOSPC, "no free filter priority on interface %u", ifindex);
}

static int clsact_detach(uint32_t ifindex, const struct cgfw_tc_iface_val *v)
{
	size_t left[2] = { 0, 0 };
	int err = 0;

	for (int dir = 0; dir < 2; dir++) {
		LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = (int)ifindex,
			    .attach_point = dir ? BPF_TC_EGRESS : BPF_TC_INGRESS);
		LIBBPF_OPTS(bpf_tc_opts, opts, .handle = v->handle, .priority = v->prio[dir]);
		int e;

		if (!v->prio[dir])
			continue;
		e = bpf_tc_detach(&hook, &opts);
		if (e && e != -ENOENT && e != -EINVAL && !err)
			err = cgfw_seterr(e, "cannot remove the %s filter of interface %s: %s",
					  dir_name[dir], v->name, strerror(-e));
	}
	if (err || !v->qdisc_created)
		return err;
	/* cgfw made the clsact qdisc: it goes, unless somebody else's filters use it. */
	if (filters_count(ifindex, 0, &left[0]) || filters_count(ifindex, 1, &left[1]))
		return 0;
	if (!left[0] && !left[1]) {
		LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = (int)ifindex,
			    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);

		bpf_tc_hook_destroy(&hook);
	}
	return 0;
}

static int clsact_attach(uint32_t ifindex, const int prog_fd[2], struct cgfw_tc_iface_val *v)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = (int)ifindex, .attach_point = BPF_TC_INGRESS);
	int err;

	err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST)
		return cgfw_seterr(err, "cannot add a clsact qdisc to %s: %s", v->name,
				   strerror(-err));
	v->qdisc_created = err == 0;
	v->handle = CGFW_TC_HANDLE;
	for (int dir = 0; dir < 2; dir++) {
		LIBBPF_OPTS(bpf_tc_opts, opts, .handle = CGFW_TC_HANDLE, .prog_fd = prog_fd[dir]);

		err = free_prio(ifindex, dir, &v->prio[dir]);
		if (err)
			break;
		opts.priority = v->prio[dir];
		hook.attach_point = dir ? BPF_TC_EGRESS : BPF_TC_INGRESS;
		err = bpf_tc_attach(&hook, &opts);
		if (err) {
			v->prio[dir] = 0;
			err = cgfw_seterr(err, "cannot add the %s cls_bpf filter to %s: %s",
					  dir_name[dir], v->name, strerror(-err));
			break;
		}
	}
	if (err)
		clsact_detach(ifindex, v);
	return err;
}

static int clsact_update(uint32_t ifindex, const int prog_fd[2], const struct cgfw_tc_iface_val *v)
{
	for (int dir = 0; dir < 2; dir++) {
		LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = (int)ifindex,
			    .attach_point = dir ? BPF_TC_EGRESS : BPF_TC_INGRESS);
		LIBBPF_OPTS(bpf_tc_opts, opts, .handle = v->handle, .priority = v->prio[dir],
			    .prog_fd = prog_fd[dir], .flags = BPF_TC_F_REPLACE);
		int err = bpf_tc_attach(&hook, &opts);

		if (err)
			return cgfw_seterr(err, "cannot replace the %s filter of %s: %s",
					   dir_name[dir], v->name, strerror(-err));
	}
	return 0;
}

/* ---- attach / detach ---------------------------------------------------------------------- */

static int link_check(const char *ifname, struct cgfw_nl_link *lk, uint8_t *l2_len)
{
	int err = cgfw_nl_link_get(ifname, 0, lk);

	if (err == -ENODEV)
		return cgfw_seterr(EINVAL, "no interface '%s' in this network namespace", ifname);
	if (err)
		return err;
	if (lk->flags & IFF_LOOPBACK)
		return cgfw_seterr(
			EINVAL, "%s is a loopback interface: cgfw never touches loopback", ifname);
	switch (lk->type) {
	case ARPHRD_ETHER:
		*l2_len = 14;
		break;
	case ARPHRD_NONE:
	case ARPHRD_RAWIP:
		*l2_len = 0; /* L3 device: the packet starts with the IP header */
		break;
	default:
		return cgfw_seterr(EINVAL,
				   "interface %s has link type %u: only Ethernet and L3 "
				   "(tun, wireguard) devices are supported",
				   ifname, lk->type);
	}
	return 0;
}

int cgfw_tc_attach(struct cgfw_tc *tc, const char *ifname, const struct cgfw_tc_attach_opts *o,
		   struct cgfw_tc_iface *ret)
{
	struct cgfw_tc_iface_key key;
	struct cgfw_tc_iface_val v, have;
	struct cgfw_tc_meta_val meta;
	struct cgfw_nl_link lk;
	struct cgfw_tc_prog *prog = NULL;
	bool existed, recorded = false;
	uint8_t l2_len = 14;
	int fds[2], err;

	err = link_check(ifname, &lk, &l2_len);
	if (err)
		return err;
	if (o->flags & ~(CGFW_TC_STATEFUL | CGFW_TC_ICMP | CGFW_TC_NO_SSH))
		return cgfw_seterr(EINVAL, "invalid attach flags 0x%x", o->flags);
	iface_key(tc, lk.ifindex, &key);
	existed = bpf_map_lookup_elem(tc->ifaces_fd, &key, &have) == 0;
	if (existed && o->mode && o->mode != have.mode)
		return cgfw_seterr(EINVAL,
				   "%s is attached in %s mode; detach it first to change the "
				   "mode",
				   ifname, have.mode == CGFW_TC_MODE_TCX ? "tcx" : "clsact");
	if (existed) {
		v = have;
	} else {
		memset(&v, 0, sizeof(v));
		err = cgfw_tc_meta_read(tc, &meta);
		if (err)
			return err;
		v.attach_id = meta.next_attach_id ? meta.next_attach_id : 1;
		meta.next_attach_id = v.attach_id + 1;
		err = cgfw_tc_meta_write(tc, &meta);
		if (err)
			return err;
		v.attached_ns = cgfw_now_realtime();
	}
	snprintf(v.name, sizeof(v.name), "%s", lk.name[0] ? lk.name : ifname);
	v.flags = o->flags;
	v.l2_len = l2_len;

	err = cgfw_tc_prog_load(tc, v.flags, v.attach_id, l2_len, &prog);
	if (err)
		return err;
	fds[0] = prog->ingress_fd;
	fds[1] = prog->egress_fd;

	/* What the programs read goes in before the programs. */
	err = cgfw_tc_sync_addrs(tc, v.attach_id, lk.ifindex);
	if (err < 0)
		goto out;
	if (!existed) {
		/* Recorded first so a failed attach can be cleaned up by detach. */
		if (bpf_map_update_elem(tc->ifaces_fd, &key, &v, BPF_ANY) < 0) {
			err = cgfw_seterr(errno, "cannot record %s in %s: %s", ifname,
					  CGFW_TC_IFACES_PIN, strerror(errno));
			goto out;
		}
		recorded = true;
		v.mode = o->mode;
		err = -EOPNOTSUPP;
		if (!v.mode || v.mode == CGFW_TC_MODE_TCX) {
			err = tcx_attach(tc, lk.ifindex, fds);
			if (!err)
				v.mode = CGFW_TC_MODE_TCX;
			else if (v.mode == CGFW_TC_MODE_TCX)
				err = cgfw_seterr(err, "cannot attach tcx links to %s: %s", ifname,
						  strerror(-err));
		}
		if (err && !o->mode) {
			/* No tcx in this kernel: a cls_bpf filter on clsact. */
			v.mode = CGFW_TC_MODE_CLSACT;
			err = clsact_attach(lk.ifindex, fds, &v);
		} else if (o->mode == CGFW_TC_MODE_CLSACT) {
			err = clsact_attach(lk.ifindex, fds, &v);
		}
	} else if (v.mode == CGFW_TC_MODE_TCX) {
		err = tcx_update(tc, lk.ifindex, fds);
	} else {
		err = clsact_update(lk.ifindex, fds, &v);
	}
	if (err)
		goto out;
	v.prog_id[0] = prog_id(fds[0]);
	v.prog_id[1] = prog_id(fds[1]);
	if (bpf_map_update_elem(tc->ifaces_fd, &key, &v, BPF_ANY) < 0) {
		err = cgfw_seterr(errno, "cannot record %s in %s: %s", ifname, CGFW_TC_IFACES_PIN,
				  strerror(errno));
		goto out;
	}
	recorded = false;
	if (ret) {
		struct cgfw_tc_iface *all = NULL;
		size_t n = 0;

		memset(ret, 0, sizeof(*ret));
		if (cgfw_tc_ifaces(tc, &all, &n) == 0)
			for (size_t i = 0; i < n; i++)
				if (all[i].this_netns && all[i].ifindex == lk.ifindex)
					*ret = all[i];
		free(all);
	}
	err = 0;
out:
	if (err && recorded) {
		cgfw_tc_ifaddr_set(tc, v.attach_id, NULL, 0);
		bpf_map_delete_elem(tc->ifaces_fd, &key);
	}
	/* The links and filters hold the programs now. */
	cgfw_tc_prog_free(prog);
	return err;
}

static int detach_one(struct cgfw_tc *tc, uint32_t ifindex, const struct cgfw_tc_iface_val *v,
		      bool present)
{
	struct cgfw_tc_iface_key key;
	int err = 0;

	if (v->mode == CGFW_TC_MODE_TCX) {
		for (int dir = 0; dir < 2; dir++) {
			char p[PATH_MAX];

			link_pin(tc, ifindex, dir, p, sizeof(p));
			if (unlink(p) < 0 && errno != ENOENT && !err)
				err = cgfw_seterr(errno, "cannot remove the tcx link %s: %s", p,
						  strerror(errno));
		}
	} else if (present) {
		err = clsact_detach(ifindex, v);
	}
	if (err)
		return err;
	cgfw_tc_ifaddr_set(tc, v->attach_id, NULL, 0);
	iface_key(tc, ifindex, &key);
	bpf_map_delete_elem(tc->ifaces_fd, &key);
	return 0;
}

int cgfw_tc_detach(struct cgfw_tc *tc, const char *ifname)
{
	struct cgfw_tc_iface_key *keys = NULL, key;
	struct cgfw_tc_iface_val *vals = NULL, v;
	struct cgfw_nl_link lk;
	size_t n = 0;
	int err;

	if (strlen(ifname) >= IF_NAMESIZE)
		return cgfw_seterr(EINVAL, "invalid interface name '%s'", ifname);
	if (cgfw_nl_link_get(ifname, 0, &lk) == 0) {
		iface_key(tc, lk.ifindex, &key);
		if (bpf_map_lookup_elem(tc->ifaces_fd, &key, &v) < 0)
			return cgfw_seterr(EINVAL, "interface %s is not attached", ifname);
		return detach_one(tc, lk.ifindex, &v, true);
	}
	/* The interface is gone (the kernel took its filters): forget it by name. */
	err = cgfw_map_dump(tc->ifaces_fd, sizeof(*keys), sizeof(*vals), (void **)&keys,
			    (void **)&vals, &n);
	if (err)
		return cgfw_seterr(err, "cannot read %s: %s", CGFW_TC_IFACES_PIN, strerror(-err));
	err = cgfw_seterr(EINVAL, "interface %s is not attached", ifname);
	for (size_t i = 0; i < n; i++)
		if (keys[i].netns == tc->netns &&
		    !strncmp(vals[i].name, ifname, sizeof(vals[i].name)))
			err = detach_one(tc, keys[i].ifindex, &vals[i], false);
	free(keys);
	free(vals);
	return err;
}

static int cmp_iface(const void *a, const void *b)
{
	const struct cgfw_tc_iface *x = a, *y = b;

	if (x->this_netns != y->this_netns)
		return x->this_netns ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int iface_conv(const void *key, const void *val, void *out, void *arg)
{
	const struct cgfw_tc_iface_key *k = key;
	const struct cgfw_tc_iface_val *v = val;
	struct cgfw_tc_iface *o = out;
	struct cgfw_tc *tc = arg;
	struct cgfw_tc_ifaddr_key *a = NULL;
	size_t na = 0;

	snprintf(o->name, sizeof(o->name), "%.*s", (int)sizeof(v->name), v->name);
	o->ifindex = k->ifindex;
	o->netns = k->netns;
	o->this_netns = k->netns == tc->netns;
	o->flags = v->flags;
	o->mode = v->mode;
	o->qdisc_created = v->qdisc_created;
	o->prio[0] = v->prio[0];
	o->prio[1] = v->prio[1];
	o->handle = v->handle;
	o->attach_id = v->attach_id;
	o->attached_ns = v->attached_ns;
	if (o->this_netns) {
		if (v->mode == CGFW_TC_MODE_TCX)
			o->live = tcx_live(tc, o->ifindex, 0) && tcx_live(tc, o->ifindex, 1);
		else
			o->live = clsact_live(o->ifindex, v, 0) && clsact_live(o->ifindex, v, 1);
	}
	if (ifaddr_dump(tc, v->attach_id, &a, &na) == 0) {
		o->naddrs = na;
		for (size_t j = 0; j < na && j < CGFW_TC_MAX_SHOWN_ADDRS; j++) {
			o->addrs[j].family = a[j].family;
			o->addrs[j].len = a[j].family == CGFW_FAMILY_INET ? 32 : 128;
			memcpy(o->addrs[j].addr, a[j].addr, 16);
		}
		free(a);
	}
	return 1;
}

int cgfw_tc_ifaces(struct cgfw_tc *tc, struct cgfw_tc_iface **ret, size_t *ret_n)
{
	struct cgfw_tc_iface *out;
	size_t n;
	int err;

	err = cgfw_map_collect(tc->ifaces_fd, CGFW_TC_IFACES_PIN, sizeof(struct cgfw_tc_iface_key),
			       sizeof(struct cgfw_tc_iface_val), sizeof(*out), iface_conv, tc,
			       (void **)&out, &n);
	if (err)
		return err;
	qsort(out, n, sizeof(*out), cmp_iface);
	*ret = out;
	*ret_n = n;
	return 0;
}

/* ---- reloading (the rule set's map was replaced) ---------------------------------------------- */

/* Does the ingress program (the one that reads the rules) read the map @map_id? */
static bool progs_read(const __u32 ids[2], uint32_t map_id)
{
	for (int dir = 0; dir < 1; dir++) {
		struct bpf_prog_info pi;
		__u32 maps[64], len = sizeof(pi);
		bool found = false;
		int fd = ids[dir] ? bpf_prog_get_fd_by_id(ids[dir]) : -1;

		if (fd < 0)
			return false;
		memset(&pi, 0, sizeof(pi));
		pi.nr_map_ids = CGFW_ARRAY_SIZE(maps);
		pi.map_ids = (__u64)(unsigned long)maps;
		if (bpf_obj_get_info_by_fd(fd, &pi, &len) == 0)
			for (__u32 k = 0; k < pi.nr_map_ids && k < CGFW_ARRAY_SIZE(maps); k++)
				found |= maps[k] == map_id;
		close(fd);
		if (!found)
			return false;
	}
	return true;
}

static uint32_t map_id(int fd)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	return bpf_obj_get_info_by_fd(fd, &info, &len) == 0 ? info.id : 0;
}

int cgfw_tc_reload(struct cgfw_tc *tc, bool check_only, bool stale_only)
{
	_cleanup_free_ struct cgfw_tc_iface_key *keys = NULL;
	_cleanup_free_ struct cgfw_tc_iface_val *vals = NULL;
	uint32_t rtab = map_id(tc->rtab_fd);
	size_t n = 0, done = 0;
	int err;

	err = cgfw_map_dump(tc->ifaces_fd, sizeof(*keys), sizeof(*vals), (void **)&keys,
			    (void **)&vals, &n);
	if (err)
		return cgfw_seterr(err, "cannot read %s: %s", CGFW_TC_IFACES_PIN, strerror(-err));
	for (size_t i = 0; i < n; i++) {
		struct cgfw_tc_iface_val *v = &vals[i];
		struct cgfw_tc_prog *prog = NULL;
		int fds[2];

		if (stale_only && progs_read(v->prog_id, rtab))
			continue;
		/* A filter in another namespace is out of reach; a tcx link is not. */
		if (v->mode != CGFW_TC_MODE_TCX && keys[i].netns != tc->netns) {
			if (check_only)
				return cgfw_seterr(
					EBUSY,
					"the TC rule set must grow, and interface %s is "
					"attached in another network namespace (%llu) with "
					"clsact, where its programs cannot be replaced from "
					"here: run the change in that namespace, or detach it "
					"there first",
					v->name, (unsigned long long)keys[i].netns);
			continue;
		}
		if (check_only)
			continue;
		err = cgfw_tc_prog_load(tc, v->flags, v->attach_id, v->l2_len, &prog);
		if (err)
			return err;
		fds[0] = prog->ingress_fd;
		fds[1] = prog->egress_fd;
		if (v->mode == CGFW_TC_MODE_TCX) {
			for (int dir = 0; dir < 2 && !err; dir++) {
				char name[96], p[PATH_MAX];
				int fd;

				snprintf(name, sizeof(name), CGFW_LINKS_DIR "/tc-%llu-%u-%s",
					 (unsigned long long)keys[i].netns, keys[i].ifindex,
					 dir_name[dir]);
				cgfw_pin_path(tc->pin, name, p, sizeof(p));
				fd = bpf_obj_get(p);
				if (fd < 0)
					continue; /* gone with its interface: listed as such */
				err = bpf_link_update(fd, fds[dir], NULL) < 0 ? -errno : 0;
				close(fd);
				if (err)
					err = cgfw_seterr(err,
							  "cannot update the tcx link of %s: %s",
							  v->name, strerror(-err));
			}
		} else {
			err = clsact_update(keys[i].ifindex, fds, v);
		}
		if (!err) {
			v->prog_id[0] = prog_id(fds[0]);
			v->prog_id[1] = prog_id(fds[1]);
			bpf_map_update_elem(tc->ifaces_fd, &keys[i], v, BPF_ANY);
			done++;
		}
		cgfw_tc_prog_free(prog);
		if (err == -ENODEV || err == -ENOENT)
			err = 0; /* the interface went meanwhile */
		if (err)
			return err;
	}
	return (int)done;
}
