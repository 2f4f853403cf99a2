# SPDX-License-Identifier: GPL-2.0-only
# Thin wrapper over CMake: `make demo` and `make test` are all a user needs.
BUILD ?= build
JOBS ?= $(shell nproc)

.PHONY: all deps build demo test bench bench-smoke clean install

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
