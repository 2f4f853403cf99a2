# SPDX-License-Identifier: GPL-2.0-only
# Thin wrapper over CMake: `make demo` and `make test` are all a user needs.
BUILD ?= build
JOBS ?= $(shell nproc)

.PHONY: all deps build demo test test-asan bench bench-smoke clean install test-kernels

all: build

deps:
	@./scripts/install-deps.sh

$(BUILD)/Makefile: CMakeLists.txt | deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: deps $(BUILD)/Makefile
	cmake --build $(BUILD) -j $(JOBS)

demo: build
	./scripts/demo.sh $(BUILD)/cli/cgfw

test: build
	cd $(BUILD) && ctest --output-on-failure --timeout 600

# The unit, prog and end-to-end suites again, built with ASan + UBSan (LeakSanitizer on) in
# $(ASAN_BUILD): any report fails the run, also one from a cgfw that runc or podman ran
# without the environment (cmake/Sanitize.cmake: those go to $(ASAN_BUILD)/sanitizer-logs).
# The checks of the sources and docs (style, packaging) are make test's alone.
ASAN_BUILD ?= build-asan
ASAN_LABELS = ^(unit|prog|e2e|tc-e2e|tc-prog|policy-e2e)$$
ASAN_ENV = ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:log_path=stderr \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

test-asan: deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCGFW_SANITIZE=ON -DCGFW_FUZZ=OFF
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	rm -rf $(ASAN_BUILD)/sanitizer-logs && mkdir -p $(ASAN_BUILD)/sanitizer-logs
	cd $(ASAN_BUILD) && $(ASAN_ENV) ctest --output-on-failure --timeout 600 \
		-L '$(ASAN_LABELS)' -LE packaging -E '^style$$'; rc=$$?; \
	if [ -n "$$(ls -A sanitizer-logs)" ]; then \
		cat sanitizer-logs/*; echo "FAIL: sanitizer reports (above) of runs without ASAN_OPTIONS"; \
		rc=1; \
	fi; exit $$rc

bench: build
	./bench/run.sh $(BUILD)

bench-smoke: build
	./bench/run.sh $(BUILD) --smoke

install: build
	cmake --install $(BUILD)

clean:
	rm -rf $(BUILD)

# The Debian package $(DEB_BUILD)/cgfw_VERSION_ARCH.deb (CPack; packaging/CMakeLists.txt):
# a build tree of its own, compiled with Debian's hardening flags (dpkg-buildflags),
# installed under /usr: the binary, the units, the OCI hook, man pages, completion, docs.
DEB_BUILD ?= $(BUILD)-deb
DEB_FLAGS = DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags --get
.PHONY: deb
deb: deps
	cmake -S . -B $(DEB_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCGFW_FUZZ=OFF \
		-DCMAKE_C_FLAGS="$$($(DEB_FLAGS) CFLAGS) $$($(DEB_FLAGS) CPPFLAGS)" \
		-DCMAKE_EXE_LINKER_FLAGS="$$($(DEB_FLAGS) LDFLAGS)"
	cmake --build $(DEB_BUILD) -j $(JOBS)
	cd $(DEB_BUILD) && cpack -G DEB

# Debian's own kernels (6.1, 6.12) under qemu, every end-to-end suite on a pure
# cgroup v2 host without the kernel config (tests/kernels/README.md; about an hour).
test-kernels: build
	./tests/kernels/run.sh --kernel 6.1 --kernel 6.12 --build $(BUILD) --src . --timeout 3600
