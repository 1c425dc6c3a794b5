/**
 * The HTML report in real headless Chromium: two small CSVs (the current one with a shifted amount and
 * region mix) are reported to HTML, opened from disk, and checked as a person would look at them: no
 * chart label overlaps another, every bin shows its reference and current share, the charts fill the
 * page width, drifting columns come first, and the page loads nothing from outside. Saves a screenshot to
 * test-results/report.png (git-ignored) to look at. A report by weekly chunks of NannyML-shaped data
 * draws each metric across chunks (test-results/report-chunks.png).
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { runReport } from '../../src/cli/commands/report.js';
import { carLoanCsv } from '../helpers/car-loan-data.js';
import { launchChromium } from '../helpers/chromium.js';
import { reportCsv } from '../helpers/report-csv.js';
import { repoRoot } from '../helpers/shared-files.js';
import { withTempDir } from '../helpers/temp-dir.js';

interface Box {
  text: string;
  x: number;
  y: number;
  width: number;
  height: number;
}

interface ChartLayout {
  feature: string;
  drifted: string | null;
  box: Box;
  /** Every text element of the chart: caption, statistic, bin labels, value labels, axis ticks. */
  texts: Box[];
  /** Per shown bin: its label and its two value labels. */
  bins: { label: Box; values: Box[] }[];
}

/**
 * Measures every chart in the page. A string, not a function: tsx would wrap named inner functions in
 * a `__name` helper that does not exist in the page.
 */
const LAYOUT = `(() => {
  const box = (e) => {
    const r = e.getBoundingClientRect();
    return { text: e.textContent ?? '', x: r.x, y: r.y, width: r.width, height: r.height };
  };
  const q = (e, selector) => [...e.querySelectorAll(selector)];
  return [...document.querySelectorAll('figure.chart')].map((c) => ({
    feature: c.getAttribute('data-feature') ?? '',
    drifted: c.getAttribute('data-drifted'),
    box: box(c),
    texts: q(c, 'figcaption > span, .stat, .bin-label, .val, .tick, .empty').map(box),
    bins: q(c, '.bin-label').map((label) => ({
      label: box(label),
      values: q(label.nextElementSibling, '.val').map(box),
    })),
  }));
})()`;

function overlaps(a: Box, b: Box): boolean {
  const slack = 0.5;
  return (
    a.x + a.width > b.x + slack &&
    b.x + b.width > a.x + slack &&
    a.y + a.height > b.y + slack &&
    b.y + b.height > a.y + slack
  );
}

test('the HTML report is readable in Chromium: no overlapping labels, every bin valued, full width', {
  timeout: 120_000,
}, async (t) => {
  const browser = await launchChromium(t);
  if (!browser) return;
  await withTempDir(async (dir) => {
    const reference = join(dir, 'reference.csv');
    const current = join(dir, 'current.csv');
    const html = join(dir, 'report.html');
    await writeFile(reference, reportCsv(3000, 1, 0));
    await writeFile(current, reportCsv(1200, 2, 10));
    const { report } = await runReport({ reference, current, score: 'score', html });
    assert.ok(report.summary.drifted >= 2, `${report.summary.drifted} drifted`);

    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const url = pathToFileURL(html).href;
    const requests: string[] = [];
    page.on('request', (r) => {
      if (r.url() !== url) requests.push(r.url());
    });
    await page.goto(url);

    const layout = (await page.evaluate(LAYOUT)) as ChartLayout[];
    const width = Number(await page.evaluate('document.documentElement.clientWidth'));
    await mkdir(join(repoRoot, 'test-results'), { recursive: true });
    await page.screenshot({ path: join(repoRoot, 'test-results', 'report.png'), fullPage: true });

    assert.deepEqual(requests, [], 'the report loads nothing but itself');
    assert.equal(layout.length, report.features.length, 'one chart per judged feature');
    for (const chart of layout) {
      for (const [i, a] of chart.texts.entries()) {
        assert.ok(a.width > 0 && a.height > 0, `${chart.feature}: "${a.text}" is not visible`);
        assert.ok(
          a.x >= chart.box.x - 0.5 && a.x + a.width <= chart.box.x + chart.box.width + 0.5,
          `${chart.feature}: "${a.text}" sticks out of its chart`,
        );
        for (const b of chart.texts.slice(i + 1))
          assert.ok(!overlaps(a, b), `${chart.feature}: "${a.text}" overlaps "${b.text}"`);
      }
      assert.ok(chart.bins.length >= 2, `${chart.feature}: ${chart.bins.length} bins shown`);
      for (const bin of chart.bins) {
        assert.equal(bin.values.length, 2, `${chart.feature} ${bin.label.text}: reference and current`);
        for (const v of bin.values) assert.match(v.text, /^(<?\d+(\.\d)?|0) %$/);
      }
    }
    // Drifting columns first, and the two shifted ones among them.
    const drifted = layout.filter((c) => c.drifted === 'true').map((c) => c.feature);
    assert.ok(drifted.includes('amount') && drifted.includes('region'), `drifted: ${drifted.join(', ')}`);
    assert.deepEqual(
      layout.slice(0, drifted.length).map((c) => c.feature),
      drifted,
    );
    // The grid uses the page: the first row of charts spans most of the width.
    const firstRow = layout.filter((c) => Math.abs(c.box.y - layout[0]!.box.y) < 1);
    const left = Math.min(...firstRow.map((c) => c.box.x));
    const right = Math.max(...firstRow.map((c) => c.box.x + c.box.width));
    assert.ok(firstRow.length >= 3, `${firstRow.length} charts side by side at 1400 px`);
    assert.ok(right - left >= 0.9 * width, `charts span ${right - left} of ${width} px`);
  });
});

/** Per chunk chart: its id, its box, its points and every text in its SVG. */
const CHUNK_LAYOUT = `(() => {
  const box = (e) => {
    const r = e.getBoundingClientRect();
    return { text: e.textContent ?? '', x: r.x, y: r.y, width: r.width, height: r.height };
  };
  return [...document.querySelectorAll('figure.chunk-chart')].map((c) => ({
    id: c.getAttribute('data-chart'),
    box: box(c),
    svg: box(c.querySelector('svg')),
    points: c.querySelectorAll('circle').length,
    alarms: c.querySelectorAll('circle.alarm').length,
    band: c.querySelectorAll('rect.ref-band').length,
    thresholds: c.querySelectorAll('.threshold').length,
    texts: [...c.querySelectorAll('svg text')].map(box),
  }));
})()`;

interface ChunkChartLayout {
  id: string;
  box: Box;
  svg: Box;
  points: number;
  alarms: number;
  band: number;
  thresholds: number;
  texts: Box[];
}

test('the HTML report draws each metric across chunks, with the reference band and thresholds', {
  timeout: 120_000,
}, async (t) => {
  const browser = await launchChromium(t);
  if (!browser) return;
  await withTempDir(async (dir) => {
    const [reference, current, html] = ['reference.csv', 'current.csv', 'chunks.html'].map((f) =>
      join(dir, f),
    );
    const start = Date.UTC(2018, 0, 1);
    await writeFile(reference!, carLoanCsv({ rows: 4000, seed: 1, start }));
    await writeFile(
      current!,
      carLoanCsv({ rows: 4000, seed: 2, start: start + 4000 * 600_000, driftFrom: 2000 }),
    );
    const { report } = await runReport({
      reference: reference!,
      current: current!,
      target: 'repaid',
      chunkPeriod: '1w',
      html: html!,
    });
    const chunks = report.chunks!;
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const url = pathToFileURL(html!).href;
    const requests: string[] = [];
    page.on('request', (r) => {
      if (r.url() !== url) requests.push(r.url());
    });
    await page.goto(url);
    const charts = (await page.evaluate(CHUNK_LAYOUT)) as ChunkChartLayout[];
    await mkdir(join(repoRoot, 'test-results'), { recursive: true });
    await page
      .locator('.chunk-charts')
      .screenshot({ path: join(repoRoot, 'test-results', 'report-chunks.png') });

    assert.deepEqual(requests, [], 'the report loads nothing but itself');
    const ids = charts.map((c) => c.id);
    for (const id of ['perf-accuracy', 'perf-rocAuc', 'drift-car_value', 'drift-salary_range'])
      assert.ok(ids.includes(id), `${id} drawn (charts: ${ids.join(', ')})`);
    for (const chart of charts) {
      assert.ok(
        chart.svg.width > 300 && chart.svg.height > 100,
        `${chart.id}: ${chart.svg.width}×${chart.svg.height}`,
      );
      assert.equal(chart.band, 1, `${chart.id}: the reference period is shaded`);
      const perSeries = chart.id.startsWith('perf-') ? 2 : 1;
      assert.equal(
        chart.points,
        perSeries * chunks.table.length,
        `${chart.id}: a point per chunk and series`,
      );
      for (const [i, a] of chart.texts.entries()) {
        assert.ok(
          a.x >= chart.box.x - 0.5 && a.x + a.width <= chart.box.x + chart.box.width + 0.5,
          `${chart.id}: "${a.text}" sticks out`,
        );
        for (const b of chart.texts.slice(i + 1))
          assert.ok(!overlaps(a, b), `${chart.id}: "${a.text}" overlaps "${b.text}"`);
      }
    }
    const byId = Object.fromEntries(charts.map((c) => [c.id, c]));
    assert.ok(byId['drift-car_value']!.alarms >= 2, 'the drifted weeks of car_value are red');
    assert.ok(byId['drift-car_value']!.thresholds >= 1, 'with its threshold line');
    assert.ok(byId['perf-accuracy']!.thresholds >= 2, 'accuracy has the reference band');
    assert.ok(byId['perf-accuracy']!.alarms >= 2, 'the weeks whose realized accuracy fell are red');
  });
});
