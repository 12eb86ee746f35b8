// Dense layer as strided GEMMs (row-major; dense weights are [out, in]).
//   forward: y[n, o] = x[n, i] . w[o, i]^T + b[o]   (A = x, B = w^T, bias on columns)
//   dx[n, i] = dy[n, o] . w[o, i]                     (A = dy, B = w)
//   dw[o, i] = dy[n, o]^T . x[n, i]                   (A = dy^T, B = x)
// The transposes are expressed as strides: A(m, k) = a[m * a_sm + k * a_sk], B(k, n) = b[k * b_sk + n * b_sn],
// C is written densely: c[m * N + n]. CPU reference: crate::ops::dense::reference.

struct Params {
    m: u32,
    n: u32,
    k: u32,
    a_sm: u32,
    a_sk: u32,
    b_sk: u32,
    b_sn: u32,
    use_bias: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read_write> a: array<f32>;
@group(0) @binding(2) var<storage, read_write> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;
@group(0) @binding(4) var<storage, read_write> bias: array<f32>; // [N], read when use_bias == 1

fn dims() -> vec3<u32> {
    return vec3<u32>(P.m, P.n, P.k);
}

fn k_span() -> u32 {
    return P.k;
}

fn load_a(m: u32, k: u32) -> f32 {
    if (m >= P.m || k >= P.k) {
        return 0.0;
    }
    return a[m * P.a_sm + k * P.a_sk];
}

fn load_b(k: u32, n: u32) -> f32 {
    if (k >= P.k || n >= P.n) {
        return 0.0;
    }
    return b[k * P.b_sk + n * P.b_sn];
}

fn store_c(m: u32, n: u32, v: f32, split: u32) {
    var out = v;
    if (P.use_bias == 1u) {
        out += bias[n];
    }
    c[m * P.n + n] = out;
}
