// Optimizer steps, in place, one thread per parameter (flat arrays of `len`).
// CPU reference: crate::ops::optim::reference.

struct Params {
    len: u32,
    row: u32,
    lr: f32,
    momentum: f32, // sgd: momentum; adam: beta1
    beta2: f32,
    eps: f32,
    corr1: f32, // adam: 1 / (1 - beta1^t)
    corr2: f32, // adam: 1 / (1 - beta2^t)
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read_write> param: array<f32>;
@group(0) @binding(2) var<storage, read_write> grad: array<f32>;
@group(0) @binding(3) var<storage, read_write> m: array<f32>; // sgd: velocity
@group(0) @binding(4) var<storage, read_write> v: array<f32>;

@compute @workgroup_size(WG)
fn sgd(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x + gid.y * P.row;
    if (i < P.len) {
        let vel = P.momentum * m[i] + grad[i];
        m[i] = vel;
        param[i] = param[i] - P.lr * vel;
    }
}

@compute @workgroup_size(WG)
fn adam(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x + gid.y * P.row;
    if (i < P.len) {
        let g = grad[i];
        let mi = P.momentum * m[i] + (1.0 - P.momentum) * g;
        let vi = P.beta2 * v[i] + (1.0 - P.beta2) * g * g;
        m[i] = mi;
        v[i] = vi;
        param[i] = param[i] - P.lr * (mi * P.corr1) / (sqrt(vi * P.corr2) + P.eps);
    }
}
