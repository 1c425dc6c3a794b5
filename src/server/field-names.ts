/**
 * The one rule for the field names of a /predict record and a /feedback item: a field is accepted as
 * named (the CSV header's name for a feature, the documented name otherwise) or in all lower or all upper
 * case (`MONTANT` or `montant`, `Contract` or `contract` or `CONTRACT`, `churn` or `CHURN`), never in
 * another mix (`Churn` is an unknown field of /feedback); a field given under two spellings is refused,
 * naming it. Where two fields would share a spelling (features `Total` and `total`: both lower-case to
 * `total`), that spelling belongs to the field named so exactly, or, when neither is, to no field: each
 * field stays reachable under its exact name. The schemas list every spelling (so unknown fields keep
 * their precise 400); the routes read the canonical names.
 */
import type { ErrorCode } from '../error-codes.js';
import { HttpError } from './error-handler.js';

/** The case spellings of a name: the name itself first, then all lower, then all upper case. */
export function spellingsOf(name: string): readonly string[] {
  const out = [name];
  for (const s of [name.toLowerCase(), name.toUpperCase()]) if (!out.includes(s)) out.push(s);
  return out;
}

export interface SpellingTable {
  /** Every accepted spelling → the position of its field. */
  readonly index: ReadonlyMap<string, number>;
  /** Per field, the spellings it is accepted under, its exact names first. */
  readonly spellings: readonly (readonly string[])[];
}

/**
 * The spellings of fields that may collide. Each field is given as its names (the canonical name, then
 * any aliases, e.g. the id column and `user_id`); each name brings its case spellings. A spelling that is
 * some field's exact name belongs to that field; one that two fields reach only by case is dropped.
 */
export function spellingTable(fields: readonly (readonly string[])[]): SpellingTable {
  const exact = new Map<string, number>();
  fields.forEach((names, i) => {
    for (const name of names) if (!exact.has(name)) exact.set(name, i);
  });
  const claims = new Map<string, Set<number>>();
  fields.forEach((names, i) => {
    for (const name of names)
      for (const s of spellingsOf(name)) {
        const set = claims.get(s) ?? new Set<number>();
        set.add(i);
        claims.set(s, set);
      }
  });
  const index = new Map<string, number>();
  const spellings: string[][] = fields.map(() => []);
  for (const [s, owners] of claims) {
    const owner = exact.get(s) ?? (owners.size === 1 ? [...owners][0]! : undefined);
    if (owner === undefined) continue;
    index.set(s, owner);
  }
  // In field order, exact names first, so that messages and documents list them as the schema does.
  fields.forEach((names, i) => {
    for (const name of names)
      for (const s of spellingsOf(name))
        if (index.get(s) === i && !spellings[i]!.includes(s)) spellings[i]!.push(s);
  });
  return { index, spellings };
}

export interface CanonicalField<N extends string> {
  readonly name: N;
  /** Position in the list of names the index was made from. */
  readonly index: number;
}

/**
 * The 400 for a field given under two spellings. `given` are the two spellings sent (default: the first
 * two spellings of the name, which for most names are all there are).
 */
export function givenTwice(
  code: ErrorCode,
  where: string,
  name: string,
  given: readonly string[] = spellingsOf(name).slice(0, 2),
): HttpError {
  return new HttpError(400, code, `${where} gives ${name} twice (as ${given.join(' and ')}); send one`);
}

/**
 * A validated object with its fields under their canonical names (fields the index does not know are
 * dropped: validation refused them already); throws `givenTwice` for a field under two spellings.
 */
export function canonicalFields<N extends string>(
  input: Readonly<Record<string, unknown>>,
  index: ReadonlyMap<string, CanonicalField<N>>,
  where: string,
  code: ErrorCode,
): Partial<Record<N, unknown>> {
  const out: Partial<Record<N, unknown>> = {};
  const keys: Partial<Record<N, string>> = {};
  for (const key in input) {
    const field = index.get(key);
    if (!field) continue;
    const earlier = keys[field.name];
    if (earlier !== undefined) throw givenTwice(code, where, field.name, ordered(field.name, earlier, key));
    keys[field.name] = key;
    out[field.name] = input[key];
  }
  return out;
}

/** Two spellings of `name` in the order spellingsOf lists them. */
function ordered(name: string, a: string, b: string): string[] {
  const order = spellingsOf(name);
  return order.indexOf(a) <= order.indexOf(b) ? [a, b] : [b, a];
}
