import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { userKey } from '../store-columns.js';
import { mayHoldUser, readUserBloom, userBloom } from './user-bloom.js';

describe('user Bloom filter', () => {
  it('holds every key it was built from and few others', () => {
    const keys = Array.from({ length: 10_000 }, (_, i) => userKey(`user-${i}`));
    const bytes = userBloom(keys);
    assert.equal(bytes.length, 16_384, '131,072 bits for 10,000 keys');
    // Read back at an odd offset, as a Buffer from SQLite may be.
    const odd = new Uint8Array(bytes.length + 1);
    odd.set(bytes, 1);
    const words = readUserBloom(odd.subarray(1));
    assert.ok(keys.every((key) => mayHoldUser(words, key)));
    let positives = 0;
    for (let i = 0; i < 100_000; i++) if (mayHoldUser(words, userKey(`other-${i}`))) positives++;
    assert.ok(positives < 500, `${positives} false positives in 100,000`);
  });

  it('holds nothing when empty, and stays small for small blocks', () => {
    const words = readUserBloom(userBloom([]));
    assert.equal(words.length * 32, 64);
    assert.equal(mayHoldUser(words, userKey('u')), false);
    assert.equal(mayHoldUser(readUserBloom(userBloom([userKey('u')])), userKey('u')), true);
  });
});
