#!/usr/bin/env bash
# Packs, on the developer's machine, what tools/gpu_check.sh needs on the lent GPU machine
# (which reaches no registry). Run from the repository root: bash tools/gpu_pack.sh
#   .gpu/deno.xz          this machine's deno, xz-compressed
#   .gpu/deno_dir.tar.xz  a DENO_DIR holding exactly the npm packages the GPU benches load
#                         (onnxruntime-web trimmed to its Node and WebGPU builds,
#                         onnxruntime-node trimmed to linux/x64)
#   .gpu/models/          the model cache with MobileFaceNet ($FACECLUSTER_CACHE when set)
#   .gl/*.deb             the Vulkan loader packages (the device README's list)
# Then: run tools/gpu_check.sh through the device tool with carry [".gpu", ".gl"].
set -euo pipefail
mkdir -p .gpu .gl
grep -qx '/.gl/' .git/info/exclude 2>/dev/null || echo /.gl/ >> .git/info/exclude
xz -9 -T0 -c "$(command -v deno)" > .gpu/deno.xz

dd=$(mktemp -d)
# lib/ imports npm packages by full specifiers, so the benches need no config or lockfile
DENO_DIR=$dd deno cache --no-config bench/gpu_embed.ts bench/gpu_profile.ts bench/gpu_bench.ts
web=$(echo "$dd"/npm/registry.npmjs.org/onnxruntime-web/*/dist)
find "$web" -type f ! -name 'ort.node.min.mjs' ! -name 'ort.webgpu.bundle.min.mjs' \
  ! -name 'ort-wasm-simd-threaded.asyncify.*' ! -name 'ort-wasm-simd-threaded.wasm' \
  ! -name 'ort-wasm-simd-threaded.mjs' -delete
for nb in "$dd"/npm/registry.npmjs.org/onnxruntime-node/*/bin/napi-v*; do
  find "$nb" -mindepth 1 -maxdepth 1 ! -name linux -exec rm -rf {} +
  find "$nb/linux" -mindepth 1 -maxdepth 1 ! -name x64 -exec rm -rf {} +
done
tar -C "$dd" -cf - npm | xz -9 -T0 > .gpu/deno_dir.tar.xz
rm -rf "$dd"

cache=${FACECLUSTER_CACHE:-}
if [ -n "$cache" ] && [ -f "$cache/MobileFaceNet.onnx" ]; then
  mkdir -p .gpu/models && cp "$cache"/MobileFaceNet.onnx* .gpu/models/
fi

mkdir -p /tmp/amd64/partial
o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
apt-get $o update -qq
(cd .gl && apt-get $o download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
du -sh .gpu .gl
