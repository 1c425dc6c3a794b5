/**
 * Header resolution: what each column of a file becomes, from its header line and the schema. The
 * 'expresso' schema accepts only the Train.csv layout (CHURN optional, for scoring files), so a wrong
 * file fails on its first line rather than on its first odd value; 'infer' accepts any distinct names;
 * a DatasetSchema matches columns by exact name: each of its features must be there, the id and the
 * target may be absent (a scoring file), and every other column is skipped.
 */

import { cliCommand } from '../cli-command.js';
import { ChurnwatchError } from '../errors.js';
import {
  CATEGORICAL_FEATURES,
  CSV_HEADER,
  ID_COLUMN,
  NUMERIC_FEATURES,
  TARGET_COLUMN,
} from './customer-schema.js';
import type { DatasetSchema } from './dataset-schema.js';

/** How a reader types a file's columns: the Expresso layout, inferred, or by a schema. */
export type ReaderSchema = 'expresso' | 'infer' | DatasetSchema;

/** What a file column becomes. Stored in a Uint8Array per field for the fast path, hence numbers. */
export enum ColumnKind {
  Id = 0,
  Numeric = 1,
  Categorical = 2,
  Target = 3,
  /** A column the schema does not use (unknown to it, or dropped): not stored. */
  Skip = 4,
}

const NUMERIC = new Set<string>(NUMERIC_FEATURES);
const CATEGORICAL = new Set<string>(CATEGORICAL_FEATURES);

/** The kind of each column of `names`, in order; throws CW_DATA_CSV_HEADER for a header it refuses. */
export function resolveColumns(file: string, names: readonly string[], schema: ReaderSchema): ColumnKind[] {
  if (typeof schema === 'object') return resolveBySchema(file, names, schema);
  if (schema === 'infer') {
    if (new Set(names).size !== names.length) {
      throw new ChurnwatchError(
        'CW_DATA_CSV_HEADER',
        `${file}: the header repeats a column name (${names.join(',')})`,
        {
          hint: 'give every column a distinct name',
        },
      );
    }
    // Everything starts categorical; columns whose values all parse as numbers become numeric at the end.
    return names.map(() => ColumnKind.Categorical);
  }
  const full = CSV_HEADER as readonly string[];
  const unlabelled = full.slice(0, -1);
  const same = (a: readonly string[]) => a.length === names.length && a.every((n, i) => n === names[i]);
  if (!same(full) && !same(unlabelled)) {
    throw new ChurnwatchError(
      'CW_DATA_CSV_HEADER',
      `${file}: the header is not the Expresso Train.csv layout.\n  expected: ${full.join(',')}\n  found:    ${names.join(',')}`,
      {
        hint: `use the original Train.csv (or a file written by ${cliCommand('data generate')}); CHURN may be absent in a scoring file. For any other CSV use schema "infer".`,
      },
    );
  }
  return names.map((name) => {
    if (name === ID_COLUMN) return ColumnKind.Id;
    if (name === TARGET_COLUMN) return ColumnKind.Target;
    if (NUMERIC.has(name)) return ColumnKind.Numeric;
    if (CATEGORICAL.has(name)) return ColumnKind.Categorical;
    // Unreachable: every name of the layout checked above has a kind.
    throw new RangeError(`no column kind for ${name}`);
  });
}

/** The kinds of a header read by a DatasetSchema (see the file comment). */
function resolveBySchema(file: string, names: readonly string[], schema: DatasetSchema): ColumnKind[] {
  const roles = new Map<string, ColumnKind>(
    schema.features.map((f) => [f.name, f.kind === 'numeric' ? ColumnKind.Numeric : ColumnKind.Categorical]),
  );
  roles.set(schema.target.column, ColumnKind.Target);
  if (schema.id !== undefined) roles.set(schema.id, ColumnKind.Id);
  const position = new Map<string, number>();
  const kinds = names.map((name, i) => {
    const kind = roles.get(name) ?? ColumnKind.Skip;
    const earlier = position.get(name);
    if (kind !== ColumnKind.Skip && earlier !== undefined)
      throw new ChurnwatchError(
        'CW_DATA_CSV_HEADER',
        `${file}: the header names column ${JSON.stringify(name)} twice (columns ${earlier + 1} and ${i + 1})`,
        { hint: 'give every column a distinct name' },
      );
    position.set(name, i);
    return kind;
  });
  const absent = schema.features.filter((f) => !position.has(f.name));
  if (absent.length > 0) {
    const first = absent[0]!.name;
    const near = names.find((n) => n.toLowerCase() === first.toLowerCase());
    throw new ChurnwatchError(
      'CW_DATA_CSV_HEADER',
      `${file}: no column ${JSON.stringify(first)}, a feature of the schema${absent.length > 1 ? ` (${absent.length} features are absent: ${absent.map((f) => f.name).join(', ')})` : ''}`,
      {
        hint: near
          ? `did you mean ${near}? (names are case-sensitive)`
          : 'the file must have every feature column the model was trained on (other columns are skipped)',
      },
    );
  }
  return kinds;
}
