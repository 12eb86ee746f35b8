//! Fully connected layer: `y[n, o] = x[n, i] · w[o, i]^T + b[o]` (weights `[out, in]`, row-major).
//!
//! Backward: `dx = dy · w`, `dw = dy^T · x`, `db[o] = sum over n of dy[n, o]`.

use super::gemm::{gemm, View};
use super::Scratch;

pub mod reference {
    #[allow(clippy::too_many_arguments)]
    pub fn forward(x: &[f32], w: &[f32], b: &[f32], y: &mut [f32], n: usize, i: usize, o: usize) {
        for r in 0..n {
            for c in 0..o {
                let mut s = b[c];
                for k in 0..i {
                    s += x[r * i + k] * w[c * i + k];
                }
                y[r * o + c] = s;
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub fn backward(
        x: &[f32],
        w: &[f32],
        dy: &[f32],
        dx: Option<&mut [f32]>,
        dw: &mut [f32],
        db: &mut [f32],
        n: usize,
        i: usize,
        o: usize,
    ) {
        if let Some(dx) = dx {
            for r in 0..n {
                for k in 0..i {
                    let mut s = 0.0;
                    for c in 0..o {
                        s += dy[r * o + c] * w[c * i + k];
                    }
                    dx[r * i + k] = s;
                }
            }
        }
        for c in 0..o {
            for k in 0..i {
                let mut s = 0.0;
                for r in 0..n {
                    s += dy[r * o + c] * x[r * i + k];
                }
                dw[c * i + k] = s;
            }
            db[c] = (0..n).map(|r| dy[r * o + c]).sum();
        }
    }
}

#[allow(clippy::too_many_arguments)]
pub fn forward(
    x: &[f32],
    w: &[f32],
    b: &[f32],
    y: &mut [f32],
    n: usize,
    i: usize,
    o: usize,
    s: &mut Scratch,
) {
    for row in y.chunks_exact_mut(o).take(n) {
        row.copy_from_slice(&b[..o]);
    }
    gemm(
        n,
        o,
        i,
        View::rows(x, i),
        View::rows_t(w, i),
        y,
        o,
        true,
        &mut s.gemm,
    );
}

#[allow(clippy::too_many_arguments)]
pub fn backward(
    x: &[f32],
    w: &[f32],
    dy: &[f32],
    dx: Option<&mut [f32]>,
    dw: &mut [f32],
    db: &mut [f32],
    n: usize,
    i: usize,
    o: usize,
    s: &mut Scratch,
) {
    if let Some(dx) = dx {
        gemm(
            n,
            i,
            o,
            View::rows(dy, o),
            View::rows(w, i),
            dx,
            i,
            false,
            &mut s.gemm,
        );
    }
    gemm(
        o,
        i,
        n,
        View::rows_t(dy, o),
        View::rows(x, i),
        dw,
        i,
        false,
        &mut s.gemm,
    );
    db[..o].fill(0.0);
    for row in dy.chunks_exact(o).take(n) {
        for (d, &v) in db.iter_mut().zip(row) {
            *d += v;
        }
    }
}
