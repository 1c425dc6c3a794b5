/**
 * The fields of a /predict record, made once per served schema (the model's, from its artifact): which
 * spellings name which feature or the customer id (field-names.ts), and the canonicalisation of one
 * validated record, the per-record hot path.
 */
import type { DatasetSchema, FeatureSchema } from '../data/dataset-schema.js';
import type { RawFeatures } from '../data/feature-types.js';
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
  /** The record's customer id under any of its spellings, or null. */
  userIdOf(input: InputRecord): string | null;
}

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
      if (++generation === 0x7fffffff) {
        stamps.fill(0);
        generation = 1;
      }
      const g = generation;
      for (const key in input) {
        const i = index.get(key);
        if (i === undefined) continue; // unreachable after validation (unknown fields are refused)
        if (stamps[i] === g) throw duplicate(input, i, key, where);
        stamps[i] = g;
        if (i < n) out[names[i]!] = input[key] ?? null;
      }
      return out as RawFeatures;
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
