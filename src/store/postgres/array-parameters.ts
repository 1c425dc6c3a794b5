/**
 * PredictionRows as the array parameters of the `unnest($1::float8[], …)` insert, one per insert
 * value of the row layout (row-layout.ts). pg turns a JS array into a text literal itself, running two regular expressions
 * over every element and quoting numbers too, after we had boxed every value into an array of its own:
 * on the serving thread that was most of a batch's cost to the client (docs/performance.md). Here
 * number columns go in PostgreSQL's binary array format (pg sends a Buffer parameter as binary), eight
 * bytes a value with no text conversion on either side, and text columns as literals escaped only when
 * a value holds a quote or a backslash.
 */
import type { PredictionRows } from '../prediction-store.js';
import type { RowLayout } from '../row-layout.js';
import { insertValue } from '../store-columns.js';

/** Element type OIDs of the binary array format (pg_type.oid). */
const FLOAT8_OID = 701;
const INT2_OID = 21;

/** A column of numbers as a binary float8[] (8 bytes a value) or int2[] (2 bytes); null elements stay null. */
function binaryNumberArray(
  layout: RowLayout,
  rows: PredictionRows,
  c: number,
  type: 'float8' | 'int2',
): Buffer {
  const width = type === 'float8' ? 8 : 2;
  // Sized for no nulls (a null takes 4 bytes instead of 4 + width); every byte up to the cut is written.
  const bytes = Buffer.allocUnsafe(20 + rows.count * (4 + width));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let hasNull = false;
  let at = 20;
  for (let r = 0; r < rows.count; r++) {
    const value = insertValue(layout, rows, r, c);
    if (value === null) {
      hasNull = true;
      view.setInt32(at, -1);
      at += 4;
      continue;
    }
    if (typeof value !== 'number') {
      throw new TypeError(`column ${layout.names[c]} holds text where a number belongs`);
    }
    view.setInt32(at, width);
    if (width === 8) view.setFloat64(at + 4, value);
    else view.setInt16(at + 4, value);
    at += 4 + width;
  }
  // One dimension of rows.count elements, lower bound 1.
  view.setInt32(0, 1);
  view.setInt32(4, hasNull ? 1 : 0);
  view.setInt32(8, type === 'float8' ? FLOAT8_OID : INT2_OID);
  view.setInt32(12, rows.count);
  view.setInt32(16, 1);
  return bytes.subarray(0, at);
}

/** One element of a text array literal: always quoted, so empty texts and the word NULL stay texts. */
function textElement(value: string): string {
  if (value.includes('\\') || value.includes('"')) {
    return `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
  }
  return `"${value}"`;
}

/** A column of texts as an array literal (`{"a",NULL,"b \\"c\\""}`). */
function textArrayLiteral(layout: RowLayout, rows: PredictionRows, c: number): string {
  const parts: string[] = new Array(rows.count);
  for (let r = 0; r < rows.count; r++) {
    const value = insertValue(layout, rows, r, c);
    if (value !== null && typeof value !== 'string') {
      throw new TypeError(`column ${layout.names[c]} holds a number where a text belongs`);
    }
    parts[r] = value === null ? 'NULL' : textElement(value);
  }
  return `{${parts.join(',')}}`;
}

/**
 * Every insert value of `rows` (in `layout.names` order) as the parameter of its `unnest` argument,
 * given each one's PostgreSQL element type.
 */
export function unnestParameters(
  layout: RowLayout,
  rows: PredictionRows,
  types: readonly string[],
): (Buffer | string)[] {
  return layout.names.map((name, c) => {
    const type = types[c];
    if (type === 'float8' || type === 'int2') return binaryNumberArray(layout, rows, c, type);
    if (type === 'text') return textArrayLiteral(layout, rows, c);
    throw new TypeError(`no array parameter for column ${name} of type ${type}`);
  });
}
