import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { doneLine, formatCount, type Progress, progressLine, withProgress } from './progress.js';

describe('progress text', () => {
  it('shows the count alone when the total is unknown, never a /0 denominator', () => {
    for (const total of [undefined, 0, Number.NaN, Number.POSITIVE_INFINITY]) {
      const line = progressLine('split', 100_000, total, 'rows', 154_799.4);
      assert.equal(line, 'split: 100,000 rows (154,799/s)');
      assert.doesNotMatch(line, /\/0|\?%/);
    }
  });

  it('shows count of total and the share when the total is known, then the detail', () => {
    assert.equal(
      progressLine('generate', 50_000, 200_000, 'rows', 11_988, 'scenario: stable'),
      'generate: 50,000/200,000 rows (25.0%, 11,988/s, scenario: stable)',
    );
  });

  it('ends with the time and what was done', () => {
    assert.equal(doneLine('split', 20_000, 'rows', 1.04), 'split: done in 1.0s (20,000 rows)');
    assert.equal(doneLine('download', undefined, 'bytes', 0), 'download: done in 0.0s');
    assert.equal(formatCount(1381), '1,381');
  });

  it('says done only when the work succeeded', async () => {
    const calls: string[] = [];
    const progress: Progress = {
      update: () => calls.push('update'),
      stop: () => calls.push('stop'),
      fail: () => calls.push('fail'),
    };
    assert.equal(await withProgress(progress, async () => 7), 7);
    await assert.rejects(
      withProgress(progress, async () => {
        throw new Error('no such file');
      }),
      /no such file/,
    );
    assert.deepEqual(calls, ['stop', 'fail']);
  });
});
