#!/usr/bin/env bash
# Builds the libFuzzer harnesses (fuzz/*.cc) with clang (-fsanitize=fuzzer,address,
# undefined) and runs each one for a bounded time, seeded with the captured replies in
# fuzz/corpus/<target>/. A test harness only: it compiles the decoder sources it needs
# directly; the addon itself is built by binding.gyp alone.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#
# SECONDS per target (default $FUZZ_SECONDS, else 20); 0 replays the corpus once (a
# regression run, a few seconds). Targets default to every fuzz/*.cc. New inputs go to
# build-fuzz/corpus/<target>/ (the committed seeds stay untouched); a crash stops the
# run with its reproducer under build-fuzz/artifacts/ and exits 1. See fuzz/README.md.
#
# Needs clang and its runtimes (Debian: clang libclang-rt-dev).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

secs="${1:-${FUZZ_SECONDS:-20}}"
shift || true
out="${FUZZ_BUILD:-$root/build-fuzz}"
jobs="${JOBS:-2}"
CXX="${CXX_FUZZ:-clang++}"

if ! command -v "$CXX" >/dev/null; then
  echo "fuzz.sh: $CXX not found (Debian: apt-get install clang libclang-rt-dev)" >&2
  exit 1
fi

# The decoders and what they link against: netlink framing, rtnetlink families,
# nftables objects and every expression table.
sources=(
  native/netlink/builder.cc native/netlink/parser.cc native/netlink/socket.cc
  native/rtnl/ip.cc native/rtnl/link.cc native/rtnl/addr.cc native/rtnl/route.cc native/rtnl/neigh.cc
  native/nft/nft.cc native/nft/expr.cc native/nft/expr/*.cc
  native/nft/table.cc native/nft/chain.cc native/nft/rule.cc native/nft/set.cc
)
if [ "$#" -gt 0 ]; then targets=("$@"); else targets=(); for f in fuzz/*.cc; do targets+=("$(basename "$f" .cc)"); done; fi

flags=(-std=c++20 -g -O1 -fno-omit-frame-pointer -Inative -I.
       -fsanitize=address,undefined -fno-sanitize-recover=all -Wall -Wextra -Wno-unused-parameter
       -Wno-missing-field-initializers)
mkdir -p "$out/obj" "$out/bin" "$out/artifacts"

echo "==> compiling ${#sources[@]} decoder sources with $("$CXX" --version | head -1)"
export CXX out
printf '%s\n' "${sources[@]}" | xargs -P "$jobs" -I{} sh -c \
  'src="$1"; shift; "$CXX" "$@" -fsanitize=fuzzer-no-link -c "$src" -o "$out/obj/$(echo "$src" | tr / _).o"' \
  sh {} "${flags[@]}"
objs=("$out"/obj/*.o)

for t in "${targets[@]}"; do
  "$CXX" "${flags[@]}" -fsanitize=fuzzer "fuzz/$t.cc" "${objs[@]}" -o "$out/bin/$t"
done

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
status=0
for t in "${targets[@]}"; do
  seeds="fuzz/corpus/$t"
  mkdir -p "$seeds" "$out/corpus/$t"
  common=(-max_len=20000 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
          -artifact_prefix="$out/artifacts/$t-")
  if [ "$secs" = 0 ]; then
    echo "==> $t: replaying $(ls "$seeds" | wc -l) corpus inputs"
    "$out/bin/$t" "${common[@]}" -runs=0 "$seeds" >"$out/$t.log" 2>&1 || status=1
  else
    echo "==> $t: fuzzing for ${secs}s ($(ls "$seeds" | wc -l) seeds)"
    "$out/bin/$t" "${common[@]}" -max_total_time="$secs" "$out/corpus/$t" "$seeds" >"$out/$t.log" 2>&1 || status=1
  fi
  grep -E "^stat::(number_of_executed_units|peak_rss_mb)" "$out/$t.log" | head -2 | tr -s " \n" " "; echo
  if grep -qE 'ERROR: (AddressSanitizer|libFuzzer)|runtime error:|SUMMARY: ' "$out/$t.log"; then
    status=1
    echo "!! $t failed; log: $out/$t.log" >&2
    grep -E 'ERROR:|runtime error:|SUMMARY:|Test unit written|re-encoding' "$out/$t.log" | head -20 >&2
  fi
done
exit "$status"
