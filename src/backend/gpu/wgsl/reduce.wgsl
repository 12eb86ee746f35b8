// Reductions with a workgroup tree of WG threads (pairwise sums, so long reductions stay accurate).
// - Whole-buffer reductions into out[0] (losses, sum of squares): dispatch (1, 1, 1); each thread
//   sums a strided share, then the workgroup reduces the WG partial sums.
// - channel_sum: x [n, c, hw] -> out[c] (bias gradients; dense dy [n, o] is hw = 1);
//   one workgroup per channel, dispatch (c, 1, 1).
// CPU references: crate::ops::loss::reference, crate::ops::elementwise (sum_squares),
// crate::ops::conv2d / dense reference backward (bias gradients).

struct Params {
    len: u32,
    n: u32,       // rows (samples)
    c: u32,       // classes, or channels for channel_sum
    hw: u32,
    scale: f32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read_write> b1: array<f32>;
@group(0) @binding(2) var<storage, read_write> b2: array<f32>;
@group(0) @binding(3) var<storage, read_write> b3: array<f32>;
@group(0) @binding(4) var<storage, read_write> b4: array<f32>;

var<workgroup> partial: array<f32, WG>;

// Sum of `v` over the workgroup, returned to every thread.
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

// mse: pred = b1, target = b2, out = b3; scale = 1 / len
@compute @workgroup_size(WG)
fn mse_loss(@builtin(local_invocation_index) t: u32) {
    var acc = 0.0;
    for (var i = t; i < P.len; i += WG) {
        let d = b1[i] - b2[i];
        acc += d * d;
    }
    let total = workgroup_sum(t, acc);
    if (t == 0u) {
        b3[0] = total * P.scale;
    }
}

// bce on logits, stable form max(x, 0) - x t + log(1 + exp(-|x|)): logits = b1, target = b2, out = b3; scale = 1 / n
@compute @workgroup_size(WG)
fn bce_loss(@builtin(local_invocation_index) t: u32) {
    var acc = 0.0;
    for (var i = t; i < P.len; i += WG) {
        let x = b1[i];
        acc += max(x, 0.0) - x * b2[i] + log(1.0 + exp(-abs(x)));
    }
    let total = workgroup_sum(t, acc);
    if (t == 0u) {
        b3[0] = total * P.scale;
    }
}

// kl: mu = b1, logvar = b2, out = b3; scale = -0.5 / n
@compute @workgroup_size(WG)
fn kl_loss(@builtin(local_invocation_index) t: u32) {
    var acc = 0.0;
    for (var i = t; i < P.len; i += WG) {
        let mu = b1[i];
        let lv = b2[i];
        acc += 1.0 + lv - mu * mu - exp(lv);
    }
    let total = workgroup_sum(t, acc);
    if (t == 0u) {
        b3[0] = total * P.scale;
    }
}

// sum of squares: x = b1, out = b2
@compute @workgroup_size(WG)
fn sum_squares(@builtin(local_invocation_index) t: u32) {
    var acc = 0.0;
    for (var i = t; i < P.len; i += WG) {
        acc += b1[i] * b1[i];
    }
    let total = workgroup_sum(t, acc);
    if (t == 0u) {
        b2[0] = total;
    }
}

// softmax + cross-entropy: logits = b1 [n, c], labels = b2 [n], probs = b3 [n, c], loss = b4; scale = 1 / n.
// One thread per row (classes are few), rows strided over the workgroup.
@compute @workgroup_size(WG)
fn xent_forward(@builtin(local_invocation_index) t: u32) {
    var acc = 0.0;
    for (var r = t; r < P.n; r += WG) {
        let base = r * P.c;
        var mx = b1[base];
        for (var j = 1u; j < P.c; j++) {
            mx = max(mx, b1[base + j]);
        }
        var sum = 0.0;
        for (var j = 0u; j < P.c; j++) {
            sum += exp(b1[base + j] - mx);
        }
        for (var j = 0u; j < P.c; j++) {
            b3[base + j] = exp(b1[base + j] - mx) / sum;
        }
        let label = u32(b2[r]);
        acc += log(sum) - (b1[base + label] - mx);
    }
    let total = workgroup_sum(t, acc);
    if (t == 0u) {
        b4[0] = total * P.scale;
    }
}

// channel sums: x = b1 [n, c, hw], out = b2 [c]
@compute @workgroup_size(WG)
fn channel_sum(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
    let ch = wid.x;
    var acc = 0.0;
    let count = P.n * P.hw;
    for (var j = t; j < count; j += WG) {
        acc += b1[((j / P.hw) * P.c + ch) * P.hw + j % P.hw];
    }
    let total = workgroup_sum(t, acc);
    if (t == 0u) {
        b2[ch] = total;
    }
}
