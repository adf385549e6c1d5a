#!/usr/bin/env bash
# Run on the GPU machine, from the repo root, with .deps/ made by scripts/prepare-gpu-deps.sh:
# builds lrlab against that machine's PyTorch (LibTorch 2.x + CUDA) with the fused CUDA step
# (-DLRLAB_CUDA_FUSED=ON, docs/kernels.md), runs the [cuda] and [cuda_fused] tests, the GPU benchmark
# (with its `fused` column and roofline), the CPU kernel of the same machine at issue 15's
# configuration, and configs/gpu/scaling_d_large.yaml on CUDA under /usr/bin/time, and writes every
# log to $OUT (default gpu-results/). Extra arguments go to cmake. Sized for ~8 minutes on an H200
# with 16 cores. Exit status: 0 when configure, build and the CUDA tests pass; the benchmark and the
# study are reported only.
#
# Environment (all optional): OUT, BUILD_DIR (build-gpu), JOBS (16), CUDA_ARCH (90), NVCC,
#   TORCH_PREFIX (default: python3 -c 'import torch; print(torch.utils.cmake_prefix_path)'),
#   TEST_BIN (build-gpu/tests/lrlab_tests; `ctest -L cuda` when there is no such target),
#   BENCH_BIN (build-gpu/bench/lrlab_bench), BENCH_ARGS ("--device cuda --json $OUT/bench_gpu.json"),
#   TEST_TIMEOUT, BENCH_TIMEOUT (300 s each), STUDY_TIMEOUT (180 s), STUDY_ARGS (extra `lrlab run`
#   arguments), CPU_STUDY=1 (also run the study on the CPU, --jobs 16, for the side-by-side wall
#   times; STUDY_TIMEOUT applies), GPU_CHECK_DRY=1 (check paths, print the commands).
set -uo pipefail   # no -e: every stage is checked and reported
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 2
DEPS=$PWD/.deps/root
BUILD_DIR=${BUILD_DIR:-build-gpu}
OUT_DIR=${OUT:-gpu-results}
SUMMARY=()
status=0
note() { SUMMARY+=("$(printf '%-5s %s' "$1" "$2")"); echo "[gpu-check] $1 $2"; }
die() { echo "[gpu-check] error: $*" >&2; exit 2; }
finish() {
  { echo "== gpu-check summary ($(date -u +%FT%TZ), ${SECONDS}s) =="; printf '%s\n' "${SUMMARY[@]}"
    echo "logs: $OUT_DIR"; } | tee "$OUT_DIR/summary.txt"
  exit "$status"
}
# True when `target` is up to date now (so its binary is not a leftover of an earlier build).
built() { [[ -x $2 ]] && cmake --build "$BUILD_DIR" --target "$1" >/dev/null 2>&1; }

# --- dependency paths -------------------------------------------------------------------------
[[ -f $DEPS/usr/include/catch2/catch.hpp ]] ||
  die "$DEPS is incomplete: run scripts/prepare-gpu-deps.sh on the Debian machine and carry .deps"
if [[ -z ${TORCH_PREFIX:-} ]]; then
  TORCH_PREFIX=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)') ||
    die "python3 cannot import torch; set TORCH_PREFIX to LibTorch's CMake prefix"
fi
[[ -f $TORCH_PREFIX/Torch/TorchConfig.cmake ]] || die "no Torch/TorchConfig.cmake under $TORCH_PREFIX"
export LD_LIBRARY_PATH=$DEPS/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export CMAKE_POLICY_VERSION_MINIMUM=3.5   # CMake 4 refuses package configs written for CMake < 3.5

args=(-DCMAKE_BUILD_TYPE=Release -DLRLAB_USE_PCH=ON -DLRLAB_CUDA_FUSED=ON -DLRLAB_BUILD_BENCH=ON
  "-DCMAKE_PREFIX_PATH=$DEPS/usr/lib/x86_64-linux-gnu/cmake;$DEPS/usr/lib/cmake;$DEPS/usr/share/cmake;$TORCH_PREFIX"
  # FMT_HEADER_ONLY: LibTorch 2.x bundles fmt 12 headers that shadow the Debian fmt 9 headers in
  # .deps; header-only fmt avoids linking against a library of the other version.
  "-DCMAKE_CXX_FLAGS=-isystem $DEPS/usr/include -DFMT_HEADER_ONLY=1")
command -v ninja >/dev/null 2>&1 && [[ ! -f $BUILD_DIR/CMakeCache.txt ]] && args+=(-G Ninja)
CUDA_ARCH=${CUDA_ARCH:-90}
NVCC=${NVCC:-$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)}
if [[ -x $NVCC ]]; then  # Torch's CMake config calls enable_language(CUDA) and find_package(CUDAToolkit)
  args+=("-DCMAKE_CUDA_COMPILER=$NVCC" "-DCUDAToolkit_ROOT=$(dirname "$(dirname "$NVCC")")"
    "-DCMAKE_CUDA_ARCHITECTURES=$CUDA_ARCH" -DCAFFE2_USE_CUDNN=OFF)
  export TORCH_CUDA_ARCH_LIST=${TORCH_CUDA_ARCH_LIST:-${CUDA_ARCH%?}.${CUDA_ARCH: -1}}  # 90 -> 9.0
else
  note WARN "nvcc not found ($NVCC): Torch's CMake config may fail to enable CUDA"
fi
# LibTorch >= 2.12 headers refuse C++17 (needs CMakeLists.txt to honour -DCMAKE_CXX_STANDARD).
if grep -qs 'C++20 or later' "$TORCH_PREFIX/../../include/ATen/ATen.h"; then
  args+=(-DCMAKE_CXX_STANDARD=20); note WARN "this LibTorch needs C++20: passing -DCMAKE_CXX_STANDARD=20"
fi
args+=("$@")
BENCH_BIN=${BENCH_BIN:-$BUILD_DIR/bench/lrlab_bench}
LRLAB_BIN=$BUILD_DIR/apps/lrlab
STUDY=configs/gpu/scaling_d_large.yaml
if [[ ${GPU_CHECK_DRY:-0} == 1 ]]; then
  [[ -f $STUDY ]] || die "missing $STUDY"
  [[ -x /usr/bin/time ]] || echo "note: /usr/bin/time missing here (the study's wall time then comes from bash)"
  echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH TORCH_CUDA_ARCH_LIST=${TORCH_CUDA_ARCH_LIST:-}"
  printf '%q ' cmake -S . -B "$BUILD_DIR" "${args[@]}"; echo
  echo "cmake --build $BUILD_DIR --parallel ${JOBS:-16} --target lrlab lrlab_tests lrlab_bench"
  echo "bash scripts/check-cuda-compile.sh"
  echo "$BUILD_DIR/tests/lrlab_tests '[cuda],[cuda_fused]'"
  echo "$BENCH_BIN ${BENCH_ARGS:---device cuda --filter rank1/d1000/k8 --json OUT/bench_gpu.json}"
  echo "$BENCH_BIN --device cpu --filter 'rank1/d1000/k8/B1/R16\$' --no-python --json OUT/bench_cpu_same_machine.json"
  echo "/usr/bin/time -v $LRLAB_BIN run $STUDY device=cuda --out $BUILD_DIR/study_cuda --jobs 1 ${STUDY_ARGS:-}"
  exit 0
fi

# --- machine, configure, build ----------------------------------------------------------------
mkdir -p "$OUT_DIR" && OUT_DIR=$(cd "$OUT_DIR" && pwd)
{ date -u; uname -a; nvidia-smi || echo "nvidia-smi failed"
  python3 -c 'import torch as t; print("torch", t.__version__, "cuda", t.version.cuda,
    "available", t.cuda.is_available(), t.cuda.get_device_name(0) if t.cuda.is_available() else "")'
  "$NVCC" --version; cmake --version; c++ --version; echo "TORCH_PREFIX=$TORCH_PREFIX"
} >"$OUT_DIR/env.txt" 2>&1
note INFO "$(grep -m1 '^torch ' "$OUT_DIR/env.txt" || echo 'torch: version unknown')"

t=$SECONDS
if ! cmake -S . -B "$BUILD_DIR" "${args[@]}" >"$OUT_DIR/cmake.log" 2>&1; then
  tail -n 40 "$OUT_DIR/cmake.log"; note FAIL "configure (cmake.log)"; status=1; finish
fi
grep -E '^(Torch|fmt|yaml-cpp|Catch2|nlohmann_json|CLI11)_DIR:' "$BUILD_DIR/CMakeCache.txt" >>"$OUT_DIR/cmake.log"
note OK "configure ($((SECONDS - t))s)"
t=$SECONDS
keep_going=(-k); grep -q '^CMAKE_GENERATOR:INTERNAL=Ninja' "$BUILD_DIR/CMakeCache.txt" && keep_going=(-k 0)
# Only what the checks run (the fuzz replays and other tools stay unbuilt: minutes on 16 cores).
cmake --build "$BUILD_DIR" --parallel "${JOBS:-16}" --target lrlab lrlab_tests lrlab_bench -- "${keep_going[@]}" \
  >"$BUILD_DIR/build.log" 2>&1
rc=$?
tail -n 3000 "$BUILD_DIR/build.log" >"$OUT_DIR/build.log"
nwarn=$(grep -c 'warning:' "$BUILD_DIR/build.log")
if ((rc != 0)); then  # kept going: whatever did build is still tested below
  grep -m 20 'error' "$BUILD_DIR/build.log"; note FAIL "build ($((SECONDS - t))s, build.log)"; status=1
else
  note OK "build ($((SECONDS - t))s, $nwarn warnings)"
fi

# --- CUDA tests -------------------------------------------------------------------------------
export LRLAB_REQUIRE_CUDA=1   # for tests that would otherwise WARN and return without CUDA
TEST_BIN=${TEST_BIN:-$BUILD_DIR/tests/lrlab_tests}
t=$SECONDS
if built "$(basename "$TEST_BIN")" "$TEST_BIN"; then
  ldd "$TEST_BIN" | grep -q libtorch_cuda ||
    note WARN "$TEST_BIN does not load libtorch_cuda.so (dropped by --as-needed?): no CUDA"
  timeout "${TEST_TIMEOUT:-300}" "$TEST_BIN" '[cuda],[cuda_fused]' --warn NoTests --durations yes >"$OUT_DIR/test.log" 2>&1
elif ((status == 0)); then
  timeout "${TEST_TIMEOUT:-300}" ctest --test-dir "$BUILD_DIR" -L cuda --no-tests=error \
    --output-on-failure >"$OUT_DIR/test.log" 2>&1
else
  echo "not built: $TEST_BIN" >"$OUT_DIR/test.log"; false
fi
rc=$?
result=$(grep -E '^(All tests passed|test cases:|[0-9]+% tests passed|No tests ran|not built)' "$OUT_DIR/test.log" | tail -n 1)
if ((rc != 0)); then
  tail -n 40 "$OUT_DIR/test.log"; note FAIL "CUDA tests rc=$rc: $result (test.log)"; status=1
else
  note OK "CUDA tests ($((SECONDS - t))s): $result"
fi
nwarn=$(grep -c 'warning:' "$OUT_DIR/test.log")
((nwarn > 0)) && note WARN "$nwarn WARN messages in test.log (CUDA tests skipped for lack of a GPU?)"

t=$SECONDS
bash scripts/check-cuda-compile.sh >"$OUT_DIR/cuda_compile.log" 2>&1
rc=$?
if ((rc == 0)); then note OK "nvcc compile of the fused kernel ($((SECONDS - t))s, cuda_compile.log)"
else note FAIL "nvcc compile of the fused kernel rc=$rc (cuda_compile.log)"; status=1
fi

# --- benchmark (reported, never fatal) --------------------------------------------------------
# Issue 15's rows: rank1, d = 1000, k = 8 (R = 1, 16, 64, 1024, 4096 on CUDA), roofline in the same run.
BENCH_ARGS=${BENCH_ARGS:---device cuda --filter rank1/d1000/k8 --json $OUT_DIR/bench_gpu.json}
if built "$(basename "$BENCH_BIN")" "$BENCH_BIN"; then
  t=$SECONDS
  # shellcheck disable=SC2086  # BENCH_ARGS is a word list on purpose
  timeout "${BENCH_TIMEOUT:-300}" "$BENCH_BIN" $BENCH_ARGS >"$OUT_DIR/bench.log" 2>&1
  rc=$?
  if ((rc == 0)); then note OK "bench ($((SECONDS - t))s): $BENCH_BIN $BENCH_ARGS"
  else tail -n 20 "$OUT_DIR/bench.log"; note FAIL "bench rc=$rc (bench.log; not fatal)"
  fi
  # The same machine's CPU kernel at R = 16 (the fused step's first target compares with it).
  timeout 120 "$BENCH_BIN" --device cpu --filter 'rank1/d1000/k8/B1/R16$' --no-python \
    --json "$OUT_DIR/bench_cpu_same_machine.json" >"$OUT_DIR/bench_cpu_same_machine.log" 2>&1 ||
    note FAIL "CPU bench on this machine (bench_cpu_same_machine.log; not fatal)"
else
  note SKIP "bench: $BENCH_BIN not built"
fi

# --- the d-scaling study on CUDA (reported, never fatal) ---------------------------------------
# Issue 15's target: configs/gpu/scaling_d_large.yaml on one GPU in under 60 s.
run_study() {  # run_study NAME DEVICE JOBS: wall time in $OUT_DIR/study_NAME.time
  local name=$1 device=$2 jobs=$3 t=$SECONDS timer=()
  [[ -x /usr/bin/time ]] && timer=(/usr/bin/time -v -o "$OUT_DIR/study_$name.time")
  # The folder stays in the build tree; $OUT gets its small files and the curves gzipped.
  rm -rf "$BUILD_DIR/study_$name"
  # shellcheck disable=SC2086  # STUDY_ARGS is a word list on purpose
  timeout "${STUDY_TIMEOUT:-180}" "${timer[@]}" "$LRLAB_BIN" run "$STUDY" "device=$device" \
    --out "$BUILD_DIR/study_$name" --jobs "$jobs" ${STUDY_ARGS:-} >"$OUT_DIR/study_$name.log" 2>&1
  local rc=$?
  echo "wall_s $((SECONDS - t))" >>"$OUT_DIR/study_$name.time"
  mkdir -p "$OUT_DIR/study_$name"
  find "$BUILD_DIR/study_$name" -maxdepth 1 -type f ! -name curves.csv -size -2M -exec cp {} "$OUT_DIR/study_$name/" \;
  [[ -f $BUILD_DIR/study_$name/curves.csv ]] && gzip -c "$BUILD_DIR/study_$name/curves.csv" >"$OUT_DIR/study_$name/curves.csv.gz"
  if ((rc == 0)); then
    local paths  # the groups' computation paths, as the run log names them (cuda_fused expected)
    paths=$(grep -oE '\): path .*' "$OUT_DIR/study_$name.log" | sed 's/^): path //' | sort | uniq -c | sed 's/^ *//' |
      paste -sd ';' -)
    note OK "study $name ($((SECONDS - t))s wall, study_$name.log; groups by path: ${paths:-none logged})"
  else tail -n 20 "$OUT_DIR/study_$name.log"; note FAIL "study $name rc=$rc (study_$name.log; not fatal)"
  fi
}
if built lrlab "$LRLAB_BIN"; then
  run_study cuda cuda 1
  [[ ${CPU_STUDY:-0} == 1 ]] && run_study cpu cpu "${JOBS:-16}"
else
  note SKIP "study: $LRLAB_BIN not built"
fi
finish
