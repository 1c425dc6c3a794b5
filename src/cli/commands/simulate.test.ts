import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  describeFeedbackRun,
  describePredictionsRun,
  feedbackStatus,
  humanDuration,
  predictionsStatus,
  resolveSimulateFeedbackOptions,
  resolveSimulatePredictionsOptions,
} from './simulate.js';

describe('simulate defaults: a run that ends, labels within a minute', () => {
  it('sends 2,000 rows unless told otherwise; --rows 0 means no limit', () => {
    assert.equal(resolveSimulatePredictionsOptions({}, {}).rows, 2000);
    assert.equal(resolveSimulatePredictionsOptions({ rows: '0' }, {}).rows, undefined);
    assert.equal(resolveSimulatePredictionsOptions({}, { CHURNWATCH_SIM_ROWS: '50' }).rows, 50);
  });

  it('delivers labels 3 s..60 s after their prediction by default, and takes a zero lower bound', () => {
    const d = resolveSimulateFeedbackOptions({}, {});
    assert.deepEqual([d.minDelayMs / d.speed, d.maxDelayMs / d.speed], [3000, 60_000]);
    const zero = resolveSimulateFeedbackOptions({ delay: '0s..1s' }, {});
    assert.deepEqual([zero.minDelayMs, zero.maxDelayMs], [0, 1000]);
    assert.throws(
      () => resolveSimulateFeedbackOptions({ delay: '5s..1s' }, {}),
      /--delay must be a range min\.\.max of durations with min ≤ max/,
    );
  });
});

describe('simulate text: plain words', () => {
  it('says what the predictions simulator will do, and how long it takes', () => {
    const o = resolveSimulatePredictionsOptions({}, {});
    assert.equal(
      describePredictionsRun(o, 'generated rows (seed 7)'),
      'simulate predictions: sending 2,000 rows, about 40 s, from generated rows (seed 7) to http://localhost:8000/predict ' +
        'at 50 rows/s, scenario stable; each answer is recorded in data/sent-predictions.jsonl for simulate feedback. ' +
        '--rows N sends N rows, --rows 0 runs until Ctrl-C.',
    );
    const forever = resolveSimulatePredictionsOptions(
      // --then, built so no object literal has a `then` property (a thenable).
      Object.fromEntries([
        ['rows', '0'],
        ['handoff', false],
        ['switchAfter', '2m'],
        ['then', 'sudden-drift'],
      ]),
      {},
    );
    assert.match(
      describePredictionsRun(forever, 'generated rows (seed 7)'),
      /sending rows until Ctrl-C, from generated rows \(seed 7\), to .* scenario stable, then sudden-drift after 2 min simulated \(12 s at speed 10\)\.$/,
    );
  });

  it('says what the feedback simulator will do, in wall-clock and simulated time', () => {
    assert.equal(
      describeFeedbackRun(resolveSimulateFeedbackOptions({}, {})),
      'simulate feedback: following data/sent-predictions.jsonl; posting the actual churn of 80% of the predictions to ' +
        'http://localhost:8000/feedback by prediction_id, each 3 s..60 s after its prediction (30 s..10 min simulated at speed 10). ' +
        'It ends once simulate predictions has finished and every label is posted (Ctrl-C stops sooner).',
    );
  });

  it('names progress figures in words, not field names', () => {
    assert.equal(predictionsStatus({ scenario: 'stable', rejected: 0 }), 'scenario: stable, 0 rejected');
    assert.equal(feedbackStatus({ waiting: 1381, rejected: 2 }), '1,381 labels waiting, 2 rejected');
    assert.deepEqual(
      [humanDuration(40_000), humanDuration(600_000), humanDuration(5_400_000 * 2)],
      ['40 s', '10 min', '3 h'],
    );
  });
});
