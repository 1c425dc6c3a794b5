import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { waitFor } from './wait-for.js';

describe('waitFor', () => {
  it('returns the first truthy answer of the condition', async () => {
    let calls = 0;
    const value = await waitFor(() => ++calls >= 3 && `after ${calls}`, {
      what: 'three calls',
      intervalMs: 1,
    });
    assert.equal(value, 'after 3');
  });

  it('fails after the deadline, naming what it waited for and the state it was given', async () => {
    const started = Date.now();
    await assert.rejects(
      waitFor(() => false, {
        what: 'the moon to turn green',
        timeoutMs: 50,
        intervalMs: 5,
        describe: () => 'moon: grey',
      }),
      /timed out after 50 ms \(\d+ checks\) waiting for the moon to turn green\nmoon: grey/,
    );
    assert.ok(Date.now() - started < 1000);
  });

  it('stops at once when the condition throws', async () => {
    let calls = 0;
    await assert.rejects(
      waitFor(
        () => {
          calls++;
          throw new Error('the server exited');
        },
        { what: 'anything', timeoutMs: 5000 },
      ),
      /the server exited/,
    );
    assert.equal(calls, 1);
  });
});
