// Face chips cut straight from a photo into the model's float input tensor
// [batch, 3, size, size]: chip pixel (x, y) of face f samples the photo bilinearly at
// maps[f](x, y) (pixel centres at integers, black outside the photo) and is rounded to an
// integer 0..255, as lib/image/transform.ts's warpAffine cuts chips on the CPU. With
// `copies` = 2 every face is written twice, the second mirrored left-right (--flip). Rows past
// `faces × copies` up to the batch are zero. One invocation per output pixel.

struct Params {
  size: u32,
  faces: u32,
  copies: u32,
  batch: u32,
  width: u32,
  height: u32,
  first: u32,
  _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> pixels: array<u32>;
// per face, six floats a b c d e f: source x = a·x + b·y + c, source y = d·x + e·y + f
@group(0) @binding(2) var<storage, read> maps: array<f32>;
@group(0) @binding(3) var<storage, read_write> tensor: array<f32>;

fn byte_at(i: u32) -> f32 {
  return f32((pixels[i >> 2u] >> ((i & 3u) * 8u)) & 255u);
}

// the photo's channel ch at (xx, yy), 0 outside it
fn texel(xx: i32, yy: i32, ch: u32) -> f32 {
  if (xx < 0 || yy < 0 || xx >= i32(p.width) || yy >= i32(p.height)) {
    return 0.0;
  }
  return byte_at((u32(yy) * p.width + u32(xx)) * 3u + ch);
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
  if (img >= p.faces * p.copies) {
    tensor[out] = 0.0;
    tensor[out + plane] = 0.0;
    tensor[out + 2u * plane] = 0.0;
    return;
  }
  if (img % p.copies == 1u) {
    x = p.size - 1u - x;
  }
  let m = (p.first + img / p.copies) * 6u;
  let sx = maps[m] * f32(x) + maps[m + 1u] * f32(y) + maps[m + 2u];
  let sy = maps[m + 3u] * f32(x) + maps[m + 4u] * f32(y) + maps[m + 5u];
  let x0 = floor(sx);
  let y0 = floor(sy);
  let fx = sx - x0;
  let fy = sy - y0;
  let ix = i32(x0);
  let iy = i32(y0);
  for (var ch = 0u; ch < 3u; ch++) {
    let v = (1.0 - fy) * ((1.0 - fx) * texel(ix, iy, ch) + fx * texel(ix + 1, iy, ch)) +
      fy * ((1.0 - fx) * texel(ix, iy + 1, ch) + fx * texel(ix + 1, iy + 1, ch));
    tensor[out + ch * plane] = floor(v + 0.5);
  }
}
