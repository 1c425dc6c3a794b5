import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRng } from '../data/rng.js';
import { logLoss } from '../stats/classification.js';
import { calibrate, chooseCalibrator, fitPlatt, maxF1Threshold } from './calibration.js';

/** Labels drawn from sigmoid(2·m - 1): a margin that is too timid and shifted. */
function miscalibrated(n: number, seed: number) {
  const rng = createRng(seed);
  const margins = new Float64Array(n);
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    margins[i] = 4 * rng.next() - 2;
    y[i] = rng.next() < 1 / (1 + Math.exp(-(2 * margins[i]! - 1))) ? 1 : 0;
  }
  return { margins, y };
}

describe('calibration', () => {
  it('Platt scaling recovers the slope and intercept and lowers log loss', () => {
    const { margins, y } = miscalibrated(20_000, 1);
    const all = Uint32Array.from({ length: margins.length }, (_, i) => i);
    const platt = fitPlatt(margins, y, all);
    assert.ok(Math.abs(platt.a - 2) < 0.15, `a = ${platt.a}`);
    assert.ok(Math.abs(platt.b + 1) < 0.1, `b = ${platt.b}`);
    const choice = chooseCalibrator(margins, y);
    assert.equal(choice.calibrator.method, 'platt');
    assert.ok(choice.logLossPlatt < choice.logLossUncalibrated);
    const before = logLoss(
      y,
      Array.from(margins, (m) => 1 / (1 + Math.exp(-m))),
    );
    const after = logLoss(
      y,
      Array.from(margins, (m) => calibrate(choice.calibrator, m)),
    );
    assert.ok(after < before);
  });

  it('finds slope 1 and intercept 0 when the margin is already calibrated', () => {
    const rng = createRng(5);
    const n = 4000;
    const margins = Float64Array.from({ length: n }, () => 4 * rng.next() - 2);
    const y = Uint8Array.from(margins, (m) => (rng.next() < 1 / (1 + Math.exp(-m)) ? 1 : 0));
    const platt = fitPlatt(
      margins,
      y,
      Uint32Array.from({ length: n }, (_, i) => i),
    );
    assert.ok(Math.abs(platt.a - 1) < 0.15, `a = ${platt.a}`);
    assert.ok(Math.abs(platt.b) < 0.1, `b = ${platt.b}`);
  });

  it('picks the threshold with the best F1, checked by brute force', () => {
    const rng = createRng(9);
    const scores = Float64Array.from({ length: 300 }, () => Math.round(rng.next() * 50) / 50);
    const y = Uint8Array.from(scores, (s) => (rng.next() < s ? 1 : 0));
    let best = { threshold: 0, f1: -1 };
    for (const t of new Set(scores)) {
      let tp = 0;
      let fp = 0;
      let fn = 0;
      scores.forEach((s, i) => {
        if (s >= t && y[i]) tp++;
        else if (s >= t) fp++;
        else if (y[i]) fn++;
      });
      const f1 = (2 * tp) / (2 * tp + fp + fn);
      if (f1 > best.f1 || (f1 === best.f1 && t > best.threshold)) best = { threshold: t, f1 };
    }
    const found = maxF1Threshold(scores, y);
    assert.equal(found.threshold, best.threshold);
    assert.ok(Math.abs(found.f1 - best.f1) < 1e-12);
  });
});
