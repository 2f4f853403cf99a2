# SPDX-License-Identifier: GPL-2.0-only
# Thin wrapper over CMake: `make demo` and `make test` are all a user needs.
BUILD ?= build
JOBS ?= $(shell nproc)

.PHONY: all deps build demo test bench bench-smoke clean install test-kernels

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
