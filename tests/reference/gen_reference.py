"""Reference values for tests/reference_values.rs, computed by JAX (an independent framework).

Run:  pip install "jax[cpu]"  &&  python3 tests/reference/gen_reference.py
Writes tests/reference/values.json: {case: {array name: [flat numbers]}}. Inputs are seeded
float32 values; JAX computes in float64 from them, so the values are an oracle for the f32 engine.
Layouts follow src/ops/mod.rs (NCHW, dense weights [out, in], conv weights [out_c, in_c, kh, kw],
transposed-conv weights [in_c_t, out_c_t, kh, kw]). Every backward is a vjp with a stored `dy`.
"""

import json
import os

import jax
import jax.numpy as jnp
import numpy as np

jax.config.update("jax_enable_x64", True)
rng = np.random.default_rng(2024)


def f32(*shape, lo=None, hi=None):
    """Seeded float32 values (normal, or uniform in [lo, hi)), returned as float64 for JAX."""
    if lo is None:
        v = rng.standard_normal(shape)
    else:
        v = rng.uniform(lo, hi, shape)
    return np.asarray(v, np.float32).astype(np.float64)


def conv2d(x, w, b, stride, pad):
    y = jax.lax.conv_general_dilated(
        x, w, (stride, stride), [(pad, pad), (pad, pad)],
        dimension_numbers=("NCHW", "OIHW", "NCHW"))
    return y + b[None, :, None, None]


def conv_transpose2d(x, w, b, stride, pad, out_hw):
    """PyTorch's ConvTranspose2d built as a convolution over the stride-dilated input with the
    flipped, channel-swapped kernel; output padding makes the output exactly out_hw."""
    k = w.shape[2:]
    size = [(x.shape[2 + d] - 1) * stride - 2 * pad + k[d] for d in range(2)]
    extra = [out_hw[d] - size[d] for d in range(2)]
    kern = jnp.flip(jnp.transpose(w, (1, 0, 2, 3)), (2, 3))
    padding = [(k[d] - 1 - pad, k[d] - 1 - pad + extra[d]) for d in range(2)]
    y = jax.lax.conv_general_dilated(
        x, kern, (1, 1), padding, lhs_dilation=(stride, stride),
        dimension_numbers=("NCHW", "OIHW", "NCHW"))
    return y + b[None, :, None, None]


def pool(x, k, stride, kind):
    dims, strides = (1, 1, k, k), (1, 1, stride, stride)
    if kind == "max":
        return jax.lax.reduce_window(x, -jnp.inf, jax.lax.max, dims, strides, "VALID")
    return jax.lax.reduce_window(x, 0.0, jax.lax.add, dims, strides, "VALID") / (k * k)


def with_vjp(case, fn, inputs, names):
    """Stores inputs, y = fn(*inputs), a random dy and the gradient of sum(y * dy) per input."""
    y, vjp = jax.vjp(fn, *inputs)
    dy = f32(*y.shape)
    grads = vjp(dy)
    for name, v in zip(names, inputs):
        case[name] = v
    case["y"], case["dy"] = y, dy
    for name, g in zip(names, grads):
        case["d" + name] = g
    return case


cases = {}

for name, (n, ic, h, w, oc, kh, kw, s, p) in {
    "conv2d_strided_padded": (2, 3, 7, 6, 4, 3, 3, 2, 1),
    "conv2d_rect_kernel": (1, 2, 5, 4, 3, 3, 2, 1, 2),
}.items():
    geom = [n, ic, h, w, oc, kh, kw, s, p]
    cases[name] = with_vjp(
        {"geom": geom}, lambda x, wt, b: conv2d(x, wt, b, s, p),
        [f32(n, ic, h, w), f32(oc, ic, kh, kw), f32(oc)], ["x", "w", "b"])

# Transposed conv: the transpose of a conv with geometry g; its input is that conv's output.
n, ic, h, w, oc, k, s, p = 2, 3, 7, 6, 4, 3, 2, 1
oh, ow = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
x, wt, b = f32(n, oc, oh, ow), f32(oc, ic, k, k), f32(ic)
case = with_vjp({"geom": [n, ic, h, w, oc, k, k, s, p]},
                lambda x, wt, b: conv_transpose2d(x, wt, b, s, p, (h, w)), [x, wt, b], ["x", "w", "b"])
# Self-check of the construction: it must equal the convolution's input gradient (+ bias).
_, conv_vjp = jax.vjp(lambda xi: conv2d(xi, wt, jnp.zeros(oc), s, p), jnp.zeros((n, ic, h, w)))
assert np.allclose(conv_vjp(x)[0] + b[None, :, None, None], case["y"])
cases["conv_transpose2d"] = case

for name, (n, c, h, w, k, s, kind) in {
    "maxpool_2x2": (2, 3, 6, 5, 2, 2, "max"),
    "maxpool_3x3_stride2": (1, 2, 7, 7, 3, 2, "max"),
    "avgpool_2x2": (2, 3, 6, 5, 2, 2, "avg"),
    "avgpool_3x3_stride2": (1, 2, 7, 7, 3, 2, "avg"),
}.items():
    cases[name] = with_vjp({"geom": [n, c, h, w, k, s]},
                           lambda x: pool(x, k, s, kind), [f32(n, c, h, w)], ["x"])

n, i, o = 3, 5, 4
cases["dense"] = with_vjp({"dims": [n, i, o]}, lambda x, wt, b: x @ wt.T + b,
                          [f32(n, i), f32(o, i), f32(o)], ["x", "w", "b"])

# Batch norm, training mode, over x [n, c, hw]; then the running stats and eval mode.
n, c, hw, momentum, eps = 4, 3, 6, 0.1, 1e-5


def bn_train(x, gamma, beta):
    mean = x.mean(axis=(0, 2), keepdims=True)
    var = x.var(axis=(0, 2), keepdims=True)
    return gamma[None, :, None] * (x - mean) / jnp.sqrt(var + eps) + beta[None, :, None]


x = f32(n, c, hw) * 2 + 1
case = with_vjp({"dims": [n, c, hw], "hyper": [momentum, eps]}, bn_train,
                [x, f32(c, lo=0.5, hi=1.5), f32(c)], ["x", "gamma", "beta"])
rm0, rv0 = f32(c), f32(c, lo=0.5, hi=2.0)
m = n * hw
case["running_mean0"], case["running_var0"] = rm0, rv0
case["running_mean"] = (1 - momentum) * rm0 + momentum * x.mean(axis=(0, 2))
case["running_var"] = (1 - momentum) * rv0 + momentum * x.var(axis=(0, 2), ddof=1)
rm, rv = case["running_mean"], case["running_var"]
case["y_eval"] = (case["gamma"][None, :, None] * (x - rm[None, :, None])
                  / jnp.sqrt(rv[None, :, None] + eps) + case["beta"][None, :, None])
cases["batchnorm"] = case

# VAE loss: z = mu + exp(logvar / 2) * eps, logits = z . wd^T + bd (a dense decoder),
# loss = BCE(logits, target) summed per sample and averaged + beta * KL averaged.
n, zdim, f, beta = 3, 4, 8, 0.5


def vae_terms(mu, logvar, wd, bd, eps, target):
    z = mu + jnp.exp(0.5 * logvar) * eps
    logits = z @ wd.T + bd
    bce = -(target * jax.nn.log_sigmoid(logits) + (1 - target) * jax.nn.log_sigmoid(-logits))
    recon = bce.sum() / n
    kl = -0.5 * jnp.sum(1 + logvar - mu ** 2 - jnp.exp(logvar)) / n
    return recon, kl


mu, logvar, wd, bd = f32(n, zdim), f32(n, zdim) * 0.5, f32(f, zdim), f32(f)
eps_, target = f32(n, zdim), f32(n, f, lo=0.0, hi=1.0)
recon, kl = vae_terms(mu, logvar, wd, bd, eps_, target)
total = lambda *a: (lambda r, k: r + beta * k)(*vae_terms(*a, eps_, target))
grads = jax.grad(total, argnums=(0, 1, 2, 3))(mu, logvar, wd, bd)
cases["vae_loss"] = {
    "dims": [n, zdim, f], "beta": [beta], "mu": mu, "logvar": logvar, "wd": wd, "bd": bd,
    "eps": eps_, "target": target, "recon": [recon], "kl": [kl], "loss": [recon + beta * kl],
    "dmu": grads[0], "dlogvar": grads[1], "dwd": grads[2], "dbd": grads[3],
}

n, k = 4, 5
logits, labels = f32(n, k) * 2, rng.integers(0, k, n)
xent = lambda lg: -jnp.mean(jax.nn.log_softmax(lg)[jnp.arange(n), labels])
cases["softmax_xent"] = {
    "dims": [n, k], "logits": logits, "labels": labels.astype(np.float64),
    "probs": jax.nn.softmax(logits), "loss": [xent(logits)], "dlogits": jax.grad(xent)(logits),
}
pred, tgt = f32(3, 7), f32(3, 7, lo=0.0, hi=1.0)
mse = lambda p: jnp.mean((p - tgt) ** 2)
cases["mse"] = {"pred": pred, "target": tgt, "loss": [mse(pred)], "dpred": jax.grad(mse)(pred)}


def flat(v):
    return [float(t) for t in np.asarray(v, np.float64).reshape(-1)]


out = {name: {key: flat(v) for key, v in case.items()} for name, case in cases.items()}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "values.json")
with open(path, "w") as fh:
    fh.write("{\n")
    for ci, (name, case) in enumerate(out.items()):
        fh.write(f' "{name}": {{\n')
        for ki, (key, vals) in enumerate(case.items()):
            body = ", ".join(f"{v:.9g}" for v in vals)
            comma = "," if ki + 1 < len(case) else ""
            fh.write(f'  "{key}": [{body}]{comma}\n')
        fh.write(" }" + ("," if ci + 1 < len(out) else "") + "\n")
    fh.write("}\n")
print(f"wrote {path} ({os.path.getsize(path)} bytes, {len(out)} cases)")
