// Element-wise ops, one thread per element of flat f32 arrays of `len` elements (layout is
// irrelevant, except for xent_backward where probs/labels are [n, classes] / [n]).
// split_sum adds up split-K partial results: b1 [kind][len] -> b2 [len].
// Thread index = gid.x + gid.y * row (a 2-D grid keeps each dimension under the dispatch limit).
// Bindings b1.. are named per entry point in the comment above it.
// CPU references: crate::ops::elementwise, crate::ops::act, crate::ops::loss (backward parts).

struct Params {
    len: u32,
    row: u32,
    kind: u32, // activation (0 relu, 1 leaky relu, 2 sigmoid, 3 tanh) or classes
    s0: f32,
    s1: f32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read_write> b1: array<f32>;
@group(0) @binding(2) var<storage, read_write> b2: array<f32>;
@group(0) @binding(3) var<storage, read_write> b3: array<f32>;
@group(0) @binding(4) var<storage, read_write> b4: array<f32>;
@group(0) @binding(5) var<storage, read_write> b5: array<f32>;

fn sigmoid(x: f32) -> f32 {
    // Stable for large |x|: exp only of a non-positive number.
    if (x >= 0.0) {
        return 1.0 / (1.0 + exp(-x));
    }
    let e = exp(x);
    return e / (1.0 + e);
}

// fill: b1 = s0
@compute @workgroup_size(WG)
fn fill(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x + gid.y * P.row;
    if (i < P.len) {
        b1[i] = P.s0;
    }
}

// add: b3 = b1 + b2
@compute @workgroup_size(WG)
fn add(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x + gid.y * P.row;
    if (i < P.len) {
        b3[i] = b1[i] + b2[i];
    }
}

// add_assign: b1 += b2
@compute @workgroup_size(WG)
fn add_assign(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x + gid.y * P.row;
    if (i < P.len) {
        b1[i] = b1[i] + b2[i];
    }
}

// act_forward: x = b1, y = b2; s0 = leaky slope
@compute @workgroup_size(WG)
fn act_forward(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x + gid.y * P.row;
    if (i >= P.len) {
        return;
    }
    let x = b1[i];
    var y: f32;
    switch P.kind {
        case 0u: { y = max(x, 0.0); }
        case 1u: { y = select(P.s0 * x, x, x > 0.0); }
        case 2u: { y = sigmoid(x); }
        default: { y = tanh(x); }
    }
    b2[i] = y;
}

// act_backward: x = b1, y = b2, dy = b3, dx = b4
@compute @workgroup_size(WG)
fn act_backward(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x + gid.y * P.row;
    if (i >= P.len) {
        return;
    }
    let x = b1[i];
    let y = b2[i];
    var d: f32;
    switch P.kind {
        case 0u: { d = select(0.0, 1.0, x > 0.0); }
        case 1u: { d = select(P.s0, 1.0, x > 0.0); }
        case 2u: { d = y * (1.0 - y); }
        default: { d = 1.0 - y * y; }
    }
    b4[i] = b3[i] * d;
}

// reparam_forward: mu = b1, logvar = b2, eps = b3, z = b4
@compute @workgroup_size(WG)
fn reparam_forward(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x + gid.y * P.row;
    if (i < P.len) {
        b4[i] = b1[i] + exp(0.5 * b2[i]) * b3[i];
    }
}

// reparam_backward: logvar = b1, eps = b2, dz = b3, dmu = b4 (+=), dlogvar = b5 (+=)
@compute @workgroup_size(WG)
fn reparam_backward(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x + gid.y * P.row;
    if (i < P.len) {
        let dz = b3[i];
        b4[i] = b4[i] + dz;
        b5[i] = b5[i] + dz * b2[i] * 0.5 * exp(0.5 * b1[i]);
    }
}

// kl_backward: mu = b1, logvar = b2, dmu = b3, dlogvar = b4; s0 = scale / n
@compute @workgroup_size(WG)
fn kl_backward(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x + gid.y * P.row;
    if (i < P.len) {
        b3[i] = P.s0 * b1[i];
        b4[i] = P.s0 * 0.5 * (exp(b2[i]) - 1.0);
    }
}

// mse_backward: pred = b1, target = b2, dpred = b3; s0 = 2 / len
@compute @workgroup_size(WG)
fn mse_backward(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x + gid.y * P.row;
    if (i < P.len) {
        b3[i] = P.s0 * (b1[i] - b2[i]);
    }
}

// bce_logits_backward: logits = b1, target = b2, dlogits = b3; s0 = 1 / n
@compute @workgroup_size(WG)
fn bce_backward(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x + gid.y * P.row;
    if (i < P.len) {
        b3[i] = P.s0 * (sigmoid(b1[i]) - b2[i]);
    }
}

// softmax_xent_backward: probs = b1 [n, classes], labels = b2 [n], dlogits = b3; kind = classes, s0 = 1 / n
@compute @workgroup_size(WG)
fn xent_backward(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x + gid.y * P.row;
    if (i < P.len) {
        let label = u32(b2[i / P.kind]);
        let onehot = select(0.0, 1.0, i % P.kind == label);
        b3[i] = P.s0 * (b1[i] - onehot);
    }
}

// split_sum: partials = b1 [kind, len], out = b2 [len]; kind = number of splits
@compute @workgroup_size(WG)
fn split_sum(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x + gid.y * P.row;
    if (i < P.len) {
        var acc = 0.0;
        for (var s = 0u; s < P.kind; s++) {
            acc += b1[s * P.len + i];
        }
        b2[i] = acc;
    }
}
