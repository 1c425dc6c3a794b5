/**
 * What differs between the schema a server serves and a model's it is asked to reload to. The request
 * schema is compiled once (Ajv), and the metrics' children, the monitor's columns and the store's
 * columns follow it, so a reload to another schema is refused (409 CW_ADMIN_RELOAD_SCHEMA_CHANGED): restart
 * the server on the new model instead. Categories kept may change (they are the model's, not the
 * request's), and so may the missing-value tokens and dropped columns (read by the CSV reader only).
 */
import type { DatasetSchema } from '../data/dataset-schema.js';

const MAX_NAMED = 5;

function list(names: readonly string[]): string {
  const shown = names.slice(0, MAX_NAMED).join(', ');
  return names.length > MAX_NAMED ? `${shown} and ${names.length - MAX_NAMED} more` : shown;
}

/** One sentence per difference (empty: the same request schema). */
export function schemaChanges(served: DatasetSchema, next: DatasetSchema): string[] {
  const out: string[] = [];
  const kinds = new Map(served.features.map((f) => [f.name, f.kind]));
  const nextKinds = new Map(next.features.map((f) => [f.name, f.kind]));
  const added = next.features.filter((f) => !kinds.has(f.name)).map((f) => f.name);
  const removed = served.features.filter((f) => !nextKinds.has(f.name)).map((f) => f.name);
  const changed = next.features
    .filter((f) => kinds.has(f.name) && kinds.get(f.name) !== f.kind)
    .map((f) => `${f.name} (${kinds.get(f.name)} → ${f.kind})`);
  if (added.length > 0) out.push(`features added: ${list(added)}`);
  if (removed.length > 0) out.push(`features removed: ${list(removed)}`);
  if (changed.length > 0) out.push(`feature kinds changed: ${list(changed)}`);
  if (out.length === 0 && served.features.some((f, i) => next.features[i]?.name !== f.name))
    out.push('features in another order');
  if ((served.id ?? null) !== (next.id ?? null))
    out.push(`id column ${served.id ?? '(none)'} → ${next.id ?? '(none)'}`);
  const [t, u] = [served.target, next.target];
  if (t.column !== u.column || t.positive !== u.positive || t.negative !== u.negative)
    out.push(`target ${t.column} (${t.positive}/${t.negative}) → ${u.column} (${u.positive}/${u.negative})`);
  return out;
}
