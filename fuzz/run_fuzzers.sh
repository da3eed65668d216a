#!/usr/bin/env bash
# Builds the libFuzzer targets in fuzz/ with clang++ (-fsanitize=fuzzer,address,undefined),
# replays the committed crash regressions (fuzz/regressions/<target>/), then fuzzes each target
# for a bounded time starting from a COPY of its committed seed corpus (fuzz/corpus/<target>/),
# so the repository is never modified. Exits non-zero only when a target fails to build, a
# regression input fails again, or fuzzing finds a crash, leak, timeout or invariant violation;
# the failing input is then printed as hex and kept for fuzz/regressions/.
#
#   fuzz/run_fuzzers.sh                       # 60 s per target (what CI runs)
#   fuzz/run_fuzzers.sh --seconds 3600        # an hour each
#   fuzz/run_fuzzers.sh --seconds 30 --only fuzz_idmap --keep /tmp/fuzz-out
#
# Options:
#   --seconds N      fuzzing time per target (default 60; 0 = build and replay only)
#   --only NAME      run one target (repeatable)
#   --build-dir DIR  where the binaries go (default build-fuzz/libfuzzer/ in the repository)
#   --keep DIR       keep the working corpora, logs and artifacts in DIR (default: a temporary
#                    directory removed at exit unless something failed)
# Environment: CXX_FUZZ (compiler, default clang++-14 or clang++), FUZZ_JOBS (parallel
# compiles, default 2).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
seconds=60
only=()
build_dir="$root/build-fuzz/libfuzzer"
keep=""

usage() { sed -n '2,22p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="${2:?--seconds needs a value}"; shift 2 ;;
    --seconds=*) seconds="${1#*=}"; shift ;;
    --only) only+=("${2:?--only needs a target name}"); shift 2 ;;
    --build-dir) build_dir="${2:?--build-dir needs a directory}"; shift 2 ;;
    --keep) keep="${2:?--keep needs a directory}"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run_fuzzers.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
if ! [[ "$seconds" =~ ^[0-9]+$ ]]; then
  echo "run_fuzzers.sh: --seconds must be a non-negative integer, got '$seconds'" >&2
  exit 2
fi

cxx="${CXX_FUZZ:-}"
if [ -z "$cxx" ]; then
  for c in clang++-14 clang++; do
    if command -v "$c" >/dev/null 2>&1; then cxx="$c"; break; fi
  done
fi
if [ -z "$cxx" ] || ! command -v "$cxx" >/dev/null 2>&1; then
  echo "run_fuzzers.sh: FAILED: no clang++ found (apt-get install clang libclang-rt-14-dev)" >&2
  exit 1
fi

targets=()
for src in "$root"/fuzz/fuzz_*.cpp; do
  name="$(basename "$src" .cpp)"
  if [ ${#only[@]} -gt 0 ] && [[ ! " ${only[*]} " =~ " $name " ]]; then continue; fi
  targets+=("$name")
done
if [ ${#targets[@]} -eq 0 ]; then
  echo "run_fuzzers.sh: no fuzz target matches '${only[*]}'" >&2
  exit 2
fi

if [ -n "$keep" ]; then
  work="$keep"
  mkdir -p "$work"
else
  work="$(mktemp -d "${TMPDIR:-/tmp}/directspec-fuzz.XXXXXX")"
fi
failed=0
cleanup() {
  if [ -z "$keep" ] && [ "$failed" -eq 0 ]; then rm -rf "$work"; fi
}
trap cleanup EXIT

# ---------------------------------------------------------------------------------------- build
mkdir -p "$build_dir"
flags=(-std=c++20 -O1 -g -fno-omit-frame-pointer
       -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
       -Wall -Wextra -Wpedantic -Werror
       -I"$root/include" -isystem /usr/include/eigen3 -I"$root/fuzz")
echo "== building ${#targets[@]} fuzz targets with $("$cxx" --version | head -n1) into $build_dir"
jobs_max="${FUZZ_JOBS:-2}"
pids=()
for name in "${targets[@]}"; do
  (
    if ! "$cxx" "${flags[@]}" "$root/fuzz/$name.cpp" -o "$build_dir/$name" \
        >"$work/$name.build.log" 2>&1; then
      echo "run_fuzzers.sh: FAILED to build $name:" >&2
      cat "$work/$name.build.log" >&2
      exit 1
    fi
  ) &
  pids+=($!)
  if [ ${#pids[@]} -ge "$jobs_max" ]; then
    wait "${pids[0]}" || failed=1
    pids=("${pids[@]:1}")
  fi
done
for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
if [ "$failed" -ne 0 ]; then
  echo "run_fuzzers.sh: FAILED: a fuzz target did not build (log above)" >&2
  exit 1
fi

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

dict_of() {
  case "$1" in
    fuzz_parse_*|fuzz_raw_log) echo "$root/fuzz/dict/parse.dict" ;;
    fuzz_model_file) echo "$root/fuzz/dict/model.dict" ;;
    fuzz_idmap) echo "$root/fuzz/dict/idmap.dict" ;;
  esac
}

hexdump_file() {
  local f="$1"
  echo "---- $(basename "$f") ($(wc -c <"$f") bytes), hex:"
  od -A x -t x1z -v "$f" | head -n 64
  echo "----"
}

report_failure() {  # target, log, artifact dir
  local name="$1" log="$2" artifacts="$3"
  failed=1
  echo "run_fuzzers.sh: FAILED: $name found a crash / invariant violation. Last lines of its log:" >&2
  tail -n 60 "$log" >&2 || true
  local any=0
  for f in "$artifacts"/*; do
    [ -f "$f" ] || continue
    case "$(basename "$f")" in slow-unit-*) continue ;; esac
    any=1
    hexdump_file "$f" >&2
    echo "reproduce: $build_dir/$name '$f'" >&2
    echo "keep it:   cp '$f' $root/fuzz/regressions/$name/" >&2
  done
  if [ "$any" -eq 0 ]; then echo "(no artifact file was written; see the log above)" >&2; fi
}

# ------------------------------------------------------------------------------ replay and fuzz
summary=()
for name in "${targets[@]}"; do
  bin="$build_dir/$name"
  # 1. Committed regressions: every input that once failed must now pass.
  regs=()
  if [ -d "$root/fuzz/regressions/$name" ]; then
    while IFS= read -r -d '' f; do regs+=("$f"); done < <(
      find "$root/fuzz/regressions/$name" -type f ! -name '*.md' -print0 | sort -z)
  fi
  if [ ${#regs[@]} -gt 0 ]; then
    echo "== $name: replaying ${#regs[@]} regression input(s)"
    if ! "$bin" "${regs[@]}" >"$work/$name.regressions.log" 2>&1; then
      failed=1
      echo "run_fuzzers.sh: FAILED: $name fails on a committed regression input again:" >&2
      tail -n 60 "$work/$name.regressions.log" >&2
      for f in "${regs[@]}"; do
        if ! "$bin" "$f" >/dev/null 2>&1; then
          hexdump_file "$f" >&2
          echo "reproduce: $bin '$f'" >&2
        fi
      done
      summary+=("$(printf '%-22s FAILED on a committed regression input' "$name")")
      continue
    fi
  fi

  # 2. Committed corpus (copied: libFuzzer adds new inputs to the directory it is given).
  corpus="$work/corpus/$name"
  artifacts="$work/artifacts/$name"
  rm -rf "$corpus" "$artifacts"
  mkdir -p "$corpus" "$artifacts"
  if [ -d "$root/fuzz/corpus/$name" ]; then cp -R "$root/fuzz/corpus/$name/." "$corpus/"; fi
  seeds=$(find "$corpus" -type f | wc -l)
  if [ "$seconds" -eq 0 ]; then
    # Replay the seeds once (no mutation) so a broken seed or target still fails.
    log="$work/$name.log"
    if ! "$bin" -runs=0 "$corpus" >"$log" 2>&1; then report_failure "$name" "$log" "$artifacts"; fi
    summary+=("$(printf '%-22s %8s seeds  replayed only' "$name" "$seeds")")
    continue
  fi
  echo "== $name: fuzzing for ${seconds}s from $seeds seed(s)"
  log="$work/$name.log"
  args=(-max_total_time="$seconds" -timeout=30 -max_len=8192 -print_final_stats=1
        -artifact_prefix="$artifacts/")
  dict="$(dict_of "$name")"
  if [ -n "$dict" ] && [ -f "$dict" ]; then args+=(-dict="$dict"); fi
  if "$bin" "${args[@]}" "$corpus" >"$log" 2>&1; then
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n1 | sed 's/cov: //')
    final=$(find "$corpus" -type f | wc -l)
    summary+=("$(printf '%-22s %12s execs  %7s exec/s  cov %5s  corpus %4s -> %-5s' \
      "$name" "${execs:-?}" "${rate:-?}" "${cov:-?}" "$seeds" "$final")")
  else
    report_failure "$name" "$log" "$artifacts"
    summary+=("$(printf '%-22s FAILED (see above)' "$name")")
  fi
done

echo "== fuzzing summary (${seconds}s per target, $cxx, ASan + UBSan + libFuzzer)"
for line in "${summary[@]}"; do echo "  $line"; done
if [ "$failed" -ne 0 ]; then
  echo "run_fuzzers.sh: FAILED (working files kept in $work)" >&2
  exit 1
fi
echo "run_fuzzers.sh: all fuzz targets passed"
