import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { METRICS } from '../metrics/catalogue.js';
import { registerMonitorGauges } from './monitor-gauges.js';
import type { WindowAnalysis } from './window-analysis.js';

/** An analysis of a window with `rows` predictions and nothing else to report. */
function analysis(rows: number): WindowAnalysis {
  return {
    modelVersion: 'v1',
    rows,
    labeled: 0,
    labelCoverage: 0,
    from: 0,
    to: 1,
    drift: { features: [], judged: 0, driftShare: 0 },
    quality: [],
    estimated: undefined,
    realized: undefined,
    labelDelay: undefined,
  } as unknown as WindowAnalysis;
}

describe('monitor gauges', () => {
  it('fill once per analysis, follow a new one, and empty without one', async () => {
    let current: WindowAnalysis | undefined = analysis(10);
    const registry = new Registry();
    registerMonitorGauges(registry, async () => current);
    const rows = async () => {
      const metric = await registry.getSingleMetric(METRICS.windowRows.name)!.get();
      return metric.values.filter((v) => v.labels.kind === 'predictions');
    };

    const first = await rows();
    assert.deepEqual(
      first.map((v) => v.value),
      [10],
    );
    // The same analysis again: the series are the ones already there, not made anew.
    const again = await rows();
    assert.equal(again[0]!.labels, first[0]!.labels);

    current = analysis(20);
    const next = await rows();
    assert.deepEqual(
      next.map((v) => v.value),
      [20],
    );
    assert.notEqual(next[0]!.labels, first[0]!.labels);

    current = undefined;
    assert.deepEqual(await rows(), []);
    assert.doesNotMatch(await registry.metrics(), /churnwatch_monitor_window_rows\{/);
  });
});
