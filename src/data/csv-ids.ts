/**
 * user_id values, packed as bytes while a chunk is parsed and made into strings once per chunk: one
 * native call per batch instead of one per id. A worker thread sends its batches to the calling thread
 * (strings cannot cross threads), which makes the strings while it waits.
 */
import { latin1 } from './csv-syntax.js';
import { type Growable, growableInt32, growableUint8 } from './growable-array.js';

/** Ids as bytes, one after the other, and where each ends. */
export interface IdBatch {
  bytes: Uint8Array;
  ends: Int32Array;
  /** Every byte below 0x80. */
  ascii: boolean;
}

/** Bytes of ASCII text are all below this. */
const NON_ASCII = 0x80;
/** Room for the ids of one 4 MB chunk of Train.csv (≈ 40 bytes each) before the pack has to grow. */
const INITIAL_ID_BYTES = 1 << 21;
const INITIAL_ID_COUNT = 1 << 16;

/** The ids of the rows accepted since the last batch was taken. */
export class IdPack {
  readonly bytes: Growable<Uint8Array> = growableUint8(INITIAL_ID_BYTES);
  readonly ends: Growable<Int32Array> = growableInt32(INITIAL_ID_COUNT);
  /** Bytes of `bytes` in use. */
  used = 0;
  /** Ids in the pack. */
  count = 0;
  /** OR of the packed bytes: below 0x80 means all ASCII, and one latin1 string decodes the batch. */
  bits = 0;

  /** Appends one id (the fast path writes into `bytes` itself and commits with the same fields). */
  push(buf: Uint8Array, start: number, end: number): void {
    const used = this.used + end - start;
    this.bytes.ensure(used);
    this.bytes.data.set(buf.subarray(start, end), this.used);
    for (let i = start; i < end; i++) this.bits |= buf[i]!;
    this.used = used;
    this.ends.ensure(this.count + 1);
    this.ends.data[this.count++] = used;
  }

  /**
   * The packed ids, then the pack is emptied. `copy` false: views into the pack, valid until the next
   * push (decoded at once on this thread). `copy` true: arrays of their own, to transfer to another thread.
   */
  take(copy: boolean): IdBatch {
    const batch = copy
      ? { bytes: this.bytes.data.slice(0, this.used), ends: this.ends.data.slice(0, this.count) }
      : { bytes: this.bytes.data.subarray(0, this.used), ends: this.ends.data.subarray(0, this.count) };
    const ascii = this.bits < NON_ASCII;
    this.used = 0;
    this.count = 0;
    this.bits = 0;
    return { ...batch, ascii };
  }
}

/**
 * Appends the strings of a batch of ids to `out`. ASCII ids (all of Train.csv's) are decoded as one
 * latin1 string and cut with substring, which V8 makes as slices of it: one native call per batch
 * instead of one per id, and less to copy for the garbage collector. The batch string holds exactly
 * the ids' characters, so nothing else is kept alive.
 */
export function decodeIds(batch: IdBatch, out: string[]): void {
  const bytes = Buffer.from(batch.bytes.buffer, batch.bytes.byteOffset, batch.bytes.byteLength);
  const ends = batch.ends;
  let start = 0;
  if (batch.ascii) {
    const text = latin1(bytes, 0, ends.length > 0 ? ends[ends.length - 1]! : 0);
    for (let i = 0; i < ends.length; i++) {
      const end = ends[i]!;
      out.push(text.substring(start, end));
      start = end;
    }
    return;
  }
  for (let i = 0; i < ends.length; i++) {
    const end = ends[i]!;
    out.push(bytes.toString('utf8', start, end));
    start = end;
  }
}
