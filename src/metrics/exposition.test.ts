import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Counter, Gauge, Histogram, Registry, type RegistryContentType } from 'prom-client';
import { BucketedHistogram } from './bucketed-histogram.js';
import { renderExposition } from './exposition.js';

/** A registry with every shape of series the server exports, and label values that need escaping. */
function populatedRegistry(openMetrics = false): Registry {
  const registry = new Registry();
  if (openMetrics)
    (registry as Registry<RegistryContentType>).setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
  const counter = new Counter({
    name: 'x_requests_total',
    help: 'Requests, with a help text that has a \\ and a\nnewline.',
    labelNames: ['route', 'status'],
    registers: [registry],
  });
  counter.inc({ route: '/a', status: '200' }, 3);
  counter.inc({ route: 'back\\slash "quoted"\nnewline', status: '500' });
  counter.inc({ route: '/a', status: '200' }, 2);
  new Counter({ name: 'x_unlabelled_total', help: 'No labels.', registers: [registry] }).inc(7);
  new Gauge({ name: 'x_never_set', help: 'No series at all.', labelNames: ['a'], registers: [registry] });
  const gauge = new Gauge({
    name: 'x_value',
    help: 'Odd values.',
    labelNames: ['kind'],
    registers: [registry],
  });
  gauge.set({ kind: 'nan' }, Number.NaN);
  gauge.set({ kind: 'inf' }, Number.POSITIVE_INFINITY);
  gauge.set({ kind: 'ninf' }, Number.NEGATIVE_INFINITY);
  gauge.set({ kind: 'small' }, 1.5e-9);
  gauge.set({ kind: 'negative' }, -0.25);
  const histogram = new Histogram({
    name: 'x_seconds',
    help: 'A prom-client histogram.',
    labelNames: ['store'],
    buckets: [0.1, 1],
    registers: [registry],
  });
  histogram.observe({ store: 'sqlite' }, 0.05);
  histogram.observe({ store: 'sqlite' }, 3);
  histogram.observe({ store: 'post"gres' }, 0.5);
  const bucketed = new BucketedHistogram({
    name: 'x_score',
    help: 'A bucketed histogram.',
    labelNames: ['model_version'],
    buckets: [0.25, 0.5, 0.75],
  }).registerOn(registry);
  bucketed.slot({ model_version: 'v1' }).observe(0.3);
  bucketed.slot({ model_version: 'v1' }).observe(0.9);
  bucketed.slot({ model_version: 'v2' }).observe(0.1);
  // A collect hook, as the server's counters and the monitor's gauges have.
  new Gauge({
    name: 'x_collected',
    help: 'Set at scrape time.',
    labelNames: ['feature'],
    registers: [registry],
    async collect() {
      await new Promise((resolve) => setImmediate(resolve));
      this.reset();
      this.set({ feature: 'MONTANT' }, 42);
    },
  });
  return registry;
}

describe('renderExposition', () => {
  it('renders exactly what registry.metrics() renders', async () => {
    const registry = populatedRegistry();
    const expected = await registry.metrics();
    assert.ok(expected.includes('\\"quoted\\"\\nnewline'), 'the fixture has escaped label values');
    assert.equal(await renderExposition(registry), expected);
    // Again, now that the label texts come from the cache.
    assert.equal(await renderExposition(registry), expected);
  });

  it('follows label sets that change between scrapes', async () => {
    const registry = new Registry();
    const gauge = new Gauge({ name: 'g', help: 'h', labelNames: ['feature'], registers: [registry] });
    gauge.set({ feature: 'a' }, 1);
    assert.equal(await renderExposition(registry), '# HELP g h\n# TYPE g gauge\ng{feature="a"} 1\n');
    gauge.reset();
    gauge.set({ feature: 'b' }, 2);
    assert.equal(await renderExposition(registry), '# HELP g h\n# TYPE g gauge\ng{feature="b"} 2\n');
    assert.equal(await renderExposition(registry), await registry.metrics());
  });

  it('leaves registries with default labels or in OpenMetrics format to prom-client', async () => {
    const open = populatedRegistry(true);
    assert.equal(await renderExposition(open), await open.metrics());
    const labelled = populatedRegistry();
    labelled.setDefaultLabels({ instance: 'a' });
    const text = await renderExposition(labelled);
    assert.ok(text.includes('instance="a"'));
    assert.equal(text, await labelled.metrics());
  });
});
