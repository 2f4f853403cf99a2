// SPDX-License-Identifier: GPL-2.0-only
/*
 * `cgfw monitor`: read decision events from the pinned ring buffer. The
 * datapath rate-limits them per CPU; what it could not send is counted in
 * cgfw_evrate and reported here as lost.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <cgfw/events.h>
#include <cgfw/pin.h>

struct cgfw_monitor {
	struct ring_buffer *rb;
	int events_fd, evrate_fd;
	cgfw_event_fn fn;
	void *arg;
	uint64_t start_ns;
	uint64_t lost_base;
};

static uint64_t lost_now(struct cgfw_monitor *m)
{
	uint64_t sum[2] = { 0, 0 }; /* struct cgfw_evrate_val: tat, lost */

	cgfw_map_percpu_sum(m->evrate_fd, 0, 2, sum);
	return sum[1];
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct cgfw_monitor *m = ctx;
	const struct cgfw_event *e = data;

	if (size < sizeof(*e))
		return 0;
	/* What was in the ring before we started belongs to nobody. */
	if (e->ts_ns < m->start_ns)
		return 0;
	return m->fn(e, m->arg);
}

int cgfw_monitor_open(cgfw_event_fn fn, void *arg, struct cgfw_monitor **ret)
{
	_cleanup_pin_ struct cgfw_pin *pin = NULL;
	struct cgfw_monitor *m;
	struct timespec ts;
	int err;

	/* No lock: reading the ring never conflicts with a change. */
	err = cgfw_pin_open(0, &pin);
	if (err)
		return err;
	m = calloc(1, sizeof(*m));
	if (!m)
		return cgfw_seterr(ENOMEM, "out of memory");
	m->events_fd = m->evrate_fd = -1;
	m->fn = fn;
	m->arg = arg;
	err = cgfw_pin_get(pin, CGFW_EVENTS_PIN, &m->events_fd);
	if (!err)
		err = cgfw_pin_get(pin, CGFW_EVRATE_PIN, &m->evrate_fd);
	if (err) {
		err = err == -ENOENT ?
			      cgfw_seterr(ENOENT, "no cgfw state at %s: nothing is attached",
					  cgfw_pin_root(pin)) :
			      cgfw_seterr(err, "cannot open the event maps under %s: %s",
					  cgfw_pin_root(pin), strerror(-err));
		cgfw_monitor_close(m);
		return err;
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	m->start_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	m->lost_base = lost_now(m);
	m->rb = ring_buffer__new(m->events_fd, on_event, m, NULL);
	if (!m->rb) {
		err = cgfw_seterr(errno, "cannot map the event ring buffer: %s", strerror(errno));
		cgfw_monitor_close(m);
		return err;
	}
	*ret = m;
	return 0;
}

int cgfw_monitor_poll(struct cgfw_monitor *m, int timeout_ms)
{
	int n = ring_buffer__poll(m->rb, timeout_ms);

	if (n == -EINTR)
		return -EINTR;
	if (n < 0)
		return cgfw_seterr(n, "reading events failed: %s", strerror(-n));
	return n;
}

uint64_t cgfw_monitor_lost(struct cgfw_monitor *m)
{
	uint64_t now = lost_now(m);

	return now > m->lost_base ? now - m->lost_base : 0;
}

int cgfw_events_lost(uint64_t *ret)
{
	_cleanup_pin_ struct cgfw_pin *pin = NULL;
	_cleanup_close_ int fd = -1;
	uint64_t sum[2] = { 0, 0 }; /* struct cgfw_evrate_val: tat, lost */
	int err;

	/* No lock: a per-CPU counter, read as it is. */
	err = cgfw_pin_open(0, &pin);
	if (err)
		return err;
	err = cgfw_pin_get(pin, CGFW_EVRATE_PIN, &fd);
	if (err == -ENOENT)
		return cgfw_seterr(ENOENT, "no cgfw state at %s: nothing is attached",
				   cgfw_pin_root(pin));
	if (err)
		return cgfw_seterr(err, "cannot open %s under %s: %s", CGFW_EVRATE_PIN,
				   cgfw_pin_root(pin), strerror(-err));
	err = cgfw_map_percpu_sum(fd, 0, 2, sum);
	if (err)
		return cgfw_seterr(err, "cannot read %s: %s", CGFW_EVRATE_PIN, strerror(-err));
	*ret = sum[1];
	return 0;
}

void cgfw_monitor_close(struct cgfw_monitor *m)
{
	if (!m)
		return;
	ring_buffer__free(m->rb);
	if (m->events_fd >= 0)
		close(m->events_fd);
	if (m->evrate_fd >= 0)
		close(m->evrate_fd);
	free(m);
}
