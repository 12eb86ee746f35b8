// Turns a drawn grayscale bitmap into a 28x28 image the way MNIST was made (LeCun et al.):
// the ink's bounding box is scaled to fit a 20x20 box keeping its aspect ratio, with anti-aliasing
// (each output pixel is the area-weighted mean of the source pixels it covers), and the result is
// placed in 28x28 so that its centre of mass sits at the centre of the field.
//
// gray: values in [0,1], row-major, width w, height h. Returns Float32Array(784), row-major.

const BOX = 20;
const SIZE = 28;

export function inkBounds(gray, w, h, threshold = 0.02) {
  let x0 = w, y0 = h, x1 = -1, y1 = -1;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (gray[y * w + x] > threshold) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
    }
  }
  return x1 < 0 ? null : { x0, y0, x1: x1 + 1, y1: y1 + 1 };
}

// Area-average resampling into a BOX x BOX patch: the source rectangle [x0, x0+bw) x [y0, y0+bh) is
// scaled by `scale` and centred in the patch, keeping its aspect ratio, so its short side usually
// has fractional edges; each patch pixel is the mean of the source area it covers (0 outside).
function resampleIntoBox(gray, w, x0, y0, bw, bh, scale) {
  const out = new Float32Array(BOX * BOX);
  const offX = (BOX - bw * scale) / 2;
  const offY = (BOX - bh * scale) / 2;
  const f = 1 / scale; // source pixels per patch pixel
  for (let ty = 0; ty < BOX; ty++) {
    const ya = Math.max(y0, y0 + (ty - offY) * f);
    const yb = Math.min(y0 + bh, y0 + (ty + 1 - offY) * f);
    if (yb <= ya) continue;
    for (let tx = 0; tx < BOX; tx++) {
      const xa = Math.max(x0, x0 + (tx - offX) * f);
      const xb = Math.min(x0 + bw, x0 + (tx + 1 - offX) * f);
      if (xb <= xa) continue;
      let sum = 0;
      for (let y = Math.floor(ya); y < Math.ceil(yb); y++) {
        const wy = Math.min(yb, y + 1) - Math.max(ya, y);
        for (let x = Math.floor(xa); x < Math.ceil(xb); x++) {
          const wx = Math.min(xb, x + 1) - Math.max(xa, x);
          sum += wx * wy * gray[y * w + x];
        }
      }
      out[ty * BOX + tx] = sum / (f * f);
    }
  }
  return out;
}

export function centreOfMass(img, w, h) {
  let m = 0, cx = 0, cy = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const v = img[y * w + x];
      m += v;
      cx += v * (x + 0.5);
      cy += v * (y + 0.5);
    }
  }
  return m > 0 ? { x: cx / m, y: cy / m, mass: m } : null;
}

export function mnistify(gray, w, h) {
  const out = new Float32Array(SIZE * SIZE);
  const b = inkBounds(gray, w, h);
  if (!b) return out;
  const bw = b.x1 - b.x0;
  const bh = b.y1 - b.y0;
  const box = resampleIntoBox(gray, w, b.x0, b.y0, bw, bh, BOX / Math.max(bw, bh));
  const c = centreOfMass(box, BOX, BOX);
  // Integer shift keeps the anti-aliased pixels as they are; the centre lands within half a pixel.
  const ox = Math.round(SIZE / 2 - c.x);
  const oy = Math.round(SIZE / 2 - c.y);
  for (let y = 0; y < BOX; y++) {
    const yy = y + oy;
    if (yy < 0 || yy >= SIZE) continue;
    for (let x = 0; x < BOX; x++) {
      const xx = x + ox;
      if (xx < 0 || xx >= SIZE) continue;
      out[yy * SIZE + xx] = Math.min(1, box[y * BOX + x]);
    }
  }
  return out;
}
