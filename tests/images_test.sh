#!/usr/bin/env bash
# The container images cannot miss a library: for each built binary that has a
# deploy/images/Containerfile.<binary>, map every shared library `ldd` resolves to its Debian
# package (`dpkg -S`) and check that deploy/images/<binary>.packages (what the image's runtime
# stage installs) lists it. A missing package fails; a listed package that no library needs is
# reported (it may be a non-library runtime need such as ca-certificates, said so in the list).
#
#   tests/images_test.sh BINARY_PATH...      (ctest passes the binaries that exist in the build)
#
# Also checked: every Containerfile has a package list and vice versa, the runtime stage installs
# that list and copies the binary from the builder, and runs as a numeric non-root user; no
# binary needs a library from the build tree.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
IMAGES="$ROOT/deploy/images"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
: >"$WORK/failures"
# Works in subshells too (command substitutions): the count lives in a file, the message on stderr.
fail() {
  echo "FAIL $*" >&2
  echo x >>"$WORK/failures"
}

# Library path -> Debian package, filled by index_owners with ONE `dpkg -S` over every candidate
# path (dpkg -S reads the whole package database per call: one call per library is minutes on a
# loaded machine). ldd prints the path it loaded (/lib/... on a merged-/usr system), dpkg may have
# registered the same file under /usr/lib or /lib, or only the name its symlink chain ends at.
declare -A OWNER=()
candidates() {
  local path="$1" real p
  real="$(readlink -f "$path")"
  for p in "$path" "$real"; do
    echo "$p"
    case "$p" in
      /usr/*) echo "${p#/usr}" ;;
      *) echo "/usr$p" ;;
    esac
  done
}
index_owners() {
  local lib line pkg path
  mapfile -t all < <(for lib in "$@"; do candidates "$lib"; done | sort -u)
  [ ${#all[@]} -gt 0 ] || return 0
  while IFS= read -r line; do
    pkg="${line%%: *}"
    path="${line#*: }"
    OWNER["$path"]="${pkg%%,*}"
  done < <(dpkg -S "${all[@]}" 2>/dev/null || true)
}
owner() {
  local p
  for p in $(candidates "$1"); do
    if [ -n "${OWNER[$p]:-}" ]; then
      echo "${OWNER[$p]%%:*}"
      return 0
    fi
  done
  return 1
}

# Structure: Containerfiles and package lists pair up.
for cf in "$IMAGES"/Containerfile.*; do
  bin="${cf##*/Containerfile.}"
  list="$IMAGES/$bin.packages"
  [ -f "$list" ] || { fail "$bin: no deploy/images/$bin.packages for Containerfile.$bin"; continue; }
  grep -q "COPY deploy/images/$bin.packages " "$cf" || fail "$bin: Containerfile.$bin does not install $bin.packages"
  grep -q "ninja -C /build $bin " "$cf" || fail "$bin: Containerfile.$bin does not build target $bin"
  grep -q "/build/apps/$bin " "$cf" || fail "$bin: Containerfile.$bin does not install the built $bin"
  grep -Eq '^USER [1-9][0-9]*(:[0-9]+)?$' "$cf" || fail "$bin: Containerfile.$bin has no numeric non-root USER"
  [ "$(grep -c '^FROM docker.io/library/debian:12' "$cf")" -eq 2 ] ||
    fail "$bin: Containerfile.$bin is not two debian:12 stages"
done
for list in "$IMAGES"/*.packages; do
  name="${list##*/}"
  name="${name%.packages}"
  [ "$name" = build ] || [ -f "$IMAGES/Containerfile.$name" ] || fail "$name.packages: no Containerfile.$name"
done

# Writes to $2 the Debian packages the libraries of binary $1 come from, one a line, sorted.
needed_packages() {
  local binary="$1" out="$2" bin="${1##*/}" ldd_out lib pkg
  : >"$out"
  if ! ldd_out="$(ldd "$binary" 2>&1)"; then
    fail "$bin: ldd failed: $ldd_out"
    return
  fi
  if grep -q 'not found' <<<"$ldd_out"; then
    fail "$bin: unresolved libraries: $(grep 'not found' <<<"$ldd_out" | tr -s ' \t' ' ')"
  fi
  awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// && $2 ~ /^\(/ {print $1}' <<<"$ldd_out" >"$WORK/libs"
  while read -r lib; do
    case "$lib" in
      "$ROOT"/*) fail "$bin: needs $lib from the build tree (not in any image)"; continue ;;
    esac
    if pkg="$(owner "$lib")"; then
      echo "${pkg%%:*}" >>"$out.unsorted"
    else
      fail "$bin: no Debian package owns $lib"
    fi
  done <"$WORK/libs"
  sort -u "$out.unsorted" >"$out" 2>/dev/null || true
  rm -f "$out.unsorted"
}

# Writes to $2 the packages list $1 names (comments and blanks dropped), sorted.
listed_packages() { sed -e 's/#.*//' -e 's/[[:space:]]//g' "$1" | grep -v '^$' | sort -u >"$2"; }

[ $# -gt 0 ] || fail "no binaries given (ctest passes the built ones)"
index_owners $(for b in "$@"; do [ -x "$b" ] && ldd "$b" 2>/dev/null; done |
  awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// && $2 ~ /^\(/ {print $1}' | sort -u)
for binary in "$@"; do
  bin="${binary##*/}"
  list="$IMAGES/$bin.packages"
  if [ ! -f "$IMAGES/Containerfile.$bin" ]; then
    fail "$bin: built, but there is no deploy/images/Containerfile.$bin"
    continue
  fi
  [ -x "$binary" ] || { fail "$bin: $binary is not a built executable"; continue; }
  needed_packages "$binary" "$WORK/$bin.needed"
  listed_packages "$list" "$WORK/$bin.listed"
  missing="$(comm -23 "$WORK/$bin.needed" "$WORK/$bin.listed" | tr '\n' ' ')"
  if [ -n "$missing" ]; then
    fail "$bin: deploy/images/$bin.packages misses ${missing% } (ldd of $binary)"
  else
    echo "ok   $bin: $(wc -l <"$WORK/$bin.needed") packages from ldd, all in $bin.packages"
  fi
  for p in $(comm -13 "$WORK/$bin.needed" "$WORK/$bin.listed"); do
    if grep -Eq "^$p[[:space:]]*#" "$list"; then
      echo "note $bin: $p listed without a library need ($(grep -E "^$p[[:space:]]*#" "$list" | sed 's/^[^#]*#[[:space:]]*//'))"
    else
      echo "note $bin: $p listed but no library of $bin comes from it (extra)"
    fi
  done
done

# Self-check: the comparison does catch a list that lacks a package (libssl3 taken out).
first="${1:-}"
if [ -n "$first" ] && [ -s "$WORK/${first##*/}.needed" ]; then
  grep -vx libssl3 "$WORK/${first##*/}.listed" >"$WORK/short.listed" || true
  caught="$(comm -23 "$WORK/${first##*/}.needed" "$WORK/short.listed" | tr '\n' ' ')"
  if [ "$caught" = "libssl3 " ]; then
    echo "ok   self-check: ${first##*/}'s list without libssl3 is reported as missing libssl3"
  else
    fail "self-check: ${first##*/}'s list without libssl3 reported missing: '${caught}'"
  fi
fi

failures="$(wc -l <"$WORK/failures")"
if [ "$failures" -ne 0 ]; then
  echo "$failures failure(s)"
  exit 1
fi
echo "all images cover their binaries' libraries"
