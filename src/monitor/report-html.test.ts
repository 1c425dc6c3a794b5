import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCsvText } from '../data/csv-reader.js';
import { createRng } from '../data/rng.js';
import { buildDriftReport } from './report.js';
import { binDisplayLabels, compactNumber, renderReportHtml } from './report-html.js';

/** `rows` rows of id, amount (1000 + 37.3·i, shifted by `shift`), stable calls, a long-named region, 0/1 churn. */
function table(rows: number, seed: number, shift = 0) {
  const rng = createRng(seed);
  const regions = ['DAKAR', 'THIES', 'SAINT-LOUIS', 'A REGION WITH A VERY LONG NAME INDEED'];
  const lines = ['user_id,amount,calls,region,churn'];
  for (let i = 0; i < rows; i++) {
    const region = regions[Math.floor(4 * rng.next() ** (shift ? 0.5 : 2))];
    lines.push(`u${i},${(1000 + 37.3 * (i % 40) + shift).toFixed(2)},${i % 7},${region},${i % 2}`);
  }
  return parseCsvText(`${lines.join('\n')}\n`, 't.csv', { schema: 'infer' }).table;
}

describe('report HTML', () => {
  it('rounds numbers to three significant digits with k/M/G', () => {
    assert.deepEqual([1234.5, 12_345, 999, 0.012345, 2_500_000, -4200, 7].map(compactNumber), [
      '1.23k',
      '12.3k',
      '999',
      '0.0123',
      '2.5M',
      '-4.2k',
      '7',
    ]);
  });

  it('labels numeric bins as rounded ranges, with the exact range as the full text', () => {
    const t = table(40, 1);
    const amount = buildDriftReport(t, t).features.find((f) => f.feature === 'amount')!;
    const labels = binDisplayLabels(amount);
    assert.deepEqual(
      labels.map((l) => l.short),
      [
        '< 1k',
        '[1k, 1.15k)',
        '[1.15k, 1.29k)',
        '[1.29k, 1.44k)',
        '[1.44k, 1.58k)',
        '[1.58k, 1.73k)',
        '[1.73k, 1.87k)',
        '[1.87k, 2.02k)',
        '[2.02k, 2.16k)',
        '[2.16k, 2.31k)',
        '[2.31k, 2.45k]',
        '> 2.45k',
        'missing',
      ],
    );
    assert.equal(labels[1]!.full, '[1000, 1145.47)');
  });

  it('shows roles, drifting features first with statistic and threshold, a value label per bin', () => {
    const report = buildDriftReport(table(400, 1), table(400, 2, 300));
    const html = renderReportHtml(report);
    assert.match(html, /<tr><td>user_id<\/td><td>id<\/td><td>inferred: a distinct text value in every row/);
    assert.match(html, /<tr><td>churn<\/td><td>target<\/td><td>inferred: named like a target/);
    const charts = [...html.matchAll(/<figure class="([^"]+)" id="f-(\w+)"/g)].map((m) => [m[2], m[1]]);
    assert.deepEqual(
      charts.map(([, cls]) => cls),
      ['chart drift', 'chart drift', 'chart'],
    );
    assert.equal(charts[2]![0], 'calls');
    assert.match(html, /<p class="stat">χ² \d+\.\d{3}, p = [\d.e-]+ &#60; α 0\.05<\/p>/);
    const large = renderReportHtml(buildDriftReport(table(1200, 1), table(1200, 2, 300)));
    assert.match(large, /<p class="stat">PSI \d+\.\d{3} &#62; 0\.200 \(fallback threshold\)<\/p>/);
    assert.match(large, /<p class="stat">PSI 0\.0\d\d ≤ 0\.200 \(fallback threshold\)<\/p>/);
    // Every shown bin: a label with the full text as tooltip, then reference and current values.
    const bins = [
      ...html.matchAll(
        /<div class="bin-label[^"]*" title="([^"]*)">([^<]*)<\/div><div class="bars">(.*?)<\/div><\/div>(?=<div)/g,
      ),
    ];
    assert.ok(bins.length >= 8, `${bins.length} bins`);
    for (const [, , , bars] of bins)
      assert.equal([...bars!.matchAll(/class="val">\d+(\.\d)? %</g)].length, 2);
    assert.ok(bins.some(([, full]) => full === 'A REGION WITH A VERY LONG NAME INDEED'));
    assert.match(html, /empty in both files: [^<]*missing/);
    assert.doesNotMatch(html, /<script|<link|https?:|src=|url\(/i);
  });
});
