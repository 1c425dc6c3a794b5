/**
 * A /predict batch read into columns (record-fields.ts `columns`, record-columns.ts) gives what the
 * record objects of `canonical` give, stage for stage, on a real model: the same scores to the bit, the
 * same bins and window, the same store rows, the same refusals. The records mix what validation lets
 * through (missing values, unseen categories, lower-case names) with what only other callers could
 * send (numbers as text, a number for a category), on which the stages disagree with each other today.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import type { ChurnModel } from '../../src/model/churn-model.js';
import { loadModel } from '../../src/model/model-io.js';
import { type RecordBins, recordBinnerOf } from '../../src/model/record-binner.js';
import { PredictionWindow } from '../../src/monitor/windows.js';
import { HttpError } from '../../src/server/error-handler.js';
import { type RecordFields, recordFieldsOf } from '../../src/server/record-fields.js';
import type { PredictionRecord } from '../../src/store/prediction-store.js';
import { columnsToPredictionRows, rowLayout, toPredictionRows } from '../../src/store/store-columns.js';
import { customerRequests } from '../helpers/server-harness.js';
import { trainSmallModel } from '../helpers/train-small-model.js';

type Input = Record<string, string | number | null>;

/** Values the same as NaN included: typed arrays compared cell by cell with Object.is. */
function sameCells(actual: ArrayLike<unknown>, expected: ArrayLike<unknown>, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++)
    assert.ok(Object.is(actual[i], expected[i]), `${what}[${i}]: ${actual[i]} ≠ ${expected[i]}`);
}

/**
 * Generated customers, every third in lower-case names, with missing values (null and absent), unseen
 * categories, and, when `offType`, numbers as text and a number for a category.
 */
function mixedInputs(n: number, offType: boolean): Input[] {
  const upper = customerRequests(n, 7) as Input[];
  const lower = customerRequests(n, 7, true) as Input[];
  return upper.map((record, i) => {
    const r: Input = { ...(i % 3 === 1 ? lower[i]! : record) };
    const key = (name: string) => (i % 3 === 1 ? name.toLowerCase() : name);
    if (i % 5 === 0) r[key('MONTANT')] = null;
    if (i % 7 === 0) delete r[key('REVENUE')];
    if (i % 4 === 0) r[key('REGION')] = `NOWHERE-${i % 3}`;
    if (i % 11 === 0) r[key('TOP_PACK')] = '';
    if (offType) {
      if (i % 6 === 0) r[key('FREQUENCE_RECH')] = String(i); // a number as text
      if (i % 6 === 3) r[key('ON_NET')] = ` ${i}.5 `; // with spaces: the store trims, scoring does not mind
      if (i % 9 === 0) r[key('DATA_VOLUME')] = 'Infinity'; // scoring: missing; the store: Infinity
      if (i % 8 === 0) r[key('TENURE')] = 12 as unknown as string; // a number for a category
    }
    return r;
  });
}

describe('a batch as columns equals its record objects', () => {
  let model: ChurnModel;
  let fields: RecordFields;

  before(async () => {
    model = await loadModel(join(await trainSmallModel(), 'latest'));
    fields = recordFieldsOf(model.schema);
  });

  const both = (inputs: readonly Input[]) => {
    const objects = inputs.map((r, i) => fields.canonical(r, `body/records/${i}`));
    const columns = fields.columns(inputs, (i) => `body/records/${i}`);
    return { objects, columns };
  };

  for (const offType of [false, true])
    for (const n of [1000, 5])
      it(`${n} records${offType ? ', numbers as text, a number for a category' : ''}: scores, bins, window, store rows`, () => {
        const inputs = mixedInputs(n, offType);
        const { objects, columns } = both(inputs);
        assert.equal(columns.offType.size > 0, offType);
        // Scores to the bit (five records: the tree walk of scoreRecords against the bin-space scorer).
        const scores = model.scoreRecords(objects);
        sameCells(model.scoreTable(columns.table), scores, 'scores');
        for (let i = 0; i < n; i += 97) assert.ok(Object.is(model.scoreRecord(objects[i]!), scores[i]));

        const binner = recordBinnerOf(model.profile);
        const fromObjects = binner.bin(objects, scores);
        const fromColumns = binner.binColumns(columns, scores);
        sameCells(fromColumns.features, fromObjects.features, 'feature bins');
        sameCells(fromColumns.score, fromObjects.score, 'score bins');
        sameCells(fromColumns.values, fromObjects.values, 'binned values');
        // Not a vacuous comparison: missing and unseen bins are among them.
        const region = binner.features.findIndex((f) => f.name === 'REGION');
        const unseen = binner.features[region]!.profile.labels.indexOf('unseen');
        assert.ok(fromColumns.features.some((b, k) => k % binner.features.length === region && b === unseen));

        const records: PredictionRecord[] = objects.map((features, i) => ({
          id: `p${i}`,
          createdAt: 1_700_000_000_000 + i,
          userId: fields.userIdOf(inputs[i]!),
          modelVersion: model.info.version,
          features,
          score: scores[i]!,
          predictedClass: scores[i]! >= model.info.threshold ? 1 : 0,
        }));
        const scored = records.map(({ features: _, ...rest }) => rest);
        const layout = rowLayout(model.schema.features);
        const expected = toPredictionRows(records, layout);
        const actual = columnsToPredictionRows(scored, columns, layout);
        assert.equal(actual.count, expected.count);
        sameCells(actual.numbers, expected.numbers, 'row numbers');
        assert.deepEqual(actual.texts, expected.texts);

        // The window: the same rows whether it bins the records or takes the column bins.
        const window = (bins: RecordBins | undefined) => {
          const w = new PredictionWindow(model.profile, model.info.version, { maxRows: 2 * n });
          for (const [i, r] of records.entries()) {
            if (bins) w.appendBinned(scored[i]!, bins, i);
            else w.append(r);
          }
          return w.snapshot();
        };
        assert.deepEqual(window(fromColumns), window(undefined));
      });

  it('a number as text the store cannot read is refused as for a record, naming the prediction and feature', () => {
    const inputs = mixedInputs(20, false);
    inputs[5]!.MONTANT = 'lots';
    const { objects, columns } = both(inputs);
    const layout = rowLayout(model.schema.features);
    const records: PredictionRecord[] = objects.map((features, i) => ({
      id: `p${i}`,
      createdAt: 1,
      userId: null,
      modelVersion: 'v',
      features,
      score: 0.5,
      predictedClass: 1,
    }));
    const message = /prediction p5: feature MONTANT must be a number or null, got "lots"/;
    assert.throws(() => toPredictionRows(records, layout), message);
    assert.throws(
      () =>
        columnsToPredictionRows(
          records.map(({ features: _, ...rest }) => rest),
          columns,
          layout,
        ),
      message,
    );
  });

  it('a field given under two spellings is refused naming the record, as canonical refuses it', () => {
    const inputs = mixedInputs(6, false);
    inputs[3] = { ...inputs[3]!, region: 'DAKAR', REGION: 'THIES' };
    const refusal = (e: unknown) =>
      e instanceof HttpError &&
      e.code === 'CW_PREDICT_DUPLICATE_FIELD' &&
      e.message === 'body/records/3 gives REGION twice (as REGION and region); send one';
    assert.throws(() => inputs.map((r, i) => fields.canonical(r, `body/records/${i}`)), refusal);
    assert.throws(() => fields.columns(inputs, (i) => `body/records/${i}`), refusal);
  });

  it('columns hold every feature of the schema, missing ones as NaN and -1', () => {
    const columns = fields.columns([{}, { MONTANT: 3, REGION: 'DAKAR' }], String);
    assert.deepEqual(
      columns.table.header,
      model.schema.features.map((f) => f.name),
    );
    const montant = columns.table.columns.get('MONTANT');
    const region = columns.table.columns.get('REGION');
    assert.ok(montant?.kind === 'numeric' && region?.kind === 'categorical');
    sameCells(montant.values, [Number.NaN, 3], 'MONTANT');
    sameCells(region.codes, [-1, 0], 'REGION');
    assert.deepEqual(region.dictionary, ['DAKAR']);
  });
});
