// The built-in dashboard's page script: fetches /dashboard/data.json, fills every panel, refreshes on a
// timer. No framework and no network beyond this server (uPlot is served by it), so it works offline.
// Each panel gets data-state="ready" or "empty", which the browser test and the CSS read.
/* global uPlot */
(() => {
  const $ = (sel, root = document) => root.querySelector(sel);
  const panel = (name) => $(`[data-panel="${name}"]`);
  const body = (name) => $('.body', panel(name));
  const charts = new Map();
  const COLORS = [
    '#0969da',
    '#d1242f',
    '#1a7f37',
    '#bf8700',
    '#8250df',
    '#cf222e',
    '#1b7c83',
    '#953800',
    '#6e7781',
    '#e16f24',
  ];
  let selectedFeature = null;
  let timer = null;
  let last = null;
  // The x axis always spans the selected range (seconds), so a short session is not stretched over years.
  let xRange = [0, 1];
  // Per chart, the part not to be read as final (the running chunk, labels not due yet): greyed over.
  const shades = new Map();

  const pct = (v, digits = 1) => (v === null || v === undefined ? '–' : `${(100 * v).toFixed(digits)} %`);
  const num = (v, digits = 3) => (v === null || v === undefined ? '–' : Number(v).toPrecision(digits));
  const esc = (s) =>
    String(s).replace(
      /[&<>"']/g,
      (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c],
    );
  const hasValue = (arr) => Array.isArray(arr) && arr.some((v) => v !== null && v !== undefined);

  function setState(name, ready) {
    panel(name).dataset.state = ready ? 'ready' : 'empty';
  }

  /** A time-series chart in a panel, updated in place when its series keep their names. */
  function timeseries(name, t, series, opts = {}) {
    const el = body(name);
    const ready = t.length > 0 && series.some((s) => hasValue(s.values));
    setState(name, ready);
    if (opts.shade) shades.set(name, opts.shade);
    else shades.delete(name);
    const key = series.map((s) => s.label).join('|');
    const entry = charts.get(name);
    if (!ready) {
      if (entry) {
        entry.chart.destroy();
        charts.delete(name);
      }
      return;
    }
    const data = [t, ...series.map((s) => s.values)];
    if (entry && entry.key === key) {
      entry.chart.setData(data);
      return;
    }
    if (entry) entry.chart.destroy();
    el.textContent = '';
    const width = Math.max(280, el.clientWidth || panel(name).clientWidth - 24);
    const chart = new uPlot(
      {
        width,
        height: 200,
        scales: { x: { time: true, range: () => xRange }, y: opts.y ?? {} },
        series: [
          {},
          ...series.map((s, i) => ({
            label: s.label,
            stroke: s.color ?? COLORS[i % COLORS.length],
            width: s.width ?? 1.5,
            dash: s.dash,
            spanGaps: true,
            points: { show: t.length < 40, size: 4 },
            value: (_u, v) => (v === null || v === undefined ? '–' : opts.format ? opts.format(v) : num(v)),
          })),
        ],
        axes: [
          {},
          { size: 72, values: (_u, vals) => vals.map((v) => (opts.format ? opts.format(v) : num(v, 2))) },
        ],
        legend: { live: true },
        hooks: { draw: [(u) => drawShade(u, shades.get(name))] },
      },
      data,
      el,
    );
    charts.set(name, { chart, key });
  }

  /** Greys over the chart from `shade.from` (seconds) to its right edge and names why. */
  function drawShade(u, shade) {
    if (!shade) return;
    const { left, top, width, height } = u.bbox;
    const x = Math.max(left, Math.min(left + width, u.valToPos(shade.from, 'x', true)));
    if (x >= left + width) return;
    const px = devicePixelRatio || 1;
    const ctx = u.ctx;
    ctx.save();
    ctx.fillStyle = 'rgba(255, 255, 255, 0.6)';
    ctx.fillRect(x, top, left + width - x, height);
    ctx.strokeStyle = '#8c959f';
    ctx.setLineDash([4 * px, 3 * px]);
    ctx.beginPath();
    ctx.moveTo(x, top);
    ctx.lineTo(x, top + height);
    ctx.stroke();
    ctx.fillStyle = '#6a737d';
    ctx.font = `${11 * px}px system-ui, sans-serif`;
    ctx.textAlign = 'right';
    ctx.fillText(shade.label, left + width - 4 * px, top + 12 * px);
    ctx.restore();
  }

  /**
   * Where the chart stops being final: half a chunk before the first flagged chunk (points sit at chunk
   * starts), or undefined when no chunk is flagged.
   */
  function shadeFrom(d, flags, label) {
    const i = flags.indexOf(true);
    return i < 0 ? undefined : { from: d.series.t[i] - d.range.chunkMs / 2000, label };
  }
  const running = (d) => shadeFrom(d, d.series.partial, 'chunk in progress');
  /** Label charts: grey from where labels are not all due (or the running chunk, if earlier). */
  const notDue = (d) => {
    const flags = d.series.labelsPartial.map((p, i) => p || d.series.partial[i]);
    return shadeFrom(d, flags, 'labels not due yet');
  };

  /** A bin label as people read it: `00:[0.00127,0.00234)` → `0.13–0.23 %` for scores, `10–350` for values. */
  function binLabel(label, percent) {
    const m = /^\d+:([[(])([^,]+),([^\])]+)([\])])$/.exec(label);
    if (!m) return label;
    const fmt = (x) => {
      const v = Number(x) * (percent ? 100 : 1);
      return Number.isFinite(v)
        ? v.toLocaleString('en-US', { maximumSignificantDigits: percent ? 2 : 3 })
        : x;
    };
    return `${fmt(m[2])}–${fmt(m[3])}${percent ? ' %' : ''}`;
  }

  /** Horizontal bar pairs: training (grey) vs serving (blue, red when drifted). */
  function bars(name, labels, reference, current, drifted, percent = false) {
    const el = body(name);
    const ready = labels.length > 0 && current.length > 0;
    setState(name, ready);
    if (!ready) {
      el.textContent = '';
      return;
    }
    let html = `<div class="legend"><i style="background:var(--ref)"></i>training<i style="background:${drifted ? 'var(--bad)' : 'var(--cur)'}"></i>serving</div><div class="bars">`;
    const max = Math.max(1e-9, ...reference, ...current);
    labels.forEach((label, i) => {
      const r = reference[i] ?? 0;
      const c = current[i] ?? 0;
      html +=
        `<div class="label" title="${esc(label)}">${esc(binLabel(label, percent))}</div>` +
        `<div class="pair" title="training ${pct(r)} · serving ${pct(c)}">` +
        `<div class="bar ref" style="width:${(100 * r) / max}%"></div>` +
        `<div class="bar cur${drifted ? ' bad' : ''}" style="width:${(100 * c) / max}%"></div></div>`;
    });
    el.innerHTML = `${html}</div>`;
  }

  function simpleBars(name, entries) {
    const el = body(name);
    const total = entries.reduce((s, [, v]) => s + v, 0);
    setState(name, total > 0);
    if (total === 0) {
      el.textContent = '';
      return;
    }
    let html = '<div class="bars">';
    for (const [label, v] of entries) {
      html += `<div class="label">${esc(label)}</div><div class="pair" title="${v}"><div class="bar cur" style="width:${(100 * v) / total}%;height:14px"></div></div>`;
      html += `<div></div><div class="small muted">${v.toLocaleString()} (${pct(v / total)})</div>`;
    }
    el.innerHTML = `${html}</div>`;
  }

  function renderStats(d) {
    const m = d.model;
    body('model-version').innerHTML =
      `<div class="big" style="font-size:18px;word-break:break-all">${esc(m.version)}</div>` +
      `<div class="sub">trained ${esc(m.trainedAt)} · threshold ${num(m.threshold)} (${esc(m.thresholdRule)})</div>` +
      `<div class="sub">validation ROC AUC ${num(m.validation.rocAuc)} · F1 ${num(m.validation.f1)}</div>`;
    setState('model-version', true);

    // The same minimum as the RealizedPerformanceLow alert: fewer labels give no number, as there.
    const r = d.live.realized;
    const el = body('accuracy');
    if (r) {
      const low = r.accuracy < m.validation.accuracy - 0.1;
      el.innerHTML =
        `<div class="big ${low ? 'bad' : 'ok'}">${pct(r.accuracy)}</div>` +
        `<div class="sub">validation ${pct(m.validation.accuracy)} · ${d.live.labeled.toLocaleString()} labelled of ${d.live.rows.toLocaleString()}</div>`;
    } else {
      el.innerHTML =
        `<div class="big muted">–</div>` +
        `<div class="sub">${d.live.labeled.toLocaleString()} labelled of ${d.live.realizedMinLabeled.toLocaleString()} needed` +
        ` · validation ${pct(m.validation.accuracy)}</div>`;
    }
    setState('accuracy', true);

    const tc = m.trainingClasses;
    simpleBars('training-labels', [
      ['no churn (0)', tc.negatives],
      ['churn (1)', tc.positives],
    ]);
    simpleBars('prediction-labels', [
      ['no churn (0)', d.live.predictedClasses['0']],
      ['churn (1)', d.live.predictedClasses['1']],
    ]);
  }

  function renderPerformance(d) {
    const s = d.series;
    const validation = s.t.map(() => d.model.validation.accuracy);
    timeseries(
      'accuracy-over-time',
      s.t,
      [
        { label: 'realized accuracy', values: s.realized.accuracy },
        { label: 'estimated accuracy', values: s.estimated.accuracy, dash: [4, 3] },
        { label: 'validation', values: validation, color: '#8c959f', dash: [2, 2] },
      ],
      { format: (v) => pct(v), shade: notDue(d) },
    );
    timeseries(
      'performance',
      s.t,
      [
        { label: 'realized F1', values: s.realized.f1 },
        { label: 'estimated F1', values: s.estimated.f1, dash: [4, 3] },
        { label: 'realized precision', values: s.realized.precision },
        { label: 'realized recall', values: s.realized.recall },
        { label: 'estimated precision', values: s.estimated.precision, dash: [4, 3] },
        { label: 'estimated recall', values: s.estimated.recall, dash: [4, 3] },
      ],
      { format: (v) => pct(v), shade: notDue(d) },
    );
    timeseries(
      'churn-rate',
      s.t,
      [
        { label: 'predicted churn rate', values: s.predictedChurnRate },
        { label: 'actual churn rate (labelled)', values: s.actualChurnRate },
      ],
      { format: (v) => pct(v), shade: notDue(d) },
    );
    timeseries('label-coverage', s.t, [{ label: 'labelled share', values: s.labelCoverage }], {
      format: (v) => pct(v),
      shade: notDue(d),
    });
    timeseries(
      'label-delay',
      s.t,
      [
        { label: 'median label delay', values: s.labelDelayMedianSeconds },
        { label: 'p90 label delay', values: s.labelDelayP90Seconds, dash: [4, 3] },
      ],
      { format: (v) => `${Number(v).toFixed(0)} s`, shade: notDue(d) },
    );
    const due = d.labels;
    $('#pending-feedback').textContent =
      `feedback waiting for its prediction: ${d.feedback.pending.toLocaleString()} · joined: ${d.feedback.joined.toLocaleString()} · ` +
      (due.dueAfterSeconds === null
        ? 'no label joined yet'
        : `labels counted once due: ${Math.round(due.dueAfterSeconds)} s after the prediction (${due.basis})`);
  }

  function renderDrift(d) {
    const dist = d.distributions.score;
    bars(
      'score-distribution',
      dist.labels,
      dist.reference,
      dist.current,
      Boolean(d.live.score?.drifted),
      true,
    );
    const s = d.series;
    // The threshold per chunk: the calibrated one, raised for chunks smaller than the calibrated window.
    timeseries(
      'prediction-drift',
      s.t,
      [
        { label: 'score PSI', values: s.scorePsi },
        { label: 'PSI threshold', values: s.scorePsiThreshold, color: '#d1242f', dash: [4, 3] },
        { label: 'share of features drifting', values: s.driftShare, color: '#8250df' },
      ],
      { shade: running(d) },
    );

    // The feature drift table: drifting features first, in red.
    const rows = [...d.live.features].sort(
      (a, b) => Number(b.drifted === true) - Number(a.drifted === true) || (b.psi ?? 0) - (a.psi ?? 0),
    );
    let html =
      '<table><thead><tr><th>feature</th><th>status</th><th>method</th><th class="num">score</th><th class="num">threshold</th><th class="num">PSI</th><th class="num">p-value</th></tr></thead><tbody>';
    for (const f of rows) {
      const status = f.drifted === null ? 'no verdict' : f.drifted ? 'DRIFT' : 'ok';
      html +=
        `<tr class="selectable${f.drifted ? ' drifted' : ''}" data-feature="${esc(f.feature)}" data-drifted="${f.drifted === true}">` +
        `<td>${esc(f.feature)}</td><td>${status}</td><td>${esc(f.method)}</td><td class="num">${num(f.score)}</td>` +
        `<td class="num">${f.threshold === null ? (f.pValue === null ? '–' : 'p &lt; α') : num(f.threshold)}</td><td class="num">${num(f.psi)}</td><td class="num">${num(f.pValue)}</td></tr>`;
    }
    body('feature-drift').innerHTML =
      `${html}</tbody></table><div class="small muted">live window: ${d.live.rows.toLocaleString()} predictions (${d.live.source}), dataset drift ${
        d.live.datasetDrift === null ? '–' : d.live.datasetDrift ? '<b class="bad">yes</b>' : 'no'
      } (${pct(d.live.driftShare, 0)} of features)</div>`;
    setState('feature-drift', rows.length > 0 && d.live.rows > 0);
    for (const tr of body('feature-drift').querySelectorAll('tr[data-feature]')) {
      tr.addEventListener('click', () => selectFeature(tr.dataset.feature));
    }

    // PSI over time: the drifting features and the largest movers (at most 6 lines, readable at a glance).
    const drifting = new Set(d.live.features.filter((f) => f.drifted).map((f) => f.feature));
    const ranked = Object.entries(s.featurePsi)
      .map(([f, v]) => [f, Math.max(0, ...v.filter((x) => x !== null))])
      .sort((a, b) => Number(drifting.has(b[0])) - Number(drifting.has(a[0])) || b[1] - a[1])
      .slice(0, 6)
      .map(([f]) => f);
    timeseries(
      'feature-psi',
      s.t,
      ranked.map((f) => ({
        label: drifting.has(f) ? `${f} (drift)` : f,
        values: s.featurePsi[f],
        width: drifting.has(f) ? 2.5 : 1.5,
      })),
      { shade: running(d) },
    );
    renderDrilldown(d);
  }

  function renderDrilldown(d) {
    const select = $('#feature');
    const names = Object.keys(d.distributions).filter((n) => n !== 'score');
    if (select.options.length !== names.length) {
      select.innerHTML = names.map((n) => `<option value="${esc(n)}">${esc(n)}</option>`).join('');
    }
    if (!selectedFeature || !names.includes(selectedFeature)) {
      const firstDrift = d.live.features.find((f) => f.drifted);
      selectedFeature = firstDrift ? firstDrift.feature : names[0];
    }
    select.value = selectedFeature;
    const dist = d.distributions[selectedFeature];
    const f = d.live.features.find((x) => x.feature === selectedFeature);
    bars('feature-drilldown', dist.labels, dist.reference, dist.current, Boolean(f?.drifted));
  }

  function selectFeature(name) {
    selectedFeature = name;
    if (last) renderDrilldown(last);
    panel('feature-drilldown').scrollIntoView({ behavior: 'smooth', block: 'nearest' });
  }

  function renderQuality(d) {
    const s = d.series;
    const ranked = Object.entries(s.missing)
      .map(([f, v]) => {
        const vals = v.filter((x) => x !== null);
        return [f, vals.length ? Math.max(...vals) - Math.min(...vals) + Math.max(...vals) * 0.01 : -1];
      })
      .sort((a, b) => b[1] - a[1])
      .slice(0, 6)
      .map(([f]) => f);
    timeseries(
      'missing',
      s.t,
      ranked.map((f) => ({ label: f, values: s.missing[f] })),
      { format: (v) => pct(v), shade: running(d) },
    );

    let html =
      '<table><thead><tr><th>feature</th><th class="num">missing</th><th class="num">training missing</th><th class="num">out of range</th><th class="num">unseen</th><th>issues</th></tr></thead><tbody>';
    for (const f of d.live.features) {
      const bad = f.issues.length > 0;
      html +=
        `<tr class="${bad ? 'drifted' : ''}"><td>${esc(f.feature)}</td><td class="num">${pct(f.missingShare)}</td><td class="num">${pct(f.referenceMissingShare)}</td>` +
        `<td class="num">${f.kind === 'numeric' ? pct(f.outOfRangeShare, 2) : ''}</td><td class="num">${f.kind === 'categorical' ? pct(f.unseenShare, 2) : ''}</td><td>${esc(f.issues.join('; '))}</td></tr>`;
    }
    body('quality').innerHTML = `${html}</tbody></table>`;
    setState('quality', d.live.rows > 0);
  }

  function renderAlerts(d) {
    let html =
      '<table><thead><tr><th>alert</th><th>severity</th><th>for</th><th>state</th><th>detail</th></tr></thead><tbody>';
    for (const a of d.alerts) {
      const cls =
        a.state === 'firing'
          ? 'firing'
          : a.state === 'pending'
            ? 'pending'
            : a.state === 'ok'
              ? 'ok'
              : 'nodata';
      html += `<tr data-alert="${esc(a.name)}" data-state="${esc(a.state)}"><td>${esc(a.name)}</td><td>${esc(a.severity)}</td><td>${esc(a.for)}</td><td><span class="badge ${cls}">${esc(a.state)}</span></td><td>${esc(a.detail)}</td></tr>`;
    }
    body('alerts').innerHTML = `${html}</tbody></table>`;
    setState('alerts', d.alerts.length > 0);
  }

  function render(d) {
    last = d;
    xRange = [d.range.fromMs / 1000, d.range.toMs / 1000];
    renderStats(d);
    renderPerformance(d);
    renderDrift(d);
    renderQuality(d);
    renderAlerts(d);
    const firing = d.alerts.filter((a) => a.state === 'firing').length;
    const pending = d.alerts.filter((a) => a.state === 'pending').length;
    const minutes = Math.round((d.range.toMs - d.range.fromMs) / 60_000);
    const span =
      minutes >= 1440
        ? `${Math.round(minutes / 1440)} d`
        : minutes >= 60
          ? `${Math.round(minutes / 60)} h`
          : `${minutes} min`;
    $('#status').textContent =
      `last ${span}${d.range.name === 'auto' ? ' (fits the data)' : ''}, ${d.range.chunkMs / 1000} s chunks · updated ${new Date(d.generatedAt).toLocaleTimeString()} · ${firing} alert(s) firing, ${pending} pending`;
    document.body.dataset.loaded = String(d.generatedAt);
  }

  async function refresh() {
    const range = $('#range').value;
    try {
      const res = await fetch(`/dashboard/data.json?range=${encodeURIComponent(range)}`, {
        cache: 'no-store',
      });
      if (!res.ok) {
        const err = await res.json().catch(() => ({}));
        $('#status').textContent = `no data: ${err.message || res.status}`;
        return;
      }
      render(await res.json());
    } catch (error) {
      $('#status').textContent = `cannot reach the service (${error.message}); retrying`;
    }
  }

  function schedule() {
    if (timer) clearInterval(timer);
    const every = Number($('#refresh').value);
    timer = every > 0 ? setInterval(refresh, every) : null;
  }

  const params = new URLSearchParams(location.search);
  if (params.get('range')) $('#range').value = params.get('range');
  if (params.get('feature')) selectedFeature = params.get('feature');
  $('#range').addEventListener('change', () => {
    for (const { chart } of charts.values()) chart.destroy();
    charts.clear();
    void refresh();
  });
  $('#refresh').addEventListener('change', schedule);
  $('#feature').addEventListener('change', (e) => selectFeature(e.target.value));
  window.addEventListener('resize', () => {
    for (const [name, { chart }] of charts)
      chart.setSize({ width: Math.max(280, body(name).clientWidth), height: 200 });
  });
  void refresh();
  schedule();
})();
