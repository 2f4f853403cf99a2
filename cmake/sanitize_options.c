// SPDX-License-Identifier: GPL-2.0-only
/*
 * Linked into every executable of a sanitized build (cmake/Sanitize.cmake):
 * the sanitizers' options when the environment has none, as when runc or
 * podman run `cgfw oci-hook` with an empty environment. A report aborts the
 * program and goes to CGFW_SANITIZE_LOG.PID; ASAN_OPTIONS and UBSAN_OPTIONS
 * override these (make test-asan sets log_path=stderr for ctest's runs).
 */
#ifndef CGFW_SANITIZE_LOG
#error "CGFW_SANITIZE_LOG: compiled by cmake/Sanitize.cmake only"
#endif

const char *__asan_default_options(void);
const char *__ubsan_default_options(void);

const char *__asan_default_options(void)
{
	return "detect_leaks=1:abort_on_error=1:log_path=" CGFW_SANITIZE_LOG;
}

const char *__ubsan_default_options(void)
{
	return "print_stacktrace=1:halt_on_error=1";
}
