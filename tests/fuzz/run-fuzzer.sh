#!/bin/bash
# Runs one libFuzzer target as the CTest test of the same name does (label "fuzz"):
#   1. every input in tests/fuzz/regressions/TARGET/ once: one that fails again fails the test;
#   2. fuzzing for SECONDS (0: only the seed corpus, once), from a scratch copy of
#      tests/fuzz/corpus/TARGET/, with tests/fuzz/dictionaries/TARGET.dict when there is one.
# A crash, leak, timeout, excess memory or broken property fails the test and says how to
# reproduce the input and keep it as a regression. Nothing is written to the source tree: the
# scratch corpus is WORK_DIR/TARGET/corpus, a failing input goes to WORK_DIR/TARGET/artifacts/.
#
#   run-fuzzer.sh FUZZER SOURCE_DIR WORK_DIR SECONDS [EXTRA LIBFUZZER FLAGS…]
set -euo pipefail

if (($# < 4)); then
    sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
fi
fuzzer=$1 source_dir=$2 work_dir=$3 seconds=$4
shift 4
target=$(basename "$fuzzer")
corpus=$source_dir/corpus/$target
regressions=$source_dir/regressions/$target
dictionary=$source_dir/dictionaries/$target.dict
scratch=$work_dir/$target
artifacts=$scratch/artifacts

[[ -x "$fuzzer" ]] || {
    echo "fuzz: $fuzzer is missing: build first (cmake --build)." >&2
    exit 1
}

# The scratch corpus starts afresh each run; artifacts of earlier failures are kept.
rm -rf "$scratch/corpus"
mkdir -p "$scratch/corpus" "$artifacts"
[[ -d "$corpus" ]] && cp -R "$corpus/." "$scratch/corpus/"
cd "$scratch"

# Per input: 10 s is thousands of times what any input takes; 2 GiB covers ASan's quarantine.
flags=(-timeout=10 -rss_limit_mb=2048 -artifact_prefix="$artifacts/" "$@")
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}

mapfile -t inputs < <(find "$regressions" -type f ! -name '.*' ! -name '*.md' 2>/dev/null | sort)
if ((${#inputs[@]})); then
    echo "fuzz: replaying ${#inputs[@]} regression input(s) of $target"
    if ! "$fuzzer" "${flags[@]}" "${inputs[@]}"; then
        echo "fuzz: a regression input of $target fails again (see above which one): the bug" \
            "it was added for is back. Reproduce it with: $fuzzer FILE" >&2
        exit 1
    fi
fi

if ((seconds > 0)); then
    budget=(-max_total_time="$seconds")
else
    budget=(-runs=0)
fi
[[ -f "$dictionary" ]] && flags+=(-dict="$dictionary")
marker=$scratch/started
touch "$marker"
echo "fuzz: fuzzing $target for ${seconds} s"
if "$fuzzer" "${flags[@]}" "${budget[@]}" -print_final_stats=1 "$scratch/corpus"; then
    exit 0
fi

found=$(find "$artifacts" -type f -newer "$marker" | head -n 1)
if [[ -z "$found" ]]; then
    echo "fuzz: $target failed without leaving an input (see the output above)." >&2
    exit 1
fi
cat >&2 <<EOF
fuzz: $target found an input that fails: $found
  Reproduce:  $fuzzer $found
  Minimise:   $fuzzer -minimize_crash=1 -runs=20000 -exact_artifact_path=$found.min $found
  Fix the bug, then keep the minimised input as a regression test, named for what it is:
    cp $found.min $regressions/<what-it-is>
EOF
exit 1
