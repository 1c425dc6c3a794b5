/**
 * Reads a held-out CSV for replay by the model's schema: the features under their schema names and
 * kinds, the id column's values as row ids, and the target mapped through the schema's positive label
 * (1 = positive, 0 = negative). The reader does it (readCsvTable with a DatasetSchema: the same rules as
 * training, so a file the model was trained on replays as it was read); an Expresso schema takes its fast
 * path there.
 */
import type { ColumnarTable } from '../data/columnar-table.js';
import { parseCsvText, readCsvTable } from '../data/csv-reader.js';
import type { DatasetSchema } from '../data/dataset-schema.js';

/** The table to replay; `ids` and `target` are present when the file has those columns. */
export async function readReplayTable(path: string, schema: DatasetSchema): Promise<ColumnarTable> {
  return (await readCsvTable(path, { schema })).table;
}

/** CSV text already in memory, read like readReplayTable (tests, small files). */
export function parseReplayText(text: string, name: string, schema: DatasetSchema): ColumnarTable {
  return parseCsvText(text, name, { schema }).table;
}
