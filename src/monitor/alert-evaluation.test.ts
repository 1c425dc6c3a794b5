import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ALERT_DEFINITIONS, durationMs } from './alert-definitions.js';
import { type AlertCondition, AlertHold } from './alert-evaluation.js';

const MINUTE = 60_000;
const drift = (features: string[], judged = true): AlertCondition => ({
  key: 'featureDrift',
  name: ALERT_DEFINITIONS.featureDrift.name,
  severity: 'warning',
  for: '15m',
  judged,
  active: features.map((instance) => ({ instance, value: 1 })),
  detail: '',
});

test('AlertHold: pending from the first evaluation that holds, firing after `for`, per instance', () => {
  const hold = new AlertHold();
  const at = (minute: number, features: string[]) => hold.update([drift(features)], minute * MINUTE)[0]!;
  assert.equal(at(0, []).state, 'ok');
  assert.equal(at(1, ['A']).state, 'pending');
  for (let minute = 2; minute < 15; minute++) at(minute, ['A']);
  assert.equal(at(15, ['A']).state, 'pending');
  assert.equal(at(16, ['A', 'B']).state, 'firing');
  // A stops holding: B alone has held for 1 minute only.
  const b = at(17, ['B']);
  assert.equal(b.state, 'pending');
  assert.equal(b.activeSince, 16 * MINUTE);
  assert.equal(hold.update([drift([], false)], 18 * MINUTE)[0]!.state, 'no data');
});

test('AlertHold: evaluations further apart than maxGapMs start the wait again', () => {
  const hold = new AlertHold(5 * MINUTE);
  hold.update([drift(['A'])], 0);
  assert.equal(hold.update([drift(['A'])], 4 * MINUTE)[0]!.state, 'pending');
  assert.equal(hold.update([drift(['A'])], 20 * MINUTE)[0]!.state, 'pending');
  assert.equal(hold.update([drift(['A'])], 24 * MINUTE)[0]!.state, 'pending');
});

test('durationMs reads one-unit Prometheus durations', () => {
  assert.equal(durationMs('15m'), 15 * MINUTE);
  assert.equal(durationMs('1d'), 86_400_000);
  assert.throws(() => durationMs('1h30m'), RangeError);
});
