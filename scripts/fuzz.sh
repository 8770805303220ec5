#!/usr/bin/env bash
# Builds the libFuzzer harnesses (fuzz/*.cc) with clang (-fsanitize=fuzzer,address,
# undefined) and runs each one for a bounded time, seeded with the captured replies in
# fuzz/corpus/<target>/. A test harness only: it compiles the decoder sources it needs
# directly; the addon itself is built by binding.gyp alone.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#
# SECONDS per target (default $FUZZ_SECONDS, else 20); 0 replays the corpus once (a
# regression run, a few seconds). Targets default to every fuzz/*.cc and run JOBS at a
# time (default 2). New inputs go to
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
# One target: fuzz (or replay), then report. Targets run $jobs at a time.
fuzz_one() {
  local t="$1" seeds="fuzz/corpus/$1" st=0
  mkdir -p "$seeds" "$out/corpus/$t"
  local common=(-max_len=20000 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
                -artifact_prefix="$out/artifacts/$t-")
  if [ "$secs" = 0 ]; then
    "$out/bin/$t" "${common[@]}" -runs=0 "$seeds" >"$out/$t.log" 2>&1 || st=1
  else
    "$out/bin/$t" "${common[@]}" -max_total_time="$secs" "$out/corpus/$t" "$seeds" >"$out/$t.log" 2>&1 || st=1
  fi
  if grep -qE 'ERROR: (AddressSanitizer|libFuzzer)|runtime error:|SUMMARY: ' "$out/$t.log"; then st=1; fi
  {
    if [ "$secs" = 0 ]; then echo -n "==> $t: replayed $(ls "$seeds" | wc -l) corpus inputs: ";
    else echo -n "==> $t: fuzzed ${secs}s from $(ls "$seeds" | wc -l) seeds: "; fi
    grep -E "^stat::(number_of_executed_units|peak_rss_mb)" "$out/$t.log" | head -2 | tr -s " \n" " "; echo
    if [ "$st" != 0 ]; then
      echo "!! $t failed; log: $out/$t.log"
      grep -E 'ERROR:|runtime error:|SUMMARY:|Test unit written|re-encoding' "$out/$t.log" | head -20
    fi
  } >"$out/$t.report.tmp"
  mv "$out/$t.report.tmp" "$out/$t.report"
  return "$st"
}

status=0
pids=()
names=()
rm -f "$out"/*.report
for t in "${targets[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
  fuzz_one "$t" &
  pids+=("$!"); names+=("$t")
done
for i in "${!pids[@]}"; do
  wait "${pids[$i]}" || status=1
  # (a job reaped early by wait -n above still leaves its verdict in the report)
  grep -q '^!! ' "$out/${names[$i]}.report" && status=1
  cat "$out/${names[$i]}.report"
done
exit "$status"
