// SPDX-License-Identifier: GPL-2.0-only
/*
 * kconfig-probe: which BPF objects load on this kernel with the system libbpf,
 * and which of their externs (.kconfig, .ksyms) they need. Built on the host by
 * tests/kernels/run.sh, run inside the guest.
 *
 *   kconfig-probe PIN_ROOT OBJ...
 *
 * For each object: its externs, then bpf_object__load() as is (libbpf reads
 * /boot/config-$(uname -r) or /proc/config.gz for .kconfig externs), then, if
 * that failed and the object has .kconfig externs, once more with the values
 * given through bpf_object_open_opts.kconfig (from the file in
 * $CGFW_PROBE_KCONFIG when set) to tell a missing config file apart from any
 * other failure. libbpf's warnings are printed indented under each load.
 * Maps pinned by name go under PIN_ROOT (a fresh directory on bpffs), which is
 * emptied after each load. Exit status: 0 when every object loaded as is.
 */
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

static int print_fn(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	fputs("    ", stdout);
	return vfprintf(stdout, fmt, ap);
}

static void empty_dir(const char *dir)
{
	char path[4096];
	struct dirent *e;
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(d);
}

/* Print the variables of the DATASEC named @sec; returns how many. */
static int list_externs(const struct btf *btf, const char *sec)
{
	int n = btf__type_cnt(btf), count = 0;

	for (int id = 1; id < n; id++) {
		const struct btf_type *t = btf__type_by_id(btf, id);
		const struct btf_var_secinfo *vs;

		if (!btf_is_datasec(t) || strcmp(btf__name_by_offset(btf, t->name_off), sec))
			continue;
		vs = btf_var_secinfos(t);
		for (int i = 0; i < btf_vlen(t); i++, vs++) {
			const struct btf_type *v = btf__type_by_id(btf, vs->type);

			printf("%s%s", count++ ? " " : "", btf__name_by_offset(btf, v->name_off));
		}
	}
	return count;
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long len;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	buf = calloc(1, len + 1);
	if (buf && fread(buf, 1, len, f) != (size_t)len) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

static int try_load(const char *obj_path, const char *pin_root, const char *kconfig, int *n_kconfig)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = pin_root, .kconfig = kconfig);
	struct bpf_object *obj;
	int err;

	obj = bpf_object__open_file(obj_path, &opts);
	if (!obj) {
		err = -errno;
		printf("  open: FAIL %d (%s)\n", err, strerror(-err));
		return err;
	}
	if (n_kconfig) {
		const struct btf *btf = bpf_object__btf(obj);
		struct bpf_program *p;

		printf("  programs:");
		bpf_object__for_each_program(p, obj) printf(" %s", bpf_program__name(p));
		printf("\n  externs .kconfig: ");
		*n_kconfig = btf ? list_externs(btf, ".kconfig") : 0;
		if (!*n_kconfig)
			printf("(none)");
		printf("\n  externs .ksyms: ");
		if (!btf || !list_externs(btf, ".ksyms"))
			printf("(none)");
		printf("\n");
	}
	err = bpf_object__load(obj);
	bpf_object__close(obj);
	empty_dir(pin_root);
	return err;
}

int main(int argc, char **argv)
{
	const char *kpath = getenv("CGFW_PROBE_KCONFIG");
	char *kconfig = NULL, boot[300];
	struct utsname u;
	int failed = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: %s PIN_ROOT OBJ...\n", argv[0]);
		return 2;
	}
	libbpf_set_print(print_fn);
	mkdir(argv[1], 0700);
	if (kpath && *kpath)
		kconfig = read_file(kpath);
	uname(&u);
	snprintf(boot, sizeof(boot), "/boot/config-%s", u.release);
	printf("kernel %s, libbpf %u.%u; %s: %s; /proc/config.gz: %s\n", u.release,
	       libbpf_major_version(), libbpf_minor_version(), boot,
	       access(boot, R_OK) ? "absent" : "present",
	       access("/proc/config.gz", R_OK) ? "absent" : "present");
	for (int i = 2; i < argc; i++) {
		int nk = 0, err;

		printf("%s\n", argv[i]);
		err = try_load(argv[i], argv[1], NULL, &nk);
		if (!err) {
			printf("  RESULT: loads\n");
			continue;
		}
		failed = 1;
		printf("  RESULT: FAILS to load: %d (%s)\n", err, strerror(-err));
		if (nk && kconfig) {
			err = try_load(argv[i], argv[1], kconfig, NULL);
			printf("  with the kernel's config given through opts.kconfig: %s",
			       err ? "still FAILS" : "loads");
			if (err)
				printf(": %d (%s)", err, strerror(-err));
			printf("\n");
		}
	}
	rmdir(argv[1]);
	free(kconfig);
	return failed;
}
