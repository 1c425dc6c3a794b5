/**
 * The general tokenizer: finds where the fields of one row start and end, for every row RFC 4180 allows
 * (quoted fields, "" escapes, commas and line breaks inside quotes, CRLF or LF) and for malformed ones,
 * which it reports and skips to the end of their physical line. It only marks byte spans; the header
 * and the row checks read the values. Most rows never come here: the fast path (csv-fast-path.ts) takes
 * the plain ones and hands over only the rows it cannot take whole.
 */
import { COMMA, CR, LF, QUOTE, unescapeQuotes } from './csv-syntax.js';

/** scan's answer when the row may go on after the bytes it was given: call again with more. */
export const NEED_MORE_BYTES = -1;
/** Field slots to start with; Train.csv has 19 columns. Doubled when a row has more fields. */
const INITIAL_FIELDS = 64;

export class RowTokenizer {
  /** Per field of the last row scanned: its content's byte span (quotes excluded). */
  fieldStart = new Int32Array(INITIAL_FIELDS);
  fieldEnd = new Int32Array(INITIAL_FIELDS);
  /** 1 when the field's content holds "" escapes (its text must be unescaped). */
  fieldEscaped = new Uint8Array(INITIAL_FIELDS);
  /** Fields of the last row scanned. */
  fields = 0;
  /** Line breaks the last row spanned (its own, and any inside quoted fields). */
  newlines = 0;
  /** Why the last row is malformed, or undefined. */
  malformed: string | undefined;

  /**
   * Scans the row starting at `pos` in buf[pos, end). Returns the offset after it, or NEED_MORE_BYTES when
   * the row may continue past `end` and `final` is false (the bytes after `end` are not read yet).
   */
  scan(buf: Buffer, pos: number, end: number, final: boolean): number {
    let starts = this.fieldStart;
    let ends = this.fieldEnd;
    let escapedFlags = this.fieldEscaped;
    let fields = 0;
    let newlines = 0;
    let malformed: string | undefined;
    for (;;) {
      if (fields === starts.length) {
        this.growFields();
        starts = this.fieldStart;
        ends = this.fieldEnd;
        escapedFlags = this.fieldEscaped;
      }
      if (pos < end && buf[pos] === QUOTE) {
        let i = pos + 1;
        let escaped = false;
        let closed = -1;
        while (i < end) {
          const b = buf[i]!;
          if (b === QUOTE) {
            if (i + 1 < end && buf[i + 1] === QUOTE) {
              escaped = true;
              i += 2;
              continue;
            }
            if (i + 1 === end && !final) break; // cannot tell "" from " yet
            closed = i;
            break;
          }
          if (b === LF) newlines++;
          i++;
        }
        if (closed < 0) {
          if (!final) return NEED_MORE_BYTES;
          malformed = 'unterminated quoted field';
          starts[fields] = pos + 1;
          ends[fields] = end;
          escapedFlags[fields] = 0;
          fields++;
          pos = end;
          break;
        }
        starts[fields] = pos + 1;
        ends[fields] = closed;
        escapedFlags[fields] = escaped ? 1 : 0;
        fields++;
        pos = closed + 1;
        // A CR before the LF that ends the row belongs to the line break; at the chunk end, wait for the LF.
        if (pos + 1 === end && buf[pos] === CR && !final) return NEED_MORE_BYTES;
        if (pos + 1 < end && buf[pos] === CR && buf[pos + 1] === LF) pos++;
        if (pos >= end) {
          if (!final) return NEED_MORE_BYTES;
          break;
        }
        const next = buf[pos]!;
        if (next === COMMA) {
          pos++;
          continue;
        }
        if (next === LF) {
          pos++;
          newlines++;
          break;
        }
        malformed = 'unexpected character after a closing quote';
        // Resynchronise at the end of the physical line.
        while (pos < end && buf[pos] !== LF) pos++;
        if (pos >= end && !final) return NEED_MORE_BYTES;
        if (pos < end) {
          pos++;
          newlines++;
        }
        break;
      }
      let i = pos;
      while (i < end) {
        const b = buf[i]!;
        if (b === COMMA || b === LF) break;
        i++;
      }
      if (i >= end && !final) return NEED_MORE_BYTES;
      let fieldEnd = i;
      if (fieldEnd > pos && buf[fieldEnd - 1] === CR && (i >= end || buf[i] === LF)) fieldEnd--;
      starts[fields] = pos;
      ends[fields] = fieldEnd;
      escapedFlags[fields] = 0;
      fields++;
      if (i >= end) {
        pos = end;
        break;
      }
      pos = i + 1;
      if (buf[i] === LF) {
        newlines++;
        break;
      }
    }
    this.fields = fields;
    this.newlines = newlines;
    this.malformed = malformed;
    return pos;
  }

  /** A blank line: one empty field and nothing wrong. It is not a row. */
  get blank(): boolean {
    return this.fields === 1 && this.fieldEnd[0] === this.fieldStart[0] && this.malformed === undefined;
  }

  /** The text of field f of the last row scanned, unescaped. */
  text(buf: Buffer, f: number): string {
    const text = buf.toString('utf8', this.fieldStart[f]!, this.fieldEnd[f]!);
    return this.fieldEscaped[f] ? unescapeQuotes(text) : text;
  }

  /** The texts of every field of the last row scanned (a header line), unescaped. */
  texts(buf: Buffer): string[] {
    const out: string[] = [];
    for (let f = 0; f < this.fields; f++) out.push(this.text(buf, f));
    return out;
  }

  private growFields(): void {
    const n = this.fieldStart.length * 2;
    const s = new Int32Array(n);
    s.set(this.fieldStart);
    this.fieldStart = s;
    const e = new Int32Array(n);
    e.set(this.fieldEnd);
    this.fieldEnd = e;
    const q = new Uint8Array(n);
    q.set(this.fieldEscaped);
    this.fieldEscaped = q;
  }
}
