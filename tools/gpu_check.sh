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
