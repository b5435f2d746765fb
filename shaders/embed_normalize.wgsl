// Model outputs [chips × copies, dims] → embeddings [chips, dims] of unit length: each copy
// scaled to unit length, the copies of a chip summed (original and mirror with --flip), the
// sum scaled to unit length. One workgroup per chip; a tree reduction for each length.

struct Params {
  dims: u32,
  chips: u32,
  copies: u32,
  _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> raw: array<f32>;
@group(0) @binding(2) var<storage, read_write> emb: array<f32>;

const WG: u32 = 128u;
var<workgroup> partial: array<f32, WG>;

fn reduce(t: u32, v: f32) -> f32 {
  partial[t] = v;
  workgroupBarrier();
  var s = WG / 2u;
  loop {
    if (s == 0u) {
      break;
    }
    if (t < s) {
      partial[t] += partial[t + s];
    }
    workgroupBarrier();
    s = s / 2u;
  }
  let total = partial[0];
  workgroupBarrier();
  return total;
}

@compute @workgroup_size(128)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let chip = wid.x;
  let t = lid.x;
  if (chip >= p.chips) {
    return;
  }
  // each invocation owns dims / WG (rounded up) entries, summed over the copies
  for (var j = t; j < p.dims; j += WG) {
    emb[chip * p.dims + j] = 0.0;
  }
  for (var m = 0u; m < p.copies; m++) {
    let row = (chip * p.copies + m) * p.dims;
    var ss = 0.0;
    for (var j = t; j < p.dims; j += WG) {
      ss += raw[row + j] * raw[row + j];
    }
    let total = reduce(t, ss);
    let inv = select(0.0, inverseSqrt(total), total > 0.0);
    for (var j = t; j < p.dims; j += WG) {
      emb[chip * p.dims + j] += raw[row + j] * inv;
    }
  }
  var ss = 0.0;
  for (var j = t; j < p.dims; j += WG) {
    ss += emb[chip * p.dims + j] * emb[chip * p.dims + j];
  }
  let total = reduce(t, ss);
  let inv = select(0.0, inverseSqrt(total), total > 0.0);
  for (var j = t; j < p.dims; j += WG) {
    emb[chip * p.dims + j] *= inv;
  }
}
