# NQBA - top-level commands. CMake + Ninja do the building underneath.
SHARED ?= $(abspath ../shared)
FUZZ_SECONDS ?= 60
CMAKE_FLAGS ?=

.PHONY: all deps build run serve test e2e bench fuzz asan clean

all: build

deps:
	@bash scripts/deps.sh

build: deps
	@cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DNQ_SHARED_DIR=$(SHARED) $(CMAKE_FLAGS) >/dev/null
	@cmake --build build

# Solve the shipped examples, then serve the HTTP API in the foreground
# (Ctrl-C stops it gracefully). SERVE_FLAGS adds options, e.g.
# `make run SERVE_FLAGS='--listen 0.0.0.0:8080'`.
SERVE_FLAGS ?=
run: build
	./build/nqba solve examples/maxcut_small.txt
	@echo
	./build/nqba solve examples/qubo_small.json --solver exact
	@echo
	./build/nqba decide examples/decisions/warehouse_site.json
	@echo
	@mkdir -p var
	@echo "A local API key for this machine's store (shown once; every call but /healthz needs one):"
	@echo "  Authorization: Bearer $$(./build/nqba apikey add --owner local-$$(date +%s) --db var/nqba.db 2>/dev/null)"
	@echo
	./build/nqba serve $(SERVE_FLAGS)

# Only the server (docs/api/http.md), in the foreground.
serve: build
	./build/nqba serve $(SERVE_FLAGS)

test: deps
	@bash scripts/test.sh

# The dashboard in headless Chromium (tests/e2e/dashboard.py); screenshots
# in build/e2e-artifacts. Also a stage of `make test`.
e2e: build
	@NQ_BIN=$(CURDIR)/build/nqba /usr/bin/python3 tests/e2e/dashboard.py

bench: build
	@bash scripts/bench.sh $(SHARED) $(BENCH)

fuzz: deps
	@bash scripts/fuzz.sh $(FUZZ_SECONDS)

asan: deps
	@CC=clang cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DNQ_SANITIZE=ON -DNQ_SHARED_DIR=$(SHARED) >/dev/null
	@cmake --build build-asan
	@cd build-asan && ctest --output-on-failure -j2

clean:
	rm -rf build build-asan build-fuzz
