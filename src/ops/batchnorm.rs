//! Batch normalisation over x `[n, c, hw]` (NCHW with the spatial dims flattened; a dense input has
//! hw = 1). Statistics are per channel over the `n * hw` values of that channel.
//!
//! Train: `y = gamma * (x - mean) * inv_std + beta`, `inv_std = 1 / sqrt(var + eps)` with the biased
//! batch variance; saves mean and inv_std; running stats move towards the batch's with `momentum`
//! (PyTorch: `running = (1 - momentum) * running + momentum * batch`, the *unbiased* variance).
//! Eval: the same with the running statistics. Backward (train mode), with `xhat = (x - mean) *
//! inv_std` and `m = n * hw`: `dbeta = sum dy`, `dgamma = sum dy * xhat`,
//! `dx = gamma * inv_std * (dy - dbeta / m - xhat * dgamma / m)`.
//! Reductions accumulate in f64: a channel can hold 50,000 values.

/// Unbiased from biased variance; a single value has no spread to correct.
fn unbiased(var: f64, m: usize) -> f64 {
    if m > 1 {
        var * m as f64 / (m - 1) as f64
    } else {
        var
    }
}

pub mod reference {
    use super::unbiased;

    #[allow(clippy::too_many_arguments)]
    pub fn forward_train(
        x: &[f32],
        gamma: &[f32],
        beta: &[f32],
        y: &mut [f32],
        mean: &mut [f32],
        inv_std: &mut [f32],
        running_mean: &mut [f32],
        running_var: &mut [f32],
        (n, c, hw): (usize, usize, usize),
        momentum: f32,
        eps: f32,
    ) {
        let m = n * hw;
        let at = |b: usize, ch: usize, s: usize| (b * c + ch) * hw + s;
        for ch in 0..c {
            let mut sum = 0.0f64;
            for b in 0..n {
                for s in 0..hw {
                    sum += x[at(b, ch, s)] as f64;
                }
            }
            let mu = sum / m as f64;
            let mut sq = 0.0f64;
            for b in 0..n {
                for s in 0..hw {
                    let d = x[at(b, ch, s)] as f64 - mu;
                    sq += d * d;
                }
            }
            let var = sq / m as f64;
            mean[ch] = mu as f32;
            inv_std[ch] = (1.0 / (var + eps as f64).sqrt()) as f32;
            for b in 0..n {
                for s in 0..hw {
                    let i = at(b, ch, s);
                    y[i] = gamma[ch] * (x[i] - mean[ch]) * inv_std[ch] + beta[ch];
                }
            }
            running_mean[ch] = (1.0 - momentum) * running_mean[ch] + momentum * mu as f32;
            running_var[ch] =
                (1.0 - momentum) * running_var[ch] + momentum * unbiased(var, m) as f32;
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub fn forward_eval(
        x: &[f32],
        gamma: &[f32],
        beta: &[f32],
        y: &mut [f32],
        running_mean: &[f32],
        running_var: &[f32],
        (n, c, hw): (usize, usize, usize),
        eps: f32,
    ) {
        for b in 0..n {
            for ch in 0..c {
                for s in 0..hw {
                    let i = (b * c + ch) * hw + s;
                    y[i] = gamma[ch] * (x[i] - running_mean[ch]) / (running_var[ch] + eps).sqrt()
                        + beta[ch];
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub fn backward(
        x: &[f32],
        gamma: &[f32],
        mean: &[f32],
        inv_std: &[f32],
        dy: &[f32],
        dx: &mut [f32],
        dgamma: &mut [f32],
        dbeta: &mut [f32],
        (n, c, hw): (usize, usize, usize),
    ) {
        let m = (n * hw) as f32;
        let at = |b: usize, ch: usize, s: usize| (b * c + ch) * hw + s;
        for ch in 0..c {
            let (mut db, mut dg) = (0.0f64, 0.0f64);
            for b in 0..n {
                for s in 0..hw {
                    let i = at(b, ch, s);
                    db += dy[i] as f64;
                    dg += (dy[i] * (x[i] - mean[ch]) * inv_std[ch]) as f64;
                }
            }
            dbeta[ch] = db as f32;
            dgamma[ch] = dg as f32;
            for b in 0..n {
                for s in 0..hw {
                    let i = at(b, ch, s);
                    let xhat = (x[i] - mean[ch]) * inv_std[ch];
                    dx[i] =
                        gamma[ch] * inv_std[ch] * (dy[i] - dbeta[ch] / m - xhat * dgamma[ch] / m);
                }
            }
        }
    }
}

// Fast paths: each channel's values are `n` contiguous rows of `hw`; rows are summed in f32 with
// eight independent lanes (vectorisable), rows are combined in f64.

/// Sum of `f(v)` over a row, eight lanes at a time.
#[inline(always)]
fn row_sum(row: &[f32], f: impl Fn(f32) -> f32) -> f64 {
    let mut lanes = [0.0f32; 8];
    let chunks = row.chunks_exact(8);
    let tail: f32 = chunks.remainder().iter().map(|&v| f(v)).sum();
    for ch in chunks {
        for l in 0..8 {
            lanes[l] += f(ch[l]);
        }
    }
    lanes.iter().sum::<f32>() as f64 + tail as f64
}

/// Sum of `f(a, b)` over two rows, eight lanes at a time.
#[inline(always)]
fn row_sum2(a: &[f32], b: &[f32], f: impl Fn(f32, f32) -> f32) -> f64 {
    let mut lanes = [0.0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(&x, &y)| f(x, y))
        .sum();
    for (x, y) in ca.zip(cb) {
        for l in 0..8 {
            lanes[l] += f(x[l], y[l]);
        }
    }
    lanes.iter().sum::<f32>() as f64 + tail as f64
}

/// The `n` rows of channel `ch`.
fn channel(x: &[f32], c: usize, hw: usize, ch: usize) -> impl Iterator<Item = &[f32]> {
    x.chunks_exact(hw).skip(ch).step_by(c)
}

#[allow(clippy::too_many_arguments)]
pub fn forward_train(
    x: &[f32],
    gamma: &[f32],
    beta: &[f32],
    y: &mut [f32],
    mean: &mut [f32],
    inv_std: &mut [f32],
    running_mean: &mut [f32],
    running_var: &mut [f32],
    (n, c, hw): (usize, usize, usize),
    momentum: f32,
    eps: f32,
) {
    let m = n * hw;
    for ch in 0..c {
        let mu = channel(x, c, hw, ch)
            .map(|r| row_sum(r, |v| v))
            .sum::<f64>()
            / m as f64;
        let mf = mu as f32;
        let var = channel(x, c, hw, ch)
            .map(|r| row_sum(r, |v| (v - mf) * (v - mf)))
            .sum::<f64>()
            / m as f64;
        mean[ch] = mf;
        inv_std[ch] = (1.0 / (var + eps as f64).sqrt()) as f32;
        running_mean[ch] = (1.0 - momentum) * running_mean[ch] + momentum * mf;
        running_var[ch] = (1.0 - momentum) * running_var[ch] + momentum * unbiased(var, m) as f32;
    }
    normalise(x, gamma, beta, y, mean, inv_std, (n, c, hw));
}

/// `y = x * scale + shift` per channel, with `scale = gamma * inv_std`, `shift = beta - mean * scale`.
fn normalise(
    x: &[f32],
    gamma: &[f32],
    beta: &[f32],
    y: &mut [f32],
    mean: &[f32],
    inv_std: &[f32],
    (_, c, hw): (usize, usize, usize),
) {
    for (i, (yr, xr)) in y.chunks_exact_mut(hw).zip(x.chunks_exact(hw)).enumerate() {
        let ch = i % c;
        let scale = gamma[ch] * inv_std[ch];
        let shift = beta[ch] - mean[ch] * scale;
        for (y, &x) in yr.iter_mut().zip(xr) {
            *y = x * scale + shift;
        }
    }
}

#[allow(clippy::too_many_arguments)]
pub fn forward_eval(
    x: &[f32],
    gamma: &[f32],
    beta: &[f32],
    y: &mut [f32],
    running_mean: &[f32],
    running_var: &[f32],
    (n, c, hw): (usize, usize, usize),
    eps: f32,
) {
    for (i, (yr, xr)) in y
        .chunks_exact_mut(hw)
        .zip(x.chunks_exact(hw))
        .take(n * c)
        .enumerate()
    {
        let ch = i % c;
        let scale = gamma[ch] / (running_var[ch] + eps).sqrt();
        let shift = beta[ch] - running_mean[ch] * scale;
        for (y, &x) in yr.iter_mut().zip(xr) {
            *y = x * scale + shift;
        }
    }
}

#[allow(clippy::too_many_arguments)]
pub fn backward(
    x: &[f32],
    gamma: &[f32],
    mean: &[f32],
    inv_std: &[f32],
    dy: &[f32],
    dx: &mut [f32],
    dgamma: &mut [f32],
    dbeta: &mut [f32],
    (n, c, hw): (usize, usize, usize),
) {
    let m = (n * hw) as f32;
    for ch in 0..c {
        let (mu, is) = (mean[ch], inv_std[ch]);
        let rows = channel(x, c, hw, ch).zip(channel(dy, c, hw, ch));
        let (mut db, mut dg) = (0.0f64, 0.0f64);
        for (xr, dr) in rows {
            db += row_sum(dr, |d| d);
            dg += row_sum2(xr, dr, |x, d| d * (x - mu) * is);
        }
        dbeta[ch] = db as f32;
        dgamma[ch] = dg as f32;
    }
    for (i, ((dxr, xr), dr)) in dx
        .chunks_exact_mut(hw)
        .zip(x.chunks_exact(hw))
        .zip(dy.chunks_exact(hw))
        .enumerate()
    {
        let ch = i % c;
        let (mu, is) = (mean[ch], inv_std[ch]);
        let k = gamma[ch] * is;
        let (db, dg) = (dbeta[ch] / m, dgamma[ch] / m);
        for ((dx, &x), &d) in dxr.iter_mut().zip(xr).zip(dr) {
            *dx = k * (d - db - (x - mu) * is * dg);
        }
    }
}
