import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ColumnarTable } from '../data/columnar-table.js';
import { parseCsvText } from '../data/csv-reader.js';
import {
  CATEGORICAL_FEATURES,
  CSV_HEADER,
  FEATURES,
  NUMERIC_FEATURES,
  type RawFeatures,
} from '../data/customer-schema.js';
import { createRng } from '../data/rng.js';
import { formatCsvLine, generateCustomerRows, type PeriodShift } from '../data/synthetic.js';
import { recordBinnerOf } from '../model/record-binner.js';
import { buildReferenceProfile, DEFAULT_PROFILE_OPTIONS } from '../model/reference-profile.js';
import type { ReferenceProfile } from '../model/reference-profile-types.js';
import { estimatePerformance } from '../stats/cbpe.js';
import { classificationMetrics } from '../stats/classification.js';
import { evaluateDrift, numericWindow, windowFromTable } from './drift-policy.js';
import { analyzeWindow } from './window-analysis.js';
import { PredictionWindow, type WindowObservation } from './windows.js';

function table(
  rows: number,
  seed: number,
  shift?: PeriodShift,
): { table: ColumnarTable; scores: Float64Array } {
  const generated = [...generateCustomerRows({ rows, seed, ...(shift ? { shift } : {}) })];
  const text = `${[CSV_HEADER.join(','), ...generated.map((r) => formatCsvLine(r))].join('\n')}\n`;
  const parsed = parseCsvText(text, `generated-${seed}.csv`, { schema: 'expresso' });
  return { table: parsed.table, scores: Float64Array.from(generated, (r) => r.churnProbability) };
}

function observations(
  t: ColumnarTable,
  scores: Float64Array,
  threshold: number,
  start = 0,
): WindowObservation[] {
  const out: WindowObservation[] = [];
  for (let i = 0; i < t.rowCount; i++) {
    const features: RawFeatures = {};
    for (const f of NUMERIC_FEATURES) {
      const col = t.columns.get(f);
      if (col?.kind !== 'numeric') throw new TypeError(f);
      const v = col.values[i]!;
      features[f] = Number.isNaN(v) ? null : v;
    }
    for (const f of CATEGORICAL_FEATURES) {
      const col = t.columns.get(f);
      if (col?.kind !== 'categorical') throw new TypeError(f);
      const code = col.codes[i]!;
      features[f] = code < 0 ? null : col.dictionary[code]!;
    }
    const score = scores[i]!;
    out.push({
      id: `p${start + i}`,
      createdAt: 1_000_000 + (start + i) * 1000,
      modelVersion: 'v1',
      features,
      score,
      predictedClass: score >= threshold ? 1 : 0,
    });
  }
  return out;
}

const reference = table(3000, 1);
const THRESHOLD = 0.35;
const profile: ReferenceProfile = buildReferenceProfile(
  reference.table,
  FEATURES,
  reference.scores,
  THRESHOLD,
  {
    ...DEFAULT_PROFILE_OPTIONS,
    rng: createRng(1, 4),
  },
);

describe('PredictionWindow', () => {
  const current = table(1200, 2, { numericScale: { MONTANT: 3 } });
  const obs = observations(current.table, current.scores, THRESHOLD);

  it('keeps the last maxRows rows with running bin counts equal to a recount', () => {
    const w = new PredictionWindow(profile, 'v1', { maxRows: 500 });
    for (const o of obs) w.add(o);
    assert.equal(w.rows, 500);
    const snap = w.snapshot();
    const lastRows = Uint32Array.from({ length: 500 }, (_, k) => 700 + k);
    const expected = windowFromTable(profile, current.table, lastRows);
    for (const f of FEATURES) {
      assert.deepEqual(
        Array.from(snap.drift.features[f.name]!.binCounts),
        Array.from(expected.features[f.name]!.binCounts),
        f.name,
      );
    }
    assert.deepEqual(
      Array.from(snap.drift.features.MONTANT!.values!),
      Array.from(expected.features.MONTANT!.values!),
    );
    const scoreWindow = numericWindow(
      profile.score,
      { kind: 'numeric', name: 'score', values: current.scores },
      lastRows,
    );
    assert.deepEqual(Array.from(snap.drift.score!.binCounts), Array.from(scoreWindow.binCounts));
    assert.deepEqual(Array.from(snap.score), Array.from(current.scores.subarray(700)));
    assert.equal(snap.from, obs[700]!.createdAt);
    assert.equal(snap.to, obs[1199]!.createdAt);
  });

  it('joins labels by prediction id, once, and forgets them on eviction', () => {
    const w = new PredictionWindow(profile, 'v1', { maxRows: 10 });
    for (const o of obs.slice(0, 10)) w.add(o);
    assert.equal(w.setLabel('p3', 1, 5000), true);
    assert.equal(w.setLabel('p3', 0), false, 'the first label stands');
    assert.equal(w.setLabel('p999', 1), false, 'not in the window');
    assert.equal(w.add(obs[3]!), false, 'an id already in the window is not added twice');
    assert.equal(w.labeled, 1);
    const snap = w.snapshot();
    assert.deepEqual(Array.from(snap.label), [-1, -1, -1, 1, -1, -1, -1, -1, -1, -1]);
    assert.equal(snap.labelDelayMs[3], 5000);
    for (const o of obs.slice(10, 14)) w.add(o);
    assert.equal(w.labeled, 0, 'p3 was evicted with its label');
    assert.equal(w.setLabel('p3', 1), false);
  });

  it('indexes appended rows only when a lookup comes, and the same rows as add()', () => {
    const added = new PredictionWindow(profile, 'v1', { maxRows: 10, maxAgeMs: 5_000 });
    const appended = new PredictionWindow(profile, 'v1', { maxRows: 10, maxAgeMs: 5_000 });
    for (const o of obs.slice(0, 25)) {
      added.add(o);
      appended.append(o);
    }
    // Rows 15–24 are in the window; 0–14 were appended, evicted, never indexed.
    assert.equal(appended.has('p14'), false);
    assert.equal(appended.has('p15'), true);
    assert.equal(appended.setLabel('p20', 1, 7), true);
    assert.equal(added.setLabel('p20', 1, 7), true);
    // Appended after the lookup: 8 more evict 15–22 (indexed ones, p20 with its label) and are indexed
    // by the next lookup, mixed with add()'s duplicate check.
    for (const o of obs.slice(25, 33)) {
      appended.append(o);
      added.add(o);
    }
    assert.equal(appended.add(obs[30]!), false, 'an appended id is found by add()');
    assert.equal(appended.setLabel('p20', 0), false, 'evicted');
    assert.equal(appended.has('p22'), false);
    assert.equal(appended.setLabel('p32', 0, 3), true);
    assert.equal(added.setLabel('p32', 0, 3), true);
    // Age eviction of rows appended after the last lookup: createdAt steps by 1 s, so the last 5 s
    // keep p34–p39.
    for (const o of obs.slice(33, 40)) {
      appended.append(o);
      added.add(o);
    }
    assert.equal(appended.setLabel('p35', 1, 1), true);
    assert.equal(added.setLabel('p35', 1, 1), true);
    appended.expire(obs[39]!.createdAt);
    added.expire(obs[39]!.createdAt);
    const a = appended.snapshot();
    const b = added.snapshot();
    assert.equal(a.rows, 6);
    assert.deepEqual(Array.from(a.label), Array.from(b.label));
    assert.deepEqual(Array.from(a.score), Array.from(b.score));
    assert.equal(appended.labeled, 1);
    for (const id of ['p32', 'p33']) assert.equal(appended.has(id), false, id);
    for (const id of ['p34', 'p39']) assert.equal(appended.has(id), true, id);
  });

  it('takes bins computed once by the server and keeps what binning itself would', () => {
    const obs = observations(reference.table, reference.scores, THRESHOLD).slice(0, 900);
    const own = new PredictionWindow(profile, 'v1', { maxRows: 500 });
    for (const o of obs) own.append(o);
    const given = new PredictionWindow(profile, 'v1', { maxRows: 500 });
    // Requests of 100 records, as the route hands them over with their bins.
    for (let start = 0; start < obs.length; start += 100) {
      const batch = obs.slice(start, start + 100);
      const bins = recordBinnerOf(profile).bin(
        batch.map((o) => o.features),
        batch.map((o) => o.score),
      );
      assert.ok(given.accepts(bins));
      for (const [i, o] of batch.entries()) given.appendBinned(o, bins, i);
    }
    assert.deepEqual(given.snapshot(), own.snapshot());
    // A whole request at a time (appendBinnedRows), in requests that wrap the ring, evict, and one
    // larger than the window; with a label joined in between, so that evicting indexed rows counts.
    const sizes = [100, 170, 230, 60, 600, 300];
    const rowWise = new PredictionWindow(profile, 'v1', { maxRows: 500 });
    const whole = new PredictionWindow(profile, 'v1', { maxRows: 500 });
    let start = 0;
    for (const size of sizes) {
      const batch = [...obs, ...obs]
        .slice(start, start + size)
        .map((o, i) => ({ ...o, id: `r${start + i}` }));
      const bins = recordBinnerOf(profile).bin(
        batch.map((o) => o.features),
        batch.map((o) => o.score),
      );
      for (const [i, o] of batch.entries()) rowWise.appendBinned(o, bins, i);
      whole.appendBinnedRows(batch, bins);
      assert.equal(whole.setLabel(`r${start + 1}`, 1, 5), rowWise.setLabel(`r${start + 1}`, 1, 5));
      assert.deepEqual(whole.snapshot(), rowWise.snapshot());
      assert.equal(whole.labeled, rowWise.labeled);
      start += size;
    }
    assert.equal(whole.rows, 500);
    // Bins of another profile (another model) are refused, never counted in the wrong bins.
    const other = buildReferenceProfile(reference.table, FEATURES, reference.scores, 0.5, {
      ...DEFAULT_PROFILE_OPTIONS,
      rng: createRng(2, 4),
    });
    const foreign = recordBinnerOf(other).bin([obs[0]!.features], [obs[0]!.score]);
    assert.equal(given.accepts(foreign), false);
    assert.throws(() => given.appendBinned(obs[0]!, foreign, 0), /another profile/);
  });

  it('drops rows older than maxAgeMs', () => {
    const w = new PredictionWindow(profile, 'v1', { maxRows: 1000, maxAgeMs: 10_000 });
    for (const o of obs.slice(0, 100)) w.add(o);
    const now = obs[99]!.createdAt;
    const snap = w.snapshot(now);
    // createdAt steps by 1 s: rows created at or after now − 10 s stay (11 of them).
    assert.equal(snap.rows, 11);
    let total = 0;
    for (const c of snap.drift.features.REGION!.binCounts as Float64Array) total += c;
    assert.equal(total, 11);
  });

  it('thins raw values evenly to rawValueRows', () => {
    const w = new PredictionWindow(profile, 'v1', { maxRows: 1000, rawValueRows: 100 });
    for (const o of obs.slice(0, 1000)) w.add(o);
    const snap = w.snapshot();
    assert.equal(snap.drift.features.MONTANT!.values!.length, 100);
    assert.equal(snap.drift.score!.values!.length, 100);
    assert.equal(snap.drift.score!.values![1], obs[10]!.score);
  });

  it('analyzeWindow agrees with the statistics modules on the same rows', () => {
    const w = new PredictionWindow(profile, 'v1', { maxRows: 1200 });
    for (const o of obs) w.add(o);
    const labels = current.table.target!;
    // Label every third row; the others stay unknown and must not count.
    for (let i = 0; i < obs.length; i += 3) w.setLabel(obs[i]!.id, labels[i] as 0 | 1, 1000);
    const a = analyzeWindow({ version: 'v1', threshold: THRESHOLD, profile }, w.snapshot());
    const expectedDrift = evaluateDrift(profile, {
      ...windowFromTable(profile, current.table),
      score: numericWindow(profile.score, { kind: 'numeric', name: 'score', values: current.scores }),
    });
    assert.deepEqual(a.drift, expectedDrift);
    const montant = a.drift.features.find((f) => f.feature === 'MONTANT')!;
    assert.equal(montant.drifted, true, 'MONTANT × 3 drifts');
    assert.deepEqual(a.estimated, estimatePerformance(current.scores, THRESHOLD));
    const idx = obs.map((_, i) => i).filter((i) => i % 3 === 0);
    assert.deepEqual(
      a.realized,
      classificationMetrics(
        idx.map((i) => labels[i]!),
        idx.map((i) => current.scores[i]!),
        THRESHOLD,
      ),
    );
    assert.equal(a.labeled, idx.length);
    assert.equal(a.labelCoverage, idx.length / 1200);
    assert.equal(a.labelDelay?.medianSeconds, 1);
  });
});
