#!/usr/bin/env bash
# Runs the GPU run kit's checks on a bare Linux x86-64 machine (no network, no Node.js needed).
#
#   bash run-kit.sh [gpu-kit.tar.gz] [--out DIR] [--limit SECONDS] [--cpu-mode]
#
# Given the archive, unpacks it to a temporary folder first; run from inside an unpacked kit,
# uses that. Finds the NVIDIA Vulkan ICD (VK_DRIVER_FILES, else the usual places), puts the
# kit's Vulkan loader on the library path when the system has none, and runs app/checks.js
# under `timeout` (default 540 s), writing DIR/results.json and DIR/checks.log (DIR defaults
# to $OUT when set, else ./kit-results).
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
kit="$here"
if [ $# -gt 0 ] && [ -f "$1" ]; then
  kit="$(mktemp -d)"
  tar xzf "$1" -C "$kit"
  shift
fi
out="${OUT:-$PWD/kit-results}"
limit=540
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    --limit) limit="$2"; shift 2 ;;
    *) extra+=("$1"); shift ;;
  esac
done
mkdir -p "$out"
[ -x "$kit/node/bin/node" ] || { echo "run-kit: no node/bin/node under $kit" >&2; exit 2; }
if [ -z "${VK_DRIVER_FILES:-}" ]; then
  for f in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json \
    /etc/vulkan/icd.d/nvidia_icd.json /usr/local/share/vulkan/icd.d/nvidia_icd.json; do
    if [ -f "$f" ]; then export VK_DRIVER_FILES="$f"; break; fi
  done
fi
if [ -z "${VK_DRIVER_FILES:-}" ]; then
  f="$(find /usr /etc /opt -name 'nvidia_icd*.json' 2>/dev/null | head -n 1)"
  [ -n "$f" ] && export VK_DRIVER_FILES="$f"
fi
if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan\.so\.1'; then
  export LD_LIBRARY_PATH="$kit/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
export BATCHWISE_BUILD_DIR="$kit/app"
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"
{
  echo "run-kit: kit $kit, node $("$kit/node/bin/node" --version)"
  echo "run-kit: VK_DRIVER_FILES=${VK_DRIVER_FILES:-<none found>}"
  command -v nvidia-smi >/dev/null && nvidia-smi -L
} 2>&1 | tee "$out/checks.log"
cd "$kit/app"
timeout "$limit" "$kit/node/bin/node" checks.js --out "$out" --data "$kit/app/data/fashion-mnist" "${extra[@]}" 2>&1 | tee -a "$out/checks.log"
rc=${PIPESTATUS[0]}
echo "run-kit: checks exited with $rc (124: past the ${limit} s limit); results in $out" | tee -a "$out/checks.log"
exit "$rc"
