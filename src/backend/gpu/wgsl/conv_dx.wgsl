// Convolution input gradient as implicit GEMM: dx[n, ic, ih, iw] = sum over (oc, ky, kx) of
//   w[oc, ic, ky, kx] * dy[n, oc, oy, ox] where oy * stride + ky - pad = iy (same for x).
//   M = ic, N = n * ih * iw (column = (img, iy, ix)), K = oc * kh * kw (k = (co, ky, kx)).
// Also the transposed convolution's forward (then "dy" is its input, "dx" its output, bias on).
// CPU reference: crate::ops::conv2d::reference::backward (dx), conv_transpose2d::reference::forward.

@group(0) @binding(2) var<storage, read_write> w: array<f32>;
@group(0) @binding(3) var<storage, read_write> dy: array<f32>;
@group(0) @binding(4) var<storage, read_write> dx: array<f32>;
@group(0) @binding(5) var<storage, read_write> bias: array<f32>; // [ic]

fn load_a(m: u32, k: u32) -> f32 {
    if (m >= P.gm || k >= P.gk) {
        return 0.0;
    }
    let taps = P.kh * P.kw;
    return w[((k / taps) * P.ic + m) * taps + k % taps];
}

fn load_b(k: u32, col: u32) -> f32 {
    if (k >= P.gk || col >= P.gn) {
        return 0.0;
    }
    let taps = P.kh * P.kw;
    let pix = P.ih * P.iw;
    let p = col % pix;
    let r = k % taps;
    let ty = i32(p / P.iw + P.pad) - i32(r / P.kw);
    let tx = i32(p % P.iw + P.pad) - i32(r % P.kw);
    if (ty < 0 || tx < 0) {
        return 0.0;
    }
    let s = P.stride;
    if (u32(ty) % s != 0u || u32(tx) % s != 0u) {
        return 0.0;
    }
    let oy = u32(ty) / s;
    let ox = u32(tx) / s;
    if (oy >= P.oh || ox >= P.ow) {
        return 0.0;
    }
    return dy[(((col / pix) * P.oc + k / taps) * P.oh + oy) * P.ow + ox];
}

fn store_c(m: u32, col: u32, v: f32, split: u32) {
    let pix = P.ih * P.iw;
    var out = v;
    if (P.use_bias == 1u) {
        out += bias[m];
    }
    dx[((col / pix) * P.ic + m) * pix + col % pix] = out;
}
