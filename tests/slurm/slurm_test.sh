#!/usr/bin/env bash
# A sharded study on a real single-node Slurm cluster, started by this script on this machine.
#
#   bash tests/slurm/slurm_test.sh BUILD/lrlab          (ctest runs it: label `slurm`)
#
# As root it starts munged (its own key), slurmctld and slurmd from a slurm.conf generated in a
# temporary folder (proctrack/linuxproc and task/none, which work in containers; free ports; the
# node is this host with all its CPUs), then:
#   1. runs the study unsharded (the reference, timed);
#   2. `lrlab slurm --shards 4 --submit`: waits for the job array and the merge job, and compares
#      runs.csv, curves.csv, summary, fits and plot data with the reference byte for byte (timed);
#   3. submits again, scancels one array task mid-run: the merge job (afterany) must fail naming that
#      shard and write nothing; resubmitting the task resumes the shard, whose end merges: identical.
# The daemons it started are stopped by pid on exit (and the jobs cancelled first).
# Exit 77 (ctest: skipped) without root or without the Slurm packages, except with CI=true: there
# it fails, since CI runs as root with scripts/setup.sh's packages.
set -euo pipefail

LRLAB=$(realpath "${1:?usage: slurm_test.sh PATH/TO/lrlab}")
KEEP=${LRLAB_SLURM_KEEP:-}   # set to keep the temporary folder (logs) after the test

skip() {
  if [[ ${CI:-} == true ]]; then
    echo "FAIL: $* (CI=true: this test must run there)" >&2
    exit 1
  fi
  echo "SKIP: $*"
  exit 77
}
fail() {
  echo "FAIL: $*" >&2
  exit 1
}

[[ $(id -u) -eq 0 ]] || skip "needs root to start munged, slurmctld and slurmd"
for program in munged munge slurmctld slurmd sbatch squeue scancel scontrol; do
  command -v "$program" >/dev/null || skip "$program is not installed (bash scripts/setup.sh installs slurmctld slurmd slurm-client munge)"
done

WORK=$(mktemp -d /tmp/lrlab_slurm_XXXXXX)
PIDS=()
cleanup() {
  local status=$?
  if [[ -n ${SLURM_CONF:-} ]] && ((${#PIDS[@]} > 2)); then
    scancel --full "--name=lrlab-slurmtest" >/dev/null 2>&1 || true
    scancel --full "--name=lrlab-slurmtest-merge" >/dev/null 2>&1 || true
    sleep 1
  fi
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do kill "${PIDS[i]}" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  if ((status != 0)); then
    echo "--- logs (left in $WORK) ---" >&2
    tail -n 20 "$WORK"/log/*.log "$WORK"/*/slurm/logs/* 2>/dev/null >&2 || true
  elif [[ -z $KEEP ]]; then
    rm -rf "$WORK"
  fi
  exit "$status"
}
trap cleanup EXIT

# --- a single-node cluster -------------------------------------------------------------------------
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
HOST=$(hostname -s)
CPUS=$(getconf _NPROCESSORS_ONLN)  # not nproc: it obeys OMP_NUM_THREADS
mkdir -p "$WORK"/{munge,state,spool,log}
chmod 700 "$WORK/munge"
head -c 1024 /dev/urandom >"$WORK/munge/munge.key"
chmod 400 "$WORK/munge/munge.key"
SOCKET=$WORK/munge/munge.sock
munged -F -f --socket="$SOCKET" --key-file="$WORK/munge/munge.key" --pid-file="$WORK/munge/munged.pid" \
  --log-file="$WORK/log/munged.log" --seed-file="$WORK/munge/munged.seed" >"$WORK/log/munged.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do [[ -S $SOCKET ]] && break; sleep 0.1; done
munge -S "$SOCKET" -n | unmunge -S "$SOCKET" >/dev/null || fail "munged does not answer"

cat >"$WORK/slurm.conf" <<EOF
ClusterName=lrlabtest
SlurmctldHost=$HOST
SlurmctldPort=$(free_port)
SlurmdPort=$(free_port)
AuthType=auth/munge
AuthInfo=socket=$SOCKET
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$WORK/state
SlurmdSpoolDir=$WORK/spool
SlurmctldPidFile=$WORK/slurmctld.pid
SlurmdPidFile=$WORK/slurmd.pid
SlurmctldLogFile=$WORK/log/slurmctld.log
SlurmdLogFile=$WORK/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
JobCompType=jobcomp/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
SwitchType=switch/none
ReturnToService=2
KillWait=10
MinJobAge=3600
NodeName=$HOST CPUs=$CPUS State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$WORK/slurm.conf
slurmctld -D -f "$SLURM_CONF" >"$WORK/log/slurmctld.out" 2>&1 &
PIDS+=($!)
slurmd -D -f "$SLURM_CONF" >"$WORK/log/slurmd.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do
  sinfo -h -o %T 2>/dev/null | grep -q idle && break
  sleep 0.2
done
sinfo -h -o %T | grep -q idle || fail "the node did not come up: $(sinfo 2>&1)"
echo "cluster up: $HOST, $CPUS CPUs, $(sinfo -V)"

# --- the study -------------------------------------------------------------------------------------
# Eight groups (one per d) of two seeds: per shard two groups of about 2.5 s of CPU each (so that a
# task cancelled after its first group is still running its second).
CONFIG=$WORK/study.yaml
cat >"$CONFIG" <<'EOF'
name: slurmtest
seed: 11
dtype: float32
base:
  d: 16
  k: 3
teacher: {rank: 1, xi: 1.0}
adapter: {type: rank1}
trainer:
  steps: 1000000
  lr: 2.0
  lr_scaling: inverse_d
metrics:
  names: [overlap, test_loss]
  every: 10000
  test_samples: 200
  thresholds: {overlap: [0.5]}
output: {plots: true, save_tensors: true}
study:
  sweep: {base.d: [8, 10, 12, 14, 16, 18, 20, 24]}
  seeds: 2
  fit: {x: base.d, y: steps_to_overlap_0.5}
EOF

now() { date +%s.%N; }
seconds_since() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$1" "$(now)"; }

start=$(now)
"$LRLAB" run "$CONFIG" --out "$WORK/reference" --jobs "$CPUS" -q
UNSHARDED_S=$(seconds_since "$start")

compare() {  # compare DIR: every result file equal to the reference's
  local dir=$1 name
  for name in runs.csv curves.csv summary.csv summary.md fits.csv; do
    cmp "$WORK/reference/$name" "$dir/$name" || fail "$dir/$name differs from the unsharded run's"
  done
  for name in "$WORK"/reference/plots/*.dat "$WORK"/reference/plots/*.gp "$WORK"/reference/tensors/*; do
    cmp "$name" "$dir/${name#"$WORK/reference/"}" || fail "$dir/${name#"$WORK/reference/"} differs"
  done
}
job_states() {  # job_states ID: "4 COMPLETED;" (count and state of the job's tasks)
  scontrol show job -o "$1" | grep -o 'JobState=[A-Z_]*' | sort | uniq -c | awk '{sub("JobState=", "", $2); printf "%s %s;", $1, $2}'
}
wait_jobs() {  # wait_jobs ID...: until none is pending or running
  local ids
  ids=$(IFS=,; echo "$*")
  for _ in $(seq 1800); do
    [[ -z $(squeue -h -j "$ids" 2>/dev/null) ]] && return 0
    sleep 0.2
  done
  fail "jobs $ids still queued after 6 minutes: $(squeue)"
}
submit() {  # submit DIR: lrlab slurm ... --submit; sets ARRAY and MERGE
  local out
  out=$("$LRLAB" slurm "$CONFIG" --out "$1" --shards 4 --cpus-per-task 1 --time 10:00 --submit)
  echo "$out"
  ARRAY=$(sed -n 's/^submitted: shards as job array \([0-9]*\) .*/\1/p' <<<"$out")
  MERGE=$(sed -n 's/.*merge as job \([0-9]*\) .*/\1/p' <<<"$out")
  [[ -n $ARRAY && -n $MERGE ]] || fail "no job ids in lrlab slurm's output"
  grep -q "squeue -j $ARRAY,$MERGE" <<<"$out" || fail "lrlab slurm does not print the squeue command"
  grep -q "scancel $ARRAY $MERGE" <<<"$out" || fail "lrlab slurm does not print the scancel command"
}

# --- 1. four shards and the merge job --------------------------------------------------------------
start=$(now)
submit "$WORK/sharded"
wait_jobs "$ARRAY" "$MERGE"
SHARDED_S=$(seconds_since "$start")
[[ $(job_states "$ARRAY") == "4 COMPLETED;" ]] || fail "array $ARRAY: $(job_states "$ARRAY")"
[[ $(job_states "$MERGE") == "1 COMPLETED;" ]] || fail "merge $MERGE: $(job_states "$MERGE")"
compare "$WORK/sharded"
grep -q "threads" "$WORK/sharded/slurm/shards.sbatch"
echo "ok: 4 shards + merge on Slurm are byte-identical to the unsharded run"

# --- 2. one task cancelled mid-run, resubmitted ------------------------------------------------------
DIR=$WORK/cancelled
submit "$DIR"
for _ in $(seq 1500); do
  [[ -s $DIR/shards/2-of-4/runs.csv ]] && break
  sleep 0.2
done
[[ -s $DIR/shards/2-of-4/runs.csv ]] || fail "shard 2 saved nothing in 5 minutes"
scancel "${ARRAY}_2"
wait_jobs "$ARRAY" "$MERGE"
state=$(scontrol show job -o "${ARRAY}_2" | grep -o 'JobState=[A-Z_]*')
[[ $state == JobState=CANCELLED ]] || fail "task 2 is $state, not CANCELLED (it finished first: make the study longer)"
[[ $(job_states "$MERGE") == "1 FAILED;" ]] || fail "the merge job should fail: $(job_states "$MERGE")"
grep -q "shard 2/4 (.*): stopped" "$DIR"/slurm/logs/merge.* || fail "the merge job does not name shard 2 as stopped"
grep -q -- "--shard 2/4" "$DIR"/slurm/logs/merge.* || fail "the merge job does not give shard 2's rerun command"
[[ ! -e $DIR/runs.csv ]] || fail "merge wrote runs.csv while shard 2 was unfinished"
again=$(sbatch --parsable --array=2 "$DIR/slurm/shards.sbatch")
wait_jobs "$again"
[[ $(job_states "$again") == "1 COMPLETED;" ]] || fail "resubmitted task: $(job_states "$again")"
grep -Eq "\(([1-9][0-9]*) already done\)" "$DIR"/slurm/logs/shard-2-of-4."$again".out ||
  fail "the resubmitted shard did not resume"
compare "$DIR"
echo "ok: a cancelled shard resubmitted resumes, and its end merges byte-identical results"

echo "wall time: unsharded (--jobs $CPUS) ${UNSHARDED_S} s; 4 shards on Slurm (submit to merged) ${SHARDED_S} s"
echo "PASS"
