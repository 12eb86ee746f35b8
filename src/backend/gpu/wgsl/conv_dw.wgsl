// Convolution weight gradient as implicit GEMM: dw[oc, (ci, ky, kx)] = sum over (img, oy, ox) of
//   dy[img, oc, oy, ox] * x[img, ci, oy * stride + ky - pad, ox * stride + kx - pad].
//   M = oc, N = ic * kh * kw, K = n * oh * ow (the long reduction, split over workgroups z:
//   split z writes its partial sums to dw[z][oc][col], summed afterwards by split_sum in
//   elementwise.wgsl; with one split dw is the gradient itself).
// Also the transposed convolution's weight gradient (its input plays dy, its dy plays x).
// CPU reference: crate::ops::conv2d::reference::backward (dw), conv_transpose2d::reference::backward.

@group(0) @binding(2) var<storage, read_write> dy: array<f32>;
@group(0) @binding(3) var<storage, read_write> dw: array<f32>;

fn load_a(m: u32, k: u32) -> f32 {
    if (m >= P.gm || k >= P.gk) {
        return 0.0;
    }
    let pix = P.oh * P.ow;
    return dy[((k / pix) * P.oc + m) * pix + k % pix];
}

fn load_b(k: u32, col: u32) -> f32 {
    if (k >= P.gk || col >= P.gn) {
        return 0.0;
    }
    let taps = P.kh * P.kw;
    let pix = P.oh * P.ow;
    let p = k % pix;
    let r = col % taps;
    return input_at(k / pix, col / taps, p / P.ow, p % P.ow, r / P.kw, r % P.kw);
}

fn store_c(m: u32, col: u32, v: f32, split: u32) {
    dw[(split * P.gm + m) * P.gn + col] = v;
}
