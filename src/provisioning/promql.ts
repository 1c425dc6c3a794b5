/**
 * Small PromQL helpers shared by the rules and the dashboards: metric names come from the catalogue
 * (`METRICS.x.name`), never retyped, and `metricNamesIn()` lets a test check that every name a query
 * uses is one we export or record.
 */
import { METRICS, type MetricKey } from '../metrics/catalogue.js';

/** Labels a scrape or a replica adds; aggregating them away merges replicas. */
export const REPLICA_LABELS = 'instance, pod, job';

/** The catalogue name of a metric, with a suffix for histogram series (`_bucket`, `_sum`, `_count`). */
export function metric(key: MetricKey, suffix: '' | '_bucket' | '_sum' | '_count' = ''): string {
  return METRICS[key].name + suffix;
}

/** A selector such as `churnwatch_feature_values_total{bin="missing"}`; a value starting with `~`, `!` or `!~` is a regex, negated or negated-regex matcher. */
export function selector(name: string, matchers: Readonly<Record<string, string>> = {}): string {
  const parts = Object.entries(matchers).map(([label, value]) => {
    const op = /^(!~|!|~)/.exec(value)?.[0] ?? '';
    const operator = op === '!' ? '!=' : op === '~' ? '=~' : op === '!~' ? '!~' : '=';
    return `${label}${operator}"${value.slice(op.length)}"`;
  });
  return parts.length === 0 ? name : `${name}{${parts.join(', ')}}`;
}

/** Counters sum across replicas: the windowed increase with replica labels aggregated away. */
export function increaseAcrossReplicas(
  series: string,
  window: string,
  extraWithout: readonly string[] = [],
): string {
  const without = [REPLICA_LABELS, ...extraWithout].join(', ');
  return `sum without(${without}) (increase(${series}[${window}]))`;
}

/** Gauges every replica exports identically (reference shares, thresholds): take one, never the sum. */
export function oneAcrossReplicas(series: string, extraWithout: readonly string[] = []): string {
  const without = [REPLICA_LABELS, ...extraWithout].join(', ');
  return `max without(${without}) (${series})`;
}

const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'inf',
  'nan',
  'atan2',
]);

/**
 * The metric names a PromQL expression selects: identifiers that are not functions, keywords,
 * label names (inside `{}` or a grouping clause) or string contents. A lexer, not a full parser:
 * good enough for the expressions this project writes, which a test runs through promtool anyway.
 */
export function metricNamesIn(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  for (const match of stripped.matchAll(/(?<![\w.$])[a-zA-Z_:][a-zA-Z0-9_:]*(?!\w)/g)) {
    const name = match[0];
    const after = stripped.slice((match.index ?? 0) + name.length);
    if (/^\s*\(/.test(after)) continue; // a function or aggregation
    if (KEYWORDS.has(name.toLowerCase())) continue;
    names.add(name);
  }
  return [...names].sort();
}
