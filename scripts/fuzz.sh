#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + coverage) in build-fuzz and runs each one over
# its corpus: build-fuzz/corpus/<target> (written) plus seeds read in place from the real-hardware
# vectors in ../shared/testdata and the repository's own policies (never copied into the repo).
# Usage: scripts/fuzz.sh [seconds-per-target]   (default: a short smoke run of 20,000 inputs)
#        scripts/fuzz.sh --smoke                (what scripts/test.sh runs: 10 s per target)
source "$(dirname "$0")/lib.sh"
FUZZ_DIR="$ROOT/build-fuzz"
TARGETS=(kbs_request_fuzz token_fuzz rego_parse_fuzz sample_fuzz tdx_fuzz dcap_fuzz
  snp_fuzz ccel_fuzz azure_fuzz vtpm_fuzz init_data_fuzz sealed_secret_fuzz kbs_response_fuzz
  nvidia_fuzz nvidia_rim_fuzz)

TESTDATA="$ROOT/../shared/testdata"
# seeds TARGET: the directories (read recursively by libFuzzer, never written) that seed TARGET.
seeds() {
  local dirs=()
  case "$1" in
    tdx_fuzz | dcap_fuzz) dirs=("$TESTDATA/tdx") ;;
    snp_fuzz) dirs=("$TESTDATA/snp") ;;
    ccel_fuzz) dirs=("$TESTDATA/eventlog") ;;
    azure_fuzz) dirs=("$TESTDATA/azure") ;;
    rego_parse_fuzz) dirs=("$ROOT/attestation/policies") ;;
    kbs_request_fuzz | token_fuzz | sample_fuzz) dirs=("$TESTDATA/tdx" "$TESTDATA/snp") ;;
    vtpm_fuzz | kbs_response_fuzz) dirs=("$TESTDATA/azure") ;;
    nvidia_fuzz) dirs=("$TESTDATA/nvidia") ;;
    nvidia_rim_fuzz) dirs=("$ROOT/evidence/nvidia/testing/rim_seeds") ;;  # generated test RIMs
    init_data_fuzz) dirs=("$ROOT/deploy/scaler") ;;          # initdata.toml and its annotation
    sealed_secret_fuzz) dirs=("$ROOT/agent" "$ROOT/docs") ;;  # sealed.* examples in tests and docs
  esac
  for d in "${dirs[@]}"; do [ -d "$d" ] && echo "$d"; done
}

SMOKE=""
if [ "${1:-}" = --smoke ]; then SMOKE=1; shift; fi

install_deps
say "building fuzz targets with clang in $FUZZ_DIR"
CC=clang CXX=clang++ cmake -S "$ROOT" -B "$FUZZ_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCCB_FUZZ=ON -DBUILD_TESTING=OFF >/dev/null
ninja -C "$FUZZ_DIR" -j "$(nproc)" "${TARGETS[@]}"

for t in "${TARGETS[@]}"; do
  bin="$(find "$FUZZ_DIR" -name "$t" -type f -executable | head -1)"
  corpus="$FUZZ_DIR/corpus/$t"
  mkdir -p "$corpus"
  if [ -n "$SMOKE" ]; then
    limit=(-max_total_time=10)
  elif [ -n "${1:-}" ]; then
    limit=(-max_total_time="$1")
  else
    limit=(-runs=20000)
  fi
  mapfile -t seed_dirs < <(seeds "$t")
  [ -n "$SMOKE" ] && [ ${#seed_dirs[@]} -eq 0 ] && { echo "no seed corpus for $t" >&2; exit 1; }
  say "fuzzing $t (${limit[*]}; seeds: ${seed_dirs[*]:-none})"
  mkdir -p "$FUZZ_DIR/crashes/$t"
  if ! "$bin" "${limit[@]}" -max_len=65536 -artifact_prefix="$FUZZ_DIR/crashes/$t/" "$corpus" \
    "${seed_dirs[@]}" >"$FUZZ_DIR/fuzz-$t.log" 2>&1; then
    tail -40 "$FUZZ_DIR/fuzz-$t.log" >&2
    echo "fuzz: $t failed; the input is in $FUZZ_DIR/crashes/$t/" >&2
    exit 1
  fi
  tail -2 "$FUZZ_DIR/fuzz-$t.log"
done
say "no crashes"
