// Aligned face chips (RGB bytes, packed four to a u32) → the model's float input tensor
// [batch, 3, size, size], values 0..255. With `copies` = 2 every chip is written twice, the
// second mirrored left-right (the --flip pass). Rows past `chips × copies` up to the batch
// are zero (a fixed batch keeps the captured graph valid for a last, short batch).
// One invocation per output pixel: x fastest, then y, then image.

struct Params {
  size: u32,
  chips: u32,
  copies: u32,
  batch: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> pixels: array<u32>;
@group(0) @binding(2) var<storage, read_write> tensor: array<f32>;

fn byte_at(i: u32) -> f32 {
  return f32((pixels[i >> 2u] >> ((i & 3u) * 8u)) & 255u);
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let plane = p.size * p.size;
  let id = gid.x + gid.y * nwg.x * 64u;
  if (id >= plane * p.batch) {
    return;
  }
  let img = id / plane;
  let pix = id % plane;
  let y = pix / p.size;
  var x = pix % p.size;
  let out = img * 3u * plane + pix;
  if (img >= p.chips * p.copies) {
    tensor[out] = 0.0;
    tensor[out + plane] = 0.0;
    tensor[out + 2u * plane] = 0.0;
    return;
  }
  let chip = img / p.copies;
  if (img % p.copies == 1u) {
    x = p.size - 1u - x;
  }
  let src = (chip * plane + y * p.size + x) * 3u;
  tensor[out] = byte_at(src);
  tensor[out + plane] = byte_at(src + 1u);
  tensor[out + 2u * plane] = byte_at(src + 2u);
}
