import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createPredictionIdGenerator } from './prediction-id.js';

describe('prediction ids (UUID v7)', () => {
  it('are well-formed version-7 UUIDs carrying the timestamp', () => {
    const next = createPredictionIdGenerator(() => 0x0189_abcd_ef01);
    const id = next();
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(id.slice(0, 13).replace('-', ''), '0189abcdef01');
  });

  it('strictly increase within and across milliseconds, even past 4,096 per millisecond', () => {
    let now = 1_795_000_000_000;
    const next = createPredictionIdGenerator(() => now);
    const ids: string[] = [];
    for (let i = 0; i < 10_000; i++) {
      ids.push(next());
      if (i === 6_000) now += 5;
    }
    for (let i = 1; i < ids.length; i++) assert.ok(ids[i - 1]! < ids[i]!, `${ids[i - 1]} < ${ids[i]}`);
    assert.equal(new Set(ids).size, ids.length);
  });

  it('never go backwards when the clock does', () => {
    let now = 2_000_000;
    const next = createPredictionIdGenerator(() => now);
    const a = next();
    now -= 1_000;
    const b = next();
    assert.ok(a < b);
  });
});
