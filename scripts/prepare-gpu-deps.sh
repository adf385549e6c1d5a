#!/usr/bin/env bash
# Run HERE (a Debian 12 machine with apt): fetches the C++ dependencies that the GPU machine lacks
# as Debian packages and unpacks them into .deps/root, for scripts/gpu-check.sh to use there.
#
#   bash scripts/prepare-gpu-deps.sh   ->  .deps/debs/*.deb, .deps/root/usr/{include,lib,share}
#
# The GPU machine has no network; carry .deps/ with the working tree (git-ignored, about 10 MB;
# only .deps/root is needed there).
# Needs no root (apt-get download only reads the package lists); reruns reuse the downloads.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# -dev packages plus the runtime libraries they depend on (libfmt9, libyaml-cpp0.7);
# libc6/libstdc++6/libgcc-s1, their other dependencies, are on every machine.
PACKAGES=(libfmt-dev libfmt9 libyaml-cpp-dev libyaml-cpp0.7 catch2 libcli11-dev nlohmann-json3-dev)
DEBS=.deps/debs
ROOT=.deps/root

log() { printf '[prepare-gpu-deps] %s\n' "$*"; }
die() { printf '[prepare-gpu-deps] error: %s\n' "$*" >&2; exit 1; }
command -v apt-get >/dev/null 2>&1 || die "needs apt-get (run it on the Debian 12 development machine)"

mkdir -p "$DEBS"
apt_opts=()
# As root, apt drops to user _apt for downloads, which cannot write here: stay root instead.
[[ $(id -u) -eq 0 ]] && apt_opts=(-o APT::Sandbox::User=root)

todo=()
for p in "${PACKAGES[@]}"; do
  compgen -G "$DEBS/${p}_*.deb" >/dev/null || todo+=("$p")
done
if ((${#todo[@]})); then
  log "downloading: ${todo[*]}"
  if ! (cd "$DEBS" && apt-get "${apt_opts[@]}" download "${todo[@]}"); then
    # Stale package lists (the archive moved on): refresh them once and retry.
    [[ $(id -u) -eq 0 ]] || die "apt-get download failed; run 'sudo apt-get update' and retry"
    apt-get update
    (cd "$DEBS" && apt-get "${apt_opts[@]}" download "${todo[@]}")
  fi
else
  log "all packages already in $DEBS"
fi

rm -rf "$ROOT"
mkdir -p "$ROOT"
for deb in "$DEBS"/*.deb; do
  dpkg -x "$deb" "$ROOT"
done

# Check that what gpu-check.sh relies on is there.
need=(
  usr/lib/x86_64-linux-gnu/cmake/fmt/fmt-config.cmake
  usr/lib/x86_64-linux-gnu/cmake/yaml-cpp/yaml-cpp-config.cmake
  usr/lib/cmake/Catch2/Catch2Config.cmake
  usr/share/cmake/nlohmann_json/nlohmann_jsonConfig.cmake
  usr/share/cmake/CLI11/CLI11Config.cmake
  usr/include/catch2/catch.hpp
  usr/include/yaml-cpp/yaml.h
  usr/include/fmt/format.h
  usr/include/nlohmann/json.hpp
  usr/include/CLI/CLI.hpp
  usr/lib/x86_64-linux-gnu/libfmt.so.9
  usr/lib/x86_64-linux-gnu/libyaml-cpp.so.0.7
)
for f in "${need[@]}"; do
  [[ -e $ROOT/$f ]] || die "missing after unpacking: $ROOT/$f"
done
log "packages:"
for deb in "$DEBS"/*.deb; do
  # shellcheck disable=SC2016  # ${Package} is dpkg-deb's format, not a shell variable
  log "  $(dpkg-deb -W --showformat='${Package} ${Version}' "$deb")"
done
log "unpacked into $ROOT ($(du -sh .deps | cut -f1) in .deps); carry .deps to the GPU machine"
