# Shared helpers for the ccburst scripts (sourced, not run).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"

say() { printf '\n\033[1;34m==> %s\033[0m\n' "$*"; }
note() { printf '    %s\n' "$*"; }

# Debian 12 packages the build, the tests and the demo need (see ../shared/DEPENDENCIES.md).
PACKAGES=(build-essential cmake ninja-build clang clang-format libclang-rt-14-dev
  libssl-dev libboost1.81-dev libboost-json1.81-dev libabsl-dev libtomlplusplus-dev libcli11-dev
  libspdlog-dev prometheus-cpp-dev libgrpc++-dev protobuf-compiler-grpc protobuf-compiler libprotobuf-dev
  libtss2-dev libsqlite3-dev libpq-dev postgresql libgtest-dev libgmock-dev libbenchmark-dev libre2-dev
  libxml2-dev libxmlsec1-dev
  python3-jwcrypto python3-jsonschema python3-yaml openssl curl tzdata prometheus
  swtpm swtpm-tools tpm2-tools)

install_deps() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    note "all ${#PACKAGES[@]} Debian packages already installed"
    return
  fi
  say "installing ${#missing[@]} Debian packages: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

build() {
  say "configuring ($BUILD_DIR) and building with $(nproc) jobs"
  cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  ninja -C "$BUILD_DIR" -j "$(nproc)" "$@"
}
