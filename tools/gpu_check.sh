#!/usr/bin/env bash
# The prepared GPU check (run on the lent H200 through the device tool, as one command):
#   bash tools/gpu_check.sh
# Needs, carried from the developer's machine (see the device tool's README):
#   .gpu/deno.xz  (xz -9 -c "$(which deno)" > .gpu/deno.xz)
#   .gl/*.deb     (the Vulkan loader packages, downloaded with apt-get download)
# Writes the JSON lines of bench/gpu_bench.ts and bench/gpu_torch.py to $OUT/gpu.log.
set -uo pipefail
for f in .gl/*.deb; do dpkg -x "$f" /; done
ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
mkdir -p /tmp/bin && xz -dc .gpu/deno.xz > /tmp/bin/deno && chmod +x /tmp/bin/deno
export PATH=/tmp/bin:$PATH DENO_DIR=$(mktemp -d)
log=${OUT:-/tmp}/gpu.log
nvidia-smi --query-gpu=name,memory.total --format=csv | tee -a "$log"
for args in "100000 512 32" "1000000 512 80"; do
  set -- $args
  deno run -A --cached-only bench/gpu_bench.ts "$1" "$2" "$3" /tmp/feats_$1.npy 2>&1 | tee -a "$log"
  PYTHONUNBUFFERED=1 python3 bench/gpu_torch.py /tmp/feats_$1.npy "$3" 2>&1 | tee -a "$log"
done
# Face models on WebGPU beside native CPU inference (bench/gpu_embed.ts). Needs the npm
# packages it imports in DENO_DIR (carry a DENO_DIR holding onnxruntime-web, trimmed to its
# WebGPU bundle and asyncify WASM, and imagescript, as .gpu/deno_dir.tar.xz); the native CPU
# figure comes from onnxruntime-node when carried, else from Python onnxruntime below.
if [ -f .gpu/deno_dir.tar.xz ]; then
  tar -xJf .gpu/deno_dir.tar.xz -C "$DENO_DIR"
  deno run -A --cached-only bench/gpu_embed.ts --faces 8192 --batches 16,64,256,1024 2>&1 | tee -a "$log"
fi
python3 - <<'PY' 2>&1 | tee -a "$log"
import json, os, time, numpy as np, onnxruntime as ort
s = ort.InferenceSession("models/dlib_resnet.onnx", providers=["CPUExecutionProvider"])
x = np.random.default_rng(0).uniform(0, 255, (64, 3, 150, 150)).astype(np.float32)
s.run(None, {"image": x})
t = time.time(); n = 0
while time.time() - t < 10:
    s.run(None, {"image": x}); n += 64
print(json.dumps({"model": "dlib", "device": "onnxruntime (Python) CPU", "threads": os.cpu_count(), "faces_per_s": round(n / (time.time() - t), 1)}))
PY
