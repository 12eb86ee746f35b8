//! Branch-free `exp` and `ln(1 + u)` for the element-wise fast paths. Plain f32 arithmetic and bit
//! tricks only, no libm calls, so LLVM vectorises the loops that use them (f32x4 on wasm simd128,
//! where a libm `expf` call per element costs more than the whole dense layer before it).
//! Relative error within a few ulp; tests/simd_parity.rs checks them against std.

/// e^x, with x clamped to [-87.3, 88] so the result stays a normal f32 (std gives a denormal, 0 or
/// inf out there; the difference is below 1.3e-38 absolute, or the input was already saturating).
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    // 1.5 * 2^23: adding and subtracting it rounds to the nearest integer, without a libm call.
    const ROUND: f32 = 12_582_912.0;
    // ln 2 = LN2_HI + LN2_LO, LN2_HI with 9 significant bits so n * LN2_HI is exact.
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    let x = x.clamp(-87.3, 88.0);
    let n = (x * core::f32::consts::LOG2_E + ROUND) - ROUND;
    let r = (x - n * LN2_HI) - n * LN2_LO; // |r| <= ln2 / 2
                                           // e^r by its Taylor series to degree 7 (truncation error below 5e-9 on that interval).
    let p = 1.0
        + r * (1.0
            + r * (0.5
                + r * (1.0 / 6.0
                    + r * (1.0 / 24.0
                        + r * (1.0 / 120.0 + r * (1.0 / 720.0 + r * (1.0 / 5040.0)))))));
    p * f32::from_bits(((n as i32 + 127) << 23) as u32)
}

/// ln(1 + u) for u in [0, 1] (the softplus term `ln(1 + e^-|x|)` of the BCE loss).
#[inline(always)]
pub fn ln_1p_unit(u: f32) -> f32 {
    let w = 1.0 + u;
    // What the rounding of 1 + u lost: ln(1 + u) ~ ln(w) + c / w.
    let c = u - (w - 1.0);
    // w = m * 2^e with m in [sqrt(1/2), sqrt(2)].
    let big = w > core::f32::consts::SQRT_2;
    let m = if big { 0.5 * w } else { w };
    let e = if big { core::f32::consts::LN_2 } else { 0.0 };
    // ln m = 2 atanh(s), s = (m - 1) / (m + 1), |s| <= 0.172: series to s^9 (error below 1e-9).
    let s = (m - 1.0) / (m + 1.0);
    let s2 = s * s;
    let ln_m = 2.0 * s * (1.0 + s2 * (1.0 / 3.0 + s2 * (1.0 / 5.0 + s2 * (1.0 / 7.0 + s2 / 9.0))));
    e + ln_m + c / w
}

/// 1 / (1 + e^-x).
#[inline(always)]
pub fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + exp(-x))
}
