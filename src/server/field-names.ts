/**
 * The one rule for the field names of a /predict record and a /feedback item: a field is accepted as
 * named in the docs or in the other case, upper or lower (`MONTANT` or `montant`, `churn` or `CHURN`,
 * `user_id` or `USER_ID`), never in another mix (`Churn` is an unknown field); a field given under both
 * spellings is refused, naming it. The schemas list every spelling (so unknown fields keep their
 * precise 400); the routes read the canonical names.
 */
import type { ErrorCode } from '../error-codes.js';
import { HttpError } from './error-handler.js';

/** The accepted spellings of a field: its canonical name first, then the other case. */
export function spellingsOf(name: string): readonly string[] {
  const other = name === name.toUpperCase() ? name.toLowerCase() : name.toUpperCase();
  return other === name ? [name] : [name, other];
}

/** Schema properties under every spelling of their names. */
export function withSpellings<T>(properties: Readonly<Record<string, T>>): Record<string, T> {
  return Object.fromEntries(
    Object.entries(properties).flatMap(([name, schema]) => spellingsOf(name).map((s) => [s, schema])),
  );
}

export interface CanonicalField<N extends string> {
  readonly name: N;
  /** Position in the list of names the index was made from. */
  readonly index: number;
}

/** Every spelling of `names` → its canonical name and position. */
export function spellingIndex<N extends string>(names: readonly N[]): Map<string, CanonicalField<N>> {
  const index = new Map<string, CanonicalField<N>>();
  for (const [i, name] of names.entries())
    for (const s of spellingsOf(name)) index.set(s, { name, index: i });
  return index;
}

/** The 400 for a field given under two spellings. */
export function givenTwice(code: ErrorCode, where: string, name: string): HttpError {
  return new HttpError(
    400,
    code,
    `${where} gives ${name} twice (as ${spellingsOf(name).join(' and ')}); send one`,
  );
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
  for (const key in input) {
    const field = index.get(key);
    if (!field) continue;
    if (Object.hasOwn(out, field.name)) throw givenTwice(code, where, field.name);
    out[field.name] = input[key];
  }
  return out;
}
