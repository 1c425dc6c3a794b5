/**
 * A category dictionary keyed by the value's UTF-8 bytes, so the CSV reader can find a repeated value
 * (TENURE, REGION, TOP_PACK…) straight from the file bytes without making a string: an open-addressing
 * table of Int32 slots, the known byte sequences packed in one growable byte array. Only a new value
 * allocates its string. Codes are given in order of first appearance.
 *
 * Two different byte sequences can decode to the same string (invalid UTF-8 becomes U+FFFD): the second
 * is stored as an alias of the first one's code, so the dictionary never holds a string twice.
 */

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** FNV-1a hash step start value; the reader inlines `hash = Math.imul(hash ^ byte, FNV_PRIME)`. */
export const HASH_SEED = FNV_OFFSET;
export const HASH_PRIME = FNV_PRIME;

/** The hash of buf[start, end), the same as the reader's inlined loop. */
export function hashBytes(buf: Uint8Array, start: number, end: number): number {
  let h = FNV_OFFSET;
  for (let i = start; i < end; i++) h = Math.imul(h ^ buf[i]!, FNV_PRIME);
  return h;
}

const EMPTY = -1;

export class ByteDictionary {
  /** Distinct values in order of first appearance; a code indexes this list. */
  readonly values: string[] = [];
  private readonly byString = new Map<string, number>();
  /** Slot → entry index, or EMPTY. Size is a power of two, at most half full. */
  private slots = new Int32Array(64).fill(EMPTY);
  private mask = 63;
  /** Per entry: where its bytes start in `bytes`, their length, its hash and its code. */
  private entryStart = new Int32Array(16);
  private entryLength = new Int32Array(16);
  private entryHash = new Int32Array(16);
  private entryCode = new Int32Array(16);
  private entries = 0;
  private bytes = new Uint8Array(1024);
  private bytesUsed = 0;

  /** The code of buf[start, end) (hash from hashBytes), or -1 when these bytes were never seen. */
  find(buf: Uint8Array, start: number, end: number, hash: number): number {
    const length = end - start;
    const mask = this.mask;
    const slots = this.slots;
    let slot = (hash ^ (hash >>> 15)) & mask;
    for (;;) {
      const entry = slots[slot]!;
      if (entry === EMPTY) return -1;
      if (this.entryHash[entry] === hash && this.entryLength[entry] === length) {
        const known = this.bytes;
        let at = this.entryStart[entry]!;
        let i = start;
        while (i < end && known[at] === buf[i]) {
          i++;
          at++;
        }
        if (i === end) return this.entryCode[entry]!;
      }
      slot = (slot + 1) & mask;
    }
  }

  /** The code of buf[start, end), adding the value when new. */
  code(buf: Uint8Array, start: number, end: number, hash: number = hashBytes(buf, start, end)): number {
    const found = this.find(buf, start, end, hash);
    if (found >= 0) return found;
    const value = Buffer.from(buf.buffer, buf.byteOffset + start, end - start).toString('utf8');
    let code = this.byString.get(value);
    if (code === undefined) {
      code = this.values.length;
      this.values.push(value);
      this.byString.set(value, code);
    }
    this.add(buf, start, end, hash, code);
    return code;
  }

  /** The code of a value given as a string (a quoted field with "" escapes), adding it when new. */
  codeOfString(value: string): number {
    const bytes = Buffer.from(value, 'utf8');
    return this.code(bytes, 0, bytes.length);
  }

  private add(buf: Uint8Array, start: number, end: number, hash: number, code: number): void {
    const length = end - start;
    if (this.bytesUsed + length > this.bytes.length) {
      const bigger = new Uint8Array(Math.max(this.bytes.length * 2, this.bytesUsed + length));
      bigger.set(this.bytes.subarray(0, this.bytesUsed));
      this.bytes = bigger;
    }
    this.bytes.set(buf.subarray(start, end), this.bytesUsed);
    const entry = this.entries;
    if (entry === this.entryStart.length) this.growEntries();
    this.entryStart[entry] = this.bytesUsed;
    this.entryLength[entry] = length;
    this.entryHash[entry] = hash;
    this.entryCode[entry] = code;
    this.bytesUsed += length;
    this.entries++;
    if (this.entries * 2 > this.slots.length) this.rehash(this.slots.length * 2);
    else this.place(entry);
  }

  private place(entry: number): void {
    const hash = this.entryHash[entry]!;
    let slot = (hash ^ (hash >>> 15)) & this.mask;
    while (this.slots[slot] !== EMPTY) slot = (slot + 1) & this.mask;
    this.slots[slot] = entry;
  }

  private rehash(size: number): void {
    this.slots = new Int32Array(size).fill(EMPTY);
    this.mask = size - 1;
    for (let entry = 0; entry < this.entries; entry++) this.place(entry);
  }

  private growEntries(): void {
    const n = this.entryStart.length * 2;
    const grow = (a: Int32Array) => {
      const b = new Int32Array(n);
      b.set(a);
      return b;
    };
    this.entryStart = grow(this.entryStart);
    this.entryLength = grow(this.entryLength);
    this.entryHash = grow(this.entryHash);
    this.entryCode = grow(this.entryCode);
  }
}
