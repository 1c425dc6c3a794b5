import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { oraclePath } from '../../test/helpers/shared-files.js';
import { chiSquaredTest } from './chi-squared.js';
import { jensenShannon } from './jensen-shannon.js';
import { ksTest } from './ks-test.js';
import { countByEdges, decileEdges, psi, sharesFromCounts } from './psi.js';
import { populationStd, wasserstein, wassersteinNormed } from './wasserstein.js';

interface NumericCase {
  name: string;
  reference: number[];
  current: number[];
  ks_statistic: number;
  ks_pvalue: number;
  wasserstein: number;
  wasserstein_normed: number;
  psi_decile_edges: number[];
  psi_reference_shares: number[];
  psi_current_shares: number[];
  psi: number;
  jensenshannon_distance_base2_on_psi_bins: number;
}

interface CategoricalCase {
  name: string;
  categories: string[];
  reference_counts: number[];
  current_counts: number[];
  chi2_statistic: number;
  chi2_pvalue: number;
  chi2_dof: number;
  psi: number;
  jensenshannon_distance_base2: number;
}

const numeric = JSON.parse(readFileSync(oraclePath('drift-numeric.json'), 'utf8')) as {
  cases: NumericCase[];
};
const categorical = JSON.parse(readFileSync(oraclePath('drift-categorical.json'), 'utf8')) as {
  cases: CategoricalCase[];
};

function close(actual: number, expected: number, what: string, rel = 1e-9): void {
  const ok =
    actual === expected ||
    Math.abs(actual - expected) <= rel * Math.max(Math.abs(expected), Number.MIN_VALUE);
  assert.ok(ok, `${what}: got ${actual}, expected ${expected} (rel ${rel})`);
}

function closeAbs(actual: number, expected: number, what: string, tol = 1e-12): void {
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: got ${actual}, expected ${expected}`);
}

describe('numeric drift statistics against SciPy (oracle)', () => {
  assert.ok(numeric.cases.length > 0);
  for (const c of numeric.cases) {
    it(c.name, () => {
      const ks = ksTest(c.reference, c.current);
      close(ks.statistic, c.ks_statistic, 'ks statistic');
      close(ks.pValue, c.ks_pvalue, 'ks p-value', 1e-6);

      const w = wasserstein(c.reference, c.current);
      close(w, c.wasserstein, 'wasserstein');
      close(wassersteinNormed(w, populationStd(c.reference)), c.wasserstein_normed, 'wasserstein normed');

      // Edges must be bit-identical: equal-goes-right decides bins of tied values.
      const edges = decileEdges(c.reference);
      assert.deepEqual(edges, c.psi_decile_edges);
      const refShares = sharesFromCounts(countByEdges(edges, c.reference));
      const curShares = sharesFromCounts(countByEdges(edges, c.current));
      for (const [i, s] of c.psi_reference_shares.entries())
        closeAbs(refShares[i]!, s, `reference share ${i}`);
      for (const [i, s] of c.psi_current_shares.entries()) closeAbs(curShares[i]!, s, `current share ${i}`);
      close(psi(refShares, curShares), c.psi, 'psi');
      close(
        jensenShannon(refShares, curShares),
        c.jensenshannon_distance_base2_on_psi_bins,
        'jensen-shannon',
      );
    });
  }
});

describe('categorical drift statistics against SciPy (oracle)', () => {
  assert.ok(categorical.cases.length > 0);
  for (const c of categorical.cases) {
    it(c.name, () => {
      const chi = chiSquaredTest(c.reference_counts, c.current_counts);
      close(chi.statistic, c.chi2_statistic, 'chi2 statistic');
      close(chi.pValue, c.chi2_pvalue, 'chi2 p-value', 1e-6);
      assert.equal(chi.dof, c.chi2_dof);
      const ref = sharesFromCounts(c.reference_counts);
      const cur = sharesFromCounts(c.current_counts);
      close(psi(ref, cur), c.psi, 'psi');
      close(jensenShannon(ref, cur), c.jensenshannon_distance_base2, 'jensen-shannon');
    });
  }
});
