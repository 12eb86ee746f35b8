// 2-D max and average pooling, NCHW, k x k windows, no padding: x [n, c, ih, iw] -> y [n, c, oh, ow],
// oh = (ih - k) / stride + 1. Forward: one thread per output. Backward: one thread per *input*
// element gathering from every window that covers it (windows may overlap when stride < k), so
// dx is overwritten without atomics. Max routes to the first maximum of a window (row-major scan).
// Thread index = gid.x + gid.y * row. CPU reference: crate::ops::pool::reference.

struct Params {
    len: u32, // threads needed: outputs (forward) or inputs (backward)
    row: u32,
    ih: u32,
    iw: u32,
    oh: u32,
    ow: u32,
    k: u32,
    stride: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read_write> b1: array<f32>;
@group(0) @binding(2) var<storage, read_write> b2: array<f32>;
@group(0) @binding(3) var<storage, read_write> b3: array<f32>;

// Flat index (in plane `plane` of x) of the first maximum of window (oy, ox); x = b1.
fn argmax(plane: u32, oy: u32, ox: u32) -> u32 {
    let base = plane * P.ih * P.iw;
    var best = base + oy * P.stride * P.iw + ox * P.stride;
    var best_v = b1[best];
    for (var ky = 0u; ky < P.k; ky++) {
        for (var kx = 0u; kx < P.k; kx++) {
            let j = base + (oy * P.stride + ky) * P.iw + ox * P.stride + kx;
            if (b1[j] > best_v) {
                best_v = b1[j];
                best = j;
            }
        }
    }
    return best;
}

// Range of window rows (or columns) covering input row i: [first, last), empty when first >= last.
fn covering(i: u32, out_size: u32) -> vec2<u32> {
    var first = 0u;
    if (i + 1u > P.k) {
        first = (i + 1u - P.k + P.stride - 1u) / P.stride;
    }
    let last = min(i / P.stride + 1u, out_size);
    return vec2<u32>(first, last);
}

// x = b1, y = b2
@compute @workgroup_size(WG)
fn max_forward(@builtin(global_invocation_id) gid: vec3<u32>) {
    let o = gid.x + gid.y * P.row;
    if (o >= P.len) {
        return;
    }
    let plane = o / (P.oh * P.ow);
    let p = o % (P.oh * P.ow);
    b2[o] = b1[argmax(plane, p / P.ow, p % P.ow)];
}

// x = b1, dy = b2, dx = b3
@compute @workgroup_size(WG)
fn max_backward(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x + gid.y * P.row;
    if (i >= P.len) {
        return;
    }
    let plane = i / (P.ih * P.iw);
    let q = i % (P.ih * P.iw);
    let rows = covering(q / P.iw, P.oh);
    let cols = covering(q % P.iw, P.ow);
    var acc = 0.0;
    for (var oy = rows.x; oy < rows.y; oy++) {
        for (var ox = cols.x; ox < cols.y; ox++) {
            if (argmax(plane, oy, ox) == i) {
                acc += b2[(plane * P.oh + oy) * P.ow + ox];
            }
        }
    }
    b3[i] = acc;
}

// x = b1, y = b2
@compute @workgroup_size(WG)
fn avg_forward(@builtin(global_invocation_id) gid: vec3<u32>) {
    let o = gid.x + gid.y * P.row;
    if (o >= P.len) {
        return;
    }
    let plane = o / (P.oh * P.ow);
    let p = o % (P.oh * P.ow);
    let y0 = (p / P.ow) * P.stride;
    let x0 = (p % P.ow) * P.stride;
    var acc = 0.0;
    for (var ky = 0u; ky < P.k; ky++) {
        for (var kx = 0u; kx < P.k; kx++) {
            acc += b1[(plane * P.ih + y0 + ky) * P.iw + x0 + kx];
        }
    }
    b2[o] = acc / f32(P.k * P.k);
}

// dy = b1, dx = b2
@compute @workgroup_size(WG)
fn avg_backward(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x + gid.y * P.row;
    if (i >= P.len) {
        return;
    }
    let plane = i / (P.ih * P.iw);
    let q = i % (P.ih * P.iw);
    let rows = covering(q / P.iw, P.oh);
    let cols = covering(q % P.iw, P.ow);
    var acc = 0.0;
    for (var oy = rows.x; oy < rows.y; oy++) {
        for (var ox = cols.x; ox < cols.y; ox++) {
            acc += b1[(plane * P.oh + oy) * P.ow + ox];
        }
    }
    b2[i] = acc / f32(P.k * P.k);
}
