// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: the state files under CGFW_STATE_DIR (/var/lib/cgfw)
 * that cgfw reads back: the applied policy (policy.json, read by
 * cgfw_policy_from_json()), the manual snapshot of `cgfw save`
 * (manual.json) and the OCI hook's container records (containers/ID.json),
 * read through the public entry points cgfw_policy_load_saved(),
 * cgfw_containers_load(), cgfw_policy_show() and cgfw_policy_restore().
 *
 * Input: one selector byte (% 3: 0 policy.json, 1 manual.json, 2
 * containers/fz.json), then that file's content; the other two files hold
 * valid seeds. "@CGROOT@" in a file is replaced by the cgroup2 mount (an
 * absolute cgroup path that exists on every host: the root cgroup). Files
 * are the fuzzer's own, mode 0600, in its own 0700 directory, so
 * cgfw_check_owned() lets them through.
 *
 * No kernel state is touched: CGFW_BPFFS_ROOT is below a directory that is
 * not bpffs (cgfw_state_exists() is false there), and the link wraps what
 * `cgfw restore` would do to the datapath (cgfw_policy_apply,
 * cgfw_state_open/close, cgfw_attach, cgfw_change_begin/attach/default/
 * rules/commit/free) with checks of what it is given, and unlink() with a
 * check that it stays in the state directory. A seed run at start-up makes
 * sure the wraps still catch those calls (fuzz/CMakeLists.txt lists them).
 *
 * Invariants besides memory safety: a failure is a negative errno with a
 * one-line message; a policy that reads has named workloads with well-formed
 * rules, and its saved form reads back to the same JSON; a container record
 * that loads has an id that names its file; the rules restore hands to the
 * datapath are well formed (action, family, prefix with host bits clear,
 * directions, ports only with tcp/udp and LOW <= HIGH, origin manual);
 * restore removes no file outside the state directory.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_common.h"
#include <cgfw/cgroup.h>
#include <cgfw/ops.h>
#include <cgfw/policy.h>

static char dir[256], state[300], policy_path[320], manual_path[320], record_path[340],
	fake_root[300], cgroot[PATH_MAX];

static const char policy_json[] =
	"{\"version\":1,\"applied_at\":1,\"files\":[],\"interfaces\":[],\"workloads\":[{\"name\":"
	"\"web\",\"cgroup\":null,\"default\":{\"egress\":\"deny\"},\"rules\":[[\"allow\","
	"\"198.51.100.2\",\"egress\",\"tcp\",\"8080-8080\"]],\"source\":\"fuzz:1\"}]}\n";
static const char manual_json[] =
	"{\"version\":1,\"attachments\":[{\"cgroup\":\"@CGROOT@\",\"ingress\":\"allow\",\"egress\":"
	"\"deny\"}],\"rules\":[{\"cgroup\":\"@CGROOT@\",\"action\":\"deny\",\"prefix\":\"203.0.113.0/"
	"24\",\"family\":\"ipv4\",\"direction\":\"egress\",\"proto\":\"tcp\",\"ports\":\"80-90\","
	"\"origin\":\"manual\",\"port_lo\":80,\"port_hi\":90},{\"cgroup\":null,\"action\":"
	"\"allow\",\"prefix\":\"2001:db8::/32\",\"family\":\"ipv6\",\"direction\":\"both\","
	"\"proto\":\"any\",\"ports\":null,\"origin\":\"manual\",\"port_lo\":0,\"port_hi\":0}]}\n";
static const char record_json[] =
	"{\"id\":\"fz\",\"workload\":\"web\",\"cgroup\":\"cgfw-fuzz-nonexistent\","
	"\"cgroup_id\":1,\"was_attached\":false}\n";

/* ---- the datapath, stubbed ----------------------------------------------------------------- */

/* What the stubbed cgfw_state_open() and cgfw_change_begin() hand out. */
static char fake_state, fake_change;
static struct {
	size_t apply, open, attach, begin, change_attach, change_default, change_rules, rules,
		commit;
} calls;

static void check_rule(const struct cgfw_rule *r, uint8_t origin, const char *what)
{
	fuzz_check_prefix(&r->pfx, what);
	if (r->action != CGFW_ALLOW && r->action != CGFW_DENY)
		fuzz_fail("%s: rule without action (%u)", what, r->action);
	if (r->origin != origin)
		fuzz_fail("%s: rule of origin %u, not %u", what, r->origin, origin);
	if (!r->dirs || (r->dirs & ~CGFW_DIR_BOTH))
		fuzz_fail("%s: rule directions %#x", what, r->dirs);
	if (r->proto != CGFW_PROTO_ANY && r->proto != CGFW_PROTO_TCP &&
	    r->proto != CGFW_PROTO_UDP && r->proto != CGFW_PROTO_ICMP)
		fuzz_fail("%s: protocol %u", what, r->proto);
	if (r->port_lo > r->port_hi)
		fuzz_fail("%s: port range %u-%u", what, r->port_lo, r->port_hi);
	if ((r->port_lo || r->port_hi) && r->proto != CGFW_PROTO_TCP && r->proto != CGFW_PROTO_UDP)
		fuzz_fail("%s: ports %u-%u on protocol %u", what, r->port_lo, r->port_hi, r->proto);
}

static void check_policy(const struct cgfw_policy *pol)
{
	for (size_t i = 0; i < pol->nworkloads; i++) {
		const struct cgfw_pol_workload *w = &pol->workloads[i];

		if (!w->name)
			fuzz_fail("saved workload %zu without a name", i);
		for (size_t k = 0; k < w->nrules; k++)
			check_rule(&w->rules[k].r, CGFW_ORIGIN_POLICY, w->name);
	}
}

int __wrap_cgfw_policy_apply(const struct cgfw_policy *pol, bool dry_run,
			     struct cgfw_plan *ret_plan)
{
	(void)ret_plan;
	calls.apply++;
	if (dry_run)
		fuzz_fail("restore applied the saved policy as a dry run");
	check_policy(pol);
	return 0;
}

int __wrap_cgfw_state_open(unsigned flags, struct cgfw_state **ret)
{
	(void)flags;
	calls.open++;
	*ret = (struct cgfw_state *)&fake_state;
	return 0;
}

void __wrap_cgfw_state_close(struct cgfw_state *st)
{
	if (st && st != (struct cgfw_state *)&fake_state)
		fuzz_fail("closing a state the stub did not open");
}

static void check_state(struct cgfw_state *st)
{
	if (st != (struct cgfw_state *)&fake_state)
		fuzz_fail("the datapath called with a state the stub did not open");
}

static void check_cgroup(const struct cgfw_cgroup *cg, const char *what)
{
	if (!cg->abs[0] || !cg->id)
		fuzz_fail("%s: a cgroup that was not resolved", what);
}

int __wrap_cgfw_attach(struct cgfw_state *st, const struct cgfw_cgroup *cg)
{
	check_state(st);
	calls.attach++;
	check_cgroup(cg, "attach");
	return 0;
}

int __wrap_cgfw_change_begin(struct cgfw_state *st, struct cgfw_change **ret)
{
	check_state(st);
	calls.begin++;
	*ret = (struct cgfw_change *)&fake_change;
	return 0;
}

static void check_change(struct cgfw_change *c)
{
	if (c != (struct cgfw_change *)&fake_change)
		fuzz_fail("a change the stub did not begin");
}

void __wrap_cgfw_change_free(struct cgfw_change *c)
{
	if (c)
		check_change(c);
}

int __wrap_cgfw_change_attach(struct cgfw_change *c, const struct cgfw_cgroup *cg)
{
	check_change(c);
	calls.change_attach++;
	check_cgroup(cg, "change attach");
	return 0;
}

int __wrap_cgfw_change_default(struct cgfw_change *c, uint64_t id, uint8_t dirs, uint8_t verdict)
{
	check_change(c);
	calls.change_default++;
	if (!id || !dirs || (dirs & ~CGFW_DIR_BOTH))
		fuzz_fail("default for directions %#x of cgroup %llu", dirs,
			  (unsigned long long)id);
	if (verdict != CGFW_VERDICT_ALLOW && verdict != CGFW_VERDICT_DENY)
		fuzz_fail("default verdict %u", verdict);
	return 0;
}

int __wrap_cgfw_change_audit(struct cgfw_change *c, uint64_t id, bool audit)
{
	check_change(c);
	(void)audit;
	if (!id)
		fuzz_fail("audit mode for cgroup 0");
	return 0;
}

/* Nothing is attached in the stubbed datapath. */
int __wrap_cgfw_attachment_get(struct cgfw_state *st, uint64_t id, struct cgfw_attachment *ret)
{
	check_state(st);
	(void)id;
	(void)ret;
	return -ENOENT;
}

int __wrap_cgfw_change_rules(struct cgfw_change *c, const struct cgfw_rule *rules, const bool *adds,
			     bool add_all, size_t n)
{
	check_change(c);
	calls.change_rules++;
	calls.rules += n;
	if (adds || !add_all)
		fuzz_fail("restore removes rules");
	for (size_t i = 0; i < n; i++)
		check_rule(&rules[i], CGFW_ORIGIN_MANUAL, "manual.json");
	return (int)n;
}

int __wrap_cgfw_change_commit(struct cgfw_change *c)
{
	check_change(c);
	calls.commit++;
	return 0;
}

int __real_unlink(const char *path);
static bool in_cgfw; /* libFuzzer's own unlink() calls (its corpus) go through too */

int __wrap_unlink(const char *path)
{
	size_t n = strlen(state);

	if (in_cgfw && (strncmp(path, state, n) || path[n] != '/' || strstr(path + n, "/../")))
		fuzz_fail("unlink outside the state directory: %s", path);
	return __real_unlink(path);
}

/* ---- the files ------------------------------------------------------------------------------ */

/* Write @d with every "@CGROOT@" replaced by the cgroup2 mount. */
static void put(const char *path, const void *d, size_t n)
{
	static const char tok[] = "@CGROOT@";
	size_t tl = sizeof(tok) - 1, rl = strlen(cgroot), o = 0;
	const char *in = d;
	char *out = malloc(n / tl * rl + n + 1);

	if (!out)
		abort();
	for (size_t i = 0; i < n;) {
		if (n - i >= tl && !memcmp(in + i, tok, tl)) {
			memcpy(out + o, cgroot, rl);
			o += rl;
			i += tl;
		} else {
			out[o++] = in[i++];
		}
	}
	fuzz_write(path, out, o);
	free(out);
	if (chmod(path, 0600) < 0)
		fuzz_fail("chmod %s", path);
}

static void put_all(void)
{
	put(policy_path, policy_json, sizeof(policy_json) - 1);
	put(manual_path, manual_json, sizeof(manual_json) - 1);
	put(record_path, record_json, sizeof(record_json) - 1);
}

/*
 * The saved form of what was read, read again, is itself: but for the time of
 * saving and "files", which is not read back (it is made from the workloads'
 * files again, through realpath()).
 */
static void check_roundtrip(const struct cgfw_policy *pol)
{
	struct cgfw_policy back = {};
	json_t *a = cgfw_policy_to_json(pol), *b;

	if (cgfw_policy_from_json(a, "saved again", &back) < 0)
		fuzz_fail("the saved form of a policy that read does not read: %s", cgfw_errmsg());
	check_policy(&back);
	b = cgfw_policy_to_json(&back);
	json_object_del(a, "applied_at");
	json_object_del(b, "applied_at");
	json_object_del(a, "files");
	json_object_del(b, "files");
	if (!json_equal(a, b)) {
		char *sa = json_dumps(a, JSON_COMPACT), *sb = json_dumps(b, JSON_COMPACT);

		fuzz_fail("saved policy changed on reading back:\n%s\n%s", sa, sb);
	}
	json_decref(a);
	json_decref(b);
	cgfw_policy_free(&back);
}

static void fuzz_load(void)
{
	struct cgfw_policy pol = {};
	int err;

	cgfw_clearerr();
	err = cgfw_policy_load_saved(&pol);
	if (err) {
		fuzz_check_failure(err, -EPERM);
		return;
	}
	check_policy(&pol);
	check_roundtrip(&pol);
	cgfw_policy_free(&pol);
}

static void fuzz_containers(void)
{
	struct cgfw_container *ct = NULL;
	size_t n = 0;

	if (cgfw_containers_load(&ct, &n) < 0)
		fuzz_fail("cgfw_containers_load failed: %s", cgfw_errmsg());
	for (size_t i = 0; i < n; i++) {
		if (strcmp(ct[i].id, "fz"))
			fuzz_fail("the record containers/fz.json loaded as container '%s'",
				  ct[i].id);
		if (!ct[i].workload[0])
			fuzz_fail("container %s without a workload", ct[i].id);
	}
	free(ct);
}

static void fuzz_show(void)
{
	struct cgfw_policy_view v = {};
	int err;

	cgfw_clearerr();
	err = cgfw_policy_show(&v);
	if (err) {
		fuzz_check_failure(err, -EPERM);
		return;
	}
	check_policy(&v.policy);
	for (size_t i = 0; i < v.policy.nworkloads; i++) {
		if (!v.workloads[i].state || v.workloads[i].w != &v.policy.workloads[i])
			fuzz_fail("workload %zu shown without a state", i);
		for (size_t c = 0; c < v.workloads[i].ncontainers; c++)
			if (strcmp(v.workloads[i].containers[c].workload,
				   v.policy.workloads[i].name))
				fuzz_fail("container %s shown under workload %s",
					  v.workloads[i].containers[c].id,
					  v.policy.workloads[i].name);
	}
	cgfw_policy_view_free(&v);
}

static int fuzz_restore(void)
{
	struct cgfw_plan plan = {};
	int err;

	cgfw_clearerr();
	in_cgfw = true;
	err = cgfw_policy_restore(&plan);
	in_cgfw = false;
	if (err > 0)
		fuzz_fail("cgfw_policy_restore returned %d", err);
	if (err)
		fuzz_check_failure(err, -EPERM);
	else
		cgfw_plan_free(&plan);
	return err;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char p[400];
	int err;

	(void)argc;
	(void)argv;
	fuzz_setup("state", dir, sizeof(dir));
	snprintf(state, sizeof(state), "%s/state", dir);
	mkdir(state, 0700);
	snprintf(p, sizeof(p), "%s/containers", state);
	mkdir(p, 0700);
	snprintf(policy_path, sizeof(policy_path), "%s/policy.json", state);
	snprintf(manual_path, sizeof(manual_path), "%s/manual.json", state);
	snprintf(record_path, sizeof(record_path), "%s/containers/fz.json", state);
	snprintf(p, sizeof(p), "%s/not-bpffs", dir);
	mkdir(p, 0700);
	snprintf(fake_root, sizeof(fake_root), "%s/not-bpffs/cgfw", dir);
	setenv("CGFW_STATE_DIR", state, 1);
	setenv("CGFW_BPFFS_ROOT", fake_root, 1);
	if (cgfw_cgroup2_mount(NULL, cgroot, sizeof(cgroot)) < 0)
		fuzz_fail("no cgroup2 mount: %s", cgfw_errmsg());

	/* The seeds restore through every stub: the wraps still catch the datapath. */
	put_all();
	err = fuzz_restore();
	if (err || calls.apply != 1 || !calls.open || calls.begin != 1 ||
	    calls.change_attach != 1 || calls.change_default != 2 || calls.change_rules != 1 ||
	    calls.rules != 2 || calls.commit != 1)
		fuzz_fail("the seed state does not restore through the stubs (%d: %s; apply %zu, "
			  "open %zu, change %zu: attach %zu, default %zu, rules %zu (%zu), commit "
			  "%zu): do the wraps in fuzz/CMakeLists.txt still match lib/ops?",
			  err, cgfw_errmsg(), calls.apply, calls.open, calls.begin,
			  calls.change_attach, calls.change_default, calls.change_rules,
			  calls.rules, calls.commit);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const paths[] = { policy_path, manual_path, record_path };
	struct stat sb;

	if (size < 1)
		return 0;
	put_all();
	put(paths[data[0] % 3], data + 1, size - 1);
	fuzz_load();
	fuzz_containers();
	fuzz_show();
	fuzz_restore();
	if (stat(fake_root, &sb) == 0)
		fuzz_fail("%s was created", fake_root);
	return 0;
}
