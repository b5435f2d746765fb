;; Blocked dot products with 128-bit SIMD (relaxed fused multiply-add) for the CPU kNN path.
;;
;; dots(q, nq, c, nc, d, out): out[i * nc + j] = Σ_x q[i * d + x] * c[j * d + x]
;; for i < nq, j < nc. All pointers are byte offsets into the exported memory; d is a
;; multiple of 4, nq a multiple of 4 and nc a multiple of 2 (callers pad with zeros).
;; The register block is 4 query rows × 2 candidate rows: 8 accumulators of f32x4.
;; Regenerate lib/knn/dot_kernel_wasm.ts with `deno run -A tools/build_wasm.ts`.
(module
  (memory (export "memory") 1)
  (func (export "dots")
    (param $q i32) (param $nq i32) (param $c i32) (param $nc i32) (param $d i32)
    (param $out i32)
    (local $rb i32) (local $i i32) (local $j i32) (local $x i32)
    (local $q0 i32) (local $q1 i32) (local $q2 i32) (local $q3 i32)
    (local $c0 i32) (local $c1 i32) (local $o i32)
    (local $a00 v128) (local $a01 v128) (local $a10 v128) (local $a11 v128)
    (local $a20 v128) (local $a21 v128) (local $a30 v128) (local $a31 v128)
    (local $v0 v128) (local $v1 v128) (local $w v128)
    (local.set $rb (i32.shl (local.get $d) (i32.const 2)))
    (local.set $i (i32.const 0))
    (block $done_i
      (loop $loop_i
        (br_if $done_i (i32.ge_u (local.get $i) (local.get $nq)))
        (local.set $q0 (i32.add (local.get $q) (i32.mul (local.get $i) (local.get $rb))))
        (local.set $q1 (i32.add (local.get $q0) (local.get $rb)))
        (local.set $q2 (i32.add (local.get $q1) (local.get $rb)))
        (local.set $q3 (i32.add (local.get $q2) (local.get $rb)))
        (local.set $j (i32.const 0))
        (block $done_j
          (loop $loop_j
            (br_if $done_j (i32.ge_u (local.get $j) (local.get $nc)))
            (local.set $c0 (i32.add (local.get $c) (i32.mul (local.get $j) (local.get $rb))))
            (local.set $c1 (i32.add (local.get $c0) (local.get $rb)))
            (local.set $a00 (v128.const i64x2 0 0)) (local.set $a01 (v128.const i64x2 0 0))
            (local.set $a10 (v128.const i64x2 0 0)) (local.set $a11 (v128.const i64x2 0 0))
            (local.set $a20 (v128.const i64x2 0 0)) (local.set $a21 (v128.const i64x2 0 0))
            (local.set $a30 (v128.const i64x2 0 0)) (local.set $a31 (v128.const i64x2 0 0))
            (local.set $x (i32.const 0))
            (block $done_x
              (loop $loop_x
                (br_if $done_x (i32.ge_u (local.get $x) (local.get $rb)))
                (local.set $v0 (v128.load (i32.add (local.get $c0) (local.get $x))))
                (local.set $v1 (v128.load (i32.add (local.get $c1) (local.get $x))))
                (local.set $w (v128.load (i32.add (local.get $q0) (local.get $x))))
                (local.set $a00 (f32x4.relaxed_madd (local.get $w) (local.get $v0) (local.get $a00)))
                (local.set $a01 (f32x4.relaxed_madd (local.get $w) (local.get $v1) (local.get $a01)))
                (local.set $w (v128.load (i32.add (local.get $q1) (local.get $x))))
                (local.set $a10 (f32x4.relaxed_madd (local.get $w) (local.get $v0) (local.get $a10)))
                (local.set $a11 (f32x4.relaxed_madd (local.get $w) (local.get $v1) (local.get $a11)))
                (local.set $w (v128.load (i32.add (local.get $q2) (local.get $x))))
                (local.set $a20 (f32x4.relaxed_madd (local.get $w) (local.get $v0) (local.get $a20)))
                (local.set $a21 (f32x4.relaxed_madd (local.get $w) (local.get $v1) (local.get $a21)))
                (local.set $w (v128.load (i32.add (local.get $q3) (local.get $x))))
                (local.set $a30 (f32x4.relaxed_madd (local.get $w) (local.get $v0) (local.get $a30)))
                (local.set $a31 (f32x4.relaxed_madd (local.get $w) (local.get $v1) (local.get $a31)))
                (local.set $x (i32.add (local.get $x) (i32.const 16)))
                (br $loop_x)))
            ;; out row i is at out + (i * nc + j) * 4
            (local.set $o (i32.add (local.get $out)
              (i32.shl (i32.add (i32.mul (local.get $i) (local.get $nc)) (local.get $j)) (i32.const 2))))
            (f32.store offset=0 (local.get $o) (call $hsum (local.get $a00)))
            (f32.store offset=4 (local.get $o) (call $hsum (local.get $a01)))
            (local.set $o (i32.add (local.get $o) (i32.shl (local.get $nc) (i32.const 2))))
            (f32.store offset=0 (local.get $o) (call $hsum (local.get $a10)))
            (f32.store offset=4 (local.get $o) (call $hsum (local.get $a11)))
            (local.set $o (i32.add (local.get $o) (i32.shl (local.get $nc) (i32.const 2))))
            (f32.store offset=0 (local.get $o) (call $hsum (local.get $a20)))
            (f32.store offset=4 (local.get $o) (call $hsum (local.get $a21)))
            (local.set $o (i32.add (local.get $o) (i32.shl (local.get $nc) (i32.const 2))))
            (f32.store offset=0 (local.get $o) (call $hsum (local.get $a30)))
            (f32.store offset=4 (local.get $o) (call $hsum (local.get $a31)))
            (local.set $j (i32.add (local.get $j) (i32.const 2)))
            (br $loop_j)))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $loop_i))))
  (func $hsum (param $v v128) (result f32)
    (f32.add
      (f32.add (f32x4.extract_lane 0 (local.get $v)) (f32x4.extract_lane 1 (local.get $v)))
      (f32.add (f32x4.extract_lane 2 (local.get $v)) (f32x4.extract_lane 3 (local.get $v))))))
