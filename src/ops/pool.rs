//! Max and average pooling over `k x k` windows with a stride, no padding, NCHW.
//!
//! x `[n, c, in_h, in_w]`, y `[n, c, out_h, out_w]`; window `(oy, ox)` covers rows
//! `oy * stride .. oy * stride + k` and the same for columns. Windows may overlap (stride < k): the
//! backward passes then add up in dx. Max pooling routes the gradient to the *first* maximum of each
//! window in row-major order.

use super::Pool2dGeom;

pub mod reference {
    use crate::ops::Pool2dGeom;

    /// Index into x of the first maximum of window `(plane, oy, ox)`.
    fn argmax(g: &Pool2dGeom, x: &[f32], plane: usize, oy: usize, ox: usize) -> usize {
        let mut best = plane * g.in_h * g.in_w + oy * g.stride * g.in_w + ox * g.stride;
        for ky in 0..g.k {
            for kx in 0..g.k {
                let i =
                    plane * g.in_h * g.in_w + (oy * g.stride + ky) * g.in_w + ox * g.stride + kx;
                if x[i] > x[best] {
                    best = i;
                }
            }
        }
        best
    }

    pub fn max_forward(g: &Pool2dGeom, x: &[f32], y: &mut [f32]) {
        let (oh, ow) = (g.out_h(), g.out_w());
        for plane in 0..g.n * g.c {
            for oy in 0..oh {
                for ox in 0..ow {
                    y[(plane * oh + oy) * ow + ox] = x[argmax(g, x, plane, oy, ox)];
                }
            }
        }
    }

    pub fn max_backward(g: &Pool2dGeom, x: &[f32], dy: &[f32], dx: &mut [f32]) {
        let (oh, ow) = (g.out_h(), g.out_w());
        dx.fill(0.0);
        for plane in 0..g.n * g.c {
            for oy in 0..oh {
                for ox in 0..ow {
                    dx[argmax(g, x, plane, oy, ox)] += dy[(plane * oh + oy) * ow + ox];
                }
            }
        }
    }

    pub fn avg_forward(g: &Pool2dGeom, x: &[f32], y: &mut [f32]) {
        let (oh, ow) = (g.out_h(), g.out_w());
        for plane in 0..g.n * g.c {
            for oy in 0..oh {
                for ox in 0..ow {
                    let mut s = 0.0;
                    for ky in 0..g.k {
                        for kx in 0..g.k {
                            s += x[(plane * g.in_h + oy * g.stride + ky) * g.in_w
                                + ox * g.stride
                                + kx];
                        }
                    }
                    y[(plane * oh + oy) * ow + ox] = s / (g.k * g.k) as f32;
                }
            }
        }
    }

    pub fn avg_backward(g: &Pool2dGeom, dy: &[f32], dx: &mut [f32]) {
        let (oh, ow) = (g.out_h(), g.out_w());
        dx.fill(0.0);
        for plane in 0..g.n * g.c {
            for oy in 0..oh {
                for ox in 0..ow {
                    let d = dy[(plane * oh + oy) * ow + ox] / (g.k * g.k) as f32;
                    for ky in 0..g.k {
                        for kx in 0..g.k {
                            dx[(plane * g.in_h + oy * g.stride + ky) * g.in_w
                                + ox * g.stride
                                + kx] += d;
                        }
                    }
                }
            }
        }
    }
}

// Fast paths: one plane and one output row at a time, on row slices (no per-element index
// arithmetic, no bounds checks in the window loops).

/// Calls `f(plane, offset of the window's first input row, output row)` for every output row of every plane.
fn rows(g: &Pool2dGeom, x: &[f32], y: &mut [f32], mut f: impl FnMut(&[f32], usize, &mut [f32])) {
    let (oh, ow, plane) = (g.out_h(), g.out_w(), g.in_h * g.in_w);
    for (xp, yp) in x.chunks_exact(plane).zip(y.chunks_exact_mut(oh * ow)) {
        for (oy, yrow) in yp.chunks_exact_mut(ow).enumerate() {
            f(xp, oy * g.stride * g.in_w, yrow);
        }
    }
}

pub fn max_forward(g: &Pool2dGeom, x: &[f32], y: &mut [f32]) {
    if g.k == 2 && g.stride == 2 {
        return max_forward_2x2(g, x, y);
    }
    let (k, s) = (g.k, g.stride);
    rows(g, x, y, |xp, r0, yrow| {
        for (ox, out) in yrow.iter_mut().enumerate() {
            let mut m = xp[r0 + ox * s];
            for ky in 0..k {
                let r = r0 + ky * g.in_w + ox * s;
                for &v in &xp[r..r + k] {
                    m = if v > m { v } else { m };
                }
            }
            *out = m;
        }
    });
}

/// The CNN's 2x2, stride-2 pooling: the window's four values compared in the reference's order.
fn max_forward_2x2(g: &Pool2dGeom, x: &[f32], y: &mut [f32]) {
    let w = g.in_w;
    rows(g, x, y, |xp, r0, yrow| {
        let (top, bottom) = (&xp[r0..r0 + w], &xp[r0 + w..r0 + 2 * w]);
        let pairs = top.chunks_exact(2).zip(bottom.chunks_exact(2));
        for (out, (t, b)) in yrow.iter_mut().zip(pairs) {
            let mut m = t[0];
            for v in [t[1], b[0], b[1]] {
                m = if v > m { v } else { m };
            }
            *out = m;
        }
    });
}

/// Backward of [`max_forward_2x2`]: each window writes all four of its dx values (the gradient at
/// its first maximum, zeros elsewhere); only pixels no window covers (odd sizes) need the fill.
fn max_backward_2x2(g: &Pool2dGeom, x: &[f32], dy: &[f32], dx: &mut [f32]) {
    let (oh, ow, plane) = (g.out_h(), g.out_w(), g.in_h * g.in_w);
    let w = g.in_w;
    if g.in_h != 2 * oh || w != 2 * ow {
        dx.fill(0.0);
    }
    for ((xp, dyp), dxp) in x
        .chunks_exact(plane)
        .zip(dy.chunks_exact(oh * ow))
        .zip(dx.chunks_exact_mut(plane))
    {
        for (oy, dyrow) in dyp.chunks_exact(ow).enumerate() {
            let r0 = 2 * oy * w;
            let (top, bottom) = (&xp[r0..r0 + w], &xp[r0 + w..r0 + 2 * w]);
            let (dtop, dbottom) = dxp[r0..r0 + 2 * w].split_at_mut(w);
            #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
            let done = max_backward_2x2_quads(top, bottom, dyrow, dtop, dbottom);
            #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
            let done = 0;
            let windows = top.chunks_exact(2).zip(bottom.chunks_exact(2));
            let grads = dtop.chunks_exact_mut(2).zip(dbottom.chunks_exact_mut(2));
            for ((&d, (t, b)), (dt, db)) in dyrow.iter().zip(windows).zip(grads).skip(done) {
                // The first maximum, with selects instead of a dynamically indexed array.
                let (mut m, mut best) = (t[0], 0);
                for (i, v) in [(1, t[1]), (2, b[0]), (3, b[1])] {
                    let gt = v > m;
                    m = if gt { v } else { m };
                    best = if gt { i } else { best };
                }
                let at = |i| if best == i { d } else { 0.0 };
                dt.copy_from_slice(&[at(0), at(1)]);
                db.copy_from_slice(&[at(2), at(3)]);
            }
        }
    }
}

/// The first `4 * (dy.len() / 4)` windows of one output row of [`max_backward_2x2`], four at a
/// time: the windows' four corners are gathered into four vectors, and the running maximum takes a
/// later corner only when strictly greater, as the scalar loop does. Returns the windows done.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
fn max_backward_2x2_quads(
    top: &[f32],
    bottom: &[f32],
    dy: &[f32],
    dtop: &mut [f32],
    dbottom: &mut [f32],
) -> usize {
    use core::arch::wasm32::*;
    let quads = dy.len() / 4;
    let len = 8 * quads;
    assert!(top.len() >= len && bottom.len() >= len && dtop.len() >= len && dbottom.len() >= len);
    // SAFETY (every load and store): i + 4 <= 8 * quads <= the row's length (asserted above), and
    // 4 * q + 4 <= dy.len(); v128 loads and stores may be unaligned.
    let load = |s: &[f32], i: usize| unsafe { v128_load(s.as_ptr().add(i).cast()) };
    let store = |s: &mut [f32], i: usize, v| unsafe { v128_store(s.as_mut_ptr().add(i).cast(), v) };
    for q in 0..quads {
        let (t0, t1) = (load(top, 8 * q), load(top, 8 * q + 4));
        let (b0, b1) = (load(bottom, 8 * q), load(bottom, 8 * q + 4));
        // Corners (0, 0), (0, 1), (1, 0), (1, 1) of four windows: the reference's order.
        let c0 = i32x4_shuffle::<0, 2, 4, 6>(t0, t1);
        let c1 = i32x4_shuffle::<1, 3, 5, 7>(t0, t1);
        let c2 = i32x4_shuffle::<0, 2, 4, 6>(b0, b1);
        let c3 = i32x4_shuffle::<1, 3, 5, 7>(b0, b1);
        let gt1 = f32x4_gt(c1, c0);
        let m = v128_bitselect(c1, c0, gt1);
        let gt2 = f32x4_gt(c2, m);
        let m = v128_bitselect(c2, m, gt2);
        let gt3 = f32x4_gt(c3, m);
        let d = load(dy, 4 * q);
        let g0 = v128_andnot(d, v128_or(v128_or(gt1, gt2), gt3));
        let g1 = v128_and(d, v128_andnot(v128_andnot(gt1, gt2), gt3));
        let g2 = v128_and(d, v128_andnot(gt2, gt3));
        let g3 = v128_and(d, gt3);
        store(dtop, 8 * q, i32x4_shuffle::<0, 4, 1, 5>(g0, g1));
        store(dtop, 8 * q + 4, i32x4_shuffle::<2, 6, 3, 7>(g0, g1));
        store(dbottom, 8 * q, i32x4_shuffle::<0, 4, 1, 5>(g2, g3));
        store(dbottom, 8 * q + 4, i32x4_shuffle::<2, 6, 3, 7>(g2, g3));
    }
    4 * quads
}

pub fn max_backward(g: &Pool2dGeom, x: &[f32], dy: &[f32], dx: &mut [f32]) {
    if g.k == 2 && g.stride == 2 {
        return max_backward_2x2(g, x, dy, dx);
    }
    let (oh, ow, plane) = (g.out_h(), g.out_w(), g.in_h * g.in_w);
    dx.fill(0.0);
    for ((xp, dyp), dxp) in x
        .chunks_exact(plane)
        .zip(dy.chunks_exact(oh * ow))
        .zip(dx.chunks_exact_mut(plane))
    {
        for (oy, dyrow) in dyp.chunks_exact(ow).enumerate() {
            for (ox, &d) in dyrow.iter().enumerate() {
                let base = oy * g.stride * g.in_w + ox * g.stride;
                let mut best = base;
                for ky in 0..g.k {
                    let r = base + ky * g.in_w;
                    for (i, &v) in xp[r..r + g.k].iter().enumerate() {
                        if v > xp[best] {
                            best = r + i;
                        }
                    }
                }
                dxp[best] += d;
            }
        }
    }
}

pub fn avg_forward(g: &Pool2dGeom, x: &[f32], y: &mut [f32]) {
    let (k, s) = (g.k, g.stride);
    let inv = 1.0 / (k * k) as f32;
    rows(g, x, y, |xp, r0, yrow| {
        for (ox, out) in yrow.iter_mut().enumerate() {
            let mut acc = 0.0;
            for ky in 0..k {
                let r = r0 + ky * g.in_w + ox * s;
                for &v in &xp[r..r + k] {
                    acc += v;
                }
            }
            *out = acc * inv;
        }
    });
}

pub fn avg_backward(g: &Pool2dGeom, dy: &[f32], dx: &mut [f32]) {
    let (oh, ow, plane) = (g.out_h(), g.out_w(), g.in_h * g.in_w);
    let inv = 1.0 / (g.k * g.k) as f32;
    dx.fill(0.0);
    for (dyp, dxp) in dy.chunks_exact(oh * ow).zip(dx.chunks_exact_mut(plane)) {
        for (oy, dyrow) in dyp.chunks_exact(ow).enumerate() {
            for ky in 0..g.k {
                let dxrow = &mut dxp[(oy * g.stride + ky) * g.in_w..][..g.in_w];
                for (ox, &d) in dyrow.iter().enumerate() {
                    for v in &mut dxrow[ox * g.stride..ox * g.stride + g.k] {
                        *v += d * inv;
                    }
                }
            }
        }
    }
}
