import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DATASET_SCHEMA_VERSION, type DatasetSchema } from '../data/dataset-schema.js';
import { parseReplayText } from './replay-table.js';
import { tableRow } from './row-source.js';

const schema: DatasetSchema = {
  version: DATASET_SCHEMA_VERSION,
  id: 'customerID',
  target: { column: 'Churn', positive: 'Yes', negative: 'No' },
  features: [
    { name: 'Total Charges', kind: 'numeric' },
    { name: 'SeniorCitizen', kind: 'categorical' },
    { name: 'Contract', kind: 'categorical' },
  ],
  missingTokens: ['', 'NA'],
  dropped: [],
};

const read = (text: string) => parseReplayText(text, 'holdout.csv', schema);

test('a held-out CSV is read by the schema: kinds, missing tokens, ids and the target through its positive label', () => {
  const table = read(
    'customerID,SeniorCitizen,Contract,Total Charges,Churn\n' +
      '7590-VHVEG,0,Month-to-month, ,No\n' +
      '5575-GNVDE,1,NA,1889.5,Yes\n',
  );
  assert.deepEqual(table.ids, ['7590-VHVEG', '5575-GNVDE']);
  assert.deepEqual([...table.target!], [0, 1]);
  assert.deepEqual(tableRow(table, 0, schema.features), {
    features: { 'Total Charges': null, SeniorCitizen: '0', Contract: 'Month-to-month' },
    churn: 0,
  });
  assert.deepEqual(tableRow(table, 1, schema.features).features, {
    'Total Charges': 1889.5,
    SeniorCitizen: '1',
    Contract: null,
  });
});

test('without the target column rows have no label; bad files name file, row and column', () => {
  const unlabelled = read('customerID,SeniorCitizen,Contract,Total Charges\nA,0,One year,10\n');
  assert.equal(unlabelled.target, undefined);
  assert.equal(tableRow(unlabelled, 0, schema.features).churn, null);
  assert.throws(
    () => read('customerID,SeniorCitizen,Total Charges\nA,0,10\n'),
    (e: Error & { code?: string }) =>
      e.code === 'CW_DATA_CSV_HEADER' &&
      /holdout\.csv: no column "Contract", a feature of the schema/.test(e.message),
  );
  assert.throws(
    () => read('customerID,SeniorCitizen,Contract,Total Charges,Churn\nA,0,One year,ten,No\n'),
    (e: Error & { code?: string }) =>
      e.code === 'CW_DATA_CSV_ROW' &&
      /holdout\.csv row 1 \(line 2\), column Total Charges: non-numeric value "ten"/.test(e.message),
  );
  assert.throws(
    () => read('customerID,SeniorCitizen,Contract,Total Charges,Churn\nA,0,One year,1,Maybe\n'),
    (e: Error & { code?: string }) =>
      e.code === 'CW_DATA_CSV_ROW' &&
      /row 1 \(line 2\), column Churn: the target is "Maybe", neither "Yes" \(positive\) nor "No"/.test(
        e.message,
      ),
  );
});
