/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * cgfw events: the decision-event ring both datapaths write (drops,
 * intercepts, redirects), its reader and its text and JSON forms.
 * Conventions as in core.h.
 */
#ifndef CGFW_EVENTS_H
#define CGFW_EVENTS_H

#include <stddef.h>
#include <stdint.h>

#include <cgfw/core.h>
#include <cgfw/event_map.h>

struct cgfw_monitor;
typedef int (*cgfw_event_fn)(const struct cgfw_event *e, void *arg);

/* Events older than the open are skipped. -ENOENT when there is no state. */
int cgfw_monitor_open(cgfw_event_fn fn, void *arg, struct cgfw_monitor **ret);
/* Handle what arrived within timeout_ms; returns the count, -EINTR on a signal. */
int cgfw_monitor_poll(struct cgfw_monitor *m, int timeout_ms);
/* Events the datapath could not send (rate limit, full ring) since the open. */
uint64_t cgfw_monitor_lost(struct cgfw_monitor *m);
void cgfw_monitor_close(struct cgfw_monitor *m);
/*
 * Every event the datapath could not send since its maps were made (the
 * cgfw_evrate counter summed over the CPUs), without a monitor: for metrics.
 * -ENOENT when there is no state.
 */
int cgfw_events_lost(uint64_t *ret);

struct json_t;
/* cgroup: path of the event's cgroup when known, else NULL. */
struct json_t *cgfw_event_json(const struct cgfw_event *e, const char *cgroup);
void cgfw_event_format(const struct cgfw_event *e, const char *cgroup, char *buf, size_t n);

#endif /* CGFW_EVENTS_H */
