//! 2-D convolution (cross-correlation, as in every framework), zero padding, any stride.
//!
//! Shapes (see [`Conv2dGeom`]): x `[n, in_c, in_h, in_w]`, w `[out_c, in_c, kh, kw]`, b `[out_c]`,
//! y `[n, out_c, out_h, out_w]`, with input row `oy * stride + ky - pad` feeding output row `oy`.
//!
//! Fast path: per image, im2col lowers the input to `cols[K, P]` (K = in_c·kh·kw, P = out_h·out_w)
//! and the convolution becomes `y_n[out_c, P] = w[out_c, K] · cols`. A 1x1, stride-1, unpadded
//! convolution uses the image itself as `cols`.

use super::gemm::{gemm, View};
use super::{grown, Conv2dGeom, Scratch};

pub mod reference {
    use crate::ops::Conv2dGeom;

    /// The input pixel feeding output `o` through kernel tap `k`, or None in the zero padding.
    pub(crate) fn src(o: usize, k: usize, g: &Conv2dGeom, size: usize) -> Option<usize> {
        (o * g.stride + k).checked_sub(g.pad).filter(|&i| i < size)
    }

    pub fn forward(g: &Conv2dGeom, x: &[f32], w: &[f32], b: &[f32], y: &mut [f32]) {
        let (oh, ow) = (g.out_h(), g.out_w());
        for n in 0..g.n {
            for oc in 0..g.out_c {
                for oy in 0..oh {
                    for ox in 0..ow {
                        let mut s = b[oc];
                        for ic in 0..g.in_c {
                            for ky in 0..g.kh {
                                for kx in 0..g.kw {
                                    let (Some(iy), Some(ix)) =
                                        (src(oy, ky, g, g.in_h), src(ox, kx, g, g.in_w))
                                    else {
                                        continue;
                                    };
                                    s += x[((n * g.in_c + ic) * g.in_h + iy) * g.in_w + ix]
                                        * w[((oc * g.in_c + ic) * g.kh + ky) * g.kw + kx];
                                }
                            }
                        }
                        y[((n * g.out_c + oc) * oh + oy) * ow + ox] = s;
                    }
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub fn backward(
        g: &Conv2dGeom,
        x: &[f32],
        w: &[f32],
        dy: &[f32],
        mut dx: Option<&mut [f32]>,
        dw: &mut [f32],
        db: &mut [f32],
    ) {
        let (oh, ow) = (g.out_h(), g.out_w());
        dw.fill(0.0);
        db.fill(0.0);
        if let Some(dx) = dx.as_deref_mut() {
            dx.fill(0.0);
        }
        for n in 0..g.n {
            for oc in 0..g.out_c {
                for oy in 0..oh {
                    for ox in 0..ow {
                        let d = dy[((n * g.out_c + oc) * oh + oy) * ow + ox];
                        db[oc] += d;
                        for ic in 0..g.in_c {
                            for ky in 0..g.kh {
                                for kx in 0..g.kw {
                                    let (Some(iy), Some(ix)) =
                                        (src(oy, ky, g, g.in_h), src(ox, kx, g, g.in_w))
                                    else {
                                        continue;
                                    };
                                    let xi = ((n * g.in_c + ic) * g.in_h + iy) * g.in_w + ix;
                                    let wi = ((oc * g.in_c + ic) * g.kh + ky) * g.kw + kx;
                                    dw[wi] += d * x[xi];
                                    if let Some(dx) = dx.as_deref_mut() {
                                        dx[xi] += d * w[wi];
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The range of outputs `o` in `0..out` whose input `o * stride + k - pad` lies in `0..size`.
fn valid(k: usize, stride: usize, pad: usize, size: usize, out: usize) -> (usize, usize) {
    let lo = pad.saturating_sub(k).div_ceil(stride).min(out);
    let hi = (size + pad).saturating_sub(k).div_ceil(stride).min(out);
    (lo, hi.max(lo))
}

/// Lowers one image `[in_c, in_h, in_w]` to `cols[K, P]`: row `(c, ky, kx)`, column `(oy, ox)`.
pub fn im2col(g: &Conv2dGeom, x: &[f32], cols: &mut [f32]) {
    let (oh, ow) = (g.out_h(), g.out_w());
    let mut rows = cols.chunks_exact_mut(oh * ow);
    for c in 0..g.in_c {
        let plane = &x[c * g.in_h * g.in_w..][..g.in_h * g.in_w];
        for ky in 0..g.kh {
            let (ylo, yhi) = valid(ky, g.stride, g.pad, g.in_h, oh);
            for kx in 0..g.kw {
                let (xlo, xhi) = valid(kx, g.stride, g.pad, g.in_w, ow);
                let row = rows.next().unwrap();
                row[..ylo * ow].fill(0.0);
                row[yhi * ow..].fill(0.0);
                for oy in ylo..yhi {
                    let src = &plane[(oy * g.stride + ky - g.pad) * g.in_w..][..g.in_w];
                    let dst = &mut row[oy * ow..][..ow];
                    dst[..xlo].fill(0.0);
                    dst[xhi..].fill(0.0);
                    if g.stride == 1 {
                        let s0 = xlo + kx - g.pad;
                        dst[xlo..xhi].copy_from_slice(&src[s0..s0 + xhi - xlo]);
                    } else {
                        for (ox, d) in dst.iter_mut().enumerate().take(xhi).skip(xlo) {
                            *d = src[ox * g.stride + kx - g.pad];
                        }
                    }
                }
            }
        }
    }
}

/// The adjoint of [`im2col`]: adds each column entry back onto the pixel it was read from.
pub fn col2im(g: &Conv2dGeom, cols: &[f32], x: &mut [f32]) {
    let (oh, ow) = (g.out_h(), g.out_w());
    let mut rows = cols.chunks_exact(oh * ow);
    for c in 0..g.in_c {
        let plane = &mut x[c * g.in_h * g.in_w..][..g.in_h * g.in_w];
        for ky in 0..g.kh {
            let (ylo, yhi) = valid(ky, g.stride, g.pad, g.in_h, oh);
            for kx in 0..g.kw {
                let (xlo, xhi) = valid(kx, g.stride, g.pad, g.in_w, ow);
                let row = rows.next().unwrap();
                for oy in ylo..yhi {
                    let dst = &mut plane[(oy * g.stride + ky - g.pad) * g.in_w..][..g.in_w];
                    let src = &row[oy * ow..][..ow];
                    if g.stride == 1 {
                        let d0 = xlo + kx - g.pad;
                        for (d, s) in dst[d0..d0 + xhi - xlo].iter_mut().zip(&src[xlo..xhi]) {
                            *d += s;
                        }
                    } else {
                        for (ox, s) in src.iter().enumerate().take(xhi).skip(xlo) {
                            dst[ox * g.stride + kx - g.pad] += s;
                        }
                    }
                }
            }
        }
    }
}

/// True when im2col would copy the image unchanged.
pub(crate) fn is_pointwise(g: &Conv2dGeom) -> bool {
    g.kh == 1 && g.kw == 1 && g.stride == 1 && g.pad == 0
}

/// The image's im2col matrix `[K, P]`: the image itself when the conv is pointwise, otherwise
/// lowered into the reusable `cols` scratch.
pub(crate) fn columns<'a>(g: &Conv2dGeom, image: &'a [f32], cols: &'a mut Vec<f32>) -> &'a [f32] {
    if is_pointwise(g) {
        return image;
    }
    let c = grown(cols, g.in_c * g.kh * g.kw * g.out_h() * g.out_w());
    im2col(g, image, c);
    c
}

pub fn forward(g: &Conv2dGeom, x: &[f32], w: &[f32], b: &[f32], y: &mut [f32], s: &mut Scratch) {
    let (p, k) = (g.out_h() * g.out_w(), g.in_c * g.kh * g.kw);
    let in_sz = g.in_c * g.in_h * g.in_w;
    let Scratch { gemm: gs, cols } = s;
    for (xn, yn) in x
        .chunks_exact(in_sz)
        .zip(y.chunks_exact_mut(g.out_c * p))
        .take(g.n)
    {
        for (row, &bias) in yn.chunks_exact_mut(p).zip(b) {
            row.fill(bias);
        }
        let cols = columns(g, xn, cols);
        gemm(
            g.out_c,
            p,
            k,
            View::rows(w, k),
            View::rows(cols, p),
            yn,
            p,
            true,
            gs,
        );
    }
}

#[allow(clippy::too_many_arguments)]
pub fn backward(
    g: &Conv2dGeom,
    x: &[f32],
    w: &[f32],
    dy: &[f32],
    mut dx: Option<&mut [f32]>,
    dw: &mut [f32],
    db: &mut [f32],
    s: &mut Scratch,
) {
    let (p, k) = (g.out_h() * g.out_w(), g.in_c * g.kh * g.kw);
    let in_sz = g.in_c * g.in_h * g.in_w;
    let Scratch { gemm: gs, cols } = s;
    db.fill(0.0);
    dw.fill(0.0);
    for n in 0..g.n {
        let xn = &x[n * in_sz..][..in_sz];
        let dyn_ = &dy[n * g.out_c * p..][..g.out_c * p];
        for (d, row) in db.iter_mut().zip(dyn_.chunks_exact(p)) {
            *d += row.iter().sum::<f32>();
        }
        // dw[out_c, K] += dy_n[out_c, P] · cols^T
        let c = columns(g, xn, cols);
        gemm(
            g.out_c,
            k,
            p,
            View::rows(dyn_, p),
            View::rows_t(c, p),
            dw,
            k,
            true,
            gs,
        );
        // dcols[K, P] = w^T · dy_n, then scattered back onto the image.
        if let Some(dx) = dx.as_deref_mut() {
            let dxn = &mut dx[n * in_sz..][..in_sz];
            if is_pointwise(g) {
                gemm(
                    k,
                    p,
                    g.out_c,
                    View::rows_t(w, k),
                    View::rows(dyn_, p),
                    dxn,
                    p,
                    false,
                    gs,
                );
            } else {
                let dc = grown(cols, k * p);
                gemm(
                    k,
                    p,
                    g.out_c,
                    View::rows_t(w, k),
                    View::rows(dyn_, p),
                    dc,
                    p,
                    false,
                    gs,
                );
                dxn.fill(0.0);
                col2im(g, dc, dxn);
            }
        }
    }
}
