/**
 * `numpy.argsort(values)` with its default kind, as NumPy 1.x computes it for float64 without AVX-512
 * (`aquicksort`: introsort with median-of-three pivots, insertion sort up to 16 elements, heapsort past
 * a depth of 2·⌊log₂ n⌋). It is not stable, and which of several tied rows comes first is part of
 * NannyML's calibration choice: its expected calibration error cuts the sorted rows into equal-count
 * bins, and isotonic outputs tie in long runs, so tied rows at a bin edge land on one side or the
 * other by this order (on one reference of 5,000 rows the error moved by 0.0016 and the choice flipped;
 * test/fixtures/oracles/make-sklearn-splits.py). Checked against NumPy 1.24's own output. NaN sorts
 * last, as in NumPy.
 */

const SMALL_QUICKSORT = 15;

/** NumPy's `DOUBLE_LT`: a < b, with NaN after every number. */
function less(a: number, b: number): boolean {
  return a < b || (Number.isNaN(b) && !Number.isNaN(a));
}

/** NumPy's `aheapsort` of tosort[from..from+n). */
function heapsort(v: ArrayLike<number>, tosort: Uint32Array, from: number, n: number): void {
  // 1-based heap indexing: heap position k is tosort[from + k - 1].
  const base = from - 1;
  /** Moves `item` down from heap position `start` within the first `size` positions. */
  const siftDown = (item: number, start: number, size: number) => {
    let i = start;
    for (let j = start << 1; j <= size; ) {
      if (j < size && less(v[tosort[base + j]!]!, v[tosort[base + j + 1]!]!)) j += 1;
      if (!less(v[item]!, v[tosort[base + j]!]!)) break;
      tosort[base + i] = tosort[base + j]!;
      i = j;
      j += j;
    }
    tosort[base + i] = item;
  };
  for (let l = n >> 1; l > 0; --l) siftDown(tosort[base + l]!, l, n);
  for (let m = n; m > 1; ) {
    const item = tosort[base + m]!;
    tosort[base + m] = tosort[base + 1]!;
    m -= 1;
    siftDown(item, 1, m);
  }
}

/** `numpy.argsort(values, kind="heapsort")`: the introsort's fallback on its own (for tests). */
export function numpyHeapArgsort(values: ArrayLike<number>): Uint32Array {
  const tosort = Uint32Array.from({ length: values.length }, (_, i) => i);
  heapsort(values, tosort, 0, values.length);
  return tosort;
}

/**
 * The indices that sort `values` ascending, in NumPy's order. Cost O(n log n).
 * @example numpyArgsort([0.5, 0.1, 0.5, 0.2]) // Uint32Array [1, 3, 0, 2]
 */
export function numpyArgsort(values: ArrayLike<number>): Uint32Array {
  const v = values;
  const num = v.length;
  const tosort = Uint32Array.from({ length: num }, (_, i) => i);
  if (num < 2) return tosort;
  const swap = (a: number, b: number) => {
    const t = tosort[a]!;
    tosort[a] = tosort[b]!;
    tosort[b] = t;
  };
  let pl = 0;
  let pr = num - 1;
  const stack: number[] = [];
  const depths: number[] = [];
  let cdepth = (31 - Math.clz32(num)) * 2; // npy_get_msb(num) · 2
  for (;;) {
    let sorted = false;
    if (cdepth < 0) {
      heapsort(v, tosort, pl, pr - pl + 1);
      sorted = true;
    } else {
      while (pr - pl > SMALL_QUICKSORT) {
        const pm = pl + ((pr - pl) >> 1);
        if (less(v[tosort[pm]!]!, v[tosort[pl]!]!)) swap(pm, pl);
        if (less(v[tosort[pr]!]!, v[tosort[pm]!]!)) swap(pr, pm);
        if (less(v[tosort[pm]!]!, v[tosort[pl]!]!)) swap(pm, pl);
        const vp = v[tosort[pm]!]!;
        let pi = pl;
        let pj = pr - 1;
        swap(pm, pj);
        for (;;) {
          do ++pi;
          while (less(v[tosort[pi]!]!, vp));
          do --pj;
          while (less(vp, v[tosort[pj]!]!));
          if (pi >= pj) break;
          swap(pi, pj);
        }
        swap(pi, pr - 1);
        // The larger part waits on the stack; the loop goes on with the smaller.
        if (pi - pl < pr - pi) {
          stack.push(pi + 1, pr);
          pr = pi - 1;
        } else {
          stack.push(pl, pi - 1);
          pl = pi + 1;
        }
        depths.push(--cdepth);
      }
    }
    if (!sorted) {
      for (let pi = pl + 1; pi <= pr; ++pi) {
        const vi = tosort[pi]!;
        const vp = v[vi]!;
        let pj = pi;
        while (pj > pl && less(vp, v[tosort[pj - 1]!]!)) {
          tosort[pj] = tosort[pj - 1]!;
          pj--;
        }
        tosort[pj] = vi;
      }
    }
    if (stack.length === 0) break;
    pr = stack.pop()!;
    pl = stack.pop()!;
    cdepth = depths.pop()!;
  }
  return tosort;
}
