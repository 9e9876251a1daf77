# Shared by the .ci scripts: timed steps and a few facts about the checkout.
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$HOME/.cargo/bin:$PATH"
# Leptos decides at compile time what the wasm file is called: with this set,
# plain cargo builds and cargo-leptos builds agree (and reuse each other's work).
export LEPTOS_OUTPUT_NAME=postkasse
# cargo-leptos builds debug binaries with this flag (Leptos then erases view
# types, which keeps debug builds small and quick). Any other RUSTFLAGS would
# make cargo rebuild every crate, so the tests, clippy and cargo-leptos use
# the same: the dependencies are compiled once.
export RUSTFLAGS="--cfg erase_components"

# Runs "$@" as a named step and prints how long it took.
step() {
  local name="$1"
  shift
  local started
  started=$(date +%s)
  echo "::: ${name}"
  if "$@"; then
    echo "::: ${name}: done in $(($(date +%s) - started)) s"
  else
    local status=$?
    echo "::: ${name}: FAILED after $(($(date +%s) - started)) s (exit ${status})"
    return "${status}"
  fi
}

# The wasm-bindgen version the lock file pins; the CLI must match it exactly.
wasm_bindgen_version() {
  sed -n '/^name = "wasm-bindgen"$/{n;s/^version = "\(.*\)"$/\1/p;}' "$ROOT/Cargo.lock"
}

# Where cargo puts build output (CARGO_TARGET_DIR if set).
target_dir() {
  echo "${CARGO_TARGET_DIR:-$ROOT/target}"
}
