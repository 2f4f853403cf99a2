// SPDX-License-Identifier: GPL-2.0-only
/*
 * The TC state: pinned maps under the same root (and lock) as the cgroup
 * state, created on first use by loading the TC object once with its
 * programs switched off. The rule table proper is an inner map of
 * cgfw_tc_rtab that user space replaces with a bigger one when it fills.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "tc_internal.h"
#include "cgfw_tc.skel.h"

uint64_t cgfw_netns_id(void)
{
	struct stat s;

	return stat("/proc/self/ns/net", &s) == 0 ? (uint64_t)s.st_ino : 0;
}

static int debug_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	/* libbpf's own log (the verifier's among it) for whoever debugs a load. */
	if (getenv("CGFW_DEBUG"))
		return vfprintf(stderr, fmt, ap);
	return 0;
}

void cgfw_tc_skel_free(void *skel)
{
	cgfw_tc_bpf__destroy(skel);
}

int cgfw_tc_skel_prog_fds(void *skel, int *ret_in, int *ret_eg)
{
	struct cgfw_tc_bpf *s = skel;

	*ret_in = bpf_program__fd(s->progs.cgfw_tc_ingress);
	*ret_eg = bpf_program__fd(s->progs.cgfw_tc_egress);
	return 0;
}

int cgfw_tc_skel_load(struct cgfw_tc *tc, uint32_t flags, uint32_t attach_id, uint32_t l2_len,
		      bool progs, void **ret_skel)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = tc->st->root);
	struct cgfw_tc_bpf *skel;
	int err;

	*ret_skel = NULL;
	libbpf_set_print(debug_print);
	skel = cgfw_tc_bpf__open_opts(&opts);
	if (!skel)
		return cgfw_seterr(errno, "cannot open the TC BPF object: %s", strerror(errno));
	skel->rodata->cgfw_flags = flags;
	skel->rodata->cgfw_attach_id = attach_id;
	skel->rodata->cgfw_l2_len = l2_len;
	if (!progs) {
		/* Only the maps: created and pinned by name. */
		bpf_program__set_autoload(skel->progs.cgfw_tc_ingress, false);
		bpf_program__set_autoload(skel->progs.cgfw_tc_egress, false);
	}
	err = cgfw_tc_bpf__load(skel);
	if (err) {
		cgfw_tc_bpf__destroy(skel);
		return cgfw_seterr(
			err,
			progs ? "cannot load the TC programs (verifier or map mismatch under "
				"%s; CGFW_DEBUG=1 shows libbpf's log): %s" :
				"cannot create the TC maps under %s: %s",
			tc->st->root, strerror(-err));
	}
	*ret_skel = skel;
	return 0;
}

static int obj_get(struct cgfw_tc *tc, const char *name, int *fd)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", tc->st->root, name);
	*fd = bpf_obj_get(path);
	return *fd < 0 ? -errno : 0;
}

static int open_maps(struct cgfw_tc *tc)
{
	struct {
		const char *name;
		int *fd;
	} maps[] = {
		{ CGFW_TC_META_PIN, &tc->meta_fd },
		{ CGFW_TC_RTAB_PIN, &tc->rtab_fd },
		{ CGFW_TC_LENS_PIN, &tc->lens_fd },
		{ CGFW_TC_IFACES_PIN, &tc->ifaces_fd },
		{ CGFW_TC_IFADDR_PIN, &tc->ifaddr_fd },
		{ CGFW_TC_CONN_PIN, &tc->conn_fd },
		{ CGFW_TC_UDPFLOW_PIN, &tc->udpflow_fd },
		{ CGFW_TC_STATS_PIN, &tc->stats_fd },
		{ CGFW_TC_ROUTES_PIN, &tc->routes_fd },
		{ CGFW_EVENTS_PIN, &tc->events_fd },
		{ CGFW_EVRATE_PIN, &tc->evrate_fd },
	};

	for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		int err = obj_get(tc, maps[i].name, maps[i].fd);

		if (err)
			return err;
	}
	return 0;
}

static void close_fds(struct cgfw_tc *tc)
{
	int *fds[] = { &tc->rtab_fd,   &tc->lens_fd,	&tc->ifaces_fd, &tc->ifaddr_fd,
		       &tc->conn_fd,   &tc->udpflow_fd, &tc->meta_fd,	&tc->stats_fd,
		       &tc->routes_fd, &tc->events_fd,	&tc->evrate_fd, &tc->table_fd };

	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

static int new_table(uint32_t max)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_NO_PREALLOC);

	return bpf_map_create(BPF_MAP_TYPE_HASH, "cgfw_tc_table", sizeof(struct cgfw_tc_key),
			      sizeof(struct cgfw_tc_val), max, &opts);
}

static int create_maps(struct cgfw_tc *tc)
{
	struct cgfw_tc_meta_val meta = { .next_rule_id = 1, .next_attach_id = 1 };
	struct cgfw_tc_lens_val lens;
	void *skel;
	__u32 k;
	int err, fd;

	err = cgfw_tc_skel_load(tc, 0, 0, 14, false, &skel);
	if (err)
		return err;
	cgfw_tc_skel_free(skel);
	err = open_maps(tc);
	if (err)
		return cgfw_seterr(err, "TC maps under %s vanished after creation: %s",
				   tc->st->root, strerror(-err));
	memset(&lens, 0, sizeof(lens));
	for (k = 1; k < CGFW_LENS_SLOTS; k++)
		if (bpf_map_update_elem(tc->lens_fd, &k, &lens, BPF_ANY) < 0)
			return cgfw_seterr(errno, "cannot initialise %s: %s", CGFW_TC_LENS_PIN,
					   strerror(errno));
	lens.active = 1;
	k = 0;
	if (bpf_map_update_elem(tc->lens_fd, &k, &lens, BPF_ANY) < 0)
		return cgfw_seterr(errno, "cannot initialise %s: %s", CGFW_TC_LENS_PIN,
				   strerror(errno));
	fd = new_table(CGFW_TC_TABLE_MIN);
	if (fd < 0)
		return cgfw_seterr(errno, "cannot create the TC rule table: %s", strerror(errno));
	err = bpf_map_update_elem(tc->rtab_fd, &k, &fd, BPF_ANY) < 0 ? -errno : 0;
	close(fd);
	if (err)
		return cgfw_seterr(err, "cannot install the TC rule table: %s", strerror(-err));
	/* Written last: a state without a version is an unfinished one. */
	meta.layout_version = CGFW_TC_LAYOUT_VERSION;
	meta.created_ns = cgfw_now_realtime();
	if (bpf_map_update_elem(tc->meta_fd, &k, &meta, BPF_ANY) < 0)
		return cgfw_seterr(errno, "cannot write %s: %s", CGFW_TC_META_PIN, strerror(errno));
	return 0;
}

int cgfw_tc_open(unsigned flags, struct cgfw_tc **ret)
{
	struct cgfw_tc_meta_val meta = {};
	struct cgfw_tc *tc;
	bool create = flags & CGFW_OPEN_CREATE;
	__u32 zero = 0;
	int err;

	*ret = NULL;
	tc = calloc(1, sizeof(*tc));
	if (!tc)
		return cgfw_seterr(ENOMEM, "out of memory");
	tc->rtab_fd = tc->lens_fd = tc->ifaces_fd = tc->ifaddr_fd = tc->conn_fd = -1;
	tc->udpflow_fd = tc->meta_fd = tc->stats_fd = tc->routes_fd = -1;
	tc->events_fd = tc->evrate_fd = tc->table_fd = -1;
	tc->netns = cgfw_netns_id();
	err = cgfw_state_open(flags, &tc->st);
	if (err)
		goto fail;
	err = open_maps(tc);
	if (!err && (bpf_map_lookup_elem(tc->meta_fd, &zero, &meta) < 0 || !meta.layout_version))
		err = -ENOENT; /* created, but not finished */
	if (err == -ENOENT && create) {
		close_fds(tc);
		err = create_maps(tc);
	} else if (err == -ENOENT) {
		err = cgfw_seterr(ENOENT, "no TC state under %s: nothing is attached",
				  tc->st->root);
	} else if (err) {
		err = cgfw_seterr(err, "cannot open the TC maps under %s: %s", tc->st->root,
				  strerror(-err));
	}
	if (err)
		goto fail;
	if (bpf_map_lookup_elem(tc->meta_fd, &zero, &meta) < 0 ||
	    meta.layout_version != CGFW_TC_LAYOUT_VERSION) {
		err = cgfw_seterr(EPROTO,
				  "the TC state under %s has layout version %u, this cgfw uses %u; "
				  "run 'cgfw reset --yes' to start over",
				  tc->st->root, meta.layout_version, CGFW_TC_LAYOUT_VERSION);
		goto fail;
	}
	*ret = tc;
	return 0;
fail:
	cgfw_tc_close(tc);
	return err;
}

void cgfw_tc_close(struct cgfw_tc *tc)
{
	if (!tc)
		return;
	close_fds(tc);
	cgfw_state_close(tc->st);
	free(tc);
}

int cgfw_tc_table(struct cgfw_tc *tc, int *ret_fd, uint32_t *ret_max)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info), zero = 0, id;

	if (tc->table_fd < 0) {
		if (bpf_map_lookup_elem(tc->rtab_fd, &zero, &id) < 0)
			return cgfw_seterr(errno, "no TC rule table in %s: %s", CGFW_TC_RTAB_PIN,
					   strerror(errno));
		tc->table_fd = bpf_map_get_fd_by_id(id);
		if (tc->table_fd < 0)
			return cgfw_seterr(errno, "cannot open the TC rule table: %s",
					   strerror(errno));
	}
	*ret_fd = tc->table_fd;
	if (ret_max) {
		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(tc->table_fd, &info, &len) < 0)
			return cgfw_seterr(errno, "cannot query the TC rule table: %s",
					   strerror(errno));
		*ret_max = info.max_entries;
	}
	return 0;
}

int cgfw_tc_table_grow(struct cgfw_tc *tc, uint32_t want)
{
	void *keys = NULL, *vals = NULL;
	uint32_t old_max, max;
	size_t n = 0, done = 0;
	__u32 zero = 0;
	int old_fd, fd, err;

	err = cgfw_tc_table(tc, &old_fd, &old_max);
	if (err)
		return err;
	max = old_max < CGFW_TC_TABLE_MIN ? CGFW_TC_TABLE_MIN : old_max;
	while (max < want) {
		if (max >= (1u << 31))
			return cgfw_seterr(ENOSPC, "the TC rule table cannot hold %u entries",
					   want);
		max *= 2;
	}
	if (max == old_max)
		return 0;
	fd = new_table(max);
	if (fd < 0)
		return cgfw_seterr(errno,
				   "cannot grow the TC rule table to %u entries: %s (it holds %u; "
				   "the limit is kernel memory)",
				   max, strerror(errno), old_max);
	err = cgfw_map_dump(old_fd, sizeof(struct cgfw_tc_key), sizeof(struct cgfw_tc_val), &keys,
			    &vals, &n);
	if (err) {
		err = cgfw_seterr(err, "cannot read the TC rule table: %s", strerror(-err));
		goto out;
	}
	while (done < n) {
		LIBBPF_OPTS(bpf_map_batch_opts, opts);
		__u32 cnt = (__u32)(n - done > 65536 ? 65536 : n - done);

		if (bpf_map_update_batch(fd, (char *)keys + done * sizeof(struct cgfw_tc_key),
					 (char *)vals + done * sizeof(struct cgfw_tc_val), &cnt,
					 &opts) < 0) {
			err = cgfw_seterr(errno,
					  "cannot copy the TC rule table (%zu of %zu entries): %s "
					  "(the limit is kernel memory)",
					  done + cnt, n, strerror(errno));
			goto out;
		}
		done += cnt;
	}
	/* Packets see the old table or the new one, both complete. */
	if (bpf_map_update_elem(tc->rtab_fd, &zero, &fd, BPF_ANY) < 0) {
		err = cgfw_seterr(errno, "cannot install the grown TC rule table: %s",
				  strerror(errno));
		goto out;
	}
	close(old_fd);
	tc->table_fd = fd;
	fd = -1;
out:
	if (fd >= 0)
		close(fd);
	free(keys);
	free(vals);
	return err;
}

int cgfw_tc_meta_read(struct cgfw_tc *tc, struct cgfw_tc_meta_val *ret)
{
	__u32 zero = 0;

	if (bpf_map_lookup_elem(tc->meta_fd, &zero, ret) < 0)
		return cgfw_seterr(errno, "cannot read %s: %s", CGFW_TC_META_PIN, strerror(errno));
	return 0;
}

int cgfw_tc_meta_write(struct cgfw_tc *tc, const struct cgfw_tc_meta_val *v)
{
	__u32 zero = 0;

	if (bpf_map_update_elem(tc->meta_fd, &zero, v, BPF_ANY) < 0)
		return cgfw_seterr(errno, "cannot write %s: %s", CGFW_TC_META_PIN, strerror(errno));
	return 0;
}

int cgfw_tc_lens_read(struct cgfw_tc *tc, struct cgfw_tc_lens_val *ret)
{
	struct cgfw_tc_lens_val ctl;
	__u32 k = 0;

	if (bpf_map_lookup_elem(tc->lens_fd, &k, &ctl) < 0)
		return cgfw_seterr(errno, "cannot read %s: %s", CGFW_TC_LENS_PIN, strerror(errno));
	k = ctl.active == 2 ? 2 : 1;
	if (bpf_map_lookup_elem(tc->lens_fd, &k, ret) < 0)
		return cgfw_seterr(errno, "cannot read %s: %s", CGFW_TC_LENS_PIN, strerror(errno));
	return 0;
}

/* Rebuild the lists from the counts, write the inactive slot, then flip. */
int cgfw_tc_lens_publish(struct cgfw_tc *tc, struct cgfw_tc_lens_val *v)
{
	struct cgfw_tc_lens_val ctl;
	__u32 k = 0, slot;

	memset(&v->v4, 0, sizeof(v->v4));
	memset(&v->v6, 0, sizeof(v->v6));
	for (int l = CGFW_LEN4_MAX - 1; l >= 0; l--)
		if (v->count4[l]) {
			v->v4.kind[v->v4.n] = 1;
			v->v4.len[v->v4.n++] = (__u8)l;
		}
	for (int l = CGFW_LEN6_MAX - 1; l >= 0; l--)
		if (v->count6[l]) {
			v->v6.kind[v->v6.n] = 1;
			v->v6.len[v->v6.n++] = (__u8)l;
		}
	if (bpf_map_lookup_elem(tc->lens_fd, &k, &ctl) < 0)
		return cgfw_seterr(errno, "cannot read %s: %s", CGFW_TC_LENS_PIN, strerror(errno));
	slot = ctl.active == 2 ? 1 : 2;
	v->active = 0;
	if (bpf_map_update_elem(tc->lens_fd, &slot, v, BPF_ANY) < 0)
		return cgfw_seterr(errno, "cannot write %s: %s", CGFW_TC_LENS_PIN, strerror(errno));
	ctl.active = slot;
	if (bpf_map_update_elem(tc->lens_fd, &k, &ctl, BPF_ANY) < 0)
		return cgfw_seterr(errno, "cannot write %s: %s", CGFW_TC_LENS_PIN, strerror(errno));
	return 0;
}

int cgfw_tc_stats_get(struct cgfw_tc *tc, struct cgfw_tc_stats *ret)
{
	int ncpu = libbpf_num_possible_cpus();
	struct cgfw_tc_stat_val *per;
	struct cgfw_tc_meta_val meta;
	struct cgfw_tc_rule *rules = NULL;
	size_t n = 0;
	int fd, err;

	memset(ret, 0, sizeof(*ret));
	if (ncpu <= 0)
		return cgfw_seterr(EIO, "cannot count CPUs");
	per = calloc((size_t)ncpu, sizeof(*per));
	if (!per)
		return cgfw_seterr(ENOMEM, "out of memory");
	for (__u32 k = 0; k < 2 * CGFW_TC_R_COUNT; k++) {
		if (bpf_map_lookup_elem(tc->stats_fd, &k, per) < 0)
			continue;
		for (int c = 0; c < ncpu; c++) {
			ret->packets[k / CGFW_TC_R_COUNT][k % CGFW_TC_R_COUNT] += per[c].packets;
			ret->bytes[k / CGFW_TC_R_COUNT][k % CGFW_TC_R_COUNT] += per[c].bytes;
		}
	}
	free(per);
	err = cgfw_tc_meta_read(tc, &meta);
	if (!err)
		err = cgfw_tc_table(tc, &fd, &ret->table_capacity);
	if (!err)
		err = cgfw_tc_rules_list(tc, 0, &rules, &n);
	if (err)
		return err;
	ret->table_entries = meta.table_entries;
	for (size_t i = 0; i < n; i++)
		if (rules[i].kind < 4)
			ret->rules[rules[i].kind]++;
	free(rules);
	return 0;
}

const char *cgfw_tc_reason_name(int reason)
{
	static const char *const names[CGFW_TC_R_COUNT] = {
		[CGFW_TC_R_PASS_NOMATCH] = "pass_nomatch",
		[CGFW_TC_R_PASS_NOT_IP] = "pass_not_ip",
		[CGFW_TC_R_PASS_MALFORMED] = "pass_malformed",
		[CGFW_TC_R_PASS_FRAGMENT] = "pass_fragment",
		[CGFW_TC_R_PASS_ESTABLISHED] = "pass_established",
		[CGFW_TC_R_PASS_UDP_REPLY] = "pass_udp_reply",
		[CGFW_TC_R_PASS_INBOUND] = "pass_inbound",
		[CGFW_TC_R_PASS_SSH] = "pass_ssh",
		[CGFW_TC_R_PASS_DHCP] = "pass_dhcp",
		[CGFW_TC_R_PASS_ICMP] = "pass_icmp",
		[CGFW_TC_R_PASS_OTHER] = "pass_other_proto",
		[CGFW_TC_R_INTERCEPT] = "intercept",
		[CGFW_TC_R_REDIRECT] = "redirect",
		[CGFW_TC_R_RESTORE] = "restore",
		[CGFW_TC_R_DROP_NO_LISTENER] = "drop_no_listener",
		[CGFW_TC_R_DROP_ASSIGN] = "drop_assign",
		[CGFW_TC_R_DROP_UNSOLICITED] = "drop_unsolicited",
		[CGFW_TC_R_DROP_MALFORMED] = "drop_malformed",
		[CGFW_TC_R_DROP_FRAGMENT] = "drop_fragment",
		[CGFW_TC_R_DROP_ICMP] = "drop_icmp_echo",
	};

	return reason >= 0 && reason < CGFW_TC_R_COUNT ? names[reason] : "?";
}

const char *cgfw_tc_kind_name(uint8_t kind)
{
	switch (kind) {
	case CGFW_TC_TPROXY:
		return "tproxy";
	case CGFW_TC_REDIRECT:
		return "redirect";
	case CGFW_TC_INBOUND:
		return "inbound";
	default:
		return "?";
	}
}

int cgfw_tc_prog_load(struct cgfw_tc *tc, uint32_t flags, uint32_t attach_id, uint32_t l2_len,
		      struct cgfw_tc_prog **ret)
{
	struct cgfw_tc_prog *p = calloc(1, sizeof(*p));
	int err;

	if (!p)
		return cgfw_seterr(ENOMEM, "out of memory");
	err = cgfw_tc_skel_load(tc, flags, attach_id, l2_len, true, &p->skel);
	if (err) {
		free(p);
		return err;
	}
	cgfw_tc_skel_prog_fds(p->skel, &p->ingress_fd, &p->egress_fd);
	*ret = p;
	return 0;
}

void cgfw_tc_prog_free(struct cgfw_tc_prog *p)
{
	if (!p)
		return;
	cgfw_tc_skel_free(p->skel);
	free(p);
}
