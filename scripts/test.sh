#!/usr/bin/env bash
# Builds everything and runs every test (unit, integration, conformance), then a fuzz smoke (each
# libFuzzer target for 10 s over its seed corpus, scripts/fuzz.sh --smoke). Installs what it needs
# first; safe to run again.
# Usage: scripts/test.sh [--sanitize] [--no-fuzz] [ctest args...]
#   --sanitize  builds in build-asan with -fsanitize=address,undefined
#               -fno-sanitize-recover=undefined and runs the suite there (see SANITIZE_SKIP)
source "$(dirname "$0")/lib.sh"

SANITIZE=""
FUZZ=1
while [ $# -gt 0 ]; do
  case "$1" in
    --sanitize) SANITIZE=1; shift ;;
    --no-fuzz) FUZZ=""; shift ;;
    *) break ;;
  esac
done

# Tests that cannot run under ASan+UBSan, and why:
#   *_bench*, *perf*, *_load*: timings and throughput figures are meaningless at ASan's 2-3x cost
#     and their thresholds would fail; they test no behaviour the unit tests do not.
#   fuzz targets are not ctest tests (they run below, in build-fuzz, with ASan already).
SANITIZE_SKIP='bench|perf|_load|soak'

install_deps
if [ -n "$SANITIZE" ]; then
  BUILD_DIR="$ROOT/build-asan"
  say "configuring ($BUILD_DIR, ASan+UBSan) and building with $(nproc) jobs"
  cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer" \
    -DCMAKE_C_FLAGS="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer" \
    -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" >/dev/null
  ninja -C "$BUILD_DIR" -j "$(nproc)"
  export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
  say "running the tests under ASan+UBSan (skipping /$SANITIZE_SKIP/)"
  ctest --test-dir "$BUILD_DIR" --output-on-failure -j "$(nproc)" --timeout 1800 \
    -E "$SANITIZE_SKIP" "$@"
  say "all tests passed under ASan+UBSan"
  exit 0
fi

build

say "running the tests (ctest, $(nproc) at a time)"
ctest --test-dir "$BUILD_DIR" --output-on-failure -j "$(nproc)" --timeout 600 "$@"

if [ -n "$FUZZ" ]; then
  say "fuzz smoke: each target 10 s over its seed corpus (scripts/fuzz.sh --smoke)"
  "$ROOT/scripts/fuzz.sh" --smoke
fi

say "all tests passed"
