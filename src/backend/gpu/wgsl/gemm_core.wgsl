// Tiled GEMM core, shared by dense and (implicit-GEMM) convolution kernels:
//   C[M, N] = sum over k of A(m, k) * B(k, n)
// Shapes and addressing come from the loader file this core is appended to, which defines
//   dims() -> vec3<u32>(M, N, K), load_a(m, k), load_b(k, n) (both 0 outside the matrix),
//   k_span() (a multiple of 16, or K) and store_c(m, n, value, split).
// Split-K: workgroup z sums k in [z * k_span, (z + 1) * k_span) only and hands `split` = z to
// store_c, so a long reduction with a small C (conv weight gradients) still fills the GPU.
// One workgroup of TH x TH threads computes a TILE x TILE tile of C (TILE = 4 TH), each thread a
// 4 x 4 block (rows lid.y + TH i, columns lid.x + TH j). K is walked in slices of 16, staged
// through workgroup memory (2 x 16 x TILE floats). TH is set per device from its limits (the
// host prepends `const TH`): 16 (256 threads, 8 KiB) where WebGPU's defaults hold, 8 (64 threads,
// 4 KiB) on smaller devices. Dispatch: (ceil(N / TILE), ceil(M / TILE), splits).

const TILE: u32 = 4u * TH;
const SLICE: u32 = 16u;

var<workgroup> a_tile: array<f32, SLICE * TILE>; // [SLICE][TILE]: a_tile[kk * TILE + mm] = A(m0 + mm, k0 + kk)
var<workgroup> b_tile: array<f32, SLICE * TILE>; // [SLICE][TILE]: b_tile[kk * TILE + nn] = B(k0 + kk, n0 + nn)

@compute @workgroup_size(TH, TH, 1)
fn gemm(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let d = dims();
    let m0 = wid.y * TILE;
    let n0 = wid.x * TILE;
    let t = lid.y * TH + lid.x;
    var acc: array<f32, 16>;
    for (var i = 0u; i < 16u; i++) {
        acc[i] = 0.0;
    }
    let k_begin = wid.z * k_span();
    let k_end = min(k_begin + k_span(), d.z);
    for (var k0 = k_begin; k0 < k_end; k0 += SLICE) {
        for (var r = 0u; r < SLICE * TILE / (TH * TH); r++) {
            let e = t + r * TH * TH;
            let kk = e / TILE;
            let mn = e % TILE;
            a_tile[e] = load_a(m0 + mn, k0 + kk);
            b_tile[e] = load_b(k0 + kk, n0 + mn);
        }
        workgroupBarrier();
        for (var kk = 0u; kk < SLICE; kk++) {
            var a: array<f32, 4>;
            var b: array<f32, 4>;
            for (var i = 0u; i < 4u; i++) {
                a[i] = a_tile[kk * TILE + lid.y + TH * i];
                b[i] = b_tile[kk * TILE + lid.x + TH * i];
            }
            for (var i = 0u; i < 4u; i++) {
                for (var j = 0u; j < 4u; j++) {
                    acc[i * 4u + j] = fma(a[i], b[j], acc[i * 4u + j]);
                }
            }
        }
        workgroupBarrier();
    }
    for (var i = 0u; i < 4u; i++) {
        for (var j = 0u; j < 4u; j++) {
            let m = m0 + lid.y + TH * i;
            let n = n0 + lid.x + TH * j;
            if (m < d.x && n < d.y) {
                store_c(m, n, acc[i * 4u + j], wid.z);
            }
        }
    }
}
