import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { oraclePath } from '../../test/helpers/shared-files.js';
import { createRng } from '../data/rng.js';
import { BIN_MISSING, BIN_OTHER, BIN_UNSEEN } from './reference-bins.js';
import { categoricalProfile, numericProfile } from './reference-profile.js';

describe('reference profile', () => {
  it('cuts numeric bins at NumPy deciles and counts every row once', () => {
    const oracle = JSON.parse(readFileSync(oraclePath('quantiles.json'), 'utf8')) as {
      cases: { name: string; values: number[]; probs: number[]; quantiles_linear: number[] }[];
    };
    const c = oracle.cases[0]!;
    const values = [...c.values, Number.NaN, Number.NaN];
    const profile = numericProfile('x', values, { sampleSize: 10, rng: createRng(1) });
    // The oracle holds the 0.1, 0.5 and 0.9 quantiles: edges 0, 4 and 8 (the lognormal sample has no ties).
    assert.equal(profile.edges.length, 9);
    for (const [edge, p] of [
      [0, 0.1],
      [4, 0.5],
      [8, 0.9],
    ] as const) {
      assert.equal(profile.edges[edge], c.quantiles_linear[c.probs.indexOf(p)], `decile ${p}`);
    }
    assert.equal(profile.count, values.length);
    assert.ok(Math.abs(profile.shares.reduce((s, x) => s + x, 0) - 1) < 1e-12);
    assert.equal(profile.missingShare, 2 / values.length);
    assert.equal(profile.shares[profile.labels.indexOf(BIN_MISSING)], 2 / values.length);
    assert.equal(profile.min, Math.min(...c.values));
    assert.equal(profile.max, Math.max(...c.values));
    assert.equal(profile.sample?.length, 10);
    for (const v of profile.sample ?? []) assert.ok(c.values.includes(v));
  });

  it('keeps the top categories and puts the rest in other, missing in missing', () => {
    const dictionary = ['a', 'b', 'c', 'd'];
    const codes = Int32Array.from([0, 0, 0, 1, 1, 2, 3, -1, -1, 0]);
    const profile = categoricalProfile('cat', codes, dictionary, 2);
    assert.deepEqual(profile.categories, ['a', 'b']);
    assert.deepEqual(profile.labels, ['a', 'b', BIN_OTHER, BIN_UNSEEN, BIN_MISSING]);
    assert.deepEqual(profile.shares, [0.4, 0.2, 0.2, 0, 0.2]);
    assert.deepEqual([...profile.seen].sort(), ['a', 'b', 'c', 'd']);
  });
});
