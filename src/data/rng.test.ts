import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRng } from './rng.js';

describe('createRng', () => {
  it('repeats for a seed and stream, differs across them', () => {
    const draw = (seed: number, stream: number) =>
      Array.from({ length: 5 }, () => createRng(seed, stream).next());
    assert.deepEqual(draw(42, 0), draw(42, 0));
    const a = createRng(42, 0);
    const b = createRng(42, 1);
    const c = createRng(43, 0);
    const xs = Array.from({ length: 5 }, () => [a.next(), b.next(), c.next()]);
    for (const [x, y, z] of xs) assert.ok(x !== y && x !== z, 'streams and seeds differ');
  });

  it('draws uniforms in [0, 1) and standard normals with the right moments', () => {
    const rng = createRng(7);
    let sum = 0;
    let sumSq = 0;
    let min = 1;
    let max = 0;
    const n = 200_000;
    for (let i = 0; i < n; i++) {
      const u = rng.next();
      min = Math.min(min, u);
      max = Math.max(max, u);
      const z = rng.normal();
      sum += z;
      sumSq += z * z;
    }
    assert.ok(min >= 0 && max < 1, `uniform range ${min}..${max}`);
    assert.ok(Math.abs(sum / n) < 0.01, `normal mean ${sum / n}`);
    assert.ok(Math.abs(sumSq / n - 1) < 0.015, `normal variance ${sumSq / n}`);
  });

  it('rejects a non-integer seed', () => {
    assert.throws(() => createRng(1.5), RangeError);
  });
});
