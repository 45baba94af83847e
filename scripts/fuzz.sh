#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + coverage) in build-fuzz and runs each one.
# Usage: scripts/fuzz.sh [seconds-per-target]   (default: a short smoke run of 20,000 inputs)
source "$(dirname "$0")/lib.sh"
FUZZ_DIR="$ROOT/build-fuzz"
TARGETS=(kbs_request_fuzz token_fuzz rego_parse_fuzz sample_fuzz tdx_fuzz dcap_fuzz
  snp_fuzz ccel_fuzz azure_fuzz vtpm_fuzz init_data_fuzz sealed_secret_fuzz kbs_response_fuzz
  nvidia_fuzz)

install_deps
say "building fuzz targets with clang in $FUZZ_DIR"
CC=clang CXX=clang++ cmake -S "$ROOT" -B "$FUZZ_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCCB_FUZZ=ON -DBUILD_TESTING=OFF >/dev/null
ninja -C "$FUZZ_DIR" -j "$(nproc)" "${TARGETS[@]}"

for t in "${TARGETS[@]}"; do
  bin="$(find "$FUZZ_DIR" -name "$t" -type f -executable | head -1)"
  corpus="$FUZZ_DIR/corpus/$t"
  mkdir -p "$corpus"
  if [ -n "${1:-}" ]; then limit=(-max_total_time="$1"); else limit=(-runs=20000); fi
  say "fuzzing $t (${limit[*]})"
  "$bin" "${limit[@]}" -max_len=4096 "$corpus" 2>&1 | tail -2
done
say "no crashes"
