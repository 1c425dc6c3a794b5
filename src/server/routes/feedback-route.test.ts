import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HttpError } from '../error-handler.js';
import { EARLIEST_OBSERVED_AT, MAX_OBSERVED_AHEAD_MS, toFeedbackInput } from './feedback-route.js';

const NOW = Date.UTC(2026, 4, 1, 12);

const badTime = (pattern: RegExp) => (error: unknown) =>
  error instanceof HttpError &&
  error.statusCode === 400 &&
  error.code === 'CW_FEEDBACK_BAD_TIME' &&
  pattern.test(error.message);

const input = (observed_at: unknown, where = 'body') =>
  toFeedbackInput({ user_id: 'u1', churn: 1, observed_at }, where, NOW);

describe('feedback observed_at', () => {
  it('accepts real times as epoch ms or ISO 8601, and now when absent', () => {
    assert.equal(input(EARLIEST_OBSERVED_AT).observedAt, EARLIEST_OBSERVED_AT);
    assert.equal(input('2000-01-01T00:00:00Z').observedAt, EARLIEST_OBSERVED_AT);
    assert.equal(input(NOW + MAX_OBSERVED_AHEAD_MS).observedAt, NOW + MAX_OBSERVED_AHEAD_MS);
    assert.equal(input('2026-05-01T13:00:00+01:00').observedAt, NOW);
    assert.equal(toFeedbackInput({ user_id: 'u1', churn: 0 }, 'body', NOW).observedAt, NOW);
  });

  it('refuses negative zero, naming the field', () => {
    assert.throws(
      () => input(JSON.parse('-0'), 'body/records/3'),
      badTime(/^body\/records\/3\/observed_at must be whole epoch milliseconds ≥ 0, got -0$/),
    );
  });

  it('refuses times before 2000-01-01, saying which unit is expected for numbers', () => {
    assert.throws(
      () => input(0),
      badTime(
        /^body\/observed_at is 1970-01-01T00:00:00.000Z, before 2000-01-01T00:00:00Z \(epoch milliseconds, not seconds\)$/,
      ),
    );
    // Seconds instead of milliseconds: a real time, read as January 1970.
    assert.throws(() => input(Math.floor(NOW / 1000)), badTime(/is 1970-01-21T.*not seconds/));
    assert.throws(() => input(EARLIEST_OBSERVED_AT - 1), badTime(/is 1999-12-31T23:59:59.999Z, before 2000/));
    assert.throws(
      () => input('1999-12-31T23:00:00Z'),
      badTime(/^body\/observed_at is 1999-12-31T23:00:00.000Z, before 2000-01-01T00:00:00Z$/),
    );
  });

  it('refuses times more than a day after the server clock', () => {
    assert.throws(
      () => input(NOW + MAX_OBSERVED_AHEAD_MS + 1),
      badTime(
        /^body\/observed_at is 2026-05-02T12:00:00.001Z, more than 1 day after the server's time \(2026-05-01T12:00:00.000Z\)$/,
      ),
    );
    assert.throws(
      () => input('2030-01-01T00:00:00Z'),
      badTime(/is 2030-01-01T00:00:00.000Z, more than 1 day/),
    );
  });
});
