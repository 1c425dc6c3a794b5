/**
 * NumPy's legacy generator, `numpy.random.RandomState(seed)` (MT19937 seeded by `init_genrand`), and
 * the two draws scikit-learn's StratifiedShuffleSplit makes with it: `permutation` (the legacy
 * Fisher-Yates from the end, each index drawn by masked rejection on 32-bit outputs) and `choice`
 * without replacement (a permutation's prefix). Reproducing them draw for draw lets churnwatch hold
 * out the same reference rows NannyML does when it decides whether to calibrate (`random_state=42`),
 * so a borderline decision comes out the same. Checked against NumPy's own output
 * (test/fixtures/oracles/sklearn-splits.json).
 */

const N = 624;
const M = 397;
const UPPER = 0x80000000;
const LOWER = 0x7fffffff;
const MATRIX_A = 0x9908b0df;

export class NumpyLegacyRandom {
  readonly #state = new Uint32Array(N);
  #position = N;

  /** `RandomState(seed)` for an integer seed in [0, 2³²). */
  constructor(seed: number) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff)
      throw new RangeError(`NumPy RandomState seed must be an integer in [0, 2^32), got ${seed}`);
    const s = this.#state;
    s[0] = seed >>> 0;
    for (let i = 1; i < N; i++) {
      const previous = s[i - 1]! ^ (s[i - 1]! >>> 30);
      s[i] = (Math.imul(1812433253, previous) + i) >>> 0;
    }
  }

  #twist(): void {
    const s = this.#state;
    for (let i = 0; i < N; i++) {
      const y = (s[i]! & UPPER) | (s[(i + 1) % N]! & LOWER);
      s[i] = s[(i + M) % N]! ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    }
    this.#position = 0;
  }

  /** The next 32-bit output (genrand_int32). */
  nextUint32(): number {
    if (this.#position >= N) this.#twist();
    let y = this.#state[this.#position++]!;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** A uniform integer in [0, max] (NumPy's `random_interval`), for max < 2³². */
  interval(max: number): number {
    if (max === 0) return 0;
    let mask = max;
    mask |= mask >>> 1;
    mask |= mask >>> 2;
    mask |= mask >>> 4;
    mask |= mask >>> 8;
    mask |= mask >>> 16;
    mask >>>= 0;
    for (;;) {
      const value = (this.nextUint32() & mask) >>> 0;
      if (value <= max) return value;
    }
  }

  /** Shuffles `values` in place as `RandomState.shuffle` does a 1-d array. */
  shuffle<T extends { length: number; [index: number]: number }>(values: T): T {
    for (let i = values.length - 1; i >= 1; i--) {
      const j = this.interval(i);
      const t = values[i]!;
      values[i] = values[j]!;
      values[j] = t;
    }
    return values;
  }

  /** `RandomState.permutation(n)`: 0..n-1 shuffled. */
  permutation(n: number): Uint32Array {
    return this.shuffle(Uint32Array.from({ length: n }, (_, i) => i));
  }

  /** `RandomState.choice(values, size, replace=False)` without weights. */
  choiceWithoutReplacement(values: readonly number[], size: number): number[] {
    if (size > values.length)
      throw new RangeError(`cannot choose ${size} of ${values.length} without replacement`);
    return Array.from(this.permutation(values.length).subarray(0, size), (k) => values[k]!);
  }
}
