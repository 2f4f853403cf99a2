// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: the OCI hook's state parser (cgfw_oci_hook), which reads
 * untrusted JSON from the runtime, and the bundle's config.json it may follow.
 *
 * Input: one selector byte ('0' stage from the state's status, '1'
 * createRuntime, '2' poststop, anything else an unsupported stage name),
 * then the state JSON, then optionally a NUL byte and the bundle's
 * config.json. "@BUNDLE@" in the state is replaced by the fuzzer's bundle
 * directory so the config.json path can be reached.
 *
 * The saved policy names one workload, "web", so a state naming it goes all
 * the way to opening the pinned state. $CGFW_BPFFS_ROOT points below a
 * directory that is not bpffs: cgfw_state_open() fails there without
 * creating or mounting anything, so the fuzzer never touches the kernel's
 * BPF state. Invariants: a failure leaves a one-line message; nothing is
 * ever created under the fake bpffs root.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_common.h"
#include <cgfw/ops.h>

static char dir[256], bundle[300], cfg_path[320], record[400], fake_root[300];

static const char policy_json[] =
	"{\"version\":1,\"files\":[],\"interfaces\":[],\"workloads\":[{\"name\":\"web\","
	"\"cgroup\":null,\"default\":{\"egress\":\"deny\"},\"rules\":[[\"allow\","
	"\"198.51.100.2\",\"egress\",\"tcp\",\"8080-8080\"]],\"source\":\"fuzz:1\"}]}\n";
static const char default_cfg[] = "{\"linux\":{\"cgroupsPath\":\"/cgfw-fuzz-nonexistent\"}}\n";
static const char record_json[] =
	"{\"id\":\"fz\",\"workload\":\"web\",\"cgroup\":\"cgfw-fuzz-nonexistent\","
	"\"cgroup_id\":1,\"was_attached\":false}\n";

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char p[400];

	(void)argc;
	(void)argv;
	fuzz_setup("oci", dir, sizeof(dir));
	snprintf(p, sizeof(p), "%s/state", dir);
	mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/state/containers", dir);
	mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/state/policy.json", dir);
	fuzz_write(p, policy_json, sizeof(policy_json) - 1);
	snprintf(record, sizeof(record), "%s/state/containers/fz.json", dir);
	snprintf(bundle, sizeof(bundle), "%s/bundle", dir);
	mkdir(bundle, 0700);
	snprintf(cfg_path, sizeof(cfg_path), "%s/config.json", bundle);
	snprintf(p, sizeof(p), "%s/not-bpffs", dir);
	mkdir(p, 0700);
	snprintf(fake_root, sizeof(fake_root), "%s/not-bpffs/cgfw", dir);
	snprintf(p, sizeof(p), "%s/state", dir);
	setenv("CGFW_STATE_DIR", p, 1);
	setenv("CGFW_BPFFS_ROOT", fake_root, 1);
	return 0;
}

/* Copy src replacing every "@BUNDLE@" with the bundle directory. */
static char *subst(const char *src, size_t len, size_t *ret_len)
{
	static const char tok[] = "@BUNDLE@";
	size_t tl = sizeof(tok) - 1, bl = strlen(bundle), n = 0;
	char *out = malloc(len * (bl + 1) / tl + len + 1);

	if (!out)
		abort();
	for (size_t i = 0; i < len;) {
		if (len - i >= tl && !memcmp(src + i, tok, tl)) {
			memcpy(out + n, bundle, bl);
			n += bl;
			i += tl;
		} else {
			out[n++] = src[i++];
		}
	}
	out[n] = 0;
	*ret_len = n;
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const stages[] = { NULL, "createRuntime", "poststop", "startContainer" };
	const char *in = (const char *)data + 1, *nul;
	size_t len, slen;
	const char *stage;
	struct stat sb;
	char *state;
	int err;

	if (size < 1)
		return 0;
	len = size - 1;
	stage = stages[data[0] >= '0' && data[0] <= '2' ? data[0] - '0' : 3];
	nul = memchr(in, 0, len);
	if (nul)
		fuzz_write(cfg_path, nul + 1, len - (size_t)(nul + 1 - in));
	else
		fuzz_write(cfg_path, default_cfg, sizeof(default_cfg) - 1);
	fuzz_write(record, record_json, sizeof(record_json) - 1);
	state = subst(in, nul ? (size_t)(nul - in) : len, &slen);

	cgfw_clearerr();
	err = cgfw_oci_hook(stage, state, slen);
	if (err > 0)
		fuzz_fail("cgfw_oci_hook returned %d", err);
	if (err)
		fuzz_check_errmsg(cgfw_errmsg());
	if (stat(fake_root, &sb) == 0)
		fuzz_fail("the hook created %s", fake_root);
	free(state);
	return 0;
}
