/**
 * The chunk section of the HTML report: one inline-SVG line chart per metric across chunks, as NannyML
 * draws them. The reference chunks sit on a grey band at the left, the current chunks follow; the
 * threshold is a dashed red line (per chunk for drift, whose threshold scales with a chunk's rows; the
 * reference chunks' band for performance) and a chunk past it is a red point. Every point has a tooltip
 * with its chunk and value. No script: the page stays self-contained.
 */

import { STATISTIC_NAMES } from './report.js';
import {
  CHUNK_METRICS,
  type ChunkDriftCell,
  type ChunkMetric,
  type ChunkTable,
  type MetricBand,
  type ReportChunk,
} from './report-chunks.js';

interface Series {
  name: string;
  cls: 'est' | 'real' | 'val';
  values: (number | null)[];
}

export interface ChunkChart {
  id: string;
  title: string;
  /** What the threshold means, under the title. */
  note: string;
  series: Series[];
  /** Per chunk thresholds (drift), or one band (performance). */
  thresholds?: (number | null)[];
  band?: MetricBand;
  /** Per chunk: past the threshold. */
  alarms: boolean[];
}

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const METRIC_NAMES: Record<ChunkMetric, string> = {
  rocAuc: 'ROC AUC',
  accuracy: 'accuracy',
  precision: 'precision',
  recall: 'recall',
  f1: 'F1',
};

function outside(v: number | null | undefined, b: MetricBand | undefined): boolean {
  if (v === null || v === undefined || !b) return false;
  return (b.lower !== null && v < b.lower) || (b.upper !== null && v > b.upper);
}

/** The statistic most chunks decide by, and whether it is judged by its p-value. */
function chartMethod(cells: readonly (ChunkDriftCell | undefined)[]): { method: string; pValue: boolean } {
  const counts = new Map<string, number>();
  for (const d of cells)
    if (d) counts.set(`${d.method}|${d.alarm}`, (counts.get(`${d.method}|${d.alarm}`) ?? 0) + 1);
  const [top] = [...counts.entries()].sort((a, b) => b[1] - a[1]);
  const [method, alarm] = (top?.[0] ?? 'psi|above').split('|') as [string, string];
  return { method, pValue: alarm === 'below' };
}

/** The charts to draw: performance first, then drift per feature, then data quality where it moved. */
export function chunkCharts(chunks: ChunkTable, alpha: number): ChunkChart[] {
  const t = chunks.table;
  const charts: ChunkChart[] = [];
  for (const metric of CHUNK_METRICS) {
    const est = t.map((c) => c.estimated?.[metric] ?? null);
    const real = t.map((c) => c.realized?.[metric] ?? null);
    const series: Series[] = [];
    if (est.some((v) => v !== null)) series.push({ name: 'estimated (CBPE)', cls: 'est', values: est });
    if (real.some((v) => v !== null)) series.push({ name: 'realized', cls: 'real', values: real });
    if (series.length === 0) continue;
    const band = chunks.thresholds[`realized.${metric}`] ?? chunks.thresholds[`estimated.${metric}`];
    const realBand = chunks.thresholds[`realized.${metric}`];
    const estBand = chunks.thresholds[`estimated.${metric}`];
    charts.push({
      id: `perf-${metric}`,
      title: METRIC_NAMES[metric],
      note: band
        ? 'dashed: mean ± 3 std over the reference chunks'
        : 'no band: fewer than two reference chunks',
      series,
      ...(band ? { band } : {}),
      alarms: t.map((_, i) => outside(real[i], realBand) || outside(est[i], estBand)),
    });
  }
  const features = t[0]?.drift.map((d) => d.feature) ?? [];
  for (const feature of features) {
    const cells = t.map((c) => c.drift.find((d) => d.feature === feature));
    const { method, pValue } = chartMethod(cells);
    // One statistic across chunks: the one most chunks decide by (small chunks decide by a p-value
    // test, full ones by PSI); a point is red by its chunk's own verdict.
    const point = (d: ChunkDriftCell | undefined) => {
      if (!d) return { value: null, threshold: null };
      if (pValue)
        return {
          value: d.pValues[method] ?? null,
          threshold: d.pValues[method] === undefined ? null : alpha,
        };
      return { value: d.scores[method] ?? null, threshold: d.thresholds[method] ?? null };
    };
    const points = cells.map(point);
    charts.push({
      id: `drift-${feature}`,
      title: `${feature}: drift`,
      note: pValue
        ? `${STATISTIC_NAMES[method] ?? method} p-value; dashed: α (drift below)`
        : `${STATISTIC_NAMES[method] ?? method}; dashed: threshold for the chunk's rows`,
      series: [
        { name: pValue ? `${method} p-value` : method, cls: 'val', values: points.map((p) => p.value) },
      ],
      thresholds: points.map((p) => p.threshold),
      alarms: cells.map((d) => d?.drifted === true),
    });
  }
  for (const [key, what] of [
    ['missing', 'missing share'],
    ['unseen', 'unseen categories share'],
  ] as const) {
    for (const feature of features) {
      const values = t.map((c: ReportChunk) => c[key][feature] ?? null);
      if (!values.some((v) => v !== null && v > 0)) continue;
      charts.push({
        id: `${key}-${feature}`,
        title: `${feature}: ${what}`,
        note: 'share of the chunk’s rows',
        series: [{ name: what, cls: 'val', values }],
        alarms: t.map((c) => c.qualityIssues.some((q) => q.startsWith(`${feature}: `))),
      });
    }
  }
  return charts;
}

const W = 440;
const H = 180;
const PAD = { left: 46, right: 10, top: 12, bottom: 34 };

/** Short tick text: 0.123, 1.2e-5, 12.3k. */
function tick(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a < 1e-3 || a >= 1e5) return v.toExponential(1);
  return String(Number(v.toPrecision(3)));
}

/** One chart as inline SVG. */
export function chunkChartSvg(chart: ChunkChart, chunks: ChunkTable): string {
  const t = chunks.table;
  const n = t.length;
  const refCount = t.filter((c) => c.period === 'reference').length;
  const all = [
    ...chart.series.flatMap((s) => s.values),
    ...(chart.thresholds ?? []),
    chart.band?.lower ?? null,
    chart.band?.upper ?? null,
  ].filter((v): v is number => v !== null && Number.isFinite(v));
  let lo = Math.min(0, ...all);
  let hi = Math.max(...all, lo + 1e-9);
  const span = hi - lo;
  hi += 0.05 * span;
  if (lo < 0) lo -= 0.05 * span;
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const x = (i: number) => PAD.left + (n === 1 ? plotW / 2 : (i * plotW) / (n - 1));
  const y = (v: number) => PAD.top + plotH - ((v - lo) / (hi - lo)) * plotH;
  const f = (v: number) => v.toFixed(1);
  const parts: string[] = [];
  if (refCount > 0) {
    const right = refCount < n ? (x(refCount - 1) + x(refCount)) / 2 : PAD.left + plotW;
    parts.push(
      `<rect class="ref-band" x="${PAD.left}" y="${PAD.top}" width="${f(right - PAD.left)}" height="${plotH}"/><text class="ref-label" x="${f(PAD.left + 3)}" y="${PAD.top + 10}">reference</text>`,
    );
  }
  parts.push(
    `<line class="axis" x1="${PAD.left}" y1="${PAD.top + plotH}" x2="${PAD.left + plotW}" y2="${PAD.top + plotH}"/><line class="axis" x1="${PAD.left}" y1="${PAD.top}" x2="${PAD.left}" y2="${PAD.top + plotH}"/>`,
  );
  for (const v of [lo, (lo + hi) / 2, hi])
    parts.push(`<text class="ytick" x="${PAD.left - 4}" y="${f(y(v) + 3)}">${tick(v)}</text>`);
  // At most six chunk labels, evenly spread, so they never overlap.
  const every = Math.max(1, Math.ceil(n / 6));
  for (let i = 0; i < n; i += every) {
    const key = t[i]!.key;
    // A label too wide to centre on the last chunks ends at it instead (9 px text: about 5 px a character).
    const end = x(i) + 2.8 * key.length > W - 2 ? ' end' : '';
    parts.push(`<text class="xtick${end}" x="${f(x(i))}" y="${H - PAD.bottom + 14}">${esc(key)}</text>`);
  }
  const line = (values: (number | null)[], cls: string) => {
    const segments: string[] = [];
    let current: string[] = [];
    values.forEach((v, i) => {
      if (v === null || !Number.isFinite(v)) {
        if (current.length > 0) segments.push(current.join(' '));
        current = [];
      } else current.push(`${f(x(i))},${f(y(v))}`);
    });
    if (current.length > 0) segments.push(current.join(' '));
    return segments.map((points) => `<polyline class="${cls}" points="${points}"/>`).join('');
  };
  if (chart.band) {
    for (const v of [chart.band.lower, chart.band.upper])
      if (v !== null)
        parts.push(
          `<line class="threshold" x1="${PAD.left}" y1="${f(y(v))}" x2="${PAD.left + plotW}" y2="${f(y(v))}"/>`,
        );
  }
  if (chart.thresholds) parts.push(line(chart.thresholds, 'threshold'));
  for (const s of chart.series) {
    parts.push(line(s.values, `series ${s.cls}`));
    s.values.forEach((v, i) => {
      if (v === null || !Number.isFinite(v)) return;
      const alarm = chart.alarms[i] ? ' alarm' : '';
      const c = t[i]!;
      parts.push(
        `<circle class="pt ${s.cls}${alarm}" cx="${f(x(i))}" cy="${f(y(v))}" r="3.5"><title>${esc(`${c.period} ${c.key} (${c.rows} rows): ${s.name} ${tick(v)}${chart.thresholds?.[i] != null ? `, threshold ${tick(chart.thresholds[i]!)}` : ''}`)}</title></circle>`,
      );
    });
  }
  return `<svg class="chunk-svg" viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-label="${esc(chart.title)} across chunks">${parts.join('')}</svg>`;
}

export const CHUNK_STYLE = `
.chunk-charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,420px),1fr));gap:12px}
.chunk-chart{margin:0;padding:.5rem .7rem;border:1px solid #e5e7eb;border-radius:6px;min-width:0}
.chunk-chart.alarm{border-color:var(--drift)}
.chunk-chart figcaption{font-weight:600}.chunk-chart .note{font-size:11px;color:#6b7280;margin:.1rem 0 .2rem}
.chunk-svg .ref-band{fill:#f3f4f6}.chunk-svg .ref-label{font-size:9px;fill:#6b7280}
.chunk-svg .axis{stroke:#9ca3af}.chunk-svg .ytick{font-size:9px;fill:#6b7280;text-anchor:end}
.chunk-svg .xtick{font-size:9px;fill:#6b7280;text-anchor:middle}.chunk-svg .xtick.end{text-anchor:end}
.chunk-svg .threshold{fill:none;stroke:var(--drift);stroke-dasharray:4 3;stroke-width:1.2}
.chunk-svg .series{fill:none;stroke-width:1.8}.chunk-svg .series.val,.chunk-svg .series.real{stroke:var(--cur)}
.chunk-svg .series.est{stroke:#7c3aed;stroke-dasharray:5 3}
.chunk-svg .pt{fill:var(--cur)}.chunk-svg .pt.est{fill:#7c3aed}.chunk-svg .pt.alarm{fill:var(--drift)}
`;

/** The whole chunk section: how the files were cut, a legend and the charts. */
export function renderChunkSection(chunks: ChunkTable, alpha: number): string {
  const how =
    chunks.by === 'size'
      ? `chunks of ${chunks.size} rows`
      : chunks.by === 'count'
        ? `${chunks.count} chunks per file`
        : `chunks of ${esc(chunks.period ?? '')} by ${esc(chunks.timestamp ?? '')}`;
  const refs = chunks.table.filter((c) => c.period === 'reference').length;
  const alerts = chunks.table.filter((c) => c.period === 'current' && c.alerts.length > 0).length;
  const figures = chunkCharts(chunks, alpha)
    .map((chart) => {
      const alarm = chart.alarms.some((a, i) => a && chunks.table[i]!.period === 'current') ? ' alarm' : '';
      return `<figure class="chunk-chart${alarm}" id="c-${esc(chart.id)}" data-chart="${esc(chart.id)}"><figcaption>${esc(chart.title)}</figcaption><p class="note">${esc(chart.note)}</p>${chunkChartSvg(chart, chunks)}</figure>`;
    })
    .join('\n');
  return `<h2>Chunks</h2>
<p>${how}: ${refs} reference chunk${refs === 1 ? '' : 's'} (grey band), ${chunks.table.length - refs} current; ${alerts} current chunk${alerts === 1 ? '' : 's'} with alerts (red points). Estimated performance (CBPE, purple dashed) beside realized (blue).</p>
<div class="chunk-charts">
${figures}
</div>`;
}
