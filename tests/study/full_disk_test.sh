#!/usr/bin/env bash
# A study whose results folder fills up: a real full disk (a small tmpfs mounted by this script).
#
#   bash tests/study/full_disk_test.sh BUILD/lrlab     (ctest runs it: label `full_disk`)
#
# As root it mounts a 16 MB tmpfs in a temporary folder and runs a small study into it with the disk
# left at several amounts of free space (0 bytes up to more than the study needs), so that the disk
# fills at a different write each time: the lock, curves.csv, runs.csv, tensors, the summary, the fit,
# the plot data or gnuplot's images. For every amount:
#   1. the run either succeeds with results identical to a reference run on a normal disk (images the
#      disk cut short are removed and listed in a warning, never kept broken), or fails with exit
#      status 1 and a one-line "lrlab: error: ... No space left on device" (no abort, no backtrace),
#      and leaves no temporary file behind;
#   2. after the space is freed, the same command resumes and ends with results byte-identical to the
#      reference (runs.csv, curves.csv, summary.md, fits.csv, the plot data) and no empty image.
# Then `lrlab plot DIR` on a full disk must exit non-zero, and succeed once space is free again.
# The tmpfs is unmounted on exit. Exit 77 (ctest: skipped) without root or where mounting a tmpfs is
# not allowed (an unprivileged container).
set -euo pipefail

LRLAB=$(realpath "${1:?usage: full_disk_test.sh PATH/TO/lrlab}")
SOURCE=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CONFIG=$SOURCE/configs/quickstart.yaml
# Three dimensions x 2 seeds of the quickstart, recorded often enough that curves.csv is ~1 MB.
OVERRIDES=(study.sweep.base.d=[32,64,128] study.seeds=2 trainer.steps_per_d=200 metrics.every=8)

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }

[[ $(id -u) -eq 0 ]] || skip "needs root to mount a tmpfs"
WORK=$(mktemp -d /tmp/lrlab_full_disk_XXXXXX)
MOUNT=$WORK/disk
mkdir -p "$MOUNT"
mounted=0
cleanup() {
  local status=$?
  ((mounted)) && umount "$MOUNT" 2>/dev/null
  if ((status == 0 || status == 77)); then rm -rf "$WORK"; else echo "(left $WORK)" >&2; fi
  exit "$status"
}
trap cleanup EXIT
mount -t tmpfs -o size=16m,mode=0755 lrlab_full_disk "$MOUNT" 2>"$WORK/mount.err" ||
  skip "mount -t tmpfs failed: $(cat "$WORK/mount.err")"
mounted=1

run_lrlab() {  # run_lrlab LOG ARGS...: lrlab's exit status, its output in LOG
  local log=$1
  shift
  set +e
  OMP_NUM_THREADS=1 "$LRLAB" "$@" >"$log" 2>&1
  local status=$?
  set -e
  return $status
}

# Fill the tmpfs until exactly FREE bytes (rounded to its 4 KB pages) are left.
fill_to() {
  local free=$1
  rm -f "$MOUNT/filler"
  local avail=$(($(stat -f -c '%a*%S' "$MOUNT")))
  if ((avail > free)); then
    head -c $((avail - free)) /dev/zero >"$MOUNT/filler" 2>/dev/null || true
  fi
}

# An error from a full disk: status 1, a located one-line message, no crash.
check_clean_failure() {
  local status=$1 log=$2 what=$3
  ((status == 1)) || fail "$what: exit status $status, expected 0 or 1; output: $(tail -5 "$log")"
  grep -q '^lrlab: error: .*No space left on device' "$log" ||
    fail "$what: no 'lrlab: error: ... No space left on device' line; output: $(tail -5 "$log")"
  if grep -Eq 'terminate called|Aborted|Exception raised from|frame #' "$log"; then
    fail "$what: a crash or a backtrace; output: $(tail -5 "$log")"
  fi
}

# Every image that is there is whole (PNG signature and IEND trailer, SVG and PDF trailers); images
# that are missing must be listed in the warning of LOG (when given).
check_images() {
  local dir=$1 what=$2 log=${3:-}
  local image
  for image in "$REF"/plots/*.png "$REF"/plots/*.svg "$REF"/plots/*.pdf; do
    [[ -e $image ]] || continue
    local mine=$dir/plots/$(basename "$image")
    if [[ ! -e $mine ]]; then
      [[ -n $log ]] && grep -q "plot image(s) missing, empty or cut short.*$(basename "$image")" "$log" ||
        fail "$what: $(basename "$image") is missing and no warning lists it"
      continue
    fi
    case $mine in
      *.png) [[ $(head -c 4 "$mine" | od -An -c | tr -d ' ') == '211PNG' &&
                $(tail -c 8 "$mine" | head -c 4) == IEND ]] || fail "$what: $mine is not a whole PNG" ;;
      *.svg) tail -c 64 "$mine" | grep -q '</svg>' || fail "$what: $mine is not a whole SVG" ;;
      *.pdf) tail -c 64 "$mine" | grep -q '%%EOF' || fail "$what: $mine is not a whole PDF" ;;
    esac
  done
}

# Results identical to the reference, every image there and whole, no temporary file.
check_results() {
  local dir=$1 what=$2
  for file in runs.csv curves.csv summary.md fits.csv; do
    cmp -s "$REF/$file" "$dir/$file" || fail "$what: $file differs from the reference run"
  done
  for data in "$REF"/plots/*.dat; do
    cmp -s "$data" "$dir/plots/$(basename "$data")" || fail "$what: plots/$(basename "$data") differs"
  done
  local image
  for image in "$REF"/plots/*.png; do
    [[ -e $dir/plots/$(basename "$image") ]] || fail "$what: plots/$(basename "$image") is missing"
  done
  check_images "$dir" "$what"
  no_temp_files "$dir" "$what"
}

no_temp_files() {
  local leftovers
  leftovers=$(find "$1" -name '*.tmp.*')
  [[ -z $leftovers ]] || fail "$2: temporary files left behind: $leftovers"
}

# The reference, on the normal disk.
REF=$WORK/reference
run_lrlab "$WORK/reference.log" run "$CONFIG" --out "$REF" "${OVERRIDES[@]}" ||
  fail "the reference run failed: $(tail -5 "$WORK/reference.log")"
needed=$(du -sb "$REF" | cut -f1)
echo "reference: $needed bytes of results"

# Free space from nothing to more than the study needs; each fills the disk at another write.
failures=0
plot_warnings=0
for free in 0 8192 65536 524288 1048576 2097152 3145728 4194304 5242880 6291456; do
  out=$MOUNT/study
  rm -rf "$out"
  fill_to "$free"
  status=0
  run_lrlab "$WORK/run_$free.log" run "$CONFIG" --out "$out" --force "${OVERRIDES[@]}" || status=$?
  if ((status == 0)); then
    # Complete data; images the disk cut short are removed and listed, never kept broken.
    for file in runs.csv curves.csv summary.md fits.csv; do
      cmp -s "$REF/$file" "$out/$file" || fail "free $free bytes: exit 0 but $file differs from the reference"
    done
    check_images "$out" "free $free bytes, first run" "$WORK/run_$free.log"
    no_temp_files "$out" "free $free bytes, first run"
    if grep -q 'plot image(s) missing, empty or cut short' "$WORK/run_$free.log"; then
      plot_warnings=$((plot_warnings + 1))
      echo "free $free: completed, with images listed as cut by the full disk"
    else
      echo "free $free: completed"
    fi
  else
    check_clean_failure "$status" "$WORK/run_$free.log" "free $free bytes"
    [[ -d $out ]] && no_temp_files "$out" "free $free bytes, after the failure"
    failures=$((failures + 1))
    echo "free $free: failed cleanly ($(grep -m1 '^lrlab: error' "$WORK/run_$free.log" | cut -c1-100))"
  fi
  rm -f "$MOUNT/filler"
  run_lrlab "$WORK/resume_$free.log" run "$CONFIG" --out "$out" "${OVERRIDES[@]}" ||
    fail "free $free bytes: the resume failed: $(tail -5 "$WORK/resume_$free.log")"
  check_results "$out" "free $free bytes, resumed"
done
# The loop is not vacuous: the small amounts must have hit the full disk.
((failures >= 4)) || fail "only $failures of the runs met a full disk; the sizes no longer test it"
((plot_warnings >= 1)) || echo "note: no amount of free space cut the plots alone this time"

# Plots on a full disk: a non-zero exit naming the file, then a clean rerun.
rm -rf "$out/plots"
fill_to 0
status=0
run_lrlab "$WORK/plot_full.log" plot "$out" || status=$?
check_clean_failure "$status" "$WORK/plot_full.log" "lrlab plot on a full disk"
rm -f "$MOUNT/filler"
run_lrlab "$WORK/plot_free.log" plot "$out" || fail "lrlab plot after freeing space: $(tail -5 "$WORK/plot_free.log")"
check_results "$out" "lrlab plot after freeing space"

# A summary on a full disk fails cleanly and leaves the previous summary whole.
fill_to 0
status=0
run_lrlab "$WORK/summarize_full.log" summarize "$out" || status=$?
check_clean_failure "$status" "$WORK/summarize_full.log" "lrlab summarize on a full disk"
rm -f "$MOUNT/filler"
check_results "$out" "after lrlab summarize on a full disk"
echo "PASS: $failures full-disk failures and $plot_warnings runs with cut plots, each clean and each resumed to the reference results"
