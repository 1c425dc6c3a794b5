import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideJoins, type JoinTarget, toOutcome } from './feedback-join.js';

const target = (id: string, label: 0 | 1 | null): JoinTarget => ({
  id,
  createdAt: 1000,
  modelVersion: 'v1',
  score: 0.5,
  predictedClass: 1,
  label,
});
const item = (label: 0 | 1, feedbackId = `f${label}`) => ({ feedbackId, label, observedAt: 1500 });

describe('decideJoins', () => {
  it('joins an unlabelled prediction, then sees its own label for later items in the batch', () => {
    const t = target('p', null);
    const statuses = decideJoins([item(1), item(1), item(0)], [t, t, t]).map((d) => d.status);
    assert.deepEqual(statuses, ['joined', 'duplicate', 'conflict']);
  });

  it('respects a label already stored and leaves unmatched items pending', () => {
    const decisions = decideJoins([item(0), item(1), item(1)], [target('p', 0), target('q', 0), undefined]);
    assert.deepEqual(
      decisions.map((d) => d.status),
      ['duplicate', 'conflict', 'pending'],
    );
  });

  it('reports the label delay only for a join', () => {
    const [joined, dup] = decideJoins([item(1, 'a'), item(1, 'b')], [target('p', null), target('p', null)]);
    assert.equal(toOutcome(item(1, 'a'), joined!).labelDelayMs, 500);
    assert.equal(toOutcome(item(1, 'b'), dup!).labelDelayMs, undefined);
    assert.deepEqual(toOutcome(item(0, 'c'), { status: 'pending', target: undefined }), {
      status: 'pending',
      feedbackId: 'c',
      label: 0,
    });
  });
});
