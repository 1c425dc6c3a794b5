/**
 * The report as ONE self-contained HTML file: inline CSS and inline SVG charts generated here, no
 * script, no font, no CDN — it opens offline and can be attached to a ticket.
 */
import type { DriftReport, ReportFeature } from './report.js';

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function num(value: number | undefined, digits = 4): string {
  if (value === undefined) return '–';
  if (!Number.isFinite(value)) return String(value);
  if (value !== 0 && Math.abs(value) < 10 ** -digits) return value.toExponential(2);
  return value.toFixed(digits);
}

/** Grouped bars: reference (grey) and current (blue) share per bin. */
function binChart(f: ReportFeature): string {
  const width = 640;
  const height = 180;
  const pad = 30;
  const n = f.bins.labels.length;
  const max = Math.max(1e-9, ...f.bins.reference, ...f.bins.current);
  const slot = (width - 2 * pad) / n;
  const bar = Math.max(1, slot / 2 - 2);
  const parts: string[] = [];
  for (let i = 0; i < n; i++) {
    const x = pad + i * slot;
    const hr = ((height - 2 * pad) * f.bins.reference[i]!) / max;
    const hc = ((height - 2 * pad) * f.bins.current[i]!) / max;
    const label = esc(f.bins.labels[i]!);
    parts.push(
      `<rect x="${x.toFixed(1)}" y="${(height - pad - hr).toFixed(1)}" width="${bar.toFixed(1)}" height="${hr.toFixed(1)}" fill="#9ca3af"><title>${label} reference ${num(f.bins.reference[i])}</title></rect>`,
      `<rect x="${(x + bar + 1).toFixed(1)}" y="${(height - pad - hc).toFixed(1)}" width="${bar.toFixed(1)}" height="${hc.toFixed(1)}" fill="#2563eb"><title>${label} current ${num(f.bins.current[i])}</title></rect>`,
      `<text x="${(x + slot / 2).toFixed(1)}" y="${height - pad + 12}" font-size="8" text-anchor="middle">${esc(f.bins.labels[i]!.slice(0, 10))}</text>`,
    );
  }
  return `<svg width="${width}" height="${height}" role="img" aria-label="${esc(f.feature)} shares per bin">${parts.join('')}<line x1="${pad}" y1="${height - pad}" x2="${width - pad}" y2="${height - pad}" stroke="#111"/></svg>`;
}

/** Reliability diagram: observed churn rate against mean predicted probability per bin. */
function calibrationChart(curve: { probTrue: number[]; probPred: number[] }): string {
  const size = 220;
  const pad = 25;
  const scale = (v: number): number => pad + v * (size - 2 * pad);
  const points = curve.probPred.map(
    (p, i) => `${scale(p).toFixed(1)},${(size - scale(curve.probTrue[i]!)).toFixed(1)}`,
  );
  return `<svg width="${size}" height="${size}" role="img" aria-label="calibration curve"><line x1="${pad}" y1="${size - pad}" x2="${size - pad}" y2="${pad}" stroke="#9ca3af" stroke-dasharray="4"/><polyline fill="none" stroke="#2563eb" stroke-width="2" points="${points.join(' ')}"/><text x="${size / 2}" y="${size - 5}" font-size="10" text-anchor="middle">predicted</text><text x="10" y="${size / 2}" font-size="10" transform="rotate(-90 10 ${size / 2})" text-anchor="middle">observed</text></svg>`;
}

/** Renders the whole report; the output references nothing outside itself. */
export function renderReportHtml(report: DriftReport): string {
  const s = report.summary;
  const rows = report.features
    .map((f) => {
      const verdict = f.drifted === null ? 'too few rows' : f.drifted ? 'DRIFT' : 'ok';
      const cls = f.drifted ? 'drift' : '';
      const threshold =
        f.thresholdSource === 'p-value' ? `p &lt; ${report.policy.alpha}` : num(f.thresholds[f.method]);
      return `<tr class="${cls}"><td><a href="#f-${esc(f.feature)}">${esc(f.feature)}</a></td><td>${f.kind}</td><td>${f.rows}</td><td>${f.method}</td><td>${num(f.scores[f.method])}</td><td>${threshold}</td><td>${num(f.pValues[f.method])}</td><td>${num(f.scores.psi)}</td><td>${num(f.scores.jensen_shannon)}</td><td>${num(f.scores.ks)}</td><td>${num(f.scores.wasserstein_normed)}</td><td>${num(f.wasserstein)}</td><td>${num(f.scores.chi_square, 2)}</td><td>${verdict}</td></tr>`;
    })
    .join('\n');
  const charts = report.features
    .map(
      (f) =>
        `<section id="f-${esc(f.feature)}"><h3>${esc(f.feature)} — ${f.drifted ? 'drift' : 'no drift'} (${f.method})</h3>${binChart(f)}</section>`,
    )
    .join('\n');
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
        return `<tr><td>${label}</td><td>${sec.rows}</td><td colspan="7">${sec.estimated ? `estimated (CBPE) accuracy ${num(sec.estimated.accuracy)}, f1 ${num(sec.estimated.f1)}` : `positive rate ${num(sec.positiveRate)}`}</td></tr>`;
      return `<tr><td>${label}</td><td>${m.rows}</td><td>${num(m.rocAuc)}</td><td>${num(m.accuracy)}</td><td>${num(m.precision)}</td><td>${num(m.recall)}</td><td>${num(m.f1)}</td><td>${num(m.logLoss)}</td><td>${num(m.brier)}</td></tr>`;
    };
    const curve = perf.current?.calibration;
    performance = `<h2>Performance (threshold ${perf.threshold})</h2><table><tr><th></th><th>rows</th><th>ROC AUC</th><th>accuracy</th><th>precision</th><th>recall</th><th>F1</th><th>log loss</th><th>Brier</th></tr>${line('reference', perf.reference)}${line('current', perf.current)}</table>${curve ? `<h3>Calibration (current)</h3>${calibrationChart(curve)}` : ''}`;
  }
  const skipped = report.skipped.map((k) => `<li>${esc(k.column)}: ${esc(k.reason)}</li>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>churnwatch drift report</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;color:#111}table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:3px 6px;text-align:right}td:first-child{text-align:left}tr.drift{background:#fee2e2}.legend span{display:inline-block;width:10px;height:10px;margin:0 4px}</style>
</head><body>
<h1>Drift report</h1>
<p>${esc(report.current.name)} (${report.current.rows} rows) against ${esc(report.reference.name)} (${report.reference.rows} rows), generated ${esc(report.generatedAt)}.</p>
<p><b>${s.drifted}</b> of ${s.judged} judged columns drifted (share ${num(s.driftShare, 2)})${s.datasetDrift ? ' — <b>dataset drift</b>' : ''}.</p>
<table><tr><th>column</th><th>kind</th><th>rows</th><th>method</th><th>score</th><th>threshold</th><th>p-value</th><th>PSI</th><th>JS</th><th>KS</th><th>Wasserstein/σ</th><th>Wasserstein</th><th>χ²</th><th>verdict</th></tr>
${rows}
</table>
${quality ? `<h2>Data quality</h2><ul>${quality}</ul>` : ''}
${performance}
<h2>Distributions</h2><p class="legend"><span style="background:#9ca3af"></span>reference <span style="background:#2563eb"></span>current</p>
${charts}
${skipped ? `<h2>Skipped columns</h2><ul>${skipped}</ul>` : ''}
</body></html>
`;
}
