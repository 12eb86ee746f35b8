//! Matrix multiply on strided views: `C[m, n] (+)= A[m, k] · B[k, n]`.
//!
//! `C` is row-major with row stride `ldc`. `A` and `B` are [`View`]s: element `(r, c)` sits at
//! `r * rs + c * cs`, so a transposed operand is just a view with its strides swapped.
//!
//! Fast path (BLIS-style): `B` is packed into `NR`-wide column strips and `A` into `MR`-tall row
//! strips, both zero-padded at the edges, and an `MR x NR` register-blocked micro-kernel computes each
//! tile of `C` from one strip of each. On wasm32 with simd128 the micro-kernel uses f32x4 intrinsics;
//! elsewhere a portable version written for LLVM's autovectoriser runs. Both sum over `k` in the same
//! order with separate multiply and add, so they give bit-identical results.

use super::grown;

/// A strided, read-only matrix view.
#[derive(Clone, Copy)]
pub struct View<'a> {
    pub data: &'a [f32],
    pub rs: usize,
    pub cs: usize,
}

impl<'a> View<'a> {
    /// Row-major with `cols` columns.
    pub fn rows(data: &'a [f32], cols: usize) -> Self {
        View {
            data,
            rs: cols,
            cs: 1,
        }
    }
    /// The transpose of a row-major matrix with `cols` columns.
    pub fn rows_t(data: &'a [f32], cols: usize) -> Self {
        View {
            data,
            rs: 1,
            cs: cols,
        }
    }
    #[inline(always)]
    fn at(&self, r: usize, c: usize) -> f32 {
        self.data[r * self.rs + c * self.cs]
    }
}

pub mod reference {
    use super::View;

    /// `C = A·B` (or `C += A·B` when `accumulate`), one dot product per element.
    #[allow(clippy::too_many_arguments)]
    pub fn gemm(
        m: usize,
        n: usize,
        k: usize,
        a: View,
        b: View,
        c: &mut [f32],
        ldc: usize,
        accumulate: bool,
    ) {
        for i in 0..m {
            for j in 0..n {
                let mut s = 0.0f32;
                for p in 0..k {
                    s += a.at(i, p) * b.at(p, j);
                }
                let out = &mut c[i * ldc + j];
                *out = if accumulate { *out + s } else { s };
            }
        }
    }
}

pub const MR: usize = 4;
pub const NR: usize = 8;
/// Depth of one packed block: an `MR x KC` strip of A plus a `KC x NR` strip of B fit in L1.
const KC: usize = 256;
/// Rows of A packed at once (an `MC x KC` block stays in L2).
const MC: usize = 128;
/// Columns of B packed at once.
const NC: usize = 2048;

/// Packing buffers, kept between calls.
#[derive(Default)]
pub struct GemmScratch {
    a: Vec<f32>,
    b: Vec<f32>,
}

/// Fast `C = A·B` (or `C += A·B` when `accumulate`).
#[allow(clippy::too_many_arguments)]
pub fn gemm(
    m: usize,
    n: usize,
    k: usize,
    a: View,
    b: View,
    c: &mut [f32],
    ldc: usize,
    accumulate: bool,
    s: &mut GemmScratch,
) {
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            for i in 0..m {
                c[i * ldc..i * ldc + n].fill(0.0);
            }
        }
        return;
    }
    let pb = grown(&mut s.b, KC * NC.min(n).next_multiple_of(NR));
    let pa = grown(&mut s.a, MC.min(m).next_multiple_of(MR) * KC);
    for jc in (0..n).step_by(NC) {
        let nc = NC.min(n - jc);
        for pc in (0..k).step_by(KC) {
            let kc = KC.min(k - pc);
            pack_b(b, pc, kc, jc, nc, pb);
            let acc = accumulate || pc > 0;
            for ic in (0..m).step_by(MC) {
                let mc = MC.min(m - ic);
                pack_a(a, ic, mc, pc, kc, pa);
                for jr in (0..nc).step_by(NR) {
                    let bs = &pb[jr * kc..(jr + NR) * kc];
                    for ir in (0..mc).step_by(MR) {
                        let as_ = &pa[ir * kc..(ir + MR) * kc];
                        let tile = micro_kernel(kc, as_, bs);
                        let (r0, c0) = (ic + ir, jc + jr);
                        store(&tile, c, ldc, r0, c0, MR.min(m - r0), NR.min(n - c0), acc);
                    }
                }
            }
        }
    }
}

/// Packs `B[pc..pc+kc, jc..jc+nc]` as `NR`-wide strips, each `kc x NR` row-major, zero-padded.
fn pack_b(b: View, pc: usize, kc: usize, jc: usize, nc: usize, out: &mut [f32]) {
    for jr in (0..nc).step_by(NR) {
        let strip = &mut out[jr * kc..(jr + NR) * kc];
        let base = pc * b.rs + (jc + jr) * b.cs;
        pack_panel::<NR>(b.data, base, b.rs, b.cs, kc, NR.min(nc - jr), strip);
    }
}

/// Packs `A[ic..ic+mc, pc..pc+kc]` as `MR`-tall strips, each `kc x MR` (column of the strip first).
fn pack_a(a: View, ic: usize, mc: usize, pc: usize, kc: usize, out: &mut [f32]) {
    for ir in (0..mc).step_by(MR) {
        let strip = &mut out[ir * kc..(ir + MR) * kc];
        let base = (ic + ir) * a.rs + pc * a.cs;
        pack_panel::<MR>(a.data, base, a.cs, a.rs, kc, MR.min(mc - ir), strip);
    }
}

/// `out[p * W + l] = data[base + p * sp + l * sl]` for `p < kc`, `l < w`; lanes `w..W` are zero.
/// Reads along whichever axis is contiguous in memory.
fn pack_panel<const W: usize>(
    data: &[f32],
    base: usize,
    sp: usize,
    sl: usize,
    kc: usize,
    w: usize,
    out: &mut [f32],
) {
    if sl == 1 && w == W {
        for (p, dst) in out.chunks_exact_mut(W).take(kc).enumerate() {
            // A fixed-length copy: inlined moves instead of a memcpy call per row.
            let src: &[f32; W] = data[base + p * sp..][..W].try_into().unwrap();
            dst.copy_from_slice(src);
        }
        return;
    }
    if sp == 1 {
        for l in 0..w {
            let src = &data[base + l * sl..][..kc];
            for (dst, &v) in out.chunks_exact_mut(W).zip(src) {
                dst[l] = v;
            }
        }
    } else {
        for (p, dst) in out.chunks_exact_mut(W).take(kc).enumerate() {
            for (l, d) in dst[..w].iter_mut().enumerate() {
                *d = data[base + p * sp + l * sl];
            }
        }
    }
    if w < W {
        for dst in out.chunks_exact_mut(W).take(kc) {
            dst[w..].fill(0.0);
        }
    }
}

#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn store(
    tile: &[[f32; NR]; MR],
    c: &mut [f32],
    ldc: usize,
    r0: usize,
    c0: usize,
    h: usize,
    w: usize,
    accumulate: bool,
) {
    for (r, row) in tile.iter().enumerate().take(h) {
        if w == NR {
            let dst: &mut [f32; NR] = (&mut c[(r0 + r) * ldc + c0..][..NR]).try_into().unwrap();
            for (d, &v) in dst.iter_mut().zip(row) {
                *d = if accumulate { *d + v } else { v };
            }
            continue;
        }
        let dst = &mut c[(r0 + r) * ldc + c0..][..w];
        if accumulate {
            for (d, &v) in dst.iter_mut().zip(row) {
                *d += v;
            }
        } else {
            dst.copy_from_slice(&row[..w]);
        }
    }
}

/// One `MR x NR` tile: the sum over `p < kc` of the outer product of `a[p]` (MR) and `b[p]` (NR).
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
#[inline(always)]
fn micro_kernel(kc: usize, a: &[f32], b: &[f32]) -> [[f32; NR]; MR] {
    let mut acc = [[0.0f32; NR]; MR];
    let (a, b) = (&a[..kc * MR], &b[..kc * NR]);
    for (ap, bp) in a.chunks_exact(MR).zip(b.chunks_exact(NR)) {
        let ap: &[f32; MR] = ap.try_into().unwrap();
        let bp: &[f32; NR] = bp.try_into().unwrap();
        for r in 0..MR {
            for j in 0..NR {
                acc[r][j] += ap[r] * bp[j];
            }
        }
    }
    acc
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline(always)]
fn micro_kernel(kc: usize, a: &[f32], b: &[f32]) -> [[f32; NR]; MR] {
    use core::arch::wasm32::*;
    const V: usize = NR / 4;
    assert!(a.len() >= kc * MR && b.len() >= kc * NR);
    // Accumulators: MR x NR/4 vectors, meant to stay in registers.
    let mut acc = [[f32x4_splat(0.0); V]; MR];
    for p in 0..kc {
        // SAFETY: p * NR + NR <= kc * NR <= b.len() (asserted above); v128_load allows unaligned.
        let bv: [v128; V] =
            core::array::from_fn(|v| unsafe { v128_load(b.as_ptr().add(p * NR + 4 * v).cast()) });
        for (r, row) in acc.iter_mut().enumerate() {
            // SAFETY: p * MR + r < kc * MR <= a.len().
            let av = f32x4_splat(unsafe { *a.get_unchecked(p * MR + r) });
            for (c, &bw) in row.iter_mut().zip(&bv) {
                *c = f32x4_add(*c, f32x4_mul(av, bw));
            }
        }
    }
    let mut out = [[0.0f32; NR]; MR];
    for (o, row) in out.iter_mut().zip(&acc) {
        for (v, &x) in row.iter().enumerate() {
            // SAFETY: 4 * v + 4 <= NR, the length of o.
            unsafe { v128_store(o.as_mut_ptr().add(4 * v).cast(), x) };
        }
    }
    out
}
