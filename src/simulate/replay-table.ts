/**
 * Reads a held-out CSV for replay by the model's schema: the features under their schema names and
 * kinds, the id column's values as row ids, and the target mapped through the schema's positive label
 * (1 = positive, 0 = negative). Expresso files go through the reader's Expresso fast path, as before.
 *
 * Other schemas are read with the reader's 'infer' mode and converted here, column by column, until the
 * reader reads any CSV by a DatasetSchema itself (`readCsvTable(path, { schema })`); this module is the
 * one place to switch then.
 */
import type { CategoricalColumn, Column, ColumnarTable } from '../data/columnar-table.js';
import { readCsvTable } from '../data/csv-reader.js';
import type { DatasetSchema } from '../data/dataset-schema.js';
import { ChurnwatchError } from '../errors.js';
import { isExpressoSchema } from './replay-model.js';

/** The table to replay; `ids` and `target` are present when the file has those columns. */
export async function readReplayTable(path: string, schema: DatasetSchema): Promise<ColumnarTable> {
  if (isExpressoSchema(schema)) return (await readCsvTable(path, { schema: 'expresso' })).table;
  const { table } = await readCsvTable(path, { schema: 'infer' });
  return conformToSchema(table, schema, path);
}

function rowError(file: string, row: number, column: string, message: string): ChurnwatchError {
  return new ChurnwatchError('CW_DATA_CSV_ROW', `${file}: row ${row}, column ${column}: ${message}`, {
    hint: "fix the value, or pass the CSV the model's schema describes (--model)",
  });
}

/** A column's values as strings (undefined = missing), whatever kind inference gave it. */
function cellText(column: Column, i: number): string | undefined {
  if (column.kind === 'numeric') {
    const v = column.values[i]!;
    return Number.isNaN(v) ? undefined : String(v);
  }
  const code = column.codes[i]!;
  return code < 0 ? undefined : column.dictionary[code];
}

/** The table of an inferred read, with the schema's kinds, missing tokens, ids and 0/1 target. */
export function conformToSchema(table: ColumnarTable, schema: DatasetSchema, file: string): ColumnarTable {
  const absent = schema.features.filter((f) => !table.columns.has(f.name)).map((f) => f.name);
  if (absent.length > 0)
    throw new ChurnwatchError(
      'CW_DATA_CSV_HEADER',
      `${file}: the model's feature column${absent.length > 1 ? 's' : ''} ${absent.map((n) => JSON.stringify(n)).join(', ')} ${absent.length > 1 ? 'are' : 'is'} not in the header (${table.header.join(',')})`,
      { hint: 'replay a CSV with the columns the model was trained on (its schema.json lists them)' },
    );
  const missing = new Set(schema.missingTokens.map((t) => t.trim().toLowerCase()));
  const isMissing = (text: string | undefined) =>
    text === undefined || missing.has(text.trim().toLowerCase());
  const n = table.rowCount;
  const columns = new Map<string, Column>();
  for (const f of schema.features) {
    const source = table.columns.get(f.name)!;
    if (f.kind === 'numeric') {
      const values = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const text = cellText(source, i);
        if (isMissing(text)) {
          values[i] = Number.NaN;
          continue;
        }
        const v = Number(text!.trim());
        if (!Number.isFinite(v))
          throw rowError(
            file,
            i + 1,
            f.name,
            `${JSON.stringify(text)} is not a number (the feature is numeric)`,
          );
        values[i] = v;
      }
      columns.set(f.name, { kind: 'numeric', name: f.name, values });
    } else {
      columns.set(f.name, categorical(source, f.name, n, isMissing));
    }
  }
  const idColumn = schema.id === undefined ? undefined : table.columns.get(schema.id);
  const ids = idColumn
    ? Array.from({ length: n }, (_, i) => cellText(idColumn, i) ?? `row-${i + 1}`)
    : undefined;
  const targetColumn = table.columns.get(schema.target.column);
  let target: Uint8Array | undefined;
  if (targetColumn) {
    target = new Uint8Array(n);
    const { positive, negative } = schema.target;
    for (let i = 0; i < n; i++) {
      const text = cellText(targetColumn, i)?.trim();
      if (text === positive) target[i] = 1;
      else if (text === negative) target[i] = 0;
      else
        throw rowError(
          file,
          i + 1,
          schema.target.column,
          `${text === undefined ? 'no label' : JSON.stringify(text)}; the target takes ${JSON.stringify(positive)} (churned) or ${JSON.stringify(negative)}`,
        );
    }
  }
  return {
    rowCount: n,
    header: table.header,
    columns,
    ...(ids ? { ids } : {}),
    ...(target ? { target } : {}),
  };
}

function categorical(
  source: Column,
  name: string,
  n: number,
  isMissing: (text: string | undefined) => boolean,
): CategoricalColumn {
  const dictionary: string[] = [];
  const codeOf = new Map<string, number>();
  const codes = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const text = cellText(source, i);
    if (isMissing(text)) {
      codes[i] = -1;
      continue;
    }
    let code = codeOf.get(text!);
    if (code === undefined) {
      code = dictionary.length;
      dictionary.push(text!);
      codeOf.set(text!, code);
    }
    codes[i] = code;
  }
  return { kind: 'categorical', name, codes, dictionary };
}
