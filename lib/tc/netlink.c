// SPDX-License-Identifier: GPL-2.0-only
/*
 * rtnetlink over libmnl: the local routes tproxy needs, interface addresses
 * for the ssh exception, filter priorities for the clsact fallback, links.
 * Requests go out in batches with their acknowledgements read back per
 * batch, so a hundred thousand routes cost a few dozen system calls.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>

#include "internal.h"

#define NL_BUF	    (64 * 1024)
#define NL_INFLIGHT 256

static struct mnl_socket *nl_open(unsigned groups)
{
	struct mnl_socket *nl = mnl_socket_open(NETLINK_ROUTE);
	int one = 1, rcv = 4 * 1024 * 1024;

	if (!nl)
		return NULL;
	/* Acks without the request echoed back; room for a batch of them. */
	mnl_socket_setsockopt(nl, NETLINK_CAP_ACK, &one, sizeof(one));
	setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	if (mnl_socket_bind(nl, groups, MNL_SOCKET_AUTOPID) < 0) {
		int e = errno;

		mnl_socket_close(nl);
		errno = e;
		return NULL;
	}
	return nl;
}

/*
 * How much of a reply holds whole messages. libmnl's mnl_nlmsg_ok() takes a
 * message length of 2 GiB or more for a negative one, and would walk off the
 * buffer: a reply ends before such a message (the kernel sends none).
 */
static size_t nl_whole(const void *buf, size_t len)
{
	size_t off = 0;

	while (len - off >= sizeof(struct nlmsghdr)) {
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)((const char *)buf + off);

		if (nlh->nlmsg_len < sizeof(*nlh) || nlh->nlmsg_len > len - off)
			break;
		off += MNL_ALIGN(nlh->nlmsg_len);
		if (off > len)
			off = len;
	}
	return off;
}

int cgfw_nl_cb_run(const void *buf, size_t len, uint32_t seq, uint32_t portid, mnl_cb_t cb,
		   void *data)
{
	return mnl_cb_run(buf, nl_whole(buf, len), seq, portid, cb, data);
}

/* ---- links ---------------------------------------------------------------- */

int cgfw_nl_link_cb(const struct nlmsghdr *nlh, void *data)
{
	struct cgfw_nl_link *l = data;
	struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	struct nlattr *a;

	/* The fixed header must be there before anything is read from it. */
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifi))
		return MNL_CB_OK;
	l->ifindex = (uint32_t)ifi->ifi_index;
	l->type = ifi->ifi_type;
	l->flags = ifi->ifi_flags;
	mnl_attr_for_each(a, nlh, sizeof(*ifi))
	{
		if (mnl_attr_get_type(a) == IFLA_IFNAME &&
		    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) >= 0)
			snprintf(l->name, sizeof(l->name), "%s", mnl_attr_get_str(a));
	}
	return MNL_CB_OK;
}

/* One request, one answer (or an error). */
static int nl_request(struct mnl_socket *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	unsigned portid = mnl_socket_get_portid(nl);
	ssize_t n;
	int ret;

	nlh->nlmsg_seq = (uint32_t)time(NULL);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	do {
		n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (n < 0)
			return -errno;
		ret = cgfw_nl_cb_run(buf, (size_t)n, nlh->nlmsg_seq, portid, cb, data);
	} while (ret > 0);
	return ret < 0 ? -errno : 0;
}

int cgfw_nl_link_get(const char *name, uint32_t ifindex, struct cgfw_nl_link *ret)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct cgfw_nl_link lk = {};
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;
	int err;

	if (name && strlen(name) >= IF_NAMESIZE)
		return cgfw_seterr(EINVAL, "invalid interface name '%s'", name);
	nl = nl_open(0);
	if (!nl)
		return cgfw_seterr(errno, "cannot open a netlink socket: %s", strerror(errno));
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETLINK;
	/* The ack ends the exchange after the one answer. */
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = (int)ifindex;
	if (name)
		mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	err = nl_request(nl, nlh, cgfw_nl_link_cb, &lk);
	mnl_socket_close(nl);
	if (err == -ENODEV || err == -ENOENT || (!err && !lk.ifindex)) {
		if (name)
			return cgfw_seterr(ENODEV, "no interface '%s' in this network namespace",
					   name);
		return cgfw_seterr(ENODEV, "no interface with index %u in this network namespace",
				   ifindex);
	}
	if (err)
		return cgfw_seterr(err, "cannot query interface %s: %s", name ? name : "?",
				   strerror(-err));
	*ret = lk;
	return 0;
}

/* ---- routes --------------------------------------------------------------- */

static void put_route(char *buf, bool add, const struct cgfw_prefix *p, uint32_t seq,
		      uint32_t lo_index)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rtm;

	nlh->nlmsg_type = add ? RTM_NEWROUTE : RTM_DELROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | (add ? NLM_F_CREATE | NLM_F_EXCL : 0);
	nlh->nlmsg_seq = seq;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = p->family == CGFW_FAMILY_INET ? AF_INET : AF_INET6;
	rtm->rtm_dst_len = p->len;
	rtm->rtm_table = RT_TABLE_LOCAL;
	/* Our own protocol: a delete never takes a route somebody else added. */
	rtm->rtm_protocol = CGFW_TC_RTPROT;
	rtm->rtm_scope = RT_SCOPE_HOST;
	rtm->rtm_type = RTN_LOCAL;
	mnl_attr_put(nlh, RTA_DST, p->family == CGFW_FAMILY_INET ? 4 : 16, p->addr);
	mnl_attr_put_u32(nlh, RTA_OIF, lo_index);
}

size_t cgfw_nl_acks_parse(const void *buf, size_t len, uint32_t base, size_t count, int *errs)
{
	const struct nlmsghdr *nlh = buf;
	int left = (int)nl_whole(buf, len);
	size_t got = 0;

	for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
		const struct nlmsgerr *e;
		uint32_t i;

		if (nlh->nlmsg_type != NLMSG_ERROR ||
		    mnl_nlmsg_get_payload_len(nlh) < sizeof(e->error))
			continue;
		e = mnl_nlmsg_get_payload(nlh);
		i = nlh->nlmsg_seq - base;
		/* One ack per request: a repeated one does not count twice. */
		if (i < count && errs[i] == 1) {
			errs[i] = e->error;
			got++;
		}
	}
	return got;
}

/* Read acks for sequence numbers [base, base + count) into errs[] (1: none yet). */
static int read_acks(struct mnl_socket *nl, uint32_t base, size_t count, int *errs)
{
	char buf[NL_BUF];
	size_t got = 0;

	while (got < count) {
		ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof(buf));

		if (n < 0)
			return -errno;
		got += cgfw_nl_acks_parse(buf, (size_t)n, base, count, errs);
	}
	return 0;
}

int cgfw_nl_local_routes(bool add, const struct cgfw_prefix *p, size_t n, int *errs)
{
	struct mnl_socket *nl;
	unsigned lo = if_nametoindex("lo");
	char *buf;
	uint32_t base = (uint32_t)time(NULL) << 8;
	size_t i = 0;
	int err = 0;

	if (!n)
		return 0;
	if (!lo)
		return cgfw_seterr(ENODEV, "no loopback interface in this network namespace");
	buf = malloc(NL_BUF);
	nl = nl_open(0);
	if (!buf || !nl) {
		err = cgfw_seterr(errno ? errno : ENOMEM, "cannot open a netlink socket: %s",
				  strerror(errno));
		goto out;
	}
	while (i < n) {
		size_t first = i, off = 0;

		/* A batch: as many requests as fit, at most NL_INFLIGHT acks pending. */
		while (i < n && i - first < NL_INFLIGHT && off + 256 <= NL_BUF) {
			put_route(buf + off, add, &p[i], base + (uint32_t)i, lo);
			off += ((struct nlmsghdr *)(buf + off))->nlmsg_len;
			errs[i] = 1; /* no ack yet */
			i++;
		}
		if (mnl_socket_sendto(nl, buf, off) < 0) {
			err = cgfw_seterr(errno, "cannot send routes over netlink: %s",
					  strerror(errno));
			goto out;
		}
		err = read_acks(nl, base + (uint32_t)first, i - first, errs + first);
		if (err) {
			err = cgfw_seterr(err, "cannot read netlink acknowledgements: %s",
					  strerror(-err));
			goto out;
		}
	}
out:
	if (nl)
		mnl_socket_close(nl);
	free(buf);
	return err;
}

/* ---- addresses -------------------------------------------------------------- */

int cgfw_nl_addr_cb(const struct nlmsghdr *nlh, void *data)
{
	struct cgfw_nl_addr_acc *acc = data;
	struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	const void *local = NULL, *address = NULL;
	struct cgfw_prefix p = {};
	struct nlattr *a;
	size_t alen;

	if (nlh->nlmsg_type != RTM_NEWADDR || mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifa) ||
	    ifa->ifa_index != acc->ifindex)
		return MNL_CB_OK;
	if (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6)
		return MNL_CB_OK;
	alen = ifa->ifa_family == AF_INET ? 4 : 16;
	mnl_attr_for_each(a, nlh, sizeof(*ifa))
	{
		/* An address shorter than its family's is no address. */
		if (mnl_attr_get_payload_len(a) < alen)
			continue;
		if (mnl_attr_get_type(a) == IFA_LOCAL)
			local = mnl_attr_get_payload(a);
		else if (mnl_attr_get_type(a) == IFA_ADDRESS)
			address = mnl_attr_get_payload(a);
	}
	/* IFA_LOCAL is the address itself (IFA_ADDRESS is the peer on point-to-point links). */
	if (!local)
		local = address;
	if (!local)
		return MNL_CB_OK;
	p.family = ifa->ifa_family == AF_INET ? CGFW_FAMILY_INET : CGFW_FAMILY_INET6;
	p.len = p.family == CGFW_FAMILY_INET ? 32 : 128;
	memcpy(p.addr, local, alen);
	if (acc->n == acc->cap) {
		struct cgfw_prefix *m = realloc(acc->v, (acc->cap = acc->cap * 2 + 8) * sizeof(*m));

		if (!m) {
			acc->err = -ENOMEM;
			return MNL_CB_ERROR;
		}
		acc->v = m;
	}
	acc->v[acc->n++] = p;
	return MNL_CB_OK;
}

int cgfw_nl_addrs(uint32_t ifindex, struct cgfw_prefix **ret, size_t *ret_n)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct cgfw_nl_addr_acc acc = { .ifindex = ifindex };
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;
	int err;

	nl = nl_open(0);
	if (!nl)
		return cgfw_seterr(errno, "cannot open a netlink socket: %s", strerror(errno));
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETADDR;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_UNSPEC;
	err = nl_request(nl, nlh, cgfw_nl_addr_cb, &acc);
	mnl_socket_close(nl);
	if (acc.err)
		err = acc.err;
	if (err) {
		free(acc.v);
		return cgfw_seterr(err, "cannot list the addresses of interface %u: %s", ifindex,
				   strerror(-err));
	}
	*ret = acc.v;
	*ret_n = acc.n;
	return 0;
}

/* ---- filters ---------------------------------------------------------------- */

int cgfw_nl_filter_cb(const struct nlmsghdr *nlh, void *data)
{
	struct cgfw_nl_prio_acc *acc = data;
	struct tcmsg *t = mnl_nlmsg_get_payload(nlh);
	uint16_t prio;

	if (nlh->nlmsg_type != RTM_NEWTFILTER || mnl_nlmsg_get_payload_len(nlh) < sizeof(*t))
		return MNL_CB_OK;
	prio = (uint16_t)(TC_H_MAJ(t->tcm_info) >> 16);
	for (size_t i = 0; i < acc->n; i++)
		if (acc->v[i] == prio)
			return MNL_CB_OK;
	if (acc->n == acc->cap) {
		uint16_t *m = realloc(acc->v, (acc->cap = acc->cap * 2 + 8) * sizeof(*m));

		if (!m) {
			acc->err = -ENOMEM;
			return MNL_CB_ERROR;
		}
		acc->v = m;
	}
	acc->v[acc->n++] = prio;
	return MNL_CB_OK;
}

int cgfw_nl_filter_prios(uint32_t ifindex, uint32_t parent, uint16_t **ret, size_t *ret_n)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct cgfw_nl_prio_acc acc = {};
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	struct tcmsg *t;
	int err;

	nl = nl_open(0);
	if (!nl)
		return cgfw_seterr(errno, "cannot open a netlink socket: %s", strerror(errno));
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETTFILTER;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	t = mnl_nlmsg_put_extra_header(nlh, sizeof(*t));
	t->tcm_family = AF_UNSPEC;
	t->tcm_ifindex = (int)ifindex;
	t->tcm_parent = parent;
	err = nl_request(nl, nlh, cgfw_nl_filter_cb, &acc);
	mnl_socket_close(nl);
	if (acc.err)
		err = acc.err;
	/* No clsact qdisc: no filters. */
	if (err == -EINVAL || err == -ENOENT)
		err = 0;
	if (err) {
		free(acc.v);
		return cgfw_seterr(err, "cannot list the filters of interface %u: %s", ifindex,
				   strerror(-err));
	}
	*ret = acc.v;
	*ret_n = acc.n;
	return 0;
}

/* ---- address watch (cgfw tc sync --watch) ------------------------------------------ */

static struct mnl_socket *watch_nl;

int cgfw_nl_watch_open(void)
{
	watch_nl = nl_open(RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR | RTMGRP_LINK);
	if (!watch_nl)
		return cgfw_seterr(errno, "cannot subscribe to address changes: %s",
				   strerror(errno));
	return mnl_socket_get_fd(watch_nl);
}

void cgfw_nl_watch_close(int fd)
{
	if (watch_nl && mnl_socket_get_fd(watch_nl) == fd) {
		mnl_socket_close(watch_nl);
		watch_nl = NULL;
	}
}

/* 1 when something changed, 0 on timeout, -errno. Drains what is pending. */
int cgfw_nl_watch_wait(int fd, int timeout_ms)
{
	char buf[NL_BUF];
	struct timeval tv = { .tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000 };
	fd_set set;
	int r;

	FD_ZERO(&set);
	FD_SET(fd, &set);
	r = select(fd + 1, &set, NULL, NULL, &tv);
	if (r <= 0)
		return r < 0 ? -errno : 0;
	while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
	return 1;
}
