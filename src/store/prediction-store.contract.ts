/**
 * The one test suite every PredictionStore backend must pass (Hono's runTest({ newRouter }) pattern):
 * test/integration/store-sqlite.test.ts and store-postgres.test.ts call it with a factory that returns
 * a fresh, empty, migrated store. Expected values are written out here, never read back from the store.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { categoricalName, genericSchema, numericName } from '../../test/helpers/generic-data.js';
import type { ColumnarTable } from '../data/columnar-table.js';
import { FEATURES, NUMERIC_FEATURES, type RawFeatures } from '../data/customer-schema.js';
import type { FeatureSpec } from '../data/feature-types.js';
import { isChurnwatchError } from '../errors.js';
import type { LoggedPrediction, PredictionRecord, PredictionStore } from './prediction-store.js';
import { toPredictionRows } from './store-columns.js';

/** A fresh, empty, migrated store holding `features` (default Expresso's). */
export type StoreFactory = (features?: readonly FeatureSpec[]) => Promise<PredictionStore>;

/** A database that stores can open again (a file, a PostgreSQL schema), for the schema-growth cases. */
export interface StorePlace {
  /** Opens (not migrates) a store on the place with these features; column blocks of 4 where it has them. */
  open(features: readonly FeatureSpec[]): PredictionStore;
  dispose(): Promise<void>;
}

/** A small seeded generator so the suite is the same on every run and backend. */
function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const HOUR = 3_600_000;
/** A Monday, the start of the simulated weeks of the retention cases. */
const WEEK_0 = Date.UTC(2024, 0, 1);

const TRICKY_PACK = 'Jeu 2F=\t4,"On-net" 1000F; ünïcødé 日本 🚀 \\ end';

export function fullFeatures(i: number): RawFeatures {
  const features: RawFeatures = {};
  NUMERIC_FEATURES.forEach((name, f) => {
    features[name] = i * 10.25 + f + 0.1 + 0.2;
  });
  features.REGION = 'DAKAR';
  features.TENURE = 'K > 24 month';
  features.MRG = 'NO';
  features.TOP_PACK = TRICKY_PACK;
  return features;
}

export function prediction(
  id: string,
  createdAt: number,
  extra: Partial<PredictionRecord> = {},
): PredictionRecord {
  return {
    id,
    createdAt,
    userId: `user-${id}`,
    modelVersion: 'v1',
    features: fullFeatures(createdAt % 97),
    score: 0.25,
    predictedClass: 0,
    ...extra,
  };
}

/** Every feature key present, null where the record had none: how the store returns features. */
function withAllFeatures(features: RawFeatures): RawFeatures {
  return Object.fromEntries(FEATURES.map((f) => [f.name, features[f.name] ?? null]));
}

function logged(
  record: PredictionRecord,
  label: 0 | 1 | null = null,
  labelObservedAt: number | null = null,
): LoggedPrediction {
  return { ...record, features: withAllFeatures(record.features), label, labelObservedAt };
}

export async function readAll(store: PredictionStore, query = {}): Promise<LoggedPrediction[]> {
  const out: LoggedPrediction[] = [];
  for await (const page of store.readPredictions(query)) out.push(...page);
  return out;
}

function byKey(features: RawFeatures): Record<string, unknown> {
  return Object.fromEntries(Object.entries(features).sort(([a], [b]) => a.localeCompare(b)));
}

function normalise(rows: LoggedPrediction[]): unknown[] {
  return rows.map((r) => ({ ...r, features: byKey(r.features) }));
}

/**
 * The awkward names of test/helpers/generic-data.ts (spaces, dashes, a leading digit, `score` and `id`)
 * plus a case-only clash, quotes and non-ASCII letters, an Expresso name of the other kind, and `label`.
 */
export const AWKWARD_FEATURES: readonly FeatureSpec[] = [
  ...genericSchema(5, 4).features.map((f) => ({ name: f.name, kind: f.kind })),
  { name: 'Total', kind: 'numeric' },
  { name: 'total', kind: 'numeric' },
  { name: 'label', kind: 'numeric' },
  { name: 'MONTANT', kind: 'categorical' },
  { name: 'Région "Nord"; DROP TABLE predictions; --', kind: 'categorical' },
  { name: '日本 🚀', kind: 'numeric' },
];

/** Values for `features` in row i: numbers and texts that differ per feature, a few missing. */
export function genericFeatures(features: readonly FeatureSpec[], i: number): RawFeatures {
  const out: RawFeatures = {};
  features.forEach((f, k) => {
    if ((i + k) % 5 === 0) return;
    out[f.name] = f.kind === 'numeric' ? i * 1.5 + k / 8 : `${f.name.slice(0, 3)}-${(i * (k + 1)) % 4}`;
  });
  return out;
}

function genericPrediction(features: readonly FeatureSpec[], id: string, i: number): PredictionRecord {
  return {
    id,
    createdAt: 10_000 + ((i * 7) % 23) * 100 + i,
    userId: `u-${i % 6}`,
    modelVersion: i % 2 ? 'g1' : 'g2',
    features: genericFeatures(features, i),
    score: (i % 10) / 10,
    predictedClass: (i % 2) as 0 | 1,
  };
}

/** Every feature of `table` as plain values (null for missing), by name. */
function featureValues(table: ColumnarTable): Record<string, (number | string | null)[]> {
  const out: Record<string, (number | string | null)[]> = {};
  for (const [name, column] of table.columns) {
    out[name] =
      column.kind === 'numeric'
        ? Array.from(column.values, (v) => (Number.isNaN(v) ? null : v))
        : Array.from(column.codes, (c) => (c < 0 ? null : column.dictionary[c]!));
  }
  return out;
}

/** The same values from objects, for `names`. */
function objectValues(rows: LoggedPrediction[], names: readonly string[]): Record<string, unknown[]> {
  return Object.fromEntries(names.map((n) => [n, rows.map((r) => r.features[n] ?? null)]));
}

/** Records as the store returns them: every feature in `names` a key, null where absent. */
function loggedAs(names: readonly string[], record: PredictionRecord, label: 0 | 1 | null = null) {
  return {
    ...record,
    features: byKey(Object.fromEntries(names.map((n) => [n, record.features[n] ?? null]))),
    label,
    labelObservedAt: label === null ? null : record.createdAt + 5,
  };
}

export function describePredictionStore(
  name: string,
  createStore: StoreFactory,
  place?: () => Promise<StorePlace>,
): void {
  describe(`PredictionStore contract: ${name}`, () => {
    async function withStore(
      fn: (store: PredictionStore) => Promise<void>,
      features?: readonly FeatureSpec[],
    ): Promise<void> {
      const store = await createStore(features);
      try {
        await fn(store);
      } finally {
        await store.close();
      }
    }

    it('migrates idempotently and answers ping', () =>
      withStore(async (store) => {
        await store.migrate();
        await store.migrate();
        await store.ping();
        assert.deepEqual(await store.countFeedback(), { joined: 0, pending: 0, duplicate: 0, conflict: 0 });
      }));

    it('insertRows stores packed rows, skips empty batches and ids already stored', () =>
      withStore(async (store) => {
        const a = prediction('r-a', 1000, { score: 0.75, predictedClass: 1 });
        const b = prediction('r-b', 2000, { userId: null, features: { MONTANT: 0, TOP_PACK: '' } });
        await store.insertRows(toPredictionRows([b, a]));
        await store.insertRows(toPredictionRows([]));
        await store.insertRows(toPredictionRows([a])); // a retried row is skipped
        assert.deepEqual(normalise(await readAll(store)), normalise([logged(a), logged(b)]));
      }));

    it('reads back every column, nulls and awkward text, in time order', () =>
      withStore(async (store) => {
        const full = prediction('p-full', 3000, {
          score: 0.123456789012345,
          predictedClass: 1,
          modelVersion: 'v2',
        });
        const sparse = prediction('p-sparse', 1000, {
          userId: null,
          features: { MONTANT: 0, REGION: null, TOP_PACK: '' },
        });
        const missingAll = prediction('p-none', 2000, { features: {} });
        await store.insertRows(toPredictionRows([full, sparse, missingAll]));
        const rows = await readAll(store);
        assert.deepEqual(normalise(rows), normalise([logged(sparse), logged(missingAll), logged(full)]));
        assert.equal(rows[2]!.features.TOP_PACK, TRICKY_PACK);
        assert.equal(rows[2]!.features.MONTANT, fullFeatures(3000 % 97).MONTANT);
        assert.equal(rows[0]!.features.TOP_PACK, '', 'an empty string is a value, not a missing one');
        assert.equal(rows[0]!.features.MONTANT, 0);
      }));

    it('keeps extreme numbers and texts that array and SQL syntax treat specially, exactly', () =>
      withStore(async (store) => {
        // PostgreSQL receives a batch as one array per column (binary numbers, text literals): these
        // are what such encodings get wrong. Two rows, so each column has a batch with and without nulls.
        const awkward = ['NULL', 'null', '{a,b}', 'say "hi"', 'back\\slash\\', ' padded ', ',', '"', '\\"'];
        const extremes = [
          1e-300,
          -123456.789,
          2 ** 53 - 1,
          1.7976931348623157e308,
          5e-324,
          -0.1 - 0.2,
          Number.MAX_SAFE_INTEGER + 2,
          123456789.12345679,
          -1e21,
          0.1,
          7,
          -2,
          1 / 3,
        ];
        const features: RawFeatures = {
          REGION: awkward[2]!,
          TENURE: awkward[0]!,
          MRG: awkward[4]!,
          TOP_PACK: awkward.join(''),
        };
        NUMERIC_FEATURES.forEach((name, f) => {
          features[name] = extremes[f % extremes.length]!;
        });
        const records = awkward.map((text, i) =>
          prediction(`odd-${i}`, 5000 + i, {
            userId: text,
            modelVersion: awkward[(i + 1) % awkward.length]!,
            score: extremes[i % extremes.length]! / 2 ** 1030 + 0.5,
            predictedClass: (i % 2) as 0 | 1,
            features: i % 2 === 0 ? features : { MONTANT: null, REGION: text },
          }),
        );
        await store.insertRows(toPredictionRows(records));
        assert.deepEqual(normalise(await readAll(store)), normalise(records.map((r) => logged(r))));
      }));

    it('skips ids it already has, so a retried batch is harmless', () =>
      withStore(async (store) => {
        const a = prediction('a', 1000);
        await store.insertRows(toPredictionRows([a]));
        await store.insertRows(toPredictionRows([{ ...a, score: 0.9 }, prediction('b', 2000)]));
        const rows = await readAll(store);
        assert.deepEqual(
          rows.map((r) => [r.id, r.score]),
          [
            ['a', 0.25],
            ['b', 0.25],
          ],
        );
      }));

    it('storedIds tells which ids are stored, texts that SQL and JSON treat specially included', () =>
      withStore(async (store) => {
        const odd = ['a', "it's", '"q"', 'x,y', '{b}', 'back\\slash', 'é ü'];
        await store.insertRows(toPredictionRows(odd.map((id, i) => prediction(id, 1000 + i))));
        assert.deepEqual(await store.storedIds([]), new Set());
        assert.deepEqual(
          await store.storedIds([...odd, 'missing', 'A', '']),
          new Set(odd),
          'every stored id, no other (case matters)',
        );
        assert.deepEqual(await store.storedIds(['missing']), new Set());
      }));

    it('joins feedback by prediction id, with the delay and what the metrics need', () =>
      withStore(async (store) => {
        await store.insertRows(
          toPredictionRows([prediction('p1', 1000, { score: 0.8, predictedClass: 1, modelVersion: 'v7' })]),
        );
        const [outcome] = await store.recordFeedback([
          { predictionId: 'p1', label: 1, observedAt: 4000, receivedAt: 5000 },
        ]);
        assert.equal(outcome?.status, 'joined');
        assert.equal(outcome.label, 1);
        assert.equal(outcome.labelDelayMs, 3000);
        assert.deepEqual(outcome.prediction, {
          id: 'p1',
          createdAt: 1000,
          modelVersion: 'v7',
          score: 0.8,
          predictedClass: 1,
        });
        const [row] = await readAll(store);
        assert.equal(row?.label, 1);
        assert.equal(row.labelObservedAt, 4000);
      }));

    it('joins feedback by user id to the latest prediction at or before observedAt, never a later one', () =>
      withStore(async (store) => {
        await store.insertRows(
          toPredictionRows([
            prediction('u-1', 1000, { userId: 'u' }),
            prediction('u-3', 3000, { userId: 'u' }),
            prediction('u-2', 2000, { userId: 'u' }),
            prediction('other', 2400, { userId: 'someone-else' }),
          ]),
        );
        const [later, exact, early] = await store.recordFeedback([
          { userId: 'u', label: 1, observedAt: 2500, receivedAt: 9000 },
          { userId: 'u', label: 0, observedAt: 1000, receivedAt: 9000 },
          { userId: 'u', label: 0, observedAt: 999, receivedAt: 9000 },
        ]);
        assert.equal(later?.status, 'joined');
        assert.equal(later.prediction?.id, 'u-2');
        assert.equal(exact?.status, 'joined');
        assert.equal(exact.prediction?.id, 'u-1', 'created_at equal to observedAt counts as before');
        assert.equal(early?.status, 'pending', 'no prediction before 999 yet');
        const labels = Object.fromEntries((await readAll(store)).map((r) => [r.id, r.label]));
        assert.deepEqual(labels, { 'u-1': 0, 'u-2': 1, other: null, 'u-3': null });
      }));

    it('keeps unmatched feedback pending and joins it once the prediction arrives', () =>
      withStore(async (store) => {
        const outcomes = await store.recordFeedback([
          { predictionId: 'late', label: 1, observedAt: 5000, receivedAt: 5000 },
          { userId: 'late-user', label: 0, observedAt: 5000, receivedAt: 5001 },
          { predictionId: 'never', label: 0, observedAt: 5000, receivedAt: 5002 },
        ]);
        assert.deepEqual(
          outcomes.map((o) => o.status),
          ['pending', 'pending', 'pending'],
        );
        assert.deepEqual(await store.joinPending(), { outcomes: [], tried: 0 }, 'nothing to join yet');
        // The named prediction is not replaced by an older one for the same user.
        await store.insertRows(
          toPredictionRows([
            prediction('late', 1000, { userId: 'late-user' }),
            prediction('after', 6000, { userId: 'late-user' }),
          ]),
        );
        const joined = await store.joinPending();
        // Only the two items these predictions could match are tried, not 'never'.
        assert.equal(joined.tried, 2);
        assert.deepEqual(
          joined.outcomes.map((o) => [o.status, o.prediction?.id, o.label, o.labelDelayMs]),
          [
            ['joined', 'late', 1, 4000],
            // The user's feedback resolves to the same prediction, now labelled 1: its 0 is a conflict.
            ['conflict', 'late', 0, undefined],
          ],
        );
        assert.deepEqual(await store.countFeedback(), { joined: 1, pending: 1, duplicate: 0, conflict: 1 });
        assert.equal(await store.countPendingFeedback(), 1);
        assert.deepEqual(
          await store.joinPending(),
          { outcomes: [], tried: 0 },
          'a second pass tries nothing: no prediction written since could match',
        );
        const rows = await readAll(store);
        assert.deepEqual(
          rows.map((r) => [r.id, r.label, r.labelObservedAt]),
          [
            ['late', 1, 5000],
            ['after', null, null],
          ],
        );
      }));

    it('retries a pending item only when a prediction that could match it is written', () =>
      withStore(async (store) => {
        await store.recordFeedback([
          { predictionId: 'by-id', label: 1, observedAt: 5000, receivedAt: 5000 },
          { userId: 'by-user', label: 0, observedAt: 5000, receivedAt: 5001 },
          ...Array.from({ length: 50 }, (_, k) => ({
            predictionId: `unknown-${k}`,
            label: 1 as const,
            observedAt: 5000,
            receivedAt: 5002 + k,
          })),
        ]);
        // Unrelated predictions, and one of the user's made after the outcome: nothing could match.
        await store.insertRows(
          toPredictionRows([
            prediction('other-1', 1000),
            prediction('other-2', 2000, { userId: 'someone' }),
            prediction('too-late', 6000, { userId: 'by-user' }),
          ]),
        );
        assert.deepEqual(await store.joinPending(), { outcomes: [], tried: 0 });
        // The named prediction arrives: that item alone is tried, and joins.
        await store.insertRows(toPredictionRows([prediction('by-id', 1500)]));
        const byId = await store.joinPending();
        assert.equal(byId.tried, 1);
        assert.deepEqual(
          byId.outcomes.map((o) => [o.status, o.prediction?.id]),
          [['joined', 'by-id']],
        );
        // The user's prediction before the outcome arrives: the user's item joins it.
        await store.insertRows(toPredictionRows([prediction('user-early', 4000, { userId: 'by-user' })]));
        const byUser = await store.joinPending();
        assert.equal(byUser.tried, 1);
        assert.deepEqual(
          byUser.outcomes.map((o) => [o.status, o.prediction?.id, o.labelDelayMs]),
          [['joined', 'user-early', 1000]],
        );
        assert.deepEqual(await store.joinPending(), { outcomes: [], tried: 0 });
        assert.deepEqual(await store.pendingStats(), { count: 50, oldestReceivedAt: 5002 });
      }));

    it('drops expired pending feedback, then the oldest beyond the cap, and counts both', () =>
      withStore(async (store) => {
        // 2,500 items: more than one page of deletes (DROP_PENDING_PAGE).
        await store.recordFeedback(
          Array.from({ length: 2500 }, (_, k) => ({
            predictionId: `gone-${k}`,
            label: (k % 2) as 0 | 1,
            observedAt: 1000 + k,
            receivedAt: 1000 + k,
          })),
        );
        await store.insertRows(toPredictionRows([prediction('joined', 900)]));
        await store.recordFeedback([{ predictionId: 'joined', label: 1, observedAt: 950, receivedAt: 950 }]);
        assert.deepEqual(await store.pendingStats(), { count: 2500, oldestReceivedAt: 1000 });
        assert.deepEqual(await store.dropPending({ max: 100_000, receivedBefore: 1100 }), {
          cap: 0,
          expired: 100,
        });
        assert.deepEqual(await store.dropPending({ max: 1000, receivedBefore: 1100 }), {
          cap: 1400,
          expired: 0,
        });
        // The newest 1,000 stay; joined feedback is never dropped.
        assert.deepEqual(await store.pendingStats(), { count: 1000, oldestReceivedAt: 2500 });
        assert.deepEqual(await store.countFeedback(), {
          joined: 1,
          pending: 1000,
          duplicate: 0,
          conflict: 0,
        });
        assert.deepEqual(await store.dropPending({ max: 1000, receivedBefore: 0 }), { cap: 0, expired: 0 });
        // A dropped item is gone: its prediction arriving now joins nothing.
        await store.insertRows(toPredictionRows([prediction('gone-5', 3000), prediction('gone-2499', 3000)]));
        const late = await store.joinPending();
        assert.deepEqual(
          late.outcomes.map((o) => [o.status, o.prediction?.id]),
          [['joined', 'gone-2499']],
        );
        assert.deepEqual(await store.dropPending({ max: 0, receivedBefore: 0 }), { cap: 999, expired: 0 });
        assert.deepEqual(await store.pendingStats(), { count: 0, oldestReceivedAt: null });
      }));

    it('treats the same label again as a duplicate and a different one as a conflict; the first stands', () =>
      withStore(async (store) => {
        await store.insertRows(toPredictionRows([prediction('p', 1000), prediction('q', 1000)]));
        const first = await store.recordFeedback([
          { predictionId: 'p', label: 1, observedAt: 2000, receivedAt: 2000 },
        ]);
        const again = await store.recordFeedback([
          { predictionId: 'p', label: 1, observedAt: 3000, receivedAt: 3000 },
          { predictionId: 'p', label: 0, observedAt: 4000, receivedAt: 4000 },
          // In one batch: the first item joins, the next ones see its label.
          { predictionId: 'q', label: 0, observedAt: 2000, receivedAt: 4000 },
          { predictionId: 'q', label: 1, observedAt: 2000, receivedAt: 4000 },
          { predictionId: 'q', label: 0, observedAt: 2000, receivedAt: 4000 },
        ]);
        assert.deepEqual(
          [...first, ...again].map((o) => o.status),
          ['joined', 'duplicate', 'conflict', 'joined', 'conflict', 'duplicate'],
        );
        assert.equal(again[1]?.prediction?.id, 'p');
        assert.equal(again[1].labelDelayMs, undefined);
        assert.equal(new Set([...first, ...again].map((o) => o.feedbackId)).size, 6, 'every attempt is kept');
        assert.deepEqual(await store.countFeedback(), { joined: 2, pending: 0, duplicate: 2, conflict: 2 });
        assert.equal(await store.countPendingFeedback(), 0);
        const rows = await readAll(store);
        assert.deepEqual(
          rows.map((r) => [r.id, r.label, r.labelObservedAt]),
          [
            ['p', 1, 2000],
            ['q', 0, 2000],
          ],
        );
      }));

    it('rejects feedback that names neither a prediction nor a user', () =>
      withStore(async (store) => {
        await assert.rejects(
          store.recordFeedback([{ label: 1, observedAt: 1, receivedAt: 1 }]),
          /feedback 0: needs a predictionId or a userId/,
        );
      }));

    it('readColumns equals readPredictions for every kind of query, across pages', () =>
      withStore(async (store) => {
        const rng = seeded(42);
        const records: PredictionRecord[] = [];
        for (let i = 0; i < 240; i++) {
          const features: RawFeatures = {};
          for (const f of FEATURES) {
            if (rng() < 0.15) continue;
            features[f.name] =
              f.kind === 'numeric' ? Math.round(rng() * 1e6) / 100 : `cat-${Math.floor(rng() * 5)}`;
          }
          records.push({
            id: `r${String(i).padStart(4, '0')}`,
            // Ties on created_at exercise the (created_at, id) keyset.
            createdAt: 1_000_000 + Math.floor(i / 3) * 1000,
            userId: `u${i % 50}`,
            modelVersion: i % 4 === 0 ? 'v2' : 'v1',
            features,
            score: rng(),
            predictedClass: rng() < 0.3 ? 1 : 0,
          });
        }
        const shuffled = [...records].sort(() => rng() - 0.5);
        for (let i = 0; i < shuffled.length; i += 50)
          await store.insertRows(toPredictionRows(shuffled.slice(i, i + 50)));
        await store.recordFeedback(
          records
            .filter((_, i) => i % 3 === 0)
            .map((r, k) => ({
              predictionId: r.id,
              label: (k % 2) as 0 | 1,
              observedAt: r.createdAt + 500,
              receivedAt: r.createdAt + 600,
            })),
        );
        const queries = [
          {},
          { pageSize: 7 },
          { from: 1_010_000, to: 1_050_000, pageSize: 11 },
          { limit: 25, pageSize: 4 },
          { modelVersion: 'v2', limit: 10 },
          { limit: 0 },
        ];
        for (const query of queries) {
          const rows = await readAll(store, query);
          const columns = await store.readColumns(query);
          assert.equal(columns.rowCount, rows.length, JSON.stringify(query));
          rows.forEach((row, i) => {
            assert.equal(columns.createdAt[i], row.createdAt);
            assert.equal(columns.score[i], row.score);
            assert.equal(columns.predictedClass[i], row.predictedClass);
            assert.equal(columns.label[i], row.label ?? -1);
            assert.ok(Object.is(columns.labelObservedAt[i], row.labelObservedAt ?? Number.NaN));
            assert.equal(columns.modelVersion.dictionary[columns.modelVersion.codes[i]!], row.modelVersion);
            for (const f of FEATURES) {
              const column = columns.features.columns.get(f.name);
              const expected = row.features[f.name] ?? null;
              if (column?.kind === 'numeric')
                assert.ok(Object.is(column.values[i], expected ?? Number.NaN), f.name);
              else if (column?.kind === 'categorical') {
                const code = column.codes[i]!;
                assert.equal(code === -1 ? null : column.dictionary[code], expected, f.name);
              } else assert.fail(`no column ${f.name}`);
            }
          });
          // And both agree with what was written, in (created_at, id) order.
          const expectedIds = records
            .filter(
              (r) =>
                (query as { modelVersion?: string }).modelVersion === undefined ||
                r.modelVersion === (query as { modelVersion?: string }).modelVersion,
            )
            .filter(
              (r) =>
                r.createdAt >= ((query as { from?: number }).from ?? -Infinity) &&
                r.createdAt < ((query as { to?: number }).to ?? Infinity),
            )
            .map((r) => r.id);
          const limit = (query as { limit?: number }).limit;
          assert.deepEqual(
            rows.map((r) => r.id),
            limit === undefined ? expectedIds : expectedIds.slice(Math.max(0, expectedIds.length - limit)),
            JSON.stringify(query),
          );
        }
        const all = await store.readColumns();
        assert.equal(all.features.rowCount, 240);
        assert.equal(Array.from(all.label).filter((l) => l !== -1).length, 80);
      }));

    it('stores any schema: awkward feature names read back as objects and as columns, feedback joins', () =>
      withStore(async (store) => {
        const names = AWKWARD_FEATURES.map((f) => f.name);
        const records = Array.from({ length: 23 }, (_, i) => genericPrediction(AWKWARD_FEATURES, `g${i}`, i));
        await store.insertRows(toPredictionRows(records.slice(0, 11), store.rowLayout));
        await store.insertRows(toPredictionRows(records.slice(11), store.rowLayout));
        const labelled = records.filter((_, i) => i % 3 === 0);
        const outcomes = await store.recordFeedback(
          labelled.map((r, k) =>
            k % 2
              ? { predictionId: r.id, label: 1, observedAt: r.createdAt + 5, receivedAt: 99_000 }
              : { predictionId: r.id, label: 0, observedAt: r.createdAt + 5, receivedAt: 99_000 },
          ),
        );
        assert.deepEqual(
          outcomes.map((o) => o.status),
          labelled.map(() => 'joined'),
        );
        const labelOf = new Map(labelled.map((r, k) => [r.id, (k % 2) as 0 | 1]));
        const sorted = [...records].sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
        const rows = await readAll(store);
        assert.deepEqual(
          normalise(rows),
          sorted.map((r) => loggedAs(names, r, labelOf.get(r.id) ?? null)),
        );
        const columns = await store.readColumns();
        assert.deepEqual(columns.features.header, names);
        assert.deepEqual(featureValues(columns.features), objectValues(rows, names));
        assert.deepEqual(
          Array.from(columns.label),
          sorted.map((r) => labelOf.get(r.id) ?? -1),
        );
        // Only the features asked for; a name the database does not hold is a clear error.
        const two = await store.readColumns({ features: ['Score', 'id'] });
        assert.deepEqual([...two.features.columns.keys()], ['Score', 'id']);
        await assert.rejects(store.readColumns({ features: ['nope'] }), (error: Error) => {
          assert.ok(isChurnwatchError(error) && error.code === 'CW_STORE_UNKNOWN_FEATURE', String(error));
          assert.match(error.message, /"nope"/);
          return true;
        });
      }, AWKWARD_FEATURES));

    it('stores 200 features (120 numeric, 80 categorical) and reads them back as columns', () => {
      const wide: FeatureSpec[] = [
        ...Array.from({ length: 120 }, (_, i) => ({ name: numericName(i), kind: 'numeric' as const })),
        ...Array.from({ length: 80 }, (_, i) => ({ name: categoricalName(i), kind: 'categorical' as const })),
      ];
      return withStore(async (store) => {
        const records = Array.from({ length: 40 }, (_, i) => genericPrediction(wide, `w${i}`, i));
        await store.insertRows(toPredictionRows(records, store.rowLayout));
        const rows = await readAll(store);
        const names = wide.map((f) => f.name);
        const columns = await store.readColumns();
        assert.equal(columns.rowCount, 40);
        assert.deepEqual(columns.features.header, names);
        assert.deepEqual(featureValues(columns.features), objectValues(rows, names));
        const sorted = [...records].sort((a, b) => a.createdAt - b.createdAt);
        assert.deepEqual(
          objectValues(rows, names),
          objectValues(
            sorted.map((r) => loggedAs(names, r) as LoggedPrediction),
            names,
          ),
        );
      }, wide);
    });

    it('retention keeps only the span: older predictions go with the feedback resolved to them', () =>
      withStore(async (store) => {
        // Five simulated weeks, a prediction an hour, inserted a day at a time with each day shuffled
        // (blocks then overlap in time); the last batch written is the newest day.
        const records = Array.from({ length: 5 * 7 * 24 }, (_, k) =>
          prediction(`h${String(k).padStart(4, '0')}`, WEEK_0 + k * HOUR, { userId: `u-${k % 13}` }),
        );
        for (let day = 0; day < 5 * 7; day++) {
          const batch = records.slice(day * 24, day * 24 + 24);
          await store.insertRows(toPredictionRows(day % 2 ? [...batch].reverse() : batch));
        }
        // Every third prediction labelled; a repeat (duplicate) and a different label (conflict) for
        // every ninth; items pending for predictions that never come.
        const labelled = records.filter((_, k) => k % 3 === 0);
        const outcomes = await store.recordFeedback([
          ...labelled.map((r, i) => ({
            predictionId: r.id,
            label: (i % 2) as 0 | 1,
            observedAt: r.createdAt + 60_000,
            receivedAt: r.createdAt + 120_000,
          })),
          ...labelled
            .filter((_, i) => i % 3 === 0)
            .flatMap((r, i) => [
              {
                predictionId: r.id,
                label: ((i * 3) % 2) as 0 | 1,
                observedAt: r.createdAt + 1,
                receivedAt: 1,
              },
              {
                predictionId: r.id,
                label: (1 - ((i * 3) % 2)) as 0 | 1,
                observedAt: r.createdAt,
                receivedAt: 1,
              },
            ]),
          ...Array.from({ length: 10 }, (_, k) => ({
            predictionId: `never-${k}`,
            label: 1 as const,
            observedAt: WEEK_0,
            receivedAt: WEEK_0 + k,
          })),
        ]);
        const statuses = outcomes.map((o) => o.status);
        assert.equal(statuses.filter((x) => x === 'joined').length, 280);
        assert.equal(statuses.filter((x) => x === 'duplicate').length, 94);
        assert.equal(statuses.filter((x) => x === 'conflict').length, 94);

        // Keep the last two weeks and a half hour.
        const cutoff = WEEK_0 + 3 * 7 * 24 * HOUR - HOUR / 2;
        const old = records.filter((r) => r.createdAt < cutoff);
        assert.equal(old.length, 504);
        const oldLabelled = labelled.filter((r) => r.createdAt < cutoff);
        // 168 joined, and a duplicate and a conflict for each of the 56 labelled every ninth hour.
        assert.deepEqual(await store.dropPredictions(cutoff), { predictions: 504, feedback: 168 + 2 * 56 });
        assert.equal(oldLabelled.length, 168);

        const kept = records.filter((r) => r.createdAt >= cutoff);
        const rows = await readAll(store);
        assert.deepEqual(
          rows.map((r) => r.id),
          kept.map((r) => r.id),
        );
        const labels = new Map(labelled.map((r, i) => [r.id, i % 2]));
        assert.deepEqual(
          rows.map((r) => r.label),
          kept.map((r) => labels.get(r.id) ?? null),
        );
        const columns = await store.readColumns();
        assert.deepEqual(
          Array.from(columns.createdAt),
          kept.map((r) => r.createdAt),
        );
        assert.deepEqual(
          Array.from(columns.label),
          kept.map((r) => labels.get(r.id) ?? -1),
        );
        assert.equal((await store.readColumns({ from: WEEK_0, to: cutoff })).rowCount, 0);
        // Pending items are retention's business only through their own expiry (dropPending).
        assert.deepEqual(await store.countFeedback(), {
          joined: 112,
          pending: 10,
          duplicate: 38,
          conflict: 38,
        });
        const stats = await store.storeStats();
        assert.equal(stats.oldestPredictionAt, kept[0]!.createdAt);
        assert.ok(stats.sizeBytes > 0, `size ${stats.sizeBytes}`);
        assert.deepEqual(await store.dropPredictions(cutoff), { predictions: 0, feedback: 0 });

        // Feedback for a deleted prediction waits as pending; by user it joins the user's latest kept
        // prediction at or before the outcome, none of the deleted ones.
        const [gone, byUser, tooEarly] = await store.recordFeedback([
          { predictionId: old[1]!.id, label: 1, observedAt: cutoff, receivedAt: cutoff },
          { userId: 'u-4', label: 1, observedAt: cutoff + 24 * HOUR, receivedAt: cutoff },
          { userId: 'u-5', label: 1, observedAt: cutoff - HOUR, receivedAt: cutoff },
        ]);
        assert.equal(gone?.status, 'pending');
        const latest = kept.filter((r) => r.userId === 'u-4' && r.createdAt <= cutoff + 24 * HOUR).at(-1)!;
        assert.equal(byUser?.prediction?.id, latest.id);
        assert.equal(tooEarly?.status, 'pending');

        // Writing goes on: new predictions are stored, sealed and joined as before.
        const later = Array.from({ length: 30 }, (_, k) =>
          prediction(`n${k}`, WEEK_0 + 5 * 7 * 24 * HOUR + k, { userId: 'late-user' }),
        );
        await store.insertRows(toPredictionRows(later));
        const [joined] = await store.recordFeedback([
          { userId: 'late-user', label: 0, observedAt: later[29]!.createdAt, receivedAt: 1 },
        ]);
        assert.equal(joined?.prediction?.id, 'n29');
        const after = await store.readColumns();
        assert.equal(after.rowCount, kept.length + 30);
        assert.equal(after.label[after.rowCount - 1], 0);
      }));

    it('retention deletes page by page while predictions and feedback keep being written', () =>
      withStore(async (store) => {
        // More than one page (RETENTION_PAGE, 2,000) of old predictions, all labelled.
        const old = Array.from({ length: 4500 }, (_, k) => prediction(`old-${k}`, WEEK_0 + k * 1000));
        for (let i = 0; i < old.length; i += 500)
          await store.insertRows(toPredictionRows(old.slice(i, i + 500)));
        await store.recordFeedback(
          old.map((r) => ({
            predictionId: r.id,
            label: 1,
            observedAt: r.createdAt,
            receivedAt: r.createdAt,
          })),
        );
        const cutoff = WEEK_0 + 5 * 7 * 24 * HOUR;
        const fresh = Array.from({ length: 600 }, (_, k) => prediction(`new-${k}`, cutoff + k));
        // Writes issued while retention runs: each must land, none is deleted.
        const writes = (async () => {
          const outcomes = [];
          for (let i = 0; i < fresh.length; i += 50) {
            const batch = fresh.slice(i, i + 50);
            await store.insertRows(toPredictionRows(batch));
            outcomes.push(
              ...(await store.recordFeedback(
                batch.map((r) => ({ predictionId: r.id, label: 0, observedAt: r.createdAt, receivedAt: 1 })),
              )),
            );
          }
          return outcomes;
        })();
        const [dropped, outcomes] = await Promise.all([store.dropPredictions(cutoff), writes]);
        assert.deepEqual(dropped, { predictions: 4500, feedback: 4500 });
        assert.deepEqual(
          outcomes.map((o) => o.status),
          fresh.map(() => 'joined'),
        );
        const rows = await readAll(store);
        assert.deepEqual(
          rows.map((r) => [r.id, r.label]),
          fresh.map((r) => [r.id, 0]),
        );
        assert.equal((await store.readColumns()).rowCount, 600);
        assert.deepEqual(await store.countFeedback(), { joined: 600, pending: 0, duplicate: 0, conflict: 0 });
        assert.equal((await store.storeStats()).oldestPredictionAt, cutoff);
      }));

    it('retention on an empty store, or with a cutoff before everything, deletes nothing', () =>
      withStore(async (store) => {
        assert.deepEqual(await store.dropPredictions(WEEK_0), { predictions: 0, feedback: 0 });
        assert.equal((await store.storeStats()).oldestPredictionAt, null);
        await store.insertRows(toPredictionRows([prediction('a', WEEK_0), prediction('b', WEEK_0 + 1)]));
        assert.deepEqual(await store.dropPredictions(WEEK_0), { predictions: 0, feedback: 0 });
        assert.equal((await store.storeStats()).oldestPredictionAt, WEEK_0);
        await assert.rejects(store.dropPredictions(Number.NaN), /retention cutoff must be a finite number/);
        assert.equal((await readAll(store)).length, 2);
      }));

    // A store that cannot be reopened (an in-memory database) has no such case, rather than a skipped one.
    (place === undefined ? () => {} : it)(
      'grows with the schema: features added later read as missing in older rows, dropped ones stay',
      async () => {
        const where = await place!();
        const a: FeatureSpec[] = [
          { name: 'plan', kind: 'categorical' },
          { name: 'monthly charges', kind: 'numeric' },
        ];
        const b: FeatureSpec[] = [
          { name: 'Monthly Charges', kind: 'numeric' },
          { name: 'region', kind: 'categorical' },
        ];
        try {
          const first = where.open(a);
          await first.migrate();
          const old = Array.from({ length: 9 }, (_, i) => genericPrediction(a, `a${i}`, i));
          await first.insertRows(toPredictionRows(old, first.rowLayout));
          await first.close();

          const second = where.open([...a, ...b]);
          await second.migrate();
          const grown = Array.from({ length: 9 }, (_, i) => genericPrediction([...a, ...b], `b${i}`, i + 9));
          await second.insertRows(toPredictionRows(grown, second.rowLayout));
          await second.close();

          // A model without the first features: they stay registered and read as missing in its rows.
          const third = where.open(b);
          await third.migrate();
          const later = Array.from({ length: 5 }, (_, i) => genericPrediction(b, `c${i}`, i + 18));
          await third.insertRows(toPredictionRows(later, third.rowLayout));
          try {
            const names = [...a, ...b].map((f) => f.name);
            const everything = [...old, ...grown, ...later].sort(
              (x, y) => x.createdAt - y.createdAt || (x.id < y.id ? -1 : 1),
            );
            const rows = await readAll(third);
            assert.deepEqual(
              normalise(rows),
              everything.map((r) => loggedAs(names, r)),
            );
            for (const row of rows.filter((r) => r.id.startsWith('a'))) {
              assert.equal(row.features['Monthly Charges'], null, row.id);
              assert.equal(row.features.region, null, row.id);
            }
            const columns = await third.readColumns();
            // The store's own features first (its schema order), then the ones registered before.
            assert.deepEqual(
              columns.features.header,
              [...b, ...a].map((f) => f.name),
            );
            assert.deepEqual(
              featureValues(columns.features),
              objectValues(
                rows,
                [...b, ...a].map((f) => f.name),
              ),
            );
          } finally {
            await third.close();
          }
        } finally {
          await where.dispose();
        }
      },
    );

    // A store that cannot be reopened (an in-memory database) has no such case, rather than a skipped one.
    (place === undefined ? () => {} : it)(
      'refuses a feature whose kind changed, naming it, and leaves the database as it was',
      async () => {
        const where = await place!();
        try {
          const first = where.open([{ name: 'Senior Citizen', kind: 'numeric' }]);
          await first.migrate();
          await first.insertRows(
            toPredictionRows(
              [genericPrediction([{ name: 'Senior Citizen', kind: 'numeric' }], 'k0', 0)],
              first.rowLayout,
            ),
          );
          await first.close();
          const changed = where.open([
            { name: 'extra', kind: 'numeric' },
            { name: 'Senior Citizen', kind: 'categorical' },
          ]);
          try {
            await assert.rejects(changed.migrate(), (error: Error) => {
              assert.ok(isChurnwatchError(error), String(error));
              assert.equal(error.code, 'CW_STORE_FEATURE_KIND_CHANGED');
              assert.match(error.message, /"Senior Citizen" is stored as numeric .* categorical/);
              assert.match(error.hint ?? '', /new database|rename/);
              return true;
            });
          } finally {
            await changed.close();
          }
          // Nothing was added: the first model's store still opens and reads as before.
          const again = where.open([{ name: 'Senior Citizen', kind: 'numeric' }]);
          await again.migrate();
          try {
            const rows = await readAll(again);
            assert.deepEqual(Object.keys(rows[0]!.features), ['Senior Citizen']);
          } finally {
            await again.close();
          }
        } finally {
          await where.dispose();
        }
      },
    );
  });
}
