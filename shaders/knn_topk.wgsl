// Fused blocked similarity + exact per-row top-k + min_sim threshold.
//
// One workgroup owns TQ query rows of the current query chunk and walks every candidate
// row of the current candidate chunk in tiles of TC: the 16×16 threads compute the TQ×TC
// tile of dot products (each thread a 4×4 block, the feature dimension in steps of 16
// through workgroup memory), then one thread per query row scans its row of the tile in
// increasing candidate order and inserts what beats the row's k-th similarity (and is at
// least min_sim) into the row's sorted list in `top_sim`/`top_idx` (index −1 marks the
// end of a list). Only the owning
// workgroup touches a row's list, so no atomics are needed; lists persist across
// dispatches, so candidates can come in several chunks. No N×N matrix exists anywhere.
//
// Rows are L2-normalised and zero-padded to a multiple of 16 floats (`d4` vec4 per row).

struct Params {
  nq: u32,        // query rows in this chunk
  nc: u32,        // one past the last candidate row of this dispatch
  d4: u32,        // vec4 per row (a multiple of TD4)
  k: u32,         // list length per row
  cand_base: u32, // global index of candidate row 0 of this chunk
  c_begin: u32,   // first candidate row of this dispatch (a multiple of TC)
  min_sim: f32,   // smallest similarity kept
  _pad1: u32,
}

@group(0) @binding(0) var<storage, read> queries: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> cands: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> top_sim: array<f32>;
@group(0) @binding(3) var<storage, read_write> top_idx: array<i32>;
@group(0) @binding(4) var<uniform> params: Params;
// workgroups that ran to the end; the host checks it against what it dispatched, so that a
// dispatch the driver cut short is an error, never a silently wrong result
@group(0) @binding(5) var<storage, read_write> done: array<atomic<u32>>;

const TQ: u32 = 64u;  // query rows per workgroup
const TC: u32 = 64u;  // candidate rows per tile
const TD4: u32 = 4u;  // vec4 of the feature dimension per step (16 floats)

var<workgroup> q_tile: array<vec4<f32>, 256>;  // TQ * TD4
var<workgroup> c_tile: array<vec4<f32>, 256>;  // TC * TD4
var<workgroup> sim_tile: array<f32, 4096>;     // TQ * TC

@compute @workgroup_size(16, 16)
fn main(
  @builtin(workgroup_id) wg: vec3<u32>,
  @builtin(local_invocation_id) lid: vec3<u32>,
  @builtin(local_invocation_index) li: u32,
) {
  let q0 = wg.x * TQ;
  let tx = lid.x;
  let ty = lid.y;
  let lr = li / TD4;  // tile row this thread loads
  let ls = li % TD4;  // vec4 slot this thread loads
  let k = params.k;
  let d4 = params.d4;

  let my_row = q0 + li;
  let row_active = li < TQ && my_row < params.nq;

  for (var c0: u32 = params.c_begin; c0 < params.nc; c0 = c0 + TC) {
    var a0 = vec4<f32>(0.0);
    var a1 = vec4<f32>(0.0);
    var a2 = vec4<f32>(0.0);
    var a3 = vec4<f32>(0.0);
    for (var dd: u32 = 0u; dd < d4; dd = dd + TD4) {
      let qr = q0 + lr;
      var qv = vec4<f32>(0.0);
      if (qr < params.nq) {
        qv = queries[qr * d4 + dd + ls];
      }
      q_tile[li] = qv;
      let cr = c0 + lr;
      var cv = vec4<f32>(0.0);
      if (cr < params.nc) {
        cv = cands[cr * d4 + dd + ls];
      }
      c_tile[li] = cv;
      workgroupBarrier();
      for (var s: u32 = 0u; s < TD4; s = s + 1u) {
        let qa = q_tile[(ty * 4u + 0u) * TD4 + s];
        let qb = q_tile[(ty * 4u + 1u) * TD4 + s];
        let qc = q_tile[(ty * 4u + 2u) * TD4 + s];
        let qd = q_tile[(ty * 4u + 3u) * TD4 + s];
        let ca = c_tile[(tx * 4u + 0u) * TD4 + s];
        let cb = c_tile[(tx * 4u + 1u) * TD4 + s];
        let cc = c_tile[(tx * 4u + 2u) * TD4 + s];
        let cd = c_tile[(tx * 4u + 3u) * TD4 + s];
        a0 = a0 + vec4<f32>(dot(qa, ca), dot(qa, cb), dot(qa, cc), dot(qa, cd));
        a1 = a1 + vec4<f32>(dot(qb, ca), dot(qb, cb), dot(qb, cc), dot(qb, cd));
        a2 = a2 + vec4<f32>(dot(qc, ca), dot(qc, cb), dot(qc, cc), dot(qc, cd));
        a3 = a3 + vec4<f32>(dot(qd, ca), dot(qd, cb), dot(qd, cc), dot(qd, cd));
      }
      workgroupBarrier();
    }
    let col = tx * 4u;
    let r0 = (ty * 4u) * TC + col;
    sim_tile[r0 + 0u] = a0.x;
    sim_tile[r0 + 1u] = a0.y;
    sim_tile[r0 + 2u] = a0.z;
    sim_tile[r0 + 3u] = a0.w;
    sim_tile[r0 + TC + 0u] = a1.x;
    sim_tile[r0 + TC + 1u] = a1.y;
    sim_tile[r0 + TC + 2u] = a1.z;
    sim_tile[r0 + TC + 3u] = a1.w;
    sim_tile[r0 + 2u * TC + 0u] = a2.x;
    sim_tile[r0 + 2u * TC + 1u] = a2.y;
    sim_tile[r0 + 2u * TC + 2u] = a2.z;
    sim_tile[r0 + 2u * TC + 3u] = a2.w;
    sim_tile[r0 + 3u * TC + 0u] = a3.x;
    sim_tile[r0 + 3u * TC + 1u] = a3.y;
    sim_tile[r0 + 3u * TC + 2u] = a3.z;
    sim_tile[r0 + 3u * TC + 3u] = a3.w;
    workgroupBarrier();
    if (row_active) {
      let lim = min(TC, params.nc - c0);
      let base = my_row * k;
      // the row's list length and k-th similarity, read from memory for every tile: keeping
      // them in registers across the barriers gave wrong lists on lavapipe for k > 128
      var lo: u32 = 0u;
      var hi: u32 = k;
      loop {
        if (lo >= hi) { break; }
        let mid = (lo + hi) / 2u;
        if (top_idx[base + mid] >= 0) {
          lo = mid + 1u;
        } else {
          hi = mid;
        }
      }
      var count = lo;
      var kth: f32 = -3.4e38;
      if (count == k) {
        kth = top_sim[base + k - 1u];
      }
      for (var j: u32 = 0u; j < lim; j = j + 1u) {
        let s = sim_tile[li * TC + j];
        if (s >= params.min_sim && (count < k || s > kth)) {
          // sorted insertion; equal similarities keep the lower index first
          var pos = select(count, k - 1u, count == k);
          loop {
            if (pos == 0u) { break; }
            let prev = top_sim[base + pos - 1u];
            if (prev >= s) { break; }
            top_sim[base + pos] = prev;
            top_idx[base + pos] = top_idx[base + pos - 1u];
            pos = pos - 1u;
          }
          top_sim[base + pos] = s;
          top_idx[base + pos] = i32(params.cand_base + c0 + j);
          if (count < k) {
            count = count + 1u;
          }
          if (count == k) {
            kth = top_sim[base + k - 1u];
          }
        }
      }
    }
    workgroupBarrier();
  }
  if (li == 0u) {
    atomicAdd(&done[0], 1u);
  }
}
