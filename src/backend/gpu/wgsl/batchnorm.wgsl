// Batch norm over x [n, c, hw] (a dense input is hw = 1), statistics per channel over m = n * hw.
// Training forward and backward: one workgroup of WG threads per channel (dispatch (c, 1, 1)), which
// reduces with a workgroup tree and then writes its channel's outputs. Eval: one thread per element.
// CPU reference: crate::ops::batchnorm::reference.

struct Params {
    n: u32,
    c: u32,
    hw: u32,
    len: u32,
    row: u32,
    momentum: f32,
    eps: f32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read_write> b1: array<f32>;
@group(0) @binding(2) var<storage, read_write> b2: array<f32>;
@group(0) @binding(3) var<storage, read_write> b3: array<f32>;
@group(0) @binding(4) var<storage, read_write> b4: array<f32>;
@group(0) @binding(5) var<storage, read_write> b5: array<f32>;
@group(0) @binding(6) var<storage, read_write> b6: array<f32>;
@group(0) @binding(7) var<storage, read_write> b7: array<f32>;
@group(0) @binding(8) var<storage, read_write> b8: array<f32>;

var<workgroup> partial: array<f32, WG>;

fn workgroup_sum(t: u32, v: f32) -> f32 {
    partial[t] = v;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s >>= 1u) {
        if (t < s) {
            partial[t] += partial[t + s];
        }
        workgroupBarrier();
    }
    let total = partial[0];
    workgroupBarrier();
    return total;
}

// Flat index of the j-th element (0 <= j < n * hw) of channel ch.
fn at(ch: u32, j: u32) -> u32 {
    return ((j / P.hw) * P.c + ch) * P.hw + j % P.hw;
}

// x = b1, gamma = b2, beta = b3, y = b4, saved mean = b5, saved inv_std = b6,
// running mean = b7, running var = b8
@compute @workgroup_size(WG)
fn train_forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
    let ch = wid.x;
    let m = P.n * P.hw;
    var acc = 0.0;
    for (var j = t; j < m; j += WG) {
        acc += b1[at(ch, j)];
    }
    let mean = workgroup_sum(t, acc) / f32(m);
    acc = 0.0;
    for (var j = t; j < m; j += WG) {
        let d = b1[at(ch, j)] - mean;
        acc += d * d;
    }
    let var_sum = workgroup_sum(t, acc);
    let inv_std = 1.0 / sqrt(var_sum / f32(m) + P.eps);
    if (t == 0u) {
        b5[ch] = mean;
        b6[ch] = inv_std;
        let unbiased = var_sum / f32(max(m, 2u) - 1u);
        b7[ch] = (1.0 - P.momentum) * b7[ch] + P.momentum * mean;
        b8[ch] = (1.0 - P.momentum) * b8[ch] + P.momentum * unbiased;
    }
    let g = b2[ch] * inv_std;
    let beta = b3[ch];
    for (var j = t; j < m; j += WG) {
        let i = at(ch, j);
        b4[i] = (b1[i] - mean) * g + beta;
    }
}

// x = b1, gamma = b2, beta = b3, y = b4, running mean = b5, running var = b6
@compute @workgroup_size(WG)
fn eval_forward(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x + gid.y * P.row;
    if (i >= P.len) {
        return;
    }
    let ch = (i / P.hw) % P.c;
    b4[i] = (b1[i] - b5[ch]) * b2[ch] / sqrt(b6[ch] + P.eps) + b3[ch];
}

// x = b1, gamma = b2, mean = b3, inv_std = b4, dy = b5, dx = b6, dgamma = b7, dbeta = b8
@compute @workgroup_size(WG)
fn backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
    let ch = wid.x;
    let m = P.n * P.hw;
    let mean = b3[ch];
    let inv_std = b4[ch];
    var sum_dy = 0.0;
    var sum_dy_xhat = 0.0;
    for (var j = t; j < m; j += WG) {
        let i = at(ch, j);
        let dy = b5[i];
        sum_dy += dy;
        sum_dy_xhat += dy * (b1[i] - mean) * inv_std;
    }
    let dbeta = workgroup_sum(t, sum_dy);
    let dgamma = workgroup_sum(t, sum_dy_xhat);
    if (t == 0u) {
        b7[ch] = dgamma;
        b8[ch] = dbeta;
    }
    let k = b2[ch] * inv_std / f32(m);
    for (var j = t; j < m; j += WG) {
        let i = at(ch, j);
        let xhat = (b1[i] - mean) * inv_std;
        b6[i] = k * (f32(m) * b5[i] - dbeta - xhat * dgamma);
    }
}
