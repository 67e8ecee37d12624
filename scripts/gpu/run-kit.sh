#!/usr/bin/env bash
# Runs the GPU run kit's checks on a bare Linux x86-64 machine (no network, no Node.js needed).
#
#   bash run-kit.sh [gpu-kit.tar.gz|gpu-kit.tar.xz] [--out DIR] [--limit SECONDS]
#     [--anchor-limit SECONDS] [--data DIR] [--cpu-mode] [other checks.js options]
#
# Given the archive, unpacks it to a temporary folder first (tar, or Python's tarfile where tar
# cannot read xz); run from inside an unpacked kit, uses that. Finds the NVIDIA Vulkan ICD
# (VK_DRIVER_FILES, else the usual places), puts the kit's Vulkan loader and GL dispatch library
# on the library path when the system lacks either, and runs app/checks.js under `timeout` (--limit, default 540 s), writing
# DIR/results.json, DIR/checks.log and, from the main job's step, DIR/machine.json and
# DIR/runlog.json (DIR defaults to $OUT when set, else ./kit-results). Without a WebGPU adapter
# the checks stop at once (exit 3) instead of timing the CPU. Then, where python3 has PyTorch
# with a CUDA GPU, runs the PyTorch anchor (app/pytorch_step.py on that GPU: the bench models at
# their own B, then EfficientNet-B0 and the CNNs at B = 64 … 16384) under its own `timeout`
# (--anchor-limit, default 120 s; 0 skips it), writing DIR/anchor.json and DIR/anchor.log.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
kit="$here"
if [ $# -gt 0 ] && [ -f "$1" ]; then
  kit="$(mktemp -d)"
  if ! tar xf "$1" -C "$kit" 2>/dev/null; then
    python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' "$1" "$kit" ||
      { echo "run-kit: cannot unpack $1" >&2; exit 2; }
  fi
  shift
fi
out="${OUT:-$PWD/kit-results}"
limit=540
anchor_limit=120
data="$kit/app/data/fashion-mnist"
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    --limit) limit="$2"; shift 2 ;;
    --anchor-limit) anchor_limit="$2"; shift 2 ;;
    --data) data="$2"; shift 2 ;;
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
# The kit's loader and GL dispatch library where the system lacks either (NVIDIA's Vulkan ICD,
# libGLX_nvidia.so.0, links against libGLdispatch.so.0).
if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan\.so\.1' ||
  ! ldconfig -p 2>/dev/null | grep -q 'libGLdispatch\.so\.0'; then
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
timeout "$limit" "$kit/node/bin/node" checks.js --out "$out" --data "$data" --limit "$((limit - 15))" "${extra[@]}" 2>&1 | tee -a "$out/checks.log"
rc=${PIPESTATUS[0]}
echo "run-kit: checks exited with $rc (124: past the ${limit} s limit; 3: no WebGPU adapter); results in $out" | tee -a "$out/checks.log"
cd "$here"
case " ${extra[*]-} " in *" --cpu-mode "*) anchor_limit=0 ;; esac
if [ "$anchor_limit" -gt 0 ] && command -v python3 >/dev/null &&
  python3 -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
  echo "run-kit: PyTorch anchor on the GPU (limit ${anchor_limit} s)" | tee "$out/anchor.log"
  # The same models as the checks: bench cases at their own B, then the sweep's models by B.
  timeout "$anchor_limit" env PYTHONUNBUFFERED=1 python3 - "$kit/app/pytorch_step.py" "$out/anchor.json" >>"$out/anchor.log" 2>&1 <<'PY'
import json, subprocess, sys
script, dest = sys.argv[1], sys.argv[2]
runs = [
    ["--reps", "20"],
    ["--warmup", "2", "--reps", "3", "--only", "EfficientNet-B0|smallCnn|CNN conv32",
     "--batch-sizes", ",".join(str(64 << i) for i in range(9))],
]
out = []
for extra in runs:
    r = subprocess.run([sys.executable, script, "--device", "cuda", "--threads", "1", *extra],
                       stdout=subprocess.PIPE, text=True)
    if r.returncode == 0 and r.stdout.strip():
        out.append({"args": extra, "results": json.loads(r.stdout.strip().splitlines()[-1])})
    else:
        out.append({"args": extra, "error": f"exit {r.returncode}"})
    with open(dest, "w") as f:
        json.dump(out, f, indent=1)
PY
  echo "run-kit: anchor exited with $? (124: past its limit)" | tee -a "$out/anchor.log"
else
  echo "run-kit: no PyTorch with a CUDA GPU here (or --anchor-limit 0): no PyTorch anchor" | tee "$out/anchor.log"
fi
exit "$rc"
