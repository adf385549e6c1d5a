#!/usr/bin/env bash
# Installs the Debian 12 packages lrlab needs and makes OpenBLAS the active BLAS.
#
# Idempotent: when every package is installed and OpenBLAS is already active it touches nothing
# (no apt, no network, no root needed), so reruns are fast and work offline.
# Otherwise it needs root (or sudo): one `apt-get update`, then one `apt-get install`.
#
# Why OpenBLAS: Debian's LibTorch calls whatever libblas.so.3 the alternatives system points to;
# the reference BLAS is about 20x slower on matrix products.
set -euo pipefail

PACKAGES=(
  g++ cmake ninja-build make pkg-config ccache   # toolchain
  libtorch-dev                                    # LibTorch 1.13 (CPU)
  libfmt-dev libyaml-cpp-dev libcli11-dev nlohmann-json3-dev catch2
  libopenblas0-pthread                            # fast BLAS/LAPACK for LibTorch
  gnuplot-nox                                     # plots
  python3-torch                                   # Python reference benchmark
  slurmctld slurmd slurm-client munge             # single-node Slurm for tests/slurm/slurm_test.sh
  python3-numpy python3-pandas                    # the results loader (python/lrlab) and its tests
)
ARCH_LIB=/usr/lib/x86_64-linux-gnu
OPENBLAS_DIR=$ARCH_LIB/openblas-pthread

log() { printf '[setup] %s\n' "$*"; }
die() { printf '[setup] error: %s\n' "$*" >&2; exit 1; }

command -v dpkg-query >/dev/null 2>&1 || die "this script targets Debian 12 (bookworm); dpkg-query not found"
if [[ -r /etc/os-release ]]; then
  # shellcheck disable=SC1091
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  [[ $codename == bookworm ]] || log "warning: tested on Debian 12 (bookworm), this is '${codename:-unknown}'"
fi

# Runs a command as root: directly when root, through sudo when available, else explains.
SUDO=()
need_root() {
  if [[ $(id -u) -eq 0 ]]; then SUDO=()
  elif command -v sudo >/dev/null 2>&1; then SUDO=(sudo)
  else die "$1 needs root and sudo is not installed; rerun as root (e.g. 'su -c \"bash scripts/setup.sh\"')"
  fi
}

# --- packages --------------------------------------------------------------------------------
missing=()
for p in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [[ $status == installed ]] || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  log "all ${#PACKAGES[@]} packages installed; skipping apt"
else
  log "missing packages: ${missing[*]}"
  need_root "installing packages"
  export DEBIAN_FRONTEND=noninteractive
  "${SUDO[@]}" apt-get update
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends "${missing[@]}"
fi

# --- BLAS / LAPACK alternatives --------------------------------------------------------------
# Prints the target the alternative `name` currently points to (empty when it is not registered).
alt_value() { update-alternatives --query "$1" 2>/dev/null | sed -n 's/^Value: //p'; }

for lib in libblas.so.3 liblapack.so.3; do
  name=$lib-x86_64-linux-gnu
  want=$OPENBLAS_DIR/$lib
  if [[ ! -e $want ]]; then
    [[ $lib == libblas.so.3 ]] && die "$want not found: is libopenblas0-pthread installed?"
    log "no OpenBLAS $lib; leaving $name as it is"
    continue
  fi
  if [[ $(alt_value "$name") == "$want" ]]; then
    continue
  fi
  need_root "switching $name to OpenBLAS"
  "${SUDO[@]}" update-alternatives --set "$name" "$want"
done

blas=$(readlink -f "$ARCH_LIB/libblas.so.3" || true)
lapack=$(readlink -f "$ARCH_LIB/liblapack.so.3" || true)
log "active BLAS:   ${blas:-none} (alternative: $(alt_value libblas.so.3-x86_64-linux-gnu))"
log "active LAPACK: ${lapack:-none}"
[[ $blas == "$OPENBLAS_DIR"/* ]] || die "libblas.so.3 is not OpenBLAS ($blas)"
