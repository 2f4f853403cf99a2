// SPDX-License-Identifier: GPL-2.0-only
/* Map helpers shared by both datapaths: dumps, per-CPU sums, batches, slots. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <cgfw/pin.h>

#define BATCH 65536

int cgfw_map_dump(int fd, size_t key_size, size_t val_size, void **ret_keys, void **ret_vals,
		  size_t *ret_n)
{
	size_t cap = 1024, n = 0;
	char *keys = malloc(cap * key_size), *vals = malloc(cap * val_size);
	__u64 in_batch = 0, out_batch = 0;
	bool first = true;
	int err = 0;

	if (!keys || !vals) {
		err = -ENOMEM;
		goto out;
	}
	for (;;) {
		LIBBPF_OPTS(bpf_map_batch_opts, opts);
		__u32 count = 4096;

		if (n + count > cap) {
			char *k2, *v2;

			cap = (n + count) * 2;
			k2 = realloc(keys, cap * key_size);
			if (k2)
				keys = k2;
			v2 = realloc(vals, cap * val_size);
			if (v2)
				vals = v2;
			if (!k2 || !v2) {
				err = -ENOMEM;
				goto out;
			}
		}
		err = bpf_map_lookup_batch(fd, first ? NULL : &in_batch, &out_batch,
					   keys + n * key_size, vals + n * val_size, &count, &opts);
		if (err < 0)
			err = -errno;
		n += count;
		first = false;
		if (err == -ENOENT) {
			err = 0;
			break;
		}
		if (err)
			goto out;
		in_batch = out_batch;
	}
out:
	if (err) {
		free(keys);
		free(vals);
		return err;
	}
	*ret_keys = keys;
	*ret_vals = vals;
	*ret_n = n;
	return 0;
}

int cgfw_map_collect(int fd, const char *name, size_t key_size, size_t val_size, size_t out_size,
		     cgfw_map_conv_fn fn, void *arg, void **ret, size_t *ret_n)
{
	_cleanup_free_ char *keys = NULL, *vals = NULL;
	_cleanup_free_ char *out = NULL;
	size_t n = 0, m = 0;
	int err;

	err = cgfw_map_dump(fd, key_size, val_size, (void **)&keys, (void **)&vals, &n);
	if (err)
		return cgfw_seterr(err, "cannot read %s: %s", name, strerror(-err));
	out = calloc(n ? n : 1, out_size);
	if (!out)
		return cgfw_seterr(ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		err = fn(keys + i * key_size, vals + i * val_size, out + m * out_size, arg);
		if (err < 0)
			return err;
		if (err)
			m++;
		else
			memset(out + m * out_size, 0, out_size);
	}
	*ret = TAKE_PTR(out);
	*ret_n = m;
	return 0;
}

int cgfw_map_percpu_sum(int fd, uint32_t key, size_t nfields, uint64_t *ret)
{
	int ncpu = libbpf_num_possible_cpus();
	_cleanup_free_ uint64_t *per = NULL;

	if (ncpu <= 0)
		return cgfw_seterr(EIO, "cannot count CPUs");
	per = calloc((size_t)ncpu * nfields, sizeof(*per));
	if (!per)
		return cgfw_seterr(ENOMEM, "out of memory");
	if (bpf_map_lookup_elem(fd, &key, per) < 0)
		return -errno;
	for (int c = 0; c < ncpu; c++)
		for (size_t f = 0; f < nfields; f++)
			ret[f] += per[(size_t)c * nfields + f];
	return 0;
}

int cgfw_map_write(int fd, const void *keys, const void *vals, size_t ksz, size_t vsz, size_t n,
		   size_t *ret_done, cgfw_progress_fn progress, void *arg, size_t base,
		   size_t total)
{
	size_t done = 0;

	while (done < n) {
		LIBBPF_OPTS(bpf_map_batch_opts, opts);
		__u32 cnt = (__u32)(n - done < BATCH ? n - done : BATCH);
		int err;

		err = bpf_map_update_batch(fd, (const char *)keys + done * ksz,
					   (const char *)vals + done * vsz, &cnt, &opts);
		if (err < 0 && (errno == EINVAL || errno == EOPNOTSUPP) && cnt == 0) {
			/* no batch support: one by one */
			cnt = 0;
			for (size_t i = done; i < n && i < done + BATCH; i++, cnt++) {
				if (bpf_map_update_elem(fd, (const char *)keys + i * ksz,
							(const char *)vals + i * vsz, BPF_ANY) < 0)
					break;
			}
			err = (done + cnt < n && cnt < BATCH) ? -1 : 0;
		}
		done += cnt;
		if (progress)
			progress(base + done, total, arg);
		if (err < 0) {
			*ret_done = done;
			return errno ? -errno : -EIO;
		}
	}
	*ret_done = done;
	return 0;
}

void cgfw_map_delete(int fd, const void *keys, size_t ksz, size_t n)
{
	size_t i = 0;

	while (i < n) {
		LIBBPF_OPTS(bpf_map_batch_opts, opts);
		__u32 cnt = (__u32)(n - i < BATCH ? n - i : BATCH);

		if (bpf_map_delete_batch(fd, (const char *)keys + i * ksz, &cnt, &opts) < 0 &&
		    cnt == 0) {
			/* A key already gone stops a batch: the rest one by one. */
			for (; cnt < BATCH && i + cnt < n; cnt++)
				bpf_map_delete_elem(fd, (const char *)keys + (i + cnt) * ksz);
		}
		i += cnt ? cnt : 1;
	}
}

/* ---- double-buffered slots ------------------------------------------------------------ */

static int active_slot(int fd, const char *name, size_t vsz, void *buf, __u32 *ret)
{
	__u32 k = 0, a;

	if (bpf_map_lookup_elem(fd, &k, buf) < 0)
		return cgfw_seterr(errno, "cannot read %s: %s", name, strerror(errno));
	memcpy(&a, buf, sizeof(a));
	*ret = a == 2 ? 2 : 1;
	return 0;
}

int cgfw_slot_read(int fd, const char *name, size_t vsz, void *ret)
{
	__u32 slot;
	int err;

	err = active_slot(fd, name, vsz, ret, &slot);
	if (err)
		return err;
	if (bpf_map_lookup_elem(fd, &slot, ret) < 0)
		return cgfw_seterr(errno, "cannot read %s: %s", name, strerror(errno));
	return 0;
}

int cgfw_slot_publish(int fd, const char *name, size_t vsz, void *v)
{
	_cleanup_free_ char *ctl = calloc(1, vsz);
	__u32 k = 0, slot, zero = 0;
	int err;

	if (!ctl)
		return cgfw_seterr(ENOMEM, "out of memory");
	err = active_slot(fd, name, vsz, ctl, &slot);
	if (err)
		return err;
	slot = slot == 2 ? 1 : 2;
	memcpy(v, &zero, sizeof(zero));
	if (bpf_map_update_elem(fd, &slot, v, BPF_ANY) < 0)
		return cgfw_seterr(errno, "cannot write %s: %s", name, strerror(errno));
	memcpy(ctl, &slot, sizeof(slot));
	if (bpf_map_update_elem(fd, &k, ctl, BPF_ANY) < 0)
		return cgfw_seterr(errno, "cannot write %s: %s", name, strerror(errno));
	return 0;
}

int cgfw_slot_init(int fd, const char *name, size_t vsz)
{
	_cleanup_free_ char *v = calloc(1, vsz);
	__u32 k, one = 1;

	if (!v)
		return cgfw_seterr(ENOMEM, "out of memory");
	for (k = 1; k < 3; k++)
		if (bpf_map_update_elem(fd, &k, v, BPF_ANY) < 0)
			return cgfw_seterr(errno, "cannot initialise %s: %s", name,
					   strerror(errno));
	memcpy(v, &one, sizeof(one));
	k = 0;
	if (bpf_map_update_elem(fd, &k, v, BPF_ANY) < 0)
		return cgfw_seterr(errno, "cannot initialise %s: %s", name, strerror(errno));
	return 0;
}

int cgfw_inner_open(int outer_fd, const char *what, int *ret_fd, uint32_t *ret_cap)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info), zero = 0, id;
	_cleanup_close_ int fd = -1;

	if (bpf_map_lookup_elem(outer_fd, &zero, &id) < 0)
		return cgfw_seterr(errno, "no %s in its slot: %s", what, strerror(errno));
	fd = bpf_map_get_fd_by_id(id);
	if (fd < 0)
		return cgfw_seterr(errno, "cannot open the %s: %s", what, strerror(errno));
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0)
		return cgfw_seterr(errno, "cannot query the %s: %s", what, strerror(errno));
	*ret_cap = info.max_entries;
	*ret_fd = TAKE_FD(fd);
	return 0;
}

int cgfw_inner_new(const char *name, const char *what, uint32_t esz, const void *e, size_t n,
		   uint32_t cap, int *ret_fd)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_MMAPABLE);
	size_t sz = (size_t)cap * esz;
	_cleanup_close_ int fd = -1;
	void *m;

	if (n > cap)
		return cgfw_seterr(E2BIG, "a %s of %zu elements in a map of %u", what, n, cap);
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, name, sizeof(__u32), esz, cap, &opts);
	if (fd < 0)
		return cgfw_seterr(errno, "cannot create a %s of %u elements: %s", what, cap,
				   strerror(errno));
	m = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		return cgfw_seterr(errno, "cannot map a new %s: %s", what, strerror(errno));
	memcpy(m, e, n * esz);
	munmap(m, sz);
	*ret_fd = TAKE_FD(fd);
	return 0;
}
