/**
 * The fields of a /predict record, made once per served schema (the model's, from its artifact): which
 * spellings name which feature or the customer id (field-names.ts), and the canonicalisation of one
 * validated record, the per-record hot path.
 */
import type { CategoricalColumn, Column, NumericColumn } from '../data/columnar-table.js';
import type { DatasetSchema, FeatureSchema } from '../data/dataset-schema.js';
import type { FeatureValue, RawFeatures } from '../data/feature-types.js';
import { type RecordColumns, scoringNumber } from '../data/record-columns.js';
import { givenTwice, spellingTable } from './field-names.js';

/** The customer id's name in every schema, beside the schema's own id column (Expresso's is user_id). */
export const USER_ID = 'user_id';

type InputRecord = Readonly<Record<string, unknown>>;

export interface RecordFields {
  readonly schema: DatasetSchema;
  readonly features: readonly FeatureSchema[];
  /** Per feature (schema order), the spellings it is accepted under, its exact name first. */
  readonly featureSpellings: readonly (readonly string[])[];
  /** The customer id's name in messages: the schema's id column, or user_id. */
  readonly idName: string;
  /** The spellings of the customer id: the id column's, then user_id's. */
  readonly idSpellings: readonly string[];
  /**
   * Canonical features of one validated record, every feature present (null when missing); a field (a
   * feature or the id) given under two spellings is refused with CW_PREDICT_DUPLICATE_FIELD.
   */
  canonical(input: InputRecord, where: string): RawFeatures;
  /**
   * The features of validated records as columns (record-columns.ts): the same values `canonical` gives,
   * the same refusal of a field given twice; `where(i)` names record i in it.
   */
  columns(inputs: readonly InputRecord[], where: (row: number) => string): RecordColumns;
  /** The record's customer id under any of its spellings, or null. */
  userIdOf(input: InputRecord): string | null;
}

const NO_OFF_TYPE: ReadonlyMap<string, ReadonlyMap<number, FeatureValue>> = new Map();

export function recordFieldsOf(schema: DatasetSchema): RecordFields {
  const features = schema.features;
  const names = features.map((f) => f.name);
  const idNames = schema.id === undefined || schema.id === USER_ID ? [USER_ID] : [schema.id, USER_ID];
  const table = spellingTable([...names.map((n) => [n]), idNames]);
  const n = names.length;
  const idSpellings = table.spellings[n]!;
  const idName = idNames[0]!;
  const index = table.index;

  // Every record of a schema is a spread of one template with every feature null: V8 clones the
  // template's hidden class, so all records share one shape, as the literal of the 17 Expresso names
  // did. As fast as that literal for Expresso, and faster than a per-schema constructor (1.3-2x at 17
  // and 200 features) or structuredClone (3x); a template from JSON.parse (fields in-object, like the
  // literal's) scored no faster end to end and cloned 6-8x slower from 128 features on
  // (docs/performance.md, issue 17).
  const template: Record<string, null> = Object.fromEntries(names.map((name) => [name, null]));
  // Which fields the record being read has given: stamped with a generation number per record instead
  // of cleared, so any number of fields costs the same as a bit mask did for 17.
  const stamps = new Int32Array(n + 1);
  let generation = 0;
  const nextGeneration = (): number => {
    if (++generation === 0x7fffffff) {
      stamps.fill(0);
      generation = 1;
    }
    return generation;
  };
  const numeric = Uint8Array.from(features, (f) => (f.kind === 'numeric' ? 1 : 0));

  // The refusal names the two spellings sent, in the order the field lists them (the error path only).
  const duplicate = (input: InputRecord, i: number, key: string, where: string) => {
    const spellings = table.spellings[i]!;
    const first = Object.keys(input).find((k) => k !== key && index.get(k) === i) ?? key;
    const given = spellings.filter((s) => s === first || s === key);
    return givenTwice('CW_PREDICT_DUPLICATE_FIELD', where, i < n ? names[i]! : idName, given);
  };

  return {
    schema,
    features,
    featureSpellings: table.spellings.slice(0, n),
    idName,
    idSpellings,
    canonical(input, where) {
      const out: Record<string, unknown> = { ...template };
      const g = nextGeneration();
      for (const key in input) {
        const i = index.get(key);
        if (i === undefined) continue; // unreachable after validation (unknown fields are refused)
        if (stamps[i] === g) throw duplicate(input, i, key, where);
        stamps[i] = g;
        if (i < n) out[names[i]!] = input[key] ?? null;
      }
      return out as RawFeatures;
    },
    columns(inputs, where) {
      const rows = inputs.length;
      // Per feature: numbers (NaN = missing), or codes (-1 = missing) into a dictionary of this request.
      const values: (Float64Array | undefined)[] = new Array(n);
      const codes: (Int32Array | undefined)[] = new Array(n);
      const dictionaries: string[][] = new Array(n);
      const codeOf: Map<string, number>[] = new Array(n);
      for (let f = 0; f < n; f++) {
        if (numeric[f] === 1) values[f] = new Float64Array(rows).fill(Number.NaN);
        else {
          codes[f] = new Int32Array(rows).fill(-1);
          dictionaries[f] = [];
          codeOf[f] = new Map();
        }
      }
      let offType: Map<string, Map<number, FeatureValue>> | undefined;
      const given = (f: number, r: number, raw: FeatureValue) => {
        offType ??= new Map();
        let cells = offType.get(names[f]!);
        if (!cells) {
          cells = new Map();
          offType.set(names[f]!, cells);
        }
        cells.set(r, raw);
      };
      // The records of a batch mostly list the same names in the same order, and JSON.parse gives
      // equal names as one string: the k-th name of the record before, compared by identity, spares the
      // lookup of the spelling.
      const lastKey: (string | undefined)[] = [];
      const lastField: (number | undefined)[] = [];
      for (let r = 0; r < rows; r++) {
        const input = inputs[r]!;
        const g = nextGeneration();
        let k = 0;
        for (const key in input) {
          let i: number | undefined;
          if (lastKey[k] === key) i = lastField[k];
          else {
            i = index.get(key);
            lastKey[k] = key;
            lastField[k] = i;
          }
          k++;
          if (i === undefined) continue; // unreachable after validation (unknown fields are refused)
          if (stamps[i] === g) throw duplicate(input, i, key, where(r));
          stamps[i] = g;
          if (i >= n) continue;
          const raw = input[key] as FeatureValue;
          if (raw === null || raw === undefined) continue;
          if (numeric[i] === 1) {
            if (typeof raw === 'number') values[i]![r] = raw;
            else {
              values[i]![r] = scoringNumber(raw);
              given(i, r, raw);
            }
            continue;
          }
          let text: string;
          if (typeof raw === 'string') text = raw;
          else {
            text = String(raw);
            given(i, r, raw);
          }
          const map = codeOf[i]!;
          let code = map.get(text);
          if (code === undefined) {
            code = dictionaries[i]!.length;
            dictionaries[i]!.push(text);
            map.set(text, code);
          }
          codes[i]![r] = code;
        }
      }
      const columns = new Map<string, Column>();
      for (let f = 0; f < n; f++) {
        const name = names[f]!;
        columns.set(
          name,
          numeric[f] === 1
            ? ({ kind: 'numeric', name, values: values[f]! } satisfies NumericColumn)
            : ({
                kind: 'categorical',
                name,
                codes: codes[f]!,
                dictionary: dictionaries[f]!,
              } satisfies CategoricalColumn),
        );
      }
      return { table: { rowCount: rows, header: names, columns }, offType: offType ?? NO_OFF_TYPE };
    },
    userIdOf(input) {
      for (const key of idSpellings) {
        const value = input[key];
        if (typeof value === 'string') return value;
      }
      return null;
    },
  };
}
