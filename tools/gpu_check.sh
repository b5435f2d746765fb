#!/usr/bin/env bash
# The prepared GPU check, run on the lent H200 through the device tool as one command:
#   bash tools/gpu_check.sh        (carry [".gpu", ".gl"], timeout_s 540)
# Needs what `bash tools/gpu_pack.sh` packs on the developer's machine: .gpu/deno.xz,
# .gpu/deno_dir.tar.xz (the npm packages, the machine reaches no registry), .gpu/models
# (MobileFaceNet) and .gl/*.deb (the Vulkan loader). Every section has its own time limit,
# most important first; all output goes to $OUT/gpu.log (JSON lines).
set -uo pipefail
log=${OUT:-/tmp}/gpu.log
for f in .gl/*.deb; do dpkg -x "$f" /; done
ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
mkdir -p /tmp/bin && xz -dc .gpu/deno.xz > /tmp/bin/deno && chmod +x /tmp/bin/deno
export PATH=/tmp/bin:$PATH DENO_DIR=$(mktemp -d) XDG_RUNTIME_DIR=$(mktemp -d)
tar -xJf .gpu/deno_dir.tar.xz -C "$DENO_DIR"
[ -d .gpu/models ] && export FACECLUSTER_CACHE=$PWD/.gpu/models
R="deno run -A --cached-only --no-config"
section() { echo "# $(date -u +%FT%TZ) $*" | tee -a "$log"; }
section "machine"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee -a "$log"
nproc | tee -a "$log"

# 1. where the WebGPU embedding time goes: GPU kernel time per run and per operator
section "bench/gpu_profile.ts --batches 32,256 --runs 4"
timeout 150 $R bench/gpu_profile.ts --batches 32,256 --runs 4 2>&1 | tee -a "$log"

# 2. throughput: native CPU (all cores) beside each WebGPU variant, then the batch scan
section "bench/gpu_embed.ts --batches 256 (all variants)"
timeout 170 $R bench/gpu_embed.ts --batches 256 --seconds 2 2>&1 | tee -a "$log"
section "bench/gpu_embed.ts --batches 32,1024 (two variants)"
timeout 90 $R bench/gpu_embed.ts --batches 32,1024 --seconds 2 \
  --variants gpu-io,gpu-io+fp16+capture+novalidate 2>&1 | tee -a "$log"

# 3. the WGSL kNN beside torch on the same features
section "bench/gpu_bench.ts 100000 512 32 + bench/gpu_torch.py"
timeout 60 $R bench/gpu_bench.ts 100000 512 32 /tmp/feats.npy 2>&1 | tee -a "$log"
PYTHONUNBUFFERED=1 timeout 40 python3 bench/gpu_torch.py /tmp/feats.npy 32 2>&1 | tee -a "$log"
section "done"
