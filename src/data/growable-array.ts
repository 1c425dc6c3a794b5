/** A typed array that grows while a column is built, and is cut to its length once at the end. */

/** Growth factor when a column runs out of room: amortised O(1) appends, at most half the size wasted. */
const GROWTH = 1.5;
/** Minimum growth step, so small columns do not reallocate at every row. */
const MIN_GROWTH = 1024;
/** At the end, keep a view of the array when it is at least this full (no copy at the peak of memory). */
const VIEW_WHEN_FULL = 0.8;

export class Growable<T extends Float64Array | Int32Array | Uint8Array> {
  constructor(
    public data: T,
    private readonly make: (n: number) => T,
  ) {}

  /** Room for n values (the old ones copied over when it grows). */
  ensure(n: number): void {
    if (n <= this.data.length) return;
    const next = this.make(Math.max(n, Math.ceil(this.data.length * GROWTH) + MIN_GROWTH));
    next.set(this.data);
    this.data = next;
  }

  /** The first n values; a view when little is wasted (no copy at the peak), else a compact copy. */
  trimmed(n: number): T {
    if (n === this.data.length) return this.data;
    return (n >= this.data.length * VIEW_WHEN_FULL ? this.data.subarray(0, n) : this.data.slice(0, n)) as T;
  }
}

export const growableFloat64 = (n: number) => new Growable(new Float64Array(n), (m) => new Float64Array(m));
export const growableInt32 = (n: number) => new Growable(new Int32Array(n), (m) => new Int32Array(m));
export const growableUint8 = (n: number) => new Growable(new Uint8Array(n), (m) => new Uint8Array(m));
