// SPDX-License-Identifier: GPL-2.0-only
/* cgfw monitor: decision events of both datapaths as they happen. */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cgfw/events.h>

#include "cli.h"

struct mon {
	struct cgfw_attachment *att;
	size_t natt;
	time_t refreshed;
	long count, seen;
};

/* Cgroup names for the events, read again at most once a second. */
static void refresh_cgroups(struct mon *m)
{
	struct cgfw_state *st = NULL;

	if (m->refreshed == time(NULL))
		return;
	m->refreshed = time(NULL);
	if (!cgfw_state_exists() || cgfw_state_open(CGFW_OPEN_LOCK | CGFW_OPEN_SHARED, &st) < 0)
		return;
	free(m->att);
	m->att = NULL;
	m->natt = 0;
	cgfw_attachments(st, &m->att, &m->natt);
	cgfw_state_close(st);
}

static const char *cgroup_of(struct mon *m, uint64_t id)
{
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < m->natt; i++)
			if (m->att[i].id == id)
				return m->att[i].path[0] ? m->att[i].path : "/";
		if (!pass)
			refresh_cgroups(m);
	}
	return NULL;
}

static int on_event(const struct cgfw_event *e, void *arg)
{
	struct mon *m = arg;
	const char *cg = NULL;

	/* libbpf before 1.2 stops a batch only on a negative return: skip the rest. */
	if (m->count && m->seen >= m->count)
		return 1;
	if (e->source == CGFW_EV_CGROUP_INGRESS || e->source == CGFW_EV_CGROUP_EGRESS)
		cg = cgroup_of(m, e->cgid);
	if (json_mode) {
		print_json(cgfw_event_json(e, cg));
	} else {
		char buf[512];

		cgfw_event_format(e, cg, buf, sizeof(buf));
		puts(buf);
	}
	m->seen++;
	return m->count && m->seen >= m->count ? 1 : 0;
}

static void report_lost(uint64_t lost)
{
	if (json_mode)
		print_json(json_pack("{s:s, s:I}", "action", "lost", "events", (json_int_t)lost));
	else
		printf("-- %" PRIu64
		       " events not sent by the datapath (rate limit or full buffer); "
		       "their packets were handled as usual\n",
		       lost);
}

int cmd_monitor(struct ctx *c)
{
	struct cgfw_monitor *mon = NULL;
	volatile sig_atomic_t *stop;
	struct mon m = {};
	uint64_t lost = 0;
	time_t last = time(NULL);
	int err;

	m.count = opt_set(c, O_COUNT) ? c->v[O_COUNT].num : 0;
	/* The ring of either datapath (and the ip netns exec check). */
	err = cgfw_monitor_open(on_event, &m, &mon);
	if (err)
		return err;
	refresh_cgroups(&m);
	setvbuf(stdout, NULL, _IOLBF, 0);
	cli_catch_signals(&stop);
	if (!json_mode)
		fprintf(stderr, "cgfw: monitoring decision events; Ctrl-C to stop\n");
	while (!*stop) {
		err = cgfw_monitor_poll(mon, 200);
		if (err < 0 && err != -EINTR)
			break;
		err = 0;
		if (m.count && m.seen >= m.count)
			break;
		if (time(NULL) != last) {
			uint64_t now = cgfw_monitor_lost(mon);

			last = time(NULL);
			if (now > lost) {
				report_lost(now - lost);
				lost = now;
			}
		}
	}
	if (!err && cgfw_monitor_lost(mon) > lost)
		report_lost(cgfw_monitor_lost(mon) - lost);
	cgfw_monitor_close(mon);
	free(m.att);
	return err;
}
