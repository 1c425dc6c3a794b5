/**
 * The human view of an inferred schema, as `churnwatch train --print-schema` prints it: the target and
 * its labels, then one line per column (kind or role, missing cells, distinct values, categories kept or
 * why the column has its role or was dropped), then the warnings.
 */
import { percent } from './column-roles.js';
import type { ColumnSummary, InferredSchema } from './infer-schema.js';

/** Categories shown per categorical column; the rest are counted. */
const SHOWN_CATEGORIES = 4;

function describe(column: ColumnSummary, schema: InferredSchema['schema']): string {
  if (column.role !== 'feature' || column.kind !== 'categorical') return column.note;
  const feature = schema.features.find((f) => f.name === column.name);
  const categories = feature?.kind === 'categorical' ? (feature.categories ?? []) : [];
  const shown = categories.slice(0, SHOWN_CATEGORIES).map((c) => JSON.stringify(c));
  const more = categories.length - shown.length;
  const others = feature?.kind === 'categorical' && feature.otherCategories ? feature.otherCategories : 0;
  const tail = [more > 0 ? `+${more} more kept` : '', others > 0 ? `${others} others not kept` : '']
    .filter(Boolean)
    .join(', ');
  return `${shown.join(' ')}${tail ? ` (${tail})` : ''}${column.note === 'inferred' ? '' : ` — ${column.note}`}`;
}

/** The table `--print-schema` prints, lines joined by newlines, ending in one. */
export function formatInferredSchema(inferred: InferredSchema): string {
  const { schema, labels } = inferred;
  const numeric = schema.features.filter((f) => f.kind === 'numeric').length;
  const labelled = labels.positive + labels.negative;
  const lines = [
    `${inferred.file}: ${inferred.rows} rows, ${inferred.columns.length} columns; ${schema.features.length} features (${numeric} numeric, ${schema.features.length - numeric} categorical), ${schema.dropped.length} dropped`,
    `target ${schema.target.column}: positive ${JSON.stringify(schema.target.positive)} in ${labels.positive} rows (${percent(labels.positive / labelled)}), negative ${JSON.stringify(schema.target.negative)} in ${labels.negative}${labels.missing ? `, ${labels.missing} unlabelled` : ''}`,
    `id ${schema.id ?? '(none)'}`,
    `missing values: ${schema.missingTokens.map((t) => JSON.stringify(t)).join(' ')} (trimmed, any case)`,
    '',
  ];
  const rows = inferred.columns.map((c) => [
    c.name,
    c.role === 'feature' ? c.kind! : c.role,
    String(c.missing),
    `${c.distinctAtLeast ? '≥' : ''}${c.distinct}`,
    describe(c, schema),
  ]);
  const head = ['column', 'kind/role', 'missing', 'distinct', 'categories / why'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const right = new Set([2, 3]);
  for (const r of [head, ...rows])
    lines.push(
      r
        .map((cell, i) =>
          i === r.length - 1 ? cell : right.has(i) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!),
        )
        .join('  ')
        .trimEnd(),
    );
  if (inferred.warnings.length > 0) lines.push('', 'warnings:', ...inferred.warnings.map((w) => `  ${w}`));
  return `${lines.join('\n')}\n`;
}
