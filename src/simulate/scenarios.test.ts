import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRng } from '../data/rng.js';
import { applyShift, getScenario, listScenarios, type SimRow, toRequestRecord } from './scenarios.js';

const row = (region: string | null, montant: number | null, churn: 0 | 1 = 0): SimRow => ({
  userId: 'u1',
  features: {
    REGION: region,
    MONTANT: montant,
    REVENUE: 300,
    ARPU_SEGMENT: 100,
    DATA_VOLUME: 50,
    REGULARITY: 40,
    TOP_PACK: 'All-net 500F=2000F;5d',
  },
  churn,
});

test('sudden-drift scales MONTANT and REVENUE (and ARPU_SEGMENT) only for the drift region', () => {
  const shift = getScenario('sudden-drift').shiftAt(0);
  const dakar = applyShift(row('DAKAR', 1000), shift, createRng(1));
  assert.equal(dakar.features.MONTANT, 3000);
  assert.equal(dakar.features.REVENUE, 900);
  assert.equal(dakar.features.ARPU_SEGMENT, 300);
  const thies = applyShift(row('THIES', 1000), shift, createRng(1));
  assert.equal(thies.features.MONTANT, 1000);
  assert.equal(thies.features.REVENUE, 300);
  const missing = applyShift(row('DAKAR', null), shift, createRng(1));
  assert.equal(missing.features.MONTANT, null);
});

test('gradual-drift grows from no shift to the full shift', () => {
  const g = getScenario('gradual-drift');
  assert.equal(applyShift(row('DAKAR', 1000), g.shiftAt(0), createRng(1)).features.MONTANT, 1000);
  assert.equal(applyShift(row('DAKAR', 1000), g.shiftAt(15 * 60_000), createRng(1)).features.MONTANT, 2000);
  assert.equal(
    applyShift(row('DAKAR', 1000), g.shiftAt(10 * 3_600_000), createRng(1)).features.MONTANT,
    3000,
  );
});

test('concept-drift changes labels but never inputs', () => {
  const shift = getScenario('concept-drift').shiftAt(0);
  let changed = 0;
  for (let i = 0; i < 2000; i++) {
    const r = row(i % 2 ? 'DAKAR' : null, 100 * i, 0);
    const s = applyShift(r, shift, createRng(5, i));
    assert.deepEqual(s.features, {
      ...Object.fromEntries(Object.keys(s.features).map((k) => [k, null])),
      ...r.features,
    });
    if (s.churn !== r.churn) changed++;
  }
  assert.ok(changed > 100, `only ${changed} labels changed`);
});

test('missing-spike and new-categories blank or replace about the stated shares', () => {
  let missing = 0;
  let fresh = 0;
  const ms = getScenario('missing-spike').shiftAt(0);
  const nc = getScenario('new-categories').shiftAt(0);
  const n = 4000;
  for (let i = 0; i < n; i++) {
    if (applyShift(row('DAKAR', 10), ms, createRng(9, i)).features.DATA_VOLUME === null) missing++;
    const pack = applyShift(row('DAKAR', 10), nc, createRng(9, i)).features.TOP_PACK;
    if (pack === 'NEW_5G_PACK' || pack === 'Promo Tabaski 2000') fresh++;
  }
  // Binomial(4000, 0.5) and (4000, 0.3): ±4 standard deviations.
  assert.ok(Math.abs(missing / n - 0.5) < 0.032, `missing share ${missing / n}`);
  assert.ok(Math.abs(fresh / n - 0.3) < 0.029, `new-category share ${fresh / n}`);
});

test('stable is the identity, every scenario is documented, unknown names are refused', () => {
  const r = row('DAKAR', 1000, 1);
  const s = applyShift(r, getScenario('stable').shiftAt(0), createRng(1));
  assert.equal(s.features.MONTANT, 1000);
  assert.equal(s.churn, 1);
  for (const sc of listScenarios()) assert.ok(sc.summary.length > 10 && sc.expect.length > 10, sc.name);
  assert.throws(() => getScenario('nope'), /unknown scenario "nope"/);
  const rec = toRequestRecord(s);
  assert.equal(rec.user_id, 'u1');
  assert.equal(rec.MONTANT, 1000);
  assert.equal(rec.ZONE1, null);
});
