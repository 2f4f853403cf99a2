/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * cgfw pin: the pinned state's one bpffs root (/sys/fs/bpf/cgfw unless
 * $CGFW_BPFFS_ROOT), its owner check, the lock every change holds, named
 * sets of pinned maps with a layout version, and the map helpers both
 * datapaths use (dump, per-CPU sums, double-buffered slots, batches), and
 * the datapath's clock.
 *
 * One struct cgfw_pin is one open root: a command that changes both
 * datapaths opens the root once and both datapaths on it, so it holds one
 * lock. Conventions as in core.h.
 */
#ifndef CGFW_PIN_H
#define CGFW_PIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cgfw/core.h>

struct bpf_link_info;

enum cgfw_open_flags {
	CGFW_OPEN_CREATE = 1 << 0, /* create the root and the maps when absent */
	CGFW_OPEN_LOCK = 1 << 1,   /* hold the state lock until close */
	CGFW_OPEN_SHARED = 1 << 2, /* a shared lock (readers) instead of the exclusive one */
};

struct cgfw_pin;

/* Mounts bpffs at /sys/fs/bpf when absent (with CGFW_OPEN_CREATE). */
int cgfw_pin_open(unsigned flags, struct cgfw_pin **ret);
void cgfw_pin_close(struct cgfw_pin *p);
static inline void cgfw_pin_closep(struct cgfw_pin **p)
{
	cgfw_pin_close(*p);
}
#define _cleanup_pin_ _cleanup_(cgfw_pin_closep)

const char *cgfw_pin_root(const struct cgfw_pin *p);
bool cgfw_pin_can_create(const struct cgfw_pin *p);
/* Does @p hold the exclusive lock? */
bool cgfw_pin_locked(const struct cgfw_pin *p);
/*
 * Take the exclusive lock for a while (a reader that must repair what a
 * killed command left), and give it back: back to the shared lock, or none.
 */
int cgfw_pin_lock_upgrade(struct cgfw_pin *p);
void cgfw_pin_lock_restore(struct cgfw_pin *p);
/* Does @name exist under the state root? (Without opening or locking it.) */
bool cgfw_pin_exists(const char *name);
/* "ROOT/NAME" */
void cgfw_pin_path(const struct cgfw_pin *p, const char *name, char *buf, size_t n);
/* bpf_obj_get() of ROOT/NAME; -errno (-ENOENT: no such pin). */
int cgfw_pin_get(const struct cgfw_pin *p, const char *name, int *ret_fd);
/* Info of the link pinned at ROOT/NAME; -ENOENT when there is none. */
int cgfw_pin_link_info(const struct cgfw_pin *p, const char *name, struct bpf_link_info *ret);

/* Where links are pinned, relative to the root. */
#define CGFW_LINKS_DIR "links"

/* ---- named sets of pinned maps ---------------------------------------------------- */

struct cgfw_pin_map {
	const char *name;
	int *fd; /* -1 until opened */
};

/*
 * A datapath's maps. @meta names an ARRAY map whose entry 0 starts with the
 * __u32 layout version, written last when the set is made (0: unfinished).
 * @create makes the set (loads the datapath's object once with pinning by
 * name, initialises it, writes the version last).
 */
struct cgfw_pin_set {
	const char *what; /* "cgroup", "TC": for messages */
	const char *meta;
	uint32_t version;
	const struct cgfw_pin_map *maps;
	size_t nmaps;
	int (*create)(struct cgfw_pin *p, void *arg);
	void *arg;
};

/* Open every map of the set; create the set when absent and the pin allows it. */
int cgfw_pin_set_open(struct cgfw_pin *p, const struct cgfw_pin_set *s);
void cgfw_pin_set_close(const struct cgfw_pin_set *s);

/* Remove every pin under the root (links first) and the root itself. */
int cgfw_pin_remove_all(void);

/* ---- map helpers -------------------------------------------------------------------- */

/* Dump a whole map: keys and values in two malloc()ed arrays. */
int cgfw_map_dump(int fd, size_t key_size, size_t val_size, void **ret_keys, void **ret_vals,
		  size_t *ret_n);
/*
 * Dump a map and convert each entry into a record of @out_size bytes:
 * fn(key, val, out, arg) fills *out (zeroed) and returns 1 to keep it, 0 to
 * skip it, -errno to fail. @name names the map in messages.
 */
typedef int (*cgfw_map_conv_fn)(const void *key, const void *val, void *out, void *arg);
int cgfw_map_collect(int fd, const char *name, size_t key_size, size_t val_size, size_t out_size,
		     cgfw_map_conv_fn fn, void *arg, void **ret, size_t *ret_n);
/* Sum a per-CPU value of @nfields __u64 counters over every CPU into ret[0..nfields). */
int cgfw_map_percpu_sum(int fd, uint32_t key, size_t nfields, uint64_t *ret);
/*
 * Write @n key/value pairs in batches (one by one where the kernel has no
 * batch ops). *ret_done: how many were written, also on failure.
 */
typedef void (*cgfw_progress_fn)(size_t done, size_t total, void *arg);
int cgfw_map_write(int fd, const void *keys, const void *vals, size_t ksz, size_t vsz, size_t n,
		   size_t *ret_done, cgfw_progress_fn progress, void *arg, size_t base,
		   size_t total);
/* Delete @n keys in batches; keys already absent are fine. */
void cgfw_map_delete(int fd, const void *keys, size_t ksz, size_t n);

/*
 * Double-buffered ARRAY maps of 3 entries: entry 0's first __u32 is the
 * index (1 or 2) of the entry the datapath reads. Publishing writes the other
 * entry completely, then flips the index, so a reader sees old or new.
 */
int cgfw_slot_read(int fd, const char *name, size_t vsz, void *ret);
int cgfw_slot_publish(int fd, const char *name, size_t vsz, void *v);
/* Initialise: both entries zero, entry 1 active. */
int cgfw_slot_init(int fd, const char *name, size_t vsz);

/*
 * Rule sets switched whole: an ARRAY_OF_MAPS of one slot whose inner map is
 * an mmapable ARRAY. cgfw_inner_open() opens the inner map in slot 0 of
 * @outer_fd and says its capacity; cgfw_inner_new() makes a new inner map
 * of @cap elements of @esz bytes holding @n elements of @e (not yet in any
 * slot). @what names the rule set in errors ("rule set", "TC rule set").
 */
int cgfw_inner_open(int outer_fd, const char *what, int *ret_fd, uint32_t *ret_cap);
int cgfw_inner_new(const char *name, const char *what, uint32_t esz, const void *e, size_t n,
		   uint32_t cap, int *ret_fd);

/*
 * The datapath's clock (clock.c): both datapaths count time in jiffies.
 * The current jiffies with CLOCK_BOOTTIME read beside it, and the tick rate
 * (100, 250, 300 or 1000 Hz; measured over 100 ms, so once per state).
 */
int cgfw_clock_now(uint64_t *ret_jiffies, uint64_t *ret_boot_ns);
int cgfw_clock_hz(uint32_t *ret_hz);
/* A tick in ns at @hz (0, a rate never measured: 250 Hz, the programs' default). */
static inline uint64_t cgfw_clock_tick_ns(uint32_t hz)
{
	return 1000000000ull / (hz ? hz : 250);
}

#endif /* CGFW_PIN_H */
