// The plain-JS math behind the exercises, checked against values worked out by hand.
import test from 'node:test';
import assert from 'node:assert/strict';
import { conv2d, outSize, pool, summarize, toSpecLayers, convParams, denseEquivalentWeights } from '../../www/lab/widgets/conv-math.js';
import { mnistify, centreOfMass, inkBounds } from '../../www/lab/widgets/mnistify.js';
import { transform, augment, rng } from '../../www/lab/widgets/augment.js';
import { gradeValue } from '../../www/lab/widgets/check.js';
import { COURSE_INPUT, COURSE_KERNEL } from '../../www/lab/exercises/convolution.js';

test('course convolution example: top-left 4, full 3x3 output', () => {
  assert.deepEqual(conv2d(COURSE_INPUT, COURSE_KERNEL), [
    [4, 3, 4],
    [2, 4, 3],
    [2, 3, 4],
  ]);
});

test('padding and stride in conv2d', () => {
  const one = [[1, 2], [3, 4]];
  // 1x1 kernel, pad 1: the input surrounded by zeros
  assert.deepEqual(conv2d(one, [[1]], 1, 1), [[0, 0, 0, 0], [0, 1, 2, 0], [0, 3, 4, 0], [0, 0, 0, 0]]);
  assert.deepEqual(conv2d(COURSE_INPUT, COURSE_KERNEL, 2, 0), [[4, 4], [2, 4]]);
});

test('output size formula', () => {
  assert.equal(outSize(32, 5, 1, 0), 28);
  assert.equal(outSize(28, 3, 2, 1), 14);
  assert.equal(outSize(5, 3, 1, 1), 5);
  assert.equal(outSize(7, 3, 2, 0), 3);
  assert.equal(outSize(6, 4, 3, 0), 1);
  assert.equal(outSize(2, 3, 1, 0), 0);
});

test('pooling max and average', () => {
  const m = Float32Array.from([1, 1, 2, 4, 5, 6, 7, 8, 3, 2, 1, 0, 1, 2, 3, 4]);
  assert.deepEqual([...pool(m, 4, 4, 2, 2, 'max').data], [6, 8, 3, 4]);
  assert.deepEqual([...pool(m, 4, 4, 2, 2, 'avg').data], [3.25, 5.25, 2, 2]);
  const r = pool(m, 4, 4, 3, 1, 'max');
  assert.equal(r.h, 2);
  assert.deepEqual([...r.data], [7, 8, 7, 8]);
});

test('parameter counts: course example and the preset network', () => {
  assert.equal(convParams(3, 3, 1, false), 27);
  assert.equal(denseEquivalentWeights(256, 256, 3, 254, 254, 1), 196608 * 64516);
  const s = summarize([
    { type: 'conv', k: 5, filters: 8, stride: 1, pad: 2 },
    { type: 'pool', k: 2, stride: 2 },
    { type: 'conv', k: 3, filters: 16, stride: 1, pad: 1 },
    { type: 'pool', k: 2, stride: 2 },
    { type: 'dense', units: 64 },
    { type: 'dense', units: 10 },
  ]);
  assert.equal(s.error, null);
  assert.deepEqual(s.rows.map((r) => r.outShape), [[8, 28, 28], [8, 14, 14], [16, 14, 14], [16, 7, 7], [64], [10]]);
  assert.deepEqual(s.rows.map((r) => r.params), [208, 0, 1168, 0, 784 * 64 + 64, 650]);
  assert.equal(s.total, 208 + 1168 + 50240 + 650);
});

test('layer builder reports a kernel that does not fit, and conv after dense', () => {
  assert.match(summarize([{ type: 'conv', k: 9, filters: 1, stride: 1, pad: 0 }, { type: 'pool', k: 4, stride: 4 }, { type: 'conv', k: 7, filters: 1, stride: 1, pad: 0 }]).error, /does not fit/);
  assert.match(summarize([{ type: 'dense', units: 4 }, { type: 'conv', k: 3, filters: 1, stride: 1, pad: 0 }]).error, /before the dense/);
});

test('spec layers get explicit relu and one flatten, none after the output', () => {
  assert.deepEqual(toSpecLayers([{ type: 'conv', k: 3, filters: 4, stride: 1, pad: 1 }, { type: 'pool', k: 2, stride: 2, mode: 'max' }, { type: 'dense', units: 32 }, { type: 'dense', units: 10 }]), [
    { type: 'conv', k: 3, filters: 4, stride: 1, pad: 1 },
    { type: 'relu' },
    { type: 'pool', k: 2, stride: 2, mode: 'max' },
    { type: 'flatten' },
    { type: 'dense', units: 32 },
    { type: 'relu' },
    { type: 'dense', units: 10 },
  ]);
});

function rectImage(w, h, x0, y0, x1, y1) {
  const g = new Float32Array(w * h);
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) g[y * w + x] = 1;
  return g;
}

test('mnistify: a tall bar off in a corner is scaled into 20 rows and centred by mass', () => {
  // 10 wide, 100 tall bar at the top-left of a 280x280 drawing
  const img = mnistify(rectImage(280, 280, 5, 5, 15, 105), 280, 280);
  const b = inkBounds(img, 28, 28);
  assert.equal(b.y1 - b.y0, 20);
  assert.equal(b.x1 - b.x0, 2);
  const c = centreOfMass(img, 28, 28);
  assert.ok(Math.abs(c.x - 14) <= 0.5 && Math.abs(c.y - 14) <= 0.5, `centre ${c.x},${c.y}`);
  // area averaging: the scaled bar is exactly 2 px wide, all full ink
  assert.ok(Math.abs(c.mass - 40) < 1e-3, `mass ${c.mass}`);
});

test('mnistify: anti-aliasing gives partial pixels when the box does not land on the grid', () => {
  const img = mnistify(rectImage(280, 280, 100, 100, 133, 200), 280, 280); // 33 x 100 -> 6.6 x 20
  const partial = [...img].filter((v) => v > 0.01 && v < 0.99).length;
  assert.ok(partial >= 20, `partial pixels ${partial}`);
  const b = inkBounds(img, 28, 28);
  assert.equal(b.y1 - b.y0, 20);
  assert.ok(b.x1 - b.x0 <= 8);
  assert.ok(Math.abs(centreOfMass(img, 28, 28).mass - 6.6 * 20) < 1e-3);
  assert.deepEqual([...mnistify(new Float32Array(100), 10, 10)].some((v) => v), false);
});

test('augment: identity transform keeps the image; shift moves mass; seeded rng repeats', () => {
  const img = mnistify(rectImage(280, 280, 100, 60, 160, 220), 280, 280);
  const same = transform(img, {});
  assert.ok(same.every((v, i) => Math.abs(v - img[i]) < 1e-6));
  const moved = transform(img, { dx: 3, dy: -2 });
  const c0 = centreOfMass(img, 28, 28);
  const c1 = centreOfMass(moved, 28, 28);
  assert.ok(Math.abs(c1.x - c0.x - 3) < 0.05 && Math.abs(c1.y - c0.y + 2) < 0.05);
  const flipped = transform(img, { flipH: true });
  assert.ok(Math.abs(centreOfMass(flipped, 28, 28).x - (28 - c0.x)) < 0.05);
  const a = augment(img, { rotate: 15, shift: 2, noise: 0.1 }, rng(3));
  const b = augment(img, { rotate: 15, shift: 2, noise: 0.1 }, rng(3));
  assert.deepEqual([...a], [...b]);
  assert.ok(a.some((v, i) => Math.abs(v - img[i]) > 0.05));
});

test('check grading', () => {
  assert.equal(gradeValue('number', 27, ' 27 '), true);
  assert.equal(gradeValue('number', 27, '28'), false);
  assert.equal(gradeValue('number', 27, ''), false);
  assert.equal(gradeValue('number', 0.5, '0,5'), true);
  assert.equal(gradeValue('text', ['3x3', '3'], ' 3X3'), true);
  assert.equal(gradeValue('choice', 'a', 'b'), false);
  assert.equal(gradeValue('multi', ['a', 'b'], ['b', 'a']), true);
  assert.equal(gradeValue('multi', ['a', 'b'], ['a']), false);
  assert.equal(gradeValue('multi', ['a', 'b'], ['a', 'b', 'c']), false);
});
