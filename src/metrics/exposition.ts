/**
 * The Prometheus text exposition of a prom-client Registry: byte for byte what `registry.metrics()`
 * returns, for less work per series. prom-client formats every label set again on every scrape, and
 * also an empty shared label set per series; for the server's ~900 series that was most of a scrape's
 * ~2 ms and several MB of garbage, whose scavenges then landed in scrapes (docs/performance.md).
 * Here a label set is formatted once per object and reused while the metric keeps that object: a
 * counter's or gauge's series keep theirs across scrapes, so does BucketedHistogram. Like prom-client's
 * own cache of shared labels, this takes a label object handed to a metric as no longer changing. The
 * cache is a Map rebuilt by each scrape from the previous one's, not a WeakMap: label objects made
 * anew at each scrape (the monitor's gauges) would pile up in a WeakMap, and V8's scavenges visit
 * every WeakMap entry whose key is young, which made them several times slower.
 *
 * Collect hooks run as in `registry.metrics()`: all started at once, in registration order.
 */
import { Registry } from 'prom-client';

type LabelValues = Readonly<Record<string, string | number | undefined>>;

interface ExportedValue {
  readonly labels?: LabelValues;
  /** prom-client's histograms put the series' labels here and only `le` in `labels`. */
  readonly sharedLabels?: LabelValues;
  readonly value: number;
  readonly metricName?: string;
}

interface ExportedMetric {
  readonly name: string;
  readonly help: string;
  readonly type: string;
  readonly values?: readonly ExportedValue[];
}

interface Exportable {
  get(): Promise<ExportedMetric> | ExportedMetric;
  getForPromString?(): Promise<ExportedMetric>;
}

/** Label texts of the last finished scrape, by label object. */
let previousTexts = new Map<object, string>();

function escapeString(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function escapeLabelValue(value: string | number | undefined): string {
  if (typeof value !== 'string') return `${value}`;
  // Most values need no escape; the test is cheaper than three replaces.
  return /[\\\n"]/.test(value) ? escapeString(value).replace(/"/g, '\\"') : value;
}

/** `a="x",b="y"`, without the names in `exclude`. */
function formatLabels(labels: LabelValues, exclude: LabelValues | undefined): string {
  let text = '';
  for (const name of Object.keys(labels)) {
    if (exclude && Object.hasOwn(exclude, name)) continue;
    text += `${text === '' ? '' : ','}${name}="${escapeLabelValue(labels[name])}"`;
  }
  return text;
}

function cachedLabels(labels: LabelValues, texts: Map<object, string>): string {
  let text = texts.get(labels);
  if (text === undefined) {
    text = previousTexts.get(labels) ?? formatLabels(labels, undefined);
    texts.set(labels, text);
  }
  return text;
}

/** The `{…}` part of a series line, as prom-client writes it: own labels first, then shared ones. */
function labelBlock(
  labels: LabelValues | undefined,
  shared: LabelValues | undefined,
  texts: Map<object, string>,
): string {
  let own = '';
  if (labels) {
    let collides = false;
    if (shared) for (const name of Object.keys(labels)) if (Object.hasOwn(shared, name)) collides = true;
    own = collides ? formatLabels(labels, shared) : cachedLabels(labels, texts);
  }
  const common = shared ? cachedLabels(shared, texts) : '';
  if (own !== '' && common !== '') return `{${own},${common}}`;
  if (own !== '' || common !== '') return `{${own}${common}}`;
  return '';
}

function valueText(value: number): string {
  if (Number.isNaN(value)) return 'Nan';
  if (!Number.isFinite(value)) return value < 0 ? '-Inf' : '+Inf';
  return `${value}`;
}

function renderMetric(metric: ExportedMetric, texts: Map<object, string>): string {
  const name = escapeString(metric.name);
  let text = `# HELP ${name} ${escapeString(metric.help)}\n# TYPE ${name} ${metric.type}`;
  for (const v of metric.values ?? []) {
    text += `\n${v.metricName ?? name}${labelBlock(v.labels, v.sharedLabels, texts)} ${valueText(v.value)}`;
  }
  return text;
}

/**
 * `registry.metrics()` for a registry in the Prometheus text format without default labels (what
 * createMetrics and the monitor build); any other registry is handed to prom-client.
 */
export async function renderExposition(registry: Registry): Promise<string> {
  const defaults = (registry as unknown as { _defaultLabels?: object })._defaultLabels;
  if (
    registry.contentType !== Registry.PROMETHEUS_CONTENT_TYPE ||
    (defaults !== undefined && Object.keys(defaults).length > 0)
  ) {
    return registry.metrics();
  }
  const metrics = registry.getMetricsAsArray() as unknown as Exportable[];
  const exported = await Promise.all(
    metrics.map((m) => (typeof m.getForPromString === 'function' ? m.getForPromString() : m.get())),
  );
  const texts = new Map<object, string>();
  const text = `${exported.map((m) => renderMetric(m, texts)).join('\n\n')}\n`;
  previousTexts = texts;
  return text;
}
