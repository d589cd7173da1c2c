# shellcheck shell=bash
# Sourced by the Makefile's recipes (and scripts/setup.sh): chooses how Rust builds the wasm side
# on this machine and exports what every cargo command in the workspace needs.
#
# Two routes, chosen per machine, never hard-wired:
#   rustup  - the active toolchain already has the wasm32-unknown-unknown std. Nothing changes.
#   debian  - it does not (rustup here cannot download it). Debian's rustc-web 1.96 + rust-web-src
#             are used instead: a shim folder puts only Debian's Rust tools first on PATH, and the
#             wasm std is rebuilt from source with -Zbuild-std (RUSTC_BOOTSTRAP=1 allows -Z on a
#             stable compiler). See docs/toolchain.md.
# SKILLMEAT_TOOLCHAIN=rustup|debian overrides the choice.

_sm_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_sm_shim="$_sm_root/target/toolchain-shim"

_sm_has_wasm_std() {
  local sysroot
  sysroot="$("$1" --print sysroot 2>/dev/null)" || return 1
  [ -d "$sysroot/lib/rustlib/wasm32-unknown-unknown/lib" ]
}

if [ -z "${SKILLMEAT_TOOLCHAIN:-}" ]; then
  if command -v rustc >/dev/null 2>&1 && _sm_has_wasm_std rustc; then
    SKILLMEAT_TOOLCHAIN=rustup
  else
    SKILLMEAT_TOOLCHAIN=debian
  fi
fi
export SKILLMEAT_TOOLCHAIN

# Bundle file names, read by Leptos at compile time; set for every cargo command so the test
# build and `cargo xtask build` compile Leptos alike and neither rebuilds the other.
export LEPTOS_OUTPUT_NAME=skillmeat

if [ "$SKILLMEAT_TOOLCHAIN" = debian ]; then
  mkdir -p "$_sm_shim"
  for _sm_tool in cargo rustc rustdoc cargo-clippy clippy-driver rustfmt cargo-fmt; do
    if [ -x "/usr/bin/$_sm_tool" ] && [ ! -e "$_sm_shim/$_sm_tool" ]; then
      ln -sf "/usr/bin/$_sm_tool" "$_sm_shim/$_sm_tool"
    fi
  done
  case ":$PATH:" in
    *":$_sm_shim:"*) ;;
    *) PATH="$_sm_shim:$PATH" ;;
  esac
  export PATH
  # Exported for *every* cargo command so fingerprints never flip between builds.
  export RUSTC_BOOTSTRAP=1
  export SKILLMEAT_WASM_CARGO_ARGS="-Zbuild-std=std,panic_abort"
  # Smaller wasm, possible only here because std is rebuilt with these flags (-Z needs the
  # RUSTC_BOOTSTRAP above; a stable rustup toolchain rejects them, so that route goes without):
  #   location-detail=none  no file:line:col strings for panics and #[track_caller] (std's too)
  #   fmt-debug=none        {:?} prints nothing: the bundle never shows Debug output to users
  #   panic=immediate-abort a panic traps at once, without formatting its message (the message
  #                         is lost in the browser console; the server renders the same code
  #                         and logs its panics in full)
  # 451 -> 423 KB gzipped, measured. Cargo appends these to .cargo/config.toml's wasm flags;
  # they apply to wasm builds only. Set CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS yourself
  # (even to "") to choose otherwise, e.g. to see panic messages while debugging the UI.
  : "${CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS=-Zlocation-detail=none -Zfmt-debug=none -Zunstable-options -Cpanic=immediate-abort}"
  export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS
else
  export SKILLMEAT_WASM_CARGO_ARGS=""
fi
unset _sm_tool
