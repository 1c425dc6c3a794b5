/**
 * The bytes CSV syntax is made of, and the small text helpers every part of the reader shares
 * (tokenizer, fast path, header, row checks).
 */

export const COMMA = 0x2c;
export const QUOTE = 0x22;
export const LF = 0x0a;
export const CR = 0x0d;
export const DIGIT_0 = 0x30;
export const DIGIT_1 = 0x31;
export const DIGIT_9 = 0x39;
/** The UTF-8 byte order mark some editors write at the start of a file; skipped, never part of a name. */
export const BOM = [0xef, 0xbb, 0xbf] as const;

/** A UTF-8 byte order mark at buf[pos]. */
export function startsWithBom(buf: Buffer, pos: number, end: number): boolean {
  return end - pos >= BOM.length && buf[pos] === BOM[0] && buf[pos + 1] === BOM[1] && buf[pos + 2] === BOM[2];
}

/** Length of a value quoted in an error message; longer values are cut and end in "…". */
const PREVIEW_CHARS = 40;

/** The text of a quoted field whose quotes were escaped by doubling them (RFC 4180). */
export function unescapeQuotes(quotedContent: string): string {
  return quotedContent.replaceAll('""', '"');
}

/**
 * Buffer#latin1Slice is what buf.toString('latin1', a, b) ends in, without its argument checks and
 * encoding dispatch, which cost as much as the copy for a 40-byte id. Fall back when it is absent.
 */
const latin1Slice = (Buffer.prototype as unknown as { latin1Slice?: (a: number, b: number) => string })
  .latin1Slice;
export function latin1(buf: Buffer, start: number, end: number): string {
  return latin1Slice ? latin1Slice.call(buf, start, end) : buf.toString('latin1', start, end);
}

/** A value for an error message: JSON-quoted, cut after PREVIEW_CHARS characters. */
export function preview(buf: Buffer, start: number, end: number): string {
  const text = buf.toString('utf8', start, Math.min(end, start + PREVIEW_CHARS));
  return JSON.stringify(end - start > PREVIEW_CHARS ? `${text}…` : text);
}
