// Shared by the three convolution GEMMs (conv_fwd, conv_dx, conv_dw). NCHW, row-major:
//   x  [n, ic, ih, iw], w [oc, ic, kh, kw], y [n, oc, oh, ow], oh = (ih + 2 pad - kh) / stride + 1.
// The transposed convolution reuses these kernels with the roles of x and y swapped (its weight
// [oc, ic, kh, kw] of the forward conv it transposes is exactly PyTorch's ConvTranspose2d layout).
// gm, gn, gk are the GEMM's M, N, K for the kernel at hand.

struct Params {
    n: u32,
    ic: u32,
    ih: u32,
    iw: u32,
    oc: u32,
    oh: u32,
    ow: u32,
    kh: u32,
    kw: u32,
    stride: u32,
    pad: u32,
    use_bias: u32,
    gm: u32,
    gn: u32,
    gk: u32,
    k_span: u32, // K per split (conv_dw only; gk elsewhere)
}

@group(0) @binding(0) var<uniform> P: Params;
// The conv input; conv_dx does not read it (its binding 1 is a placeholder there).
@group(0) @binding(1) var<storage, read_write> x: array<f32>;

fn dims() -> vec3<u32> {
    return vec3<u32>(P.gm, P.gn, P.gk);
}

fn k_span() -> u32 {
    return P.k_span;
}

// Input pixel read by output (oy, ox) through kernel tap (ky, kx); 0 in the padding.
fn input_at(img: u32, ci: u32, oy: u32, ox: u32, ky: u32, kx: u32) -> f32 {
    let iy = i32(oy * P.stride + ky) - i32(P.pad);
    let ix = i32(ox * P.stride + kx) - i32(P.pad);
    if (iy < 0 || ix < 0 || iy >= i32(P.ih) || ix >= i32(P.iw)) {
        return 0.0;
    }
    return x[((img * P.ic + ci) * P.ih + u32(iy)) * P.iw + u32(ix)];
}
