/**
 * A small, fast, seeded pseudo-random generator for the core (never Math.random()).
 *
 * sfc32 (Chris Doty-Humphrey's Small Fast Chaotic generator, from PractRand) seeded through a
 * murmur3-style mix of the seed and stream words, so that any (seed, stream) pair gives an independent-looking sequence. The generator
 * derives one stream per row from (seed, row index): a row's values then do not depend on how many
 * draws earlier rows took, which keeps a shifted period row-aligned with its unshifted twin.
 */
export interface Rng {
  /** Uniform on [0, 1), 32 bits of resolution. */
  next(): number;
  /** A uniform 32-bit unsigned integer. */
  nextUint32(): number;
  /** A standard normal draw. */
  normal(): number;
}

/** sfc32 state in four 32-bit words; a class so that creating one per row stays cheap. */
class Sfc32 implements Rng {
  private a: number;
  private b: number;
  private c: number;
  private d = 1;
  private spare = Number.NaN;

  constructor(a: number, b: number, c: number) {
    this.a = a | 0;
    this.b = b | 0;
    this.c = c | 0;
    for (let i = 0; i < 8; i++) this.nextUint32();
  }

  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  next(): number {
    return this.nextUint32() / 4294967296;
  }

  normal(): number {
    // Marsaglia's polar method; keeps the second draw for the next call.
    if (!Number.isNaN(this.spare)) {
      const v = this.spare;
      this.spare = Number.NaN;
      return v;
    }
    let u = 0;
    let v = 0;
    let s = 0;
    do {
      u = 2 * this.next() - 1;
      v = 2 * this.next() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const f = Math.sqrt((-2 * Math.log(s)) / s);
    this.spare = v * f;
    return u * f;
  }
}

function mix32(x: number): number {
  let z = x >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/**
 * Creates a generator from an integer seed and an optional stream number (e.g. a row index); seeds and
 * streams up to 2^53 are all distinct. Cost O(1); throws RangeError for a non-integer seed or stream.
 * @example createRng(42).next() // the same number on every run
 */
export function createRng(seed: number, stream = 0): Rng {
  if (!Number.isSafeInteger(seed) || !Number.isSafeInteger(stream)) {
    throw new RangeError('rng seed and stream must be safe integers');
  }
  // Both 53-bit numbers enter through their low and high 32-bit words, hashed splitmix-style.
  const seedLo = seed >>> 0;
  const seedHi = Math.floor(seed / 4294967296) >>> 0;
  const streamLo = stream >>> 0;
  const streamHi = Math.floor(stream / 4294967296) >>> 0;
  const a = mix32(seedLo + 0x9e3779b9 * 1) ^ mix32(streamHi ^ 0x7f4a7c15);
  const b = mix32(seedHi ^ 0x3c6ef372) ^ mix32(streamLo + 0x6a09e667);
  const c = mix32(a ^ b ^ 0xbb67ae85) ^ mix32(streamLo ^ seedLo ^ 0x510e527f);
  return new Sfc32(a, b, c);
}
