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

// Area-average resampling of the source rectangle [sx0, sx0+sw) x [sy0, sy0+sh) into tw x th pixels.
function resampleBox(gray, w, sx0, sy0, sw, sh, tw, th) {
  const out = new Float32Array(tw * th);
  const fx = sw / tw;
  const fy = sh / th;
  for (let ty = 0; ty < th; ty++) {
    const ya = sy0 + ty * fy;
    const yb = ya + fy;
    for (let tx = 0; tx < tw; tx++) {
      const xa = sx0 + tx * fx;
      const xb = xa + fx;
      let sum = 0;
      for (let y = Math.floor(ya); y < Math.ceil(yb); y++) {
        const wy = Math.min(yb, y + 1) - Math.max(ya, y);
        for (let x = Math.floor(xa); x < Math.ceil(xb); x++) {
          const wx = Math.min(xb, x + 1) - Math.max(xa, x);
          sum += wx * wy * gray[y * w + x];
        }
      }
      out[ty * tw + tx] = sum / (fx * fy);
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
  const scale = BOX / Math.max(bw, bh);
  const tw = Math.max(1, Math.round(bw * scale));
  const th = Math.max(1, Math.round(bh * scale));
  const box = resampleBox(gray, w, b.x0, b.y0, bw, bh, tw, th);
  const c = centreOfMass(box, tw, th);
  // Integer shift keeps the anti-aliased pixels as they are; the centre lands within half a pixel.
  const ox = Math.round(SIZE / 2 - c.x);
  const oy = Math.round(SIZE / 2 - c.y);
  for (let y = 0; y < th; y++) {
    const yy = y + oy;
    if (yy < 0 || yy >= SIZE) continue;
    for (let x = 0; x < tw; x++) {
      const xx = x + ox;
      if (xx < 0 || xx >= SIZE) continue;
      out[yy * SIZE + xx] = Math.min(1, box[y * tw + x]);
    }
  }
  return out;
}
