/**
 * The report as ONE self-contained HTML file: inline CSS, HTML/CSS bar charts and an inline SVG
 * calibration chart generated here, no script, no font, no CDN — it opens offline and can be attached
 * to a ticket.
 *
 * Each feature gets a card in a responsive grid that uses the page width: per bin (a rounded numeric
 * range or a category, truncated with the full text as a tooltip) a grey reference bar and a blue
 * current bar side by side, each with its share as a percentage, over a percentage axis. Drifting
 * features come first, outlined red, with the deciding statistic and its threshold. With chunks, each
 * metric is also drawn across chunks (report-chunk-charts.ts).
 */
import type { DriftPolicyOptions } from './drift-policy.js';
import {
  type DriftReport,
  describeRole,
  featuresByConcern,
  performanceHeading,
  type ReportFeature,
  STATISTIC_NAMES,
} from './report.js';
import { CHUNK_STYLE, renderChunkSection } from './report-chunk-charts.js';

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function num(value: number | undefined, digits = 4): string {
  if (value === undefined) return '–';
  if (!Number.isFinite(value)) return String(value);
  if (value !== 0 && Math.abs(value) < 10 ** -digits) return value.toExponential(2);
  return value.toFixed(digits);
}

/** A number in at most three significant digits with k/M/G suffixes: 1234.5 → `1.23k`, 0.01234 → `0.0123`. */
export function compactNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  for (const [size, suffix] of [
    [1e12, 'T'],
    [1e9, 'G'],
    [1e6, 'M'],
    [1e3, 'k'],
  ] as const)
    if (abs >= size) return `${Number((value / size).toPrecision(3))}${suffix}`;
  return String(Number(value.toPrecision(3)));
}

/** A share as a percentage for a value label: `12.3 %`, `<0.1 %` for tiny non-zero shares. */
function percent(share: number): string {
  if (share === 0) return '0 %';
  if (share < 0.0005) return '<0.1 %';
  return `${(100 * share).toFixed(1)} %`;
}

/**
 * Display labels per bin: numeric quantile bins as rounded ranges (`[1.2k, 3.4k)`), `below`/`above`
 * as `< min`/`> max`; categories as they are. The full text goes in the tooltip.
 */
export function binDisplayLabels(f: ReportFeature): { short: string; full: string }[] {
  const { labels, bounds } = f.bins;
  if (f.kind !== 'numeric' || !bounds) return labels.map((l) => ({ short: l, full: l }));
  const last = labels.length - 3; // below, bins 1..last, above, missing
  // The exact edges, without floating-point noise (1145.4700000000003 → 1145.47).
  const exact = (v: number) => String(Number(v.toPrecision(12)));
  return labels.map((label, i) => {
    if (i === 0)
      return {
        short: `< ${compactNumber(bounds[0]!)}`,
        full: `below the reference minimum ${exact(bounds[0]!)}`,
      };
    if (i > last) {
      if (i === last + 1)
        return {
          short: `> ${compactNumber(bounds.at(-1)!)}`,
          full: `above the reference maximum ${exact(bounds.at(-1)!)}`,
        };
      return { short: label, full: label };
    }
    const close = i === last ? ']' : ')';
    const [from, to] = [bounds[i - 1]!, bounds[i]!];
    return {
      short: `[${compactNumber(from)}, ${compactNumber(to)}${close}`,
      full: `[${exact(from)}, ${exact(to)}${close}`,
    };
  });
}

/** The top of the share axis: the largest share rounded up to 5, 10, 20, 25, 50 or 100 %. */
function axisTop(max: number): number {
  for (const top of [0.05, 0.1, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.8, 1]) if (max <= top + 1e-12) return top;
  return 1;
}

/** The deciding statistic against its threshold: `PSI 0.31 > 0.20 (fallback threshold)`. */
export function verdictLine(f: ReportFeature, policy: Readonly<DriftPolicyOptions>): string {
  const name = STATISTIC_NAMES[f.method] ?? f.method;
  const score = f.scores[f.method];
  let test: string;
  if (f.thresholdSource === 'p-value') {
    const p = f.pValues[f.method];
    const side = p !== undefined && p < policy.alpha ? '<' : '≥';
    test = `${name} ${num(score, 3)}, p = ${num(p, 3)} ${side} α ${policy.alpha}`;
  } else {
    const limit = f.thresholds[f.method];
    const side = score !== undefined && limit !== undefined && score > limit ? '>' : '≤';
    test = `${name} ${num(score, 3)} ${side} ${num(limit, 3)} (${f.thresholdSource} threshold)`;
  }
  if (f.drifted === null) return `no verdict: ${f.rows} rows < ${policy.minWindowRows}; ${test}`;
  return test;
}

function verdictWord(f: ReportFeature): string {
  return f.drifted === null ? 'too few rows' : f.drifted ? 'DRIFT' : 'ok';
}

/** Reference and current bars per bin, labels at the left, value labels, a percentage axis. */
function binChart(f: ReportFeature, policy: Readonly<DriftPolicyOptions>): string {
  const labels = binDisplayLabels(f);
  const shown: number[] = [];
  const empty: string[] = [];
  f.bins.labels.forEach((_, i) => {
    if (f.bins.reference[i]! > 0 || f.bins.current[i]! > 0) shown.push(i);
    else empty.push(labels[i]!.short);
  });
  const top = axisTop(Math.max(0, ...f.bins.reference, ...f.bins.current));
  // The bars reach at most 85 % of the track, leaving room for the value label after the longest.
  const width = (share: number) => `${((85 * share) / top).toFixed(2)}%`;
  const bar = (cls: string, share: number, what: string, label: string) =>
    `<div class="bar-row"><span class="bar ${cls}" style="width:${width(share)}" title="${label} ${what} ${percent(share)}"></span><span class="val">${percent(share)}</span></div>`;
  const rows = shown
    .map((i) => {
      const label = labels[i]!;
      const full = esc(label.full);
      // missing (and other/unseen for categories) are bins of their own, not values: set apart.
      const reserved = f.bins.labels.length - (f.kind === 'categorical' ? 3 : 1);
      const special = i >= reserved ? ' special' : '';
      return `<div class="bin-label${special}" title="${full}">${esc(label.short)}</div><div class="bars">${bar('ref', f.bins.reference[i]!, 'reference', full)}${bar('cur', f.bins.current[i]!, 'current', full)}</div>`;
    })
    .join('');
  const ticks = [0, 0.5, 1]
    .map((t) => `<span class="tick" style="left:${85 * t}%">${Number((100 * top * t).toFixed(1))} %</span>`)
    .join('');
  const cls = f.drifted ? 'chart drift' : f.drifted === null ? 'chart none' : 'chart';
  return `<figure class="${cls}" id="f-${esc(f.feature)}" data-feature="${esc(f.feature)}" data-drifted="${f.drifted}">
<figcaption><span class="name" title="${esc(f.feature)}">${esc(f.feature)}</span> <span class="badge">${verdictWord(f)}</span> <span class="kind">${f.kind} · ${f.rows} rows</span></figcaption>
<p class="stat">${esc(verdictLine(f, policy))}</p>
<div class="bins">${rows}<div></div><div class="axis">${ticks}</div></div>
${empty.length > 0 ? `<p class="empty">empty in both files: ${empty.map(esc).join(', ')}</p>` : ''}</figure>`;
}

/** Reliability diagram: observed churn rate against mean predicted probability per bin. */
function calibrationChart(curve: { probTrue: number[]; probPred: number[] }): string {
  const size = 220;
  const pad = 30;
  const scale = (v: number): number => pad + v * (size - 2 * pad);
  const points = curve.probPred.map(
    (p, i) => `${scale(p).toFixed(1)},${(size - scale(curve.probTrue[i]!)).toFixed(1)}`,
  );
  const ticks = [0, 0.5, 1]
    .map(
      (v) =>
        `<text x="${scale(v)}" y="${size - pad + 11}" font-size="9" text-anchor="middle">${v}</text><text x="${pad - 3}" y="${size - scale(v) + 3}" font-size="9" text-anchor="end">${v}</text>`,
    )
    .join('');
  return `<svg width="${size}" height="${size}" role="img" aria-label="calibration curve"><rect x="${pad}" y="${pad}" width="${size - 2 * pad}" height="${size - 2 * pad}" fill="none" stroke="#d1d5db"/>${ticks}<line x1="${pad}" y1="${size - pad}" x2="${size - pad}" y2="${pad}" stroke="#9ca3af" stroke-dasharray="4"/><polyline fill="none" stroke="#2563eb" stroke-width="2" points="${points.join(' ')}"/><text x="${size / 2}" y="${size - 5}" font-size="10" text-anchor="middle">predicted</text><text x="10" y="${size / 2}" font-size="10" transform="rotate(-90 10 ${size / 2})" text-anchor="middle">observed</text></svg>`;
}

const STYLE = `
:root{--ref:#9ca3af;--cur:#2563eb;--drift:#dc2626}
*{box-sizing:border-box}
body{font:14px/1.4 system-ui,sans-serif;margin:0;padding:1.2rem 1.5rem;color:#111}
h1{margin:0 0 .3rem}h2{margin:1.4rem 0 .5rem}
table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:3px 6px;text-align:right}td:first-child,th:first-child{text-align:left}
tr.drift{background:#fee2e2}.roles td,.roles th{text-align:left}
.wide{overflow-x:auto}
.legend{display:flex;gap:1.2rem;align-items:center;margin:.3rem 0 .8rem}
.legend span{display:inline-flex;align-items:center;gap:.35rem}.legend i{display:inline-block;width:14px;height:10px}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,400px),1fr));gap:12px}
.chart{margin:0;padding:.6rem .8rem .5rem;border:1px solid #e5e7eb;border-radius:6px;min-width:0}
.chart.drift{border:2px solid var(--drift);background:#fff7f7}
.chart.none{background:#fafafa}
figcaption{display:flex;gap:.5rem;align-items:baseline;min-width:0}
figcaption .name{font-weight:600;font-size:15px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.badge{font-size:11px;padding:0 6px;border-radius:8px;background:#e5e7eb;white-space:nowrap}
.drift .badge{background:var(--drift);color:#fff}
.kind{font-size:12px;color:#6b7280;white-space:nowrap;margin-left:auto}
.stat{margin:.15rem 0 .5rem;font-size:12px;color:#374151}.drift .stat{color:#991b1b;font-weight:600}
.bins{display:grid;grid-template-columns:minmax(3.5rem,8.5rem) minmax(0,1fr);column-gap:8px;row-gap:5px;align-items:center}
.bin-label{font-size:12px;text-align:right;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.bin-label.special{font-style:italic;color:#6b7280}
.bars{display:flex;flex-direction:column;gap:1px;border-left:1px solid #9ca3af}
.bar-row{display:flex;align-items:center;gap:4px;height:13px}
.bar{flex:none;height:11px;min-width:1px;border-radius:0 2px 2px 0}.bar.ref{background:var(--ref)}.bar.cur{background:var(--cur)}
.val{font-size:11px;line-height:13px;color:#374151;white-space:nowrap;font-variant-numeric:tabular-nums}
.axis{position:relative;height:16px;border-top:1px solid #9ca3af}
.tick{position:absolute;top:1px;font-size:10px;color:#6b7280;transform:translateX(-50%);white-space:nowrap}
.tick:first-child{transform:none}
.empty{margin:.3rem 0 0;font-size:11px;color:#6b7280}
`;

/** Renders the whole report; the output references nothing outside itself. */
export function renderReportHtml(report: DriftReport): string {
  const s = report.summary;
  const features = featuresByConcern(report.features, report.policy.alpha);
  const rows = features
    .map((f) => {
      const cls = f.drifted ? 'drift' : '';
      const threshold =
        f.thresholdSource === 'p-value' ? `p &lt; ${report.policy.alpha}` : num(f.thresholds[f.method]);
      return `<tr class="${cls}"><td><a href="#f-${esc(f.feature)}">${esc(f.feature)}</a></td><td>${f.kind}</td><td>${f.rows}</td><td>${f.method}</td><td>${num(f.scores[f.method])}</td><td>${threshold}</td><td>${num(f.pValues[f.method])}</td><td>${num(f.scores.psi)}</td><td>${num(f.scores.jensen_shannon)}</td><td>${num(f.scores.ks)}</td><td>${num(f.scores.wasserstein_normed)}</td><td>${num(f.wasserstein)}</td><td>${num(f.scores.chi_square, 2)}</td><td>${verdictWord(f)}</td></tr>`;
    })
    .join('\n');
  const charts = features.map((f) => binChart(f, report.policy)).join('\n');
  const drifting = features.filter((f) => f.drifted);
  const roles = report.roles
    .map((r) => `<tr><td>${esc(r.column)}</td><td>${r.role}</td><td>${esc(describeRole(r))}</td></tr>`)
    .join('');
  const quality = report.dataQuality
    .filter((q) => q.issues.length > 0)
    .map((q) => `<li><b>${esc(q.feature)}</b>: ${q.issues.map(esc).join('; ')}</li>`)
    .join('');
  let performance = '';
  const perf = report.performance;
  if (perf) {
    const line = (label: string, sec: NonNullable<typeof perf.current> | undefined): string => {
      const m = sec?.metrics;
      if (!sec) return '';
      if (!m)
        return `<tr><td>${label}</td><td>${sec.rows}</td><td colspan="9">${sec.estimated ? `estimated (CBPE) accuracy ${num(sec.estimated.accuracy)}, f1 ${num(sec.estimated.f1)}` : `positive rate ${num(sec.positiveRate)}`}</td></tr>`;
      return `<tr><td>${label}</td><td>${m.rows}</td><td>${num(m.rocAuc)}</td><td>${num(m.accuracy)}</td><td>${num(m.precision)}</td><td>${num(m.recall)}</td><td>${num(m.f1)}</td><td>${num(m.specificity)}</td><td>${num(m.logLoss)}</td><td>${num(m.brier)}</td><td>${num(sec.predictedPositiveRate)}</td></tr>`;
    };
    const curve = perf.current?.calibration;
    const heading = performanceHeading(report);
    performance = `<h2>${esc(heading[0]!.toUpperCase() + heading.slice(1))}</h2><table><tr><th></th><th>rows</th><th>ROC AUC</th><th>accuracy</th><th>precision</th><th>recall</th><th>F1</th><th>specificity</th><th>log loss</th><th>Brier</th><th>predicted positive</th></tr>${line('reference', perf.reference)}${line('current', perf.current)}</table>${curve ? `<h3>Calibration (current)</h3>${calibrationChart(curve)}` : ''}`;
  }
  const skipped = report.skipped.map((k) => `<li>${esc(k.column)}: ${esc(k.reason)}</li>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>churnwatch drift report</title>
<style>${STYLE}${report.chunks ? CHUNK_STYLE : ''}</style>
</head><body>
<h1>Drift report</h1>
<p>${esc(report.current.name)} (${report.current.rows} rows) against ${esc(report.reference.name)} (${report.reference.rows} rows), generated ${esc(report.generatedAt)}.</p>
<p><b>${s.drifted}</b> of ${s.judged} judged columns drifted (share ${num(s.driftShare, 2)})${s.datasetDrift ? ' — <b>dataset drift</b>' : ''}${drifting.length > 0 ? `: ${drifting.map((f) => `<a href="#f-${esc(f.feature)}">${esc(f.feature)}</a>`).join(', ')}` : ''}.</p>
<h2>Columns</h2>
<p>${s.columns} feature columns compared.${roles ? ' Not judged as features:' : ''}</p>
${roles ? `<table class="roles"><tr><th>column</th><th>role</th><th>how</th></tr>${roles}</table>` : ''}
<h2>Distributions</h2>
<p class="legend"><span><i style="background:var(--ref)"></i>reference (${esc(report.reference.name)})</span><span><i style="background:var(--cur)"></i>current (${esc(report.current.name)})</span><span>share of rows per bin; drifting columns first, outlined red</span></p>
<div class="charts">
${charts}
</div>
<h2>Statistics</h2>
<div class="wide"><table><tr><th>column</th><th>kind</th><th>rows</th><th>method</th><th>score</th><th>threshold</th><th>p-value</th><th>PSI</th><th>JS</th><th>KS</th><th>Wasserstein/σ</th><th>Wasserstein</th><th>χ²</th><th>verdict</th></tr>
${rows}
</table></div>
${quality ? `<h2>Data quality</h2><ul>${quality}</ul>` : ''}
${performance}
${report.chunks ? renderChunkSection(report.chunks, report.policy.alpha) : ''}
${skipped ? `<h2>Skipped columns</h2><ul>${skipped}</ul>` : ''}
</body></html>
`;
}
