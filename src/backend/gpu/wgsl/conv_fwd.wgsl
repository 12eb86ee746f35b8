// Convolution forward as implicit GEMM (no im2col buffer): y[n, oc, oh, ow] = w . cols + b[oc]
//   M = oc, N = n * oh * ow (column = (img, oy, ox)), K = ic * kh * kw (k = (ci, ky, kx)).
//   A(oc, k) = w[oc * K + k]; B(k, column) = the input pixel under tap k of that output pixel.
// Also the transposed convolution's input gradient (bias off). CPU reference:
// crate::ops::conv2d::reference::forward (and conv_transpose2d::reference::backward for dx).

@group(0) @binding(2) var<storage, read_write> w: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<storage, read_write> bias: array<f32>; // [oc]

fn load_a(m: u32, k: u32) -> f32 {
    if (m >= P.gm || k >= P.gk) {
        return 0.0;
    }
    return w[m * P.gk + k];
}

fn load_b(k: u32, col: u32) -> f32 {
    if (k >= P.gk || col >= P.gn) {
        return 0.0;
    }
    let taps = P.kh * P.kw;
    let pix = P.oh * P.ow;
    let p = col % pix;
    let r = k % taps;
    return input_at(col / pix, k / taps, p / P.ow, p % P.ow, r / P.kw, r % P.kw);
}

fn store_c(m: u32, col: u32, v: f32, split: u32) {
    let pix = P.oh * P.ow;
    var out = v;
    if (P.use_bias == 1u) {
        out += bias[m];
    }
    y[((col / pix) * P.oc + m) * pix + col % pix] = out;
}
