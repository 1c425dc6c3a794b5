/**
 * A schema's missing-value tokens, as the reader and schema inference compare them: a cell's trimmed
 * text equal to a token, ignoring case, is missing; a token that is a number (`-999`) also matches the
 * same number written otherwise (`-999.0`).
 */
import { DECIMAL } from './csv-number.js';

export class MissingTokens {
  private readonly lowered: Set<string>;
  /** Longest token in UTF-8 bytes (≥ its length in characters): longer cells are never compared. */
  readonly longest: number;
  /** The empty token is one of them: an empty cell is missing. */
  readonly emptyIsMissing: boolean;
  private readonly numbers: Set<number>;

  constructor(tokens: readonly string[]) {
    this.lowered = new Set(tokens.map((t) => t.trim().toLowerCase()));
    this.longest = Math.max(0, ...[...this.lowered].map((t) => Buffer.byteLength(t)));
    this.emptyIsMissing = this.lowered.has('');
    this.numbers = new Set([...this.lowered].filter((t) => DECIMAL.test(t)).map(Number));
  }

  /** Trimmed text that is a token. */
  hasText(text: string): boolean {
    return text.length <= this.longest && this.lowered.has(text.toLowerCase());
  }

  /** A number that a numeric token names. */
  hasNumber(value: number): boolean {
    return this.numbers.size > 0 && this.numbers.has(value);
  }

  /** Only the empty cell is missing: the reader's fast path applies. */
  get onlyEmpty(): boolean {
    return this.lowered.size === 1 && this.emptyIsMissing;
  }
}
