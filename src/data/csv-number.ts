/**
 * Numbers from CSV bytes without making a string: the reader's fast path accumulates integer digits
 * itself and calls parseNumber for anything else; parseNumber handles [-+]digits[.digits] exactly and
 * leaves exponents, "Infinity" and spaces to Number() on the text.
 */

const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);

/** buf[start, end) as a finite number, or NaN when the text is not a finite number. */
export function parseNumber(buf: Uint8Array, start: number, end: number): number {
  let i = start;
  let negative = false;
  const first = buf[i];
  if (first === 0x2d || first === 0x2b) {
    negative = first === 0x2d;
    i++;
  }
  let mantissa = 0;
  let digits = 0;
  let fraction = 0;
  let seenDot = false;
  for (; i < end; i++) {
    const b = buf[i]!;
    if (b >= 0x30 && b <= 0x39) {
      mantissa = mantissa * 10 + (b - 0x30);
      digits++;
      if (seenDot) fraction++;
    } else if (b === 0x2e && !seenDot) {
      seenDot = true;
    } else {
      return slowNumber(buf, start, end);
    }
  }
  if (digits === 0 || digits > 15 || fraction > 22) return slowNumber(buf, start, end);
  // Exact integer / exact power of ten: the division is correctly rounded, like Number("12.5").
  const value = fraction > 0 ? mantissa / POW10[fraction]! : mantissa;
  return negative ? -value : value;
}

/** Number() on the decoded text: NaN for blank or non-finite text. */
export function slowNumber(buf: Uint8Array, start: number, end: number): number {
  return numberFromText(Buffer.from(buf.buffer, buf.byteOffset, buf.length).toString('utf8', start, end));
}

export function numberFromText(text: string): number {
  if (text.trim() === '') return Number.NaN;
  const value = Number(text);
  return Number.isFinite(value) ? value : Number.NaN;
}

/** A decimal number: `12`, `-0.5`, `.5`, `1e3`; not `0x10`, `Infinity` or `1,5`. */
export const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/** buf[start, end) is `[+-]digits[.digits]` (or `digits.`): what parseNumber reads without making a string. */
export function plainDecimal(buf: Buffer, start: number, end: number): boolean {
  let i = start;
  if (i < end && (buf[i] === 0x2d || buf[i] === 0x2b)) i++;
  let digits = 0;
  let dot = false;
  for (; i < end; i++) {
    const b = buf[i]!;
    if (b >= 0x30 && b <= 0x39) digits++;
    else if (b === 0x2e && !dot) dot = true;
    else return false;
  }
  return digits > 0;
}

/** Space or tab: trimmed from both ends of a cell. */
export const isBlank = (b: number) => b === 0x20 || b === 0x09;
