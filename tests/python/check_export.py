"""Reads a model exported by the lab and reproduces the lab's predictions with plain numpy.

    python3 tests/python/check_export.py DIR

DIR holds model.safetensors (the lab's export of the reference CNN) and digits.safetensors
(images [n, 1, 28, 28] in [0, 1], labels [n], and the lab's class probabilities probs [n, 10]).
The forward pass below is written from the documented layouts only (src/io/state.rs):
NCHW activations, conv weight [out, in, kh, kw], dense weight [out, in], PyTorch names.
The same file loads into PyTorch with
    net = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Flatten(), nn.Linear(784, 10))
    net.load_state_dict(safetensors.torch.load_file("model.safetensors"))
"""

import sys
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file


def conv2d_same(x, w, b):
    """x [n, c, h, w], w [o, c, k, k], stride 1, zero padding k // 2 (cross-correlation, as PyTorch)."""
    n, c, h, wd = x.shape
    o, c2, k, _ = w.shape
    assert c == c2, (x.shape, w.shape)
    p = k // 2
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    y = np.zeros((n, o, h, wd), dtype=np.float64)
    for dy in range(k):
        for dx in range(k):
            patch = xp[:, :, dy:dy + h, dx:dx + wd]  # [n, c, h, w]
            y += np.einsum("nchw,oc->nohw", patch, w[:, :, dy, dx])
    return y + b[None, :, None, None]


def maxpool2(x):
    n, c, h, w = x.shape
    return x.reshape(n, c, h // 2, 2, w // 2, 2).max(axis=(3, 5))


def softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def forward(t, x):
    """The reference CNN: conv3x3x8-ReLU-pool-conv3x3x16-ReLU-pool-flatten-dense10."""
    x = maxpool2(np.maximum(conv2d_same(x, t["0.weight"], t["0.bias"]), 0))
    x = maxpool2(np.maximum(conv2d_same(x, t["3.weight"], t["3.bias"]), 0))
    x = x.reshape(x.shape[0], -1)  # C, H, W order, as nn.Flatten
    return softmax(x @ t["7.weight"].T + t["7.bias"])


def main(folder):
    folder = Path(folder)
    model = {k: v.astype(np.float64) for k, v in load_file(folder / "model.safetensors").items()}
    expected = {
        "0.weight": (8, 1, 3, 3), "0.bias": (8,),
        "3.weight": (16, 8, 3, 3), "3.bias": (16,),
        "7.weight": (10, 784), "7.bias": (10,),
    }
    got = {k: v.shape for k, v in model.items()}
    assert got == expected, f"names/shapes {got}"
    digits = load_file(folder / "digits.safetensors")
    images, labels, lab = digits["images"].astype(np.float64), digits["labels"], digits["probs"]
    probs = forward(model, images)
    diff = np.abs(probs - lab).max()
    same_class = (probs.argmax(1) == lab.argmax(1)).mean()
    accuracy = (probs.argmax(1) == labels).mean()
    print(f"{len(images)} digits: max |numpy - lab| = {diff:.2e}, same predicted class {same_class:.0%}, "
          f"numpy accuracy {accuracy:.0%}")
    if diff > 1e-4 or same_class < 1.0:
        print("MISMATCH between numpy and the lab")
        return 1
    print("numpy and the lab agree")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "target/python-roundtrip"))
