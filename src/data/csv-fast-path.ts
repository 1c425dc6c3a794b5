/**
 * The fast path, for the rows nearly every file is made of: every field unquoted or a simply quoted
 * category (no "" escape, no line break), the right number of fields, every value valid. It parses
 * and stores in one pass over the bytes: integers accumulate digit by digit, categories are hashed
 * while scanned and found in the byte dictionary, so a row costs no string but its id. It stops at
 * the first row it cannot take whole (a quoted number, an escape, a blank line, a bad value, a row
 * cut by the chunk end) and returns that row's start; the general path (csv-tokenizer.ts and the
 * builder's row checks) then takes that one row, with the same result and the same error. Values
 * written for a row it gives up on are overwritten by the next accepted row (the sink's rowCount only
 * moves on success); new category values and the id are only stored once the row is valid.
 */
import { MISSING_CODE } from './columnar-table.js';
import { HASH_PRIME, HASH_SEED, hashBytes } from './csv-byte-dictionary.js';
import type { ColumnSink } from './csv-column-sink.js';
import { ColumnKind } from './csv-header.js';
import type { IdPack } from './csv-ids.js';
import { parseNumber } from './csv-number.js';

/**
 * Integers of up to 15 digits are exact in a double when accumulated digit by digit (10^15 < 2^53);
 * longer ones go to parseNumber, which rounds like Number().
 */
const MAX_EXACT_DIGITS = 15;

/*
 * The bytes of csv-syntax.ts, declared again here on purpose: V8 (Node 20) folds a module's own
 * constants into the byte loops but loads imported ones at every comparison, which cost this loop 5-8 %
 * of its CPU time in alternating before/after runs. The values are the ASCII codes and cannot drift.
 */
const COMMA = 0x2c;
const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;
const DIGIT_0 = 0x30;
const DIGIT_1 = 0x31;
const DIGIT_9 = 0x39;

/** The category values of the row being parsed that are not in their dictionary yet: added once it is valid. */
export class PendingCategories {
  readonly field: Int32Array;
  readonly start: Int32Array;
  readonly end: Int32Array;
  readonly hash: Int32Array;
  constructor(fields: number) {
    this.field = new Int32Array(fields);
    this.start = new Int32Array(fields);
    this.end = new Int32Array(fields);
    this.hash = new Int32Array(fields);
  }
}

/**
 * Parses and stores rows from `start` until one it cannot take whole, or until the sink holds `rowLimit`
 * rows (at least one row is tried). Returns the offset of the first row not taken. Each row taken is
 * exactly one physical line and one data row.
 */
export function parseFastRows(
  sink: ColumnSink,
  ids: IdPack | undefined,
  pendingCategories: PendingCategories,
  buf: Buffer,
  start: number,
  end: number,
  rowLimit: number,
): number {
  // Locals, not ColumnKind.X in the loop: an enum imported from another module is a property load.
  const ID = ColumnKind.Id;
  const NUMERIC = ColumnKind.Numeric;
  const CATEGORICAL = ColumnKind.Categorical;
  const TARGET = ColumnKind.Target;
  const kinds = sink.kindCodes;
  const last = kinds.length - 1;
  // The id bytes are copied into the pack while they are scanned, committed when the row is accepted:
  // room for every byte of the range, and for one id per shortest possible row.
  if (ids !== undefined) {
    ids.bytes.ensure(ids.used + (end - start));
    ids.ends.ensure(ids.count + Math.ceil((end - start) / kinds.length) + 1);
  }
  const pack = ids?.bytes.data ?? new Uint8Array(0);
  const packEnds = ids?.ends.data ?? new Int32Array(0);
  const pendingField = pendingCategories.field;
  const pendingStart = pendingCategories.start;
  const pendingEnd = pendingCategories.end;
  const pendingHash = pendingCategories.hash;
  let pos = start;
  for (;;) {
    const row = sink.rowCount;
    if (row >= sink.capacity) sink.grow(row + 1);
    const numByField = sink.numByField;
    const codesByField = sink.codesByField;
    const dictByField = sink.dictByField;
    const targetData = sink.targetData;
    const rowStart = pos;
    if (pos >= end) return rowStart;
    const first = buf[pos]!;
    // Blank lines (and anything starting with CR) are the general path's business.
    if (first === LF || first === CR) return rowStart;
    const idStart = ids === undefined ? 0 : ids.used;
    let idEnd = idStart;
    let idBits = 0;
    let pending = 0;
    for (let f = 0; f <= last; f++) {
      if (pos >= end) return rowStart;
      const kind = kinds[f]!;
      let b = buf[pos]!;
      let s = pos;
      let p = pos;
      if (kind === NUMERIC) {
        let v = 0;
        while (p < end) {
          b = buf[p]!;
          if (b < DIGIT_0 || b > DIGIT_9) break;
          v = v * 10 + (b - DIGIT_0);
          p++;
        }
        if (p >= end) return rowStart;
        if ((b === COMMA || b === LF) && p - s <= MAX_EXACT_DIGITS) {
          if (p === s) v = Number.NaN;
        } else {
          // Sign, decimals, exponent, CR, more than 15 digits: the general number parser.
          if (p === s && b === QUOTE) return rowStart;
          while (p < end) {
            b = buf[p]!;
            if (b === COMMA || b === LF) break;
            p++;
          }
          if (p >= end) return rowStart;
          let e = p;
          if (b === LF && e > s && buf[e - 1] === CR) e--;
          if (e === s) v = Number.NaN;
          else {
            v = parseNumber(buf, s, e);
            if (Number.isNaN(v)) return rowStart;
          }
        }
        numByField[f]![row] = v;
      } else if (kind === CATEGORICAL) {
        let h = HASH_SEED;
        let e: number;
        if (b === QUOTE) {
          s = pos + 1;
          p = s;
          while (p < end) {
            b = buf[p]!;
            if (b === QUOTE || b === LF) break;
            h = Math.imul(h ^ b, HASH_PRIME);
            p++;
          }
          if (p + 1 >= end || b !== QUOTE) return rowStart;
          e = p;
          p++;
          b = buf[p]!;
          if (b !== COMMA && b !== LF) return rowStart; // "" escape, CR, junk after the quote
        } else {
          while (p < end) {
            b = buf[p]!;
            if (b === COMMA || b === LF) break;
            h = Math.imul(h ^ b, HASH_PRIME);
            p++;
          }
          if (p >= end) return rowStart;
          e = p;
          if (b === LF && e > s && buf[e - 1] === CR) {
            e--;
            h = hashBytes(buf, s, e);
          }
        }
        if (e === s) codesByField[f]![row] = MISSING_CODE;
        else {
          const code = dictByField[f]!.find(buf, s, e, h);
          if (code >= 0) codesByField[f]![row] = code;
          else {
            pendingField[pending] = f;
            pendingStart[pending] = s;
            pendingEnd[pending] = e;
            pendingHash[pending] = h;
            pending++;
          }
        }
      } else if (kind === TARGET) {
        if (b !== DIGIT_0 && b !== DIGIT_1) return rowStart;
        p = pos + 1;
        if (p >= end) return rowStart;
        b = buf[p]!;
        if (b === CR) {
          p++;
          if (p >= end) return rowStart;
          b = buf[p]!;
          if (b !== LF) return rowStart;
        }
        targetData[row] = buf[pos]! - DIGIT_0;
      } else if (kind === ID) {
        if (b === QUOTE) return rowStart;
        let w = idStart;
        while (p < end) {
          b = buf[p]!;
          if (b === COMMA || b === LF) break;
          idBits |= b;
          pack[w++] = b;
          p++;
        }
        if (p >= end) return rowStart;
        if (b === LF && p > s && buf[p - 1] === CR) w--;
        if (w === idStart) return rowStart;
        idEnd = w;
      }
      // b is the byte that ended the field, at p: a comma, or LF after the last field.
      if (f === last ? b !== LF : b !== COMMA) return rowStart;
      pos = p + 1;
    }
    for (let k = 0; k < pending; k++) {
      const f = pendingField[k]!;
      codesByField[f]![row] = dictByField[f]!.code(buf, pendingStart[k]!, pendingEnd[k]!, pendingHash[k]!);
    }
    if (ids !== undefined && idEnd !== idStart) {
      packEnds[ids.count++] = idEnd;
      ids.used = idEnd;
      ids.bits |= idBits;
    }
    sink.rowCount = row + 1;
    if (sink.rowCount >= rowLimit) return pos;
  }
}
