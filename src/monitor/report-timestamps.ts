/**
 * The timestamp column of a report table as epoch milliseconds per row: ISO 8601 text (a date-time with
 * no zone is UTC) or whole epoch seconds/milliseconds (the unit told by the range, data/column-roles.ts).
 * Chunking by period needs a time for every row, so a missing or unreadable one is an error naming the
 * file, the data row and the value.
 */
import { isoDateMs } from '../data/column-roles.js';
import type { ColumnarTable } from '../data/columnar-table.js';
import { ChurnwatchError } from '../errors.js';
import { epochUnitOf } from './report-roles.js';

function badTimestamp(file: string, column: string, row: number, what: string): ChurnwatchError {
  return new ChurnwatchError(
    'CW_REPORT_BAD_TIMESTAMP',
    `${file} data row ${row + 1}, column ${column}: ${what}; chunks by period need a time in every row`,
    {
      hint: 'use ISO 8601 times (2024-05-01T10:00:00Z) or whole epoch seconds/milliseconds, or chunk by --chunk-size / --chunks',
    },
  );
}

/** Epoch ms per row of `column` in `table`. Throws CW_REPORT_BAD_TIMESTAMP on the first row without a time. */
export function timestampsMs(table: ColumnarTable, column: string, file: string): Float64Array {
  const c = table.columns.get(column);
  if (!c) throw new TypeError(`column ${column} is not in ${file}`);
  if (c.kind === 'numeric') {
    const unit = epochUnitOf([table], column);
    const scale = unit === 's' ? 1000 : 1;
    for (let i = 0; i < c.values.length; i++) {
      const v = c.values[i]!;
      if (Number.isNaN(v)) throw badTimestamp(file, column, i, 'no time');
      if (!unit)
        throw badTimestamp(
          file,
          column,
          i,
          `${v} is a number but the column is not whole epoch seconds or milliseconds (2001–2100)`,
        );
    }
    return c.values.map((v) => v * scale);
  }
  const ms = c.dictionary.map(isoDateMs);
  const out = new Float64Array(c.codes.length);
  for (let i = 0; i < c.codes.length; i++) {
    const code = c.codes[i]!;
    if (code < 0) throw badTimestamp(file, column, i, 'no time');
    const t = ms[code]!;
    if (Number.isNaN(t))
      throw badTimestamp(
        file,
        column,
        i,
        `${JSON.stringify(c.dictionary[code])} is not an ISO 8601 date or time`,
      );
    out[i] = t;
  }
  return out;
}
