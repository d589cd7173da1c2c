# The two commands of the README, and the pieces they are made of.
#   make run    set up, build, and start SkillMeat on http://127.0.0.1:3750/
#   make test   set up, and run every check and test (what CI runs)
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
TOOLCHAIN := source scripts/toolchain.sh &&

.PHONY: run test setup-build setup-test build serve check bench api-fuzz
run: setup-build build serve

test: setup-test
	scripts/test.sh

setup-build:
	scripts/setup.sh build

setup-test:
	scripts/setup.sh test

# Release build: the server binary and the wasm bundle (wasm-opt included), as users run them.
build:
	$(TOOLCHAIN) cargo xtask build

# On an empty home, fill it with demo data first (skillmeat demo --if-empty leaves a used home alone).
serve:
	target/release/skillmeat demo --if-empty
	target/release/skillmeat serve $(SERVE_ARGS)

# Quick type-check of every package with its own features, for development.
check:
	$(TOOLCHAIN) cargo check -p skillmeat-core -p skillmeat-testutils --all-targets \
	  && cargo check -p skillmeat-app --features hydrate \
	  && cargo check -p skillmeat -p skillmeat-bench --all-targets

# Benchmarks on a release build: drift against sha256sum and git status; merge and diff
# against git merge-file and git diff --no-index; one sync and update --all over 100 skills.
# The benchmarks are a crate of their own (bench/), not part of the binary users install.
bench: setup-build
	$(TOOLCHAIN) cargo build --release -p skillmeat-bench -p skillmeat
	target/release/skillmeat-bench drift $(BENCH_ARGS)
	target/release/skillmeat-bench sync
	target/release/skillmeat-bench api
	target/release/skillmeat-bench ui

# Property-based run of the REST API against its OpenAPI document (schemathesis from PyPI).
api-fuzz: build
	scripts/api-fuzz.sh
