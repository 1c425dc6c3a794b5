import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type AnswerRow, batchAnswer, singleAnswer } from './prediction-answer.js';

const asObject = (r: AnswerRow, version: string) => ({
  prediction_id: r.id,
  user_id: r.userId,
  churn_probability: r.score,
  churn: r.predictedClass,
  model_version: version,
});

describe('prediction answer text', () => {
  // Texts that need escaping, numbers at the edges of JSON's number printing.
  const rows: AnswerRow[] = [
    { id: '0192f3a4-0000-7000-8000-000000000001', userId: 'u-1', score: 0.5, predictedClass: 1 },
    { id: '0192f3a4-0000-7000-8000-00000000000f', userId: null, score: 0, predictedClass: 0 },
    { id: 'x', userId: 'line\nbreak\u2028"é\u0001', score: 1e-7, predictedClass: 0 },
    { id: 'y', userId: '', score: 0.12345678901234568, predictedClass: 1 },
    { id: 'w', userId: 'pair \ud83d\ude00 lone \ud800 end \udfff', score: 0.25, predictedClass: 0 },
    { id: 'z', userId: 'a', score: 1, predictedClass: 1 },
  ];
  const versions = ['20261127T031500Z-aaaa', 'v"1\\', ''];

  it('is exactly what JSON.stringify gives for the same objects', () => {
    for (const version of versions) {
      assert.equal(
        batchAnswer(rows, version),
        JSON.stringify({ predictions: rows.map((r) => asObject(r, version)) }),
      );
      for (const r of rows) assert.equal(singleAnswer(r, version), JSON.stringify(asObject(r, version)));
    }
    assert.equal(batchAnswer([], 'v'), '{"predictions":[]}');
  });

  it('parses back to the same values', () => {
    const parsed = JSON.parse(batchAnswer(rows, versions[1]!)) as { predictions: unknown[] };
    assert.deepEqual(
      parsed.predictions,
      rows.map((r) => asObject(r, versions[1]!)),
    );
  });
});
