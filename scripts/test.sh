#!/usr/bin/env bash
# Runs every check and test, in the order CI runs them; stops at the first failure (non-zero).
#   1 cargo fmt --check
#   2 clippy -D warnings: the server's feature set (every package but the frontend, all targets)
#     and the browser's (frontend + app with hydrate)
#   3 Rust tests (nextest), built in the release profile: the `skillmeat` they run is the
#     binary users get, and step 4 finds it built
#   4 the release server (already built by 3) and the site (`cargo xtask site`, wasm-opt
#     included)
#   5 end-to-end: Playwright + Debian Chromium against that `skillmeat serve`, JavaScript off and on
#
# One profile for everything on the host: clippy, the tests and the release build share their
# build scripts, proc macros and C libraries (libgit2, libssh2, SQLite), and the tests and the
# release build share every compiled crate. Cargo.toml keeps the features of the two builds
# equal (see the notes on skillmeat-app and similar there); docs/ci.md has the measurements.
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
  # ssr and hydrate are never enabled together: one invocation per feature set. --release: see
  # the top of this file.
  cargo clippy --quiet --release --workspace --exclude skillmeat-frontend --all-targets -- -D warnings
  cargo clippy --quiet --release -p skillmeat-frontend -p skillmeat-app \
    --features skillmeat-app/hydrate --lib -- -D warnings
}

nextest() {
  # The frontend is left out so that app is built with ssr only (no feature unification).
  # --timings writes target/cargo-timings/cargo-timing.html (where the build time goes).
  # xtask too: its dependencies would change the features of crates the server shares with it.
  cargo nextest run --release --workspace --exclude skillmeat-frontend --exclude xtask \
    --no-fail-fast --timings
}

release_build() {
  # The test build made this binary; a rebuild here means the two builds' features differ
  # (see the notes on skillmeat-app, similar and getrandom in Cargo.toml) and costs minutes.
  local out
  out="$(cargo build --release -p skillmeat --bin skillmeat 2>&1)" || { echo "$out"; return 1; }
  echo "$out"
  if grep -q Compiling <<<"$out"; then
    printf '\033[1mwarning:\033[0m the release binary was compiled again after the tests: the test\n' >&2
    printf '  build and `cargo build --release -p skillmeat` resolve different features. Compare\n' >&2
    printf '  `cargo tree -e features` of the two and align them in Cargo.toml.\n' >&2
  fi
  # Not in the background beside the tests: on 2 cores, measured, the overlap cost more in
  # contention than it won in idle time (docs/ci.md).
  cargo xtask site
  local wasm=target/site/pkg/skillmeat.wasm
  printf 'wasm bundle: %s bytes raw, %s bytes gzipped\n' \
    "$(stat -c %s "$wasm")" "$(gzip -9 -c "$wasm" | wc -c)"
}

end2end() {
  (cd end2end && SKILLMEAT_BIN="$root/target/release/skillmeat" \
     SKILLMEAT_SITE_ROOT="$root/target/site" npm test)
}

# A cold build of everything below writes about 7-8 GB under target/; a disk that fills midway
# fails late, with an error that may not say why.
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
step release-build release_build
step end2end end2end
printf '\n\033[1mall checks passed in %ss\033[0m\n' "$((SECONDS - started))"
