// Plain-JS reference math for the hands-on exercises and the layer builder.
// 2-D maps are arrays of rows (number[][]); like every CNN library, "convolution" here is
// cross-correlation: the kernel is not flipped.

export function outSize(n, k, s = 1, p = 0) {
  return Math.floor((n + 2 * p - k) / s) + 1;
}

// One receptive field: products of kernel and input window whose top-left (in padded coordinates)
// is (r0, c0). Cells outside the input read as 0 (zero padding).
export function windowProducts(input, kernel, r0, c0, pad = 0) {
  const k = kernel.length;
  const n = input.length;
  const prods = [];
  let sum = 0;
  for (let i = 0; i < k; i++) {
    const row = [];
    for (let j = 0; j < k; j++) {
      const r = r0 + i - pad;
      const c = c0 + j - pad;
      const x = r >= 0 && r < n && c >= 0 && c < input[0].length ? input[r][c] : 0;
      row.push({ x, w: kernel[i][j], p: x * kernel[i][j] });
      sum += x * kernel[i][j];
    }
    prods.push(row);
  }
  return { prods, sum };
}

export function conv2d(input, kernel, stride = 1, pad = 0) {
  const k = kernel.length;
  const oh = outSize(input.length, k, stride, pad);
  const ow = outSize(input[0].length, k, stride, pad);
  const out = [];
  for (let i = 0; i < oh; i++) {
    const row = [];
    for (let j = 0; j < ow; j++) row.push(windowProducts(input, kernel, i * stride, j * stride, pad).sum);
    out.push(row);
  }
  return out;
}

// Pooling on a flat single-channel map (h x w); returns { data, h, w }.
export function pool(data, hh, ww, k, stride, mode = 'max') {
  const oh = outSize(hh, k, stride);
  const ow = outSize(ww, k, stride);
  const out = new Float32Array(Math.max(0, oh * ow));
  for (let i = 0; i < oh; i++) {
    for (let j = 0; j < ow; j++) {
      let acc = mode === 'max' ? -Infinity : 0;
      for (let a = 0; a < k; a++) {
        for (let b = 0; b < k; b++) {
          const v = data[(i * stride + a) * ww + j * stride + b];
          acc = mode === 'max' ? Math.max(acc, v) : acc + v;
        }
      }
      out[i * ow + j] = mode === 'max' ? acc : acc / (k * k);
    }
  }
  return { data: out, h: oh, w: ow };
}

// Weights of a conv layer (filters x inChannels x k x k) plus one bias per filter.
export function convParams(k, inChannels, filters, bias = true) {
  return filters * inChannels * k * k + (bias ? filters : 0);
}

// A dense layer mapping the same input to the same output size, one weight per input-output pair.
export function denseEquivalentWeights(h, w, c, oh, ow, filters) {
  return h * w * c * oh * ow * filters;
}

// Layer-builder layers -> per-layer output shape and parameter count, starting from [1, 28, 28].
// layer: { type: 'conv', k, filters, stride, pad } | { type: 'pool', k, stride, mode } |
//        { type: 'dense', units }. Each conv and hidden dense is followed by ReLU; the flatten before
// the first dense is implicit. Returns { rows, total, error }.
export function summarize(layers, input = [1, 28, 28]) {
  let shape = input;
  const rows = [];
  let total = 0;
  let error = null;
  for (const [i, l] of layers.entries()) {
    let params = 0;
    let next;
    if (l.type === 'conv' || l.type === 'pool') {
      if (shape.length !== 3) {
        error = `layer ${i + 1}: ${l.type} must come before the dense layers`;
        next = shape;
      } else {
        const [c, hh, ww] = shape;
        const pad = l.type === 'conv' ? l.pad : 0;
        const oh = outSize(hh, l.k, l.stride, pad);
        const ow = outSize(ww, l.k, l.stride, pad);
        next = l.type === 'conv' ? [l.filters, oh, ow] : [c, oh, ow];
        if (l.type === 'conv') params = convParams(l.k, c, l.filters);
        if (oh < 1 || ow < 1) error ||= `layer ${i + 1}: the ${l.k}×${l.k} window does not fit the ${hh}×${ww} input`;
      }
    } else if (l.type === 'dense') {
      const inF = shape.reduce((a, b) => a * b, 1);
      params = inF * l.units + l.units;
      next = [l.units];
    } else {
      error ||= `layer ${i + 1}: unknown type ${l.type}`;
      next = shape;
    }
    total += params;
    rows.push({ layer: l, outShape: next, params });
    shape = next;
  }
  return { rows, total, error, outShape: shape };
}

// Layer-builder layers -> the protocol's spec.layers (explicit relu and flatten).
export function toSpecLayers(layers) {
  const out = [];
  let flat = false;
  layers.forEach((l, i) => {
    const last = i === layers.length - 1;
    if (l.type === 'conv') {
      out.push({ type: 'conv', k: l.k, filters: l.filters, stride: l.stride, pad: l.pad }, { type: 'relu' });
    } else if (l.type === 'pool') {
      out.push({ type: 'pool', k: l.k, stride: l.stride, mode: l.mode || 'max' });
    } else if (l.type === 'dense') {
      if (!flat) out.push({ type: 'flatten' });
      flat = true;
      out.push({ type: 'dense', units: l.units });
      if (!last) out.push({ type: 'relu' });
    }
  });
  return out;
}

export function shapeText(shape) {
  return shape.length === 3 ? `${shape[0]}×${shape[1]}×${shape[2]}` : `${shape[0]}`;
}
