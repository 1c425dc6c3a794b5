/**
 * Prediction ids: UUID version 7 (RFC 9562): a 48-bit millisecond timestamp, a 12-bit counter that
 * keeps ids from one process strictly increasing within a millisecond, and 62 random bits.
 * Time-ordered ids append to the store's primary-key index instead of landing at random places in it,
 * which is what made random (v4) ids the most expensive part of logging a batch.
 */
import { randomFillSync } from 'node:crypto';

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export function createPredictionIdGenerator(clock: () => number = Date.now): () => string {
  const pool = Buffer.alloc(4096);
  let poolOffset = pool.length;
  let lastMs = -1;
  let counter = 0;
  const bytes = new Uint8Array(16);

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
    let s = '';
    for (let i = 0; i < 16; i++) {
      if (i === 4 || i === 6 || i === 8 || i === 10) s += '-';
      s += HEX[bytes[i]!];
    }
    return s;
  };
}
