//! Transposed 2-D convolution (PyTorch's `ConvTranspose2d`, no output padding argument: the output
//! size is whatever `g` says, rows no input reaches receive only the bias).
//!
//! `g` describes the *forward* convolution this is the transpose of. Shapes: x `[n, g.out_c, out_h,
//! out_w]`, w `[g.out_c, g.in_c, kh, kw]`, b `[g.in_c]`, y `[n, g.in_c, g.in_h, g.in_w]`; input pixel
//! `(oy, ox)` adds into output pixel `(oy * stride + ky - pad, ox * stride + kx - pad)`.
//!
//! Fast path: it is the convolution's input gradient, so `y_n = col2im(w^T · x_n) + b`, and its own
//! backward is a convolution: `dx_n = w · im2col(dy_n)`, `dw += x_n · im2col(dy_n)^T`.

use super::conv2d::{col2im, columns, is_pointwise};
use super::gemm::{gemm, View};
use super::{grown, Conv2dGeom, Scratch};

pub mod reference {
    use crate::ops::conv2d::reference::src;
    use crate::ops::Conv2dGeom;

    pub fn forward(g: &Conv2dGeom, x: &[f32], w: &[f32], b: &[f32], y: &mut [f32]) {
        let (oh, ow) = (g.out_h(), g.out_w());
        for n in 0..g.n {
            for ic in 0..g.in_c {
                y[(n * g.in_c + ic) * g.in_h * g.in_w..][..g.in_h * g.in_w].fill(b[ic]);
            }
            for oc in 0..g.out_c {
                for oy in 0..oh {
                    for ox in 0..ow {
                        let v = x[((n * g.out_c + oc) * oh + oy) * ow + ox];
                        for ic in 0..g.in_c {
                            for ky in 0..g.kh {
                                for kx in 0..g.kw {
                                    let (Some(iy), Some(ix)) =
                                        (src(oy, ky, g, g.in_h), src(ox, kx, g, g.in_w))
                                    else {
                                        continue;
                                    };
                                    y[((n * g.in_c + ic) * g.in_h + iy) * g.in_w + ix] +=
                                        v * w[((oc * g.in_c + ic) * g.kh + ky) * g.kw + kx];
                                }
                            }
                        }
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
        for n in 0..g.n {
            for ic in 0..g.in_c {
                let plane = &dy[(n * g.in_c + ic) * g.in_h * g.in_w..][..g.in_h * g.in_w];
                db[ic] += plane.iter().sum::<f32>();
            }
            for oc in 0..g.out_c {
                for oy in 0..oh {
                    for ox in 0..ow {
                        let xi = ((n * g.out_c + oc) * oh + oy) * ow + ox;
                        let mut s = 0.0;
                        for ic in 0..g.in_c {
                            for ky in 0..g.kh {
                                for kx in 0..g.kw {
                                    let (Some(iy), Some(ix)) =
                                        (src(oy, ky, g, g.in_h), src(ox, kx, g, g.in_w))
                                    else {
                                        continue;
                                    };
                                    let d = dy[((n * g.in_c + ic) * g.in_h + iy) * g.in_w + ix];
                                    let wi = ((oc * g.in_c + ic) * g.kh + ky) * g.kw + kx;
                                    s += d * w[wi];
                                    dw[wi] += d * x[xi];
                                }
                            }
                        }
                        if let Some(dx) = dx.as_deref_mut() {
                            dx[xi] = s;
                        }
                    }
                }
            }
        }
    }
}

pub fn forward(g: &Conv2dGeom, x: &[f32], w: &[f32], b: &[f32], y: &mut [f32], s: &mut Scratch) {
    let (p, k) = (g.out_h() * g.out_w(), g.in_c * g.kh * g.kw);
    let (in_sz, plane) = (g.out_c * p, g.in_h * g.in_w);
    let Scratch { gemm: gs, cols } = s;
    for (xn, yn) in x
        .chunks_exact(in_sz)
        .zip(y.chunks_exact_mut(g.in_c * plane))
        .take(g.n)
    {
        for (row, &bias) in yn.chunks_exact_mut(plane).zip(b) {
            row.fill(bias);
        }
        let wt = View::rows_t(w, k);
        if is_pointwise(g) {
            gemm(k, p, g.out_c, wt, View::rows(xn, p), yn, p, true, gs);
        } else {
            let dc = grown(cols, k * p);
            gemm(k, p, g.out_c, wt, View::rows(xn, p), dc, p, false, gs);
            col2im(g, dc, yn);
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
    s: &mut Scratch,
) {
    let (p, k) = (g.out_h() * g.out_w(), g.in_c * g.kh * g.kw);
    let (in_sz, plane) = (g.out_c * p, g.in_h * g.in_w);
    let Scratch { gemm: gs, cols } = s;
    db.fill(0.0);
    dw.fill(0.0);
    for n in 0..g.n {
        let xn = &x[n * in_sz..][..in_sz];
        let dyn_ = &dy[n * g.in_c * plane..][..g.in_c * plane];
        for (d, row) in db.iter_mut().zip(dyn_.chunks_exact(plane)) {
            *d += row.iter().sum::<f32>();
        }
        let c = columns(g, dyn_, cols);
        gemm(
            g.out_c,
            k,
            p,
            View::rows(xn, p),
            View::rows_t(c, p),
            dw,
            k,
            true,
            gs,
        );
        if let Some(dx) = dx.as_deref_mut() {
            let dxn = &mut dx[n * in_sz..][..in_sz];
            gemm(
                g.out_c,
                p,
                k,
                View::rows(w, k),
                View::rows(c, p),
                dxn,
                p,
                false,
                gs,
            );
        }
    }
}
