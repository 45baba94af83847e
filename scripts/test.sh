#!/usr/bin/env bash
# Builds everything and runs every test (unit, integration, conformance). Installs what it
# needs first; safe to run again.
source "$(dirname "$0")/lib.sh"

install_deps
build

say "running the tests (ctest, $(nproc) at a time)"
ctest --test-dir "$BUILD_DIR" --output-on-failure -j "$(nproc)" --timeout 600 "$@"

say "all tests passed"
