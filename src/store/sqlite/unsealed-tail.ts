/**
 * Rows this connection inserted after the seal watermark, in rowid order, while they are known to be
 * exactly rowids through+1 .. through+count. Sealing then takes them from here instead of reading them
 * back (their labels are read back: a join may have set some). The block sealer drops the tail whenever
 * that is not known (at open, after a duplicate was skipped or a write failed, after another process
 * wrote or sealed): sealing then reads the rows back.
 *
 * Rows stay in the packed PredictionRows they were inserted from and become seal rows (seal-row.ts) only
 * when their block is sealed: a 28-value array per row held for a whole block lived through several
 * scavenges and into the old generation, most of the writer thread's time in GC (docs/performance.md).
 */

import type { PackedRows } from './packed-run.js';

/** Consecutive tail rows: read back as arrays, or still packed as inserted (made into arrays on demand). */
export interface TailPart {
  count: number;
  /** Row k of the part as a seal row (a fresh array for packed rows). */
  row(k: number): unknown[];
  /** The rows as inserted, when they are still packed: sealing copies them into columns directly. */
  readonly packed?: PackedRows;
}

/** Rows [from, from + count) of a tail part. */
export interface TailSegment {
  readonly part: TailPart;
  readonly from: number;
  readonly count: number;
}

export class UnsealedTail {
  /** Rows in the tail, after the watermark. */
  count = 0;
  /** The first `skip` rows of parts[0] are sealed already. */
  private skip = 0;
  private readonly parts: TailPart[] = [];

  /** `through` is the watermark: every rowid up to it is sealed. */
  constructor(public through: number) {}

  /** The rowid the next row inserted gets, if it joins the tail. */
  get nextRowid(): number {
    return this.through + this.count + 1;
  }

  /** Adds a part (empty so far) that `grow` fills as its rows are inserted. */
  append(part: TailPart): void {
    this.parts.push(part);
  }

  /** Counts `count` more rows of `part` (the last appended) as inserted. */
  grow(part: TailPart, count: number): void {
    part.count += count;
    this.count += count;
  }

  /** The first `n` rows as the parts that hold them; the tail is left as it is. */
  segments(n: number): TailSegment[] {
    const out: TailSegment[] = [];
    let left = n;
    let skip = this.skip;
    for (const part of this.parts) {
      if (left === 0) break;
      const count = Math.min(left, part.count - skip);
      if (count > 0) out.push({ part, from: skip, count });
      left -= count;
      skip = 0;
    }
    return out;
  }

  /** The first `n` rows as seal rows; the tail is left as it is. */
  peek(n: number): unknown[][] {
    const out: unknown[][] = new Array(n);
    let k = 0;
    let skip = this.skip;
    for (const part of this.parts) {
      while (skip < part.count && k < n) out[k++] = part.row(skip++);
      if (k === n) break;
      skip = 0;
    }
    return out;
  }

  /** Removes the first `n` rows (just sealed) and moves the watermark past them. */
  drop(n: number): void {
    this.through += n;
    this.count -= n;
    let left = n;
    while (left > 0) {
      const part = this.parts[0]!;
      const take = Math.min(left, part.count - this.skip);
      this.skip += take;
      left -= take;
      if (this.skip === part.count) {
        this.parts.shift();
        this.skip = 0;
      }
    }
  }
}
