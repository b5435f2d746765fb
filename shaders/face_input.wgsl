// The face model's float input tensor [batch, 3, size, size] (values 0..255), written on the
// GPU from bytes, one invocation per output pixel. Two entry points:
//   from_chips: aligned chips (RGB bytes packed four to a u32), as they are;
//   from_photo: chips cut straight from one photo: chip pixel (x, y) of face f samples the
//     photo bilinearly at maps[f](x, y) (pixel centres at integers, black outside the photo),
//     rounded to an integer as lib/image/transform.ts's warpAffine rounds on the CPU.
// With `copies` = 2 every face is written twice, the second mirrored left-right (--flip).
// Rows past `faces × copies` up to the batch are zero (a fixed batch keeps a captured graph
// valid for a last, short batch).

struct Params {
  size: u32,
  faces: u32,
  copies: u32,
  batch: u32,
  // from_photo only: the photo's size and the index of this batch's first face in `maps`
  width: u32,
  height: u32,
  first: u32,
  _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> pixels: array<u32>;
@group(0) @binding(2) var<storage, read_write> tensor: array<f32>;
// per face, six floats a b c d e f: source x = a·x + b·y + c, source y = d·x + e·y + f
@group(0) @binding(3) var<storage, read> maps: array<f32>;

fn byte_at(i: u32) -> f32 {
  return f32((pixels[i >> 2u] >> ((i & 3u) * 8u)) & 255u);
}

/** An output pixel: its row in the batch, face, offset of channel 0, and chip x, y. */
struct Target {
  live: bool,
  face: u32,
  out: u32,
  x: u32,
  y: u32,
}

// where invocation `gid` writes; rows past the faces are zeroed here (live = false)
fn locate(gid: vec3<u32>, nwg: vec3<u32>) -> Target {
  let plane = p.size * p.size;
  let id = gid.x + gid.y * nwg.x * 64u;
  var t = Target(false, 0u, 0u, 0u, 0u);
  if (id >= plane * p.batch) {
    return t;
  }
  let img = id / plane;
  let pix = id % plane;
  t.out = img * 3u * plane + pix;
  if (img >= p.faces * p.copies) {
    tensor[t.out] = 0.0;
    tensor[t.out + plane] = 0.0;
    tensor[t.out + 2u * plane] = 0.0;
    return t;
  }
  t.live = true;
  t.face = img / p.copies;
  t.y = pix / p.size;
  t.x = pix % p.size;
  if (img % p.copies == 1u) {
    t.x = p.size - 1u - t.x;
  }
  return t;
}

@compute @workgroup_size(64)
fn from_chips(@builtin(global_invocation_id) gid: vec3<u32>,
              @builtin(num_workgroups) nwg: vec3<u32>) {
  let t = locate(gid, nwg);
  if (!t.live) {
    return;
  }
  let plane = p.size * p.size;
  let src = (t.face * plane + t.y * p.size + t.x) * 3u;
  for (var ch = 0u; ch < 3u; ch++) {
    tensor[t.out + ch * plane] = byte_at(src + ch);
  }
}

// the photo's channel ch at (xx, yy), 0 outside it
fn texel(xx: i32, yy: i32, ch: u32) -> f32 {
  if (xx < 0 || yy < 0 || xx >= i32(p.width) || yy >= i32(p.height)) {
    return 0.0;
  }
  return byte_at((u32(yy) * p.width + u32(xx)) * 3u + ch);
}

@compute @workgroup_size(64)
fn from_photo(@builtin(global_invocation_id) gid: vec3<u32>,
              @builtin(num_workgroups) nwg: vec3<u32>) {
  let t = locate(gid, nwg);
  if (!t.live) {
    return;
  }
  let plane = p.size * p.size;
  let m = (p.first + t.face) * 6u;
  let x = f32(t.x);
  let y = f32(t.y);
  let sx = maps[m] * x + maps[m + 1u] * y + maps[m + 2u];
  let sy = maps[m + 3u] * x + maps[m + 4u] * y + maps[m + 5u];
  let x0 = floor(sx);
  let y0 = floor(sy);
  let fx = sx - x0;
  let fy = sy - y0;
  let ix = i32(x0);
  let iy = i32(y0);
  for (var ch = 0u; ch < 3u; ch++) {
    let v = (1.0 - fy) * ((1.0 - fx) * texel(ix, iy, ch) + fx * texel(ix + 1, iy, ch)) +
      fy * ((1.0 - fx) * texel(ix, iy + 1, ch) + fx * texel(ix + 1, iy + 1, ch));
    tensor[t.out + ch * plane] = floor(v + 0.5);
  }
}
