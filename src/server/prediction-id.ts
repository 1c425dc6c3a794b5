/**
 * Prediction ids: UUID version 7 (RFC 9562): a 48-bit millisecond timestamp, a 12-bit counter that
 * keeps ids from one process strictly increasing within a millisecond, and 62 random bits.
 * Time-ordered ids append to the store's primary-key index instead of landing at random places in it,
 * which is what made random (v4) ids the most expensive part of logging a batch.
 */
import { randomFillSync } from 'node:crypto';

const HEX_DIGITS = Buffer.from('0123456789abcdef', 'latin1');
/** Where each of the 16 bytes' two hex digits go in the 36-character text (dashes between groups). */
const DIGITS_AT = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];

export function createPredictionIdGenerator(clock: () => number = Date.now): () => string {
  const pool = Buffer.alloc(4096);
  let poolOffset = pool.length;
  let lastMs = -1;
  let counter = 0;
  const bytes = new Uint8Array(16);
  // The id's text is written as bytes and read out in one piece: a flat string. Concatenated from 20
  // parts it was a rope that every copy (the writer thread's message, SQLite's bind) flattened again,
  // which doubled the cost of posting a batch of rows to the writer thread (docs/performance.md).
  const text = Buffer.from('00000000-0000-0000-0000-000000000000', 'latin1');

  return function nextPredictionId(): string {
    if (poolOffset + 10 > pool.length) {
      randomFillSync(pool);
      poolOffset = 0;
    }
    let ms = Math.max(clock(), lastMs);
    if (ms === lastMs) {
      counter++;
      // 4,096 ids in one millisecond: borrow the next millisecond rather than repeat an id.
      if (counter > 0xfff) {
        ms++;
        counter = 0;
      }
    } else {
      counter = pool[poolOffset]! & 0x3ff; // a random start leaves room to count up
    }
    lastMs = ms;
    // 48-bit big-endian timestamp.
    bytes[0] = Math.floor(ms / 2 ** 40) & 0xff;
    bytes[1] = Math.floor(ms / 2 ** 32) & 0xff;
    bytes[2] = (ms >>> 24) & 0xff;
    bytes[3] = (ms >>> 16) & 0xff;
    bytes[4] = (ms >>> 8) & 0xff;
    bytes[5] = ms & 0xff;
    bytes[6] = 0x70 | ((counter >>> 8) & 0x0f); // version 7 + counter high bits
    bytes[7] = counter & 0xff;
    bytes[8] = 0x80 | (pool[poolOffset + 1]! & 0x3f); // variant 10
    for (let i = 9; i < 16; i++) bytes[i] = pool[poolOffset + i - 7]!;
    poolOffset += 10;
    for (let i = 0; i < 16; i++) {
      const b = bytes[i]!;
      const at = DIGITS_AT[i]!;
      text[at] = HEX_DIGITS[b >> 4]!;
      text[at + 1] = HEX_DIGITS[b & 15]!;
    }
    return text.toString('latin1');
  };
}
