#!/usr/bin/env bash
# Installs what building (setup.sh build) or testing (setup.sh test) SkillMeat needs, from the
# package registries only. Idempotent: on a ready machine it checks and returns in seconds.
#
#   Debian packages   binaryen (wasm-opt for release bundles); on the debian toolchain route
#                     rustc-web cargo-web rust-web-src lld-22 rust-web-llvm (+ clippy/rustfmt
#                     for tests);
#                     chromium for the browser tests, openssh-server/-client for the ssh
#                     upstream tests.
#   crates.io         cargo-nextest when missing (for tests). Nothing else: the release build is
#                     `cargo xtask build`, part of the workspace (it replaces cargo-leptos and the
#                     wasm-bindgen CLI, ~25 min of compiling on a fresh machine; docs/ci.md).
#   npm               playwright-core from end2end/package-lock.json.
#   (Debian, unpacked) promtool from the prometheus package, into target/tools/ (tests).
set -euo pipefail
mode="${1:-build}"
case "$mode" in build|test) ;; *) echo "usage: scripts/setup.sh [build|test]" >&2; exit 2 ;; esac

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

say() { printf '\033[1msetup:\033[0m %s\n' "$*"; }

# --- Debian packages -------------------------------------------------------------------------
apt_missing=()
need_deb() {
  local pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
      || apt_missing+=("$pkg")
  done
}
install_debs() {
  [ ${#apt_missing[@]} -eq 0 ] && return 0
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "setup: need root (or sudo) to apt-get install ${apt_missing[*]}" >&2; exit 1; }
    sudo="sudo"
  fi
  say "apt-get install ${apt_missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${apt_missing[@]}" >/dev/null
  apt_missing=()
}

# The toolchain route decides which packages are needed; decide before sourcing it.
if ! { command -v rustc >/dev/null 2>&1 && sysroot="$(rustc --print sysroot 2>/dev/null)" \
       && [ -d "$sysroot/lib/rustlib/wasm32-unknown-unknown/lib" ]; } \
   && [ "${SKILLMEAT_TOOLCHAIN:-debian}" = debian ]; then
  # rust-web-llvm holds /usr/bin/rust-lld (-> lld-22), the wasm linker. rustc-web (1.96.0+dfsg1-1~deb12u2)
  # only recommends it, and --no-install-recommends skips it: without it wasm links fail.
  need_deb rustc-web cargo-web rust-web-src lld-22 rust-web-llvm
  [ "$mode" = test ] && need_deb rust-web-clippy rustfmt-web
fi
need_deb binaryen pkg-config gcc libc6-dev libssl-dev zlib1g-dev
[ "$mode" = test ] && need_deb chromium openssh-server openssh-client
install_debs

# shellcheck source=scripts/toolchain.sh
source "$root/scripts/toolchain.sh"
say "toolchain route: $SKILLMEAT_TOOLCHAIN ($(rustc --version))"
# The wasm linker. Say now, not after minutes of compiling, when a package split moved it again.
if [ "$SKILLMEAT_TOOLCHAIN" = debian ] && ! command -v rust-lld >/dev/null 2>&1; then
  echo "setup: rust-lld (the wasm linker) is not on PATH although rust-web-llvm is installed;" \
    "find the Debian package that ships /usr/bin/rust-lld (apt-file search rust-lld) and install it" >&2
  exit 1
fi

if [ "$SKILLMEAT_TOOLCHAIN" = rustup ] && [ "$mode" = test ]; then
  for comp in clippy rustfmt; do
    rustup component list --installed 2>/dev/null | grep -q "^$comp" || rustup component add "$comp"
  done
fi

# --- cargo tools -----------------------------------------------------------------------------
# A tool's own release profile may use LTO and one codegen unit; build it fast instead.
fast_install() {
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    CARGO_PROFILE_RELEASE_OPT_LEVEL=1 CARGO_PROFILE_RELEASE_DEBUG=false \
    cargo install --quiet "$@"
}

if [ "$mode" = test ]; then
  if ! cargo nextest --version >/dev/null 2>&1; then
    say "cargo install cargo-nextest (about 5 min, once)"
    fast_install cargo-nextest --locked
  fi
  if ! (cd end2end && node -e '
        const want = require("./package.json").devDependencies["playwright-core"];
        process.exit(require("./node_modules/playwright-core/package.json").version === want ? 0 : 1);
      ' 2>/dev/null); then
    say "npm ci (end2end)"
    (cd end2end && npm ci --no-audit --no-fund --loglevel=error)
  fi
  # promtool, to check deploy/prometheus/'s alert rules: only that binary of Debian's
  # `prometheus` package, unpacked into target/tools/ (installing the package would also set
  # up a Prometheus service this machine does not need).
  if [ ! -x target/tools/promtool ]; then
    say "promtool (from Debian's prometheus package, unpacked into target/tools/)"
    tmp="$(mktemp -d)"
    if (cd "$tmp" && apt-get download prometheus >/dev/null 2>&1) \
       && dpkg-deb -x "$tmp"/prometheus_*.deb "$tmp/x" \
       && mkdir -p target/tools && cp "$tmp/x/usr/bin/promtool" target/tools/promtool; then
      :
    else
      say "could not get promtool; the alert rules are then checked by the test suite alone"
    fi
    rm -rf "$tmp"
  fi
fi
say "ready for '$mode'"
