#!/usr/bin/env bash
# Runs every check and test, in the order CI runs them; stops at the first failure (non-zero).
#   1 cargo fmt --check         4 cargo leptos build --release (wasm via wasm-opt, as users get it)
#   2 clippy -D warnings, per   5 end-to-end: Playwright + Debian Chromium against the real
#     package and feature set     `skillmeat serve` built in step 4, with JavaScript off and on
#   3 Rust tests (nextest)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# shellcheck source=scripts/toolchain.sh
source scripts/toolchain.sh

started=$SECONDS
step() {
  local name="$1"; shift
  printf '\n\033[1m== %s\033[0m  (%s)\n' "$name" "$*"
  local t=$SECONDS
  "$@"
  printf '\033[1m== %s: ok in %ss\033[0m\n' "$name" "$((SECONDS - t))"
}

clippy() {
  # ssr and hydrate are never enabled together: one invocation per package and feature set.
  cargo clippy --quiet -p skillmeat-core --all-targets -- -D warnings
  cargo clippy --quiet -p skillmeat-testutils --all-targets -- -D warnings
  cargo clippy --quiet -p skillmeat-app --features ssr --all-targets -- -D warnings
  cargo clippy --quiet -p skillmeat-app --features hydrate --lib -- -D warnings
  cargo clippy --quiet -p skillmeat-frontend --lib -- -D warnings
  cargo clippy --quiet -p skillmeat --all-targets -- -D warnings
}

nextest() {
  # The frontend is left out so that app is built with ssr only (no feature unification).
  cargo nextest run --workspace --exclude skillmeat-frontend --no-fail-fast
}

leptos_build() {
  # shellcheck disable=SC2086 # SKILLMEAT_WASM_CARGO_ARGS is empty or one word
  cargo leptos build --release $SKILLMEAT_WASM_CARGO_ARGS
  local wasm=target/site/pkg/skillmeat.wasm
  printf 'wasm bundle: %s bytes raw, %s bytes gzipped\n' \
    "$(stat -c %s "$wasm")" "$(gzip -9 -c "$wasm" | wc -c)"
}

end2end() {
  (cd end2end && SKILLMEAT_BIN="$root/target/release/skillmeat" \
     SKILLMEAT_SITE_ROOT="$root/target/site" npm test)
}

# A cold build of everything below writes about 7-8 GB under target/; a disk that fills midway
# fails late with an error that does not say why (cargo-leptos reported only its backtrace).
free_gb=$(( $(df -Pk "$root" | awk 'NR == 2 { print $4 }') / 1024 / 1024 ))
if [ "$free_gb" -lt 10 ]; then
  printf '\033[1mwarning:\033[0m only %s GB free on the disk of %s; a cold run needs about 10 GB.\n' \
    "$free_gb" "$root" >&2
  printf '  Free space first (old clones and their target/ folders), or expect a failure midway.\n' >&2
else
  printf 'disk: %s GB free\n' "$free_gb"
fi

step fmt cargo fmt --all --check
step clippy clippy
step rust-tests nextest
step leptos-build leptos_build
step end2end end2end
printf '\n\033[1mall checks passed in %ss\033[0m\n' "$((SECONDS - started))"
