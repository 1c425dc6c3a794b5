import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { oraclePath } from '../../test/helpers/shared-files.js';
import type { ColumnarTable } from '../data/columnar-table.js';
import { createRng } from '../data/rng.js';
import { buildTableProfile } from '../monitor/report.js';
import { decileEdges } from '../stats/psi.js';
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

  it('cuts tied integer data at the linspace deciles, the same edges in the artifact and the report', () => {
    // n = 11, so the virtual index is 10·p. With linspace's 0.30000000000000004 it is 3.0000000000000004,
    // between sorted[3] = 2 and sorted[4] = 3: the edge is 2 + 2⁻⁵¹ = 2.0000000000000004, one ulp above
    // the 0.2 edge 2, and the two 2s get a bin of their own. The literal 0.3 gives h = 3 and the edge 2,
    // a duplicate, so the 2s join the 3s. Likewise 0.7000000000000001 gives 4 + 2·2⁻⁵¹ (sorted[7] = 4,
    // sorted[8] = 5) where the literal 0.7 gives 4. The expected edges are what NumPy computes:
    // numpy.unique(numpy.quantile(values, numpy.linspace(0.1, 0.9, 9))).
    const values = [0, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6];
    const expected = [1, 2, 2.0000000000000004, 3, 4, 4.000000000000001, 5];
    const table: ColumnarTable = {
      rowCount: values.length,
      header: ['x'],
      columns: new Map([['x', { kind: 'numeric', name: 'x', values: Float64Array.from(values) }]]),
    };
    const artifact = numericProfile('x', values, { sampleSize: 100, rng: createRng(1) });
    const report = buildTableProfile(table, ['x']).features.x;
    assert.ok(report?.kind === 'numeric');
    assert.deepEqual(artifact.edges, expected);
    assert.deepEqual(report.edges, expected);
    // The function the oracle tests pin bit for bit to SciPy's figures (drift-oracles.test.ts).
    assert.deepEqual(decileEdges(values), expected);
    // Bins after `below`: [0,1) [1,2) [2,2+ulp) [2+ulp,3) [3,4) [4,4+2ulp) [4+2ulp,5) [5,6].
    assert.deepEqual(
      artifact.shares.slice(1, 9),
      [1, 1, 2, 0, 2, 2, 0, 3].map((c) => c / values.length),
    );
    assert.deepEqual(report.shares, artifact.shares);
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
