/**
 * A Prometheus histogram whose hot path is an array increment. prom-client's Histogram hashes the
 * label set on every observe(); per scored record that costs more than the scoring itself, so the
 * per-record histograms (the score's) keep their buckets in typed arrays, one slot per label
 * value set, and render them in prom-client's exposition shape when the registry is scraped.
 */
import type { Metric, Registry } from 'prom-client';

export interface HistogramSlot {
  /** Adds one observation; NaN and infinities are ignored. */
  observe(value: number): void;
}

interface SlotState {
  readonly labels: Readonly<Record<string, string>>;
  /** The labels of each bucket line, `le` last, made once: the exposition caches label texts by object. */
  readonly bucketLabels: readonly Readonly<Record<string, string | number>>[];
  /** Non-cumulative counts per upper bound, last slot = +Inf. */
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

export class BucketedHistogram {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram' as const;
  readonly aggregator = 'sum' as const;
  readonly labelNames: readonly string[];
  private readonly upperBounds: Float64Array;
  private readonly slots = new Map<string, SlotState>();

  constructor(spec: {
    name: string;
    help: string;
    labelNames: readonly string[];
    buckets: readonly number[];
  }) {
    this.name = spec.name;
    this.help = spec.help;
    this.labelNames = spec.labelNames;
    for (let i = 1; i < spec.buckets.length; i++) {
      if (!(spec.buckets[i]! > spec.buckets[i - 1]!))
        throw new RangeError(`buckets of ${spec.name} must increase`);
    }
    this.upperBounds = Float64Array.from(spec.buckets);
  }

  /** The slot for one label value set, created (with zero counts, so it is exported) on first use. */
  slot(labels: Readonly<Record<string, string>>): HistogramSlot {
    const key = this.labelNames.map((n) => labels[n] ?? '').join('\u0000');
    let state = this.slots.get(key);
    if (!state) {
      // Frozen: get() hands these very objects out.
      const own = Object.freeze({ ...labels });
      state = {
        labels: own,
        bucketLabels: [...this.upperBounds, '+Inf' as const].map((le) => Object.freeze({ ...own, le })),
        counts: new Float64Array(this.upperBounds.length + 1),
        sum: 0,
        count: 0,
      };
      this.slots.set(key, state);
    }
    const s = state;
    const bounds = this.upperBounds;
    const n = bounds.length;
    return {
      observe(value: number) {
        if (!Number.isFinite(value)) return;
        // Linear scan: the bucket lists are short (<= 20) and mostly hit early.
        let i = 0;
        while (i < n && value > bounds[i]!) i++;
        s.counts[i]! += 1;
        s.sum += value;
        s.count += 1;
      },
    };
  }

  /** Drops the series of one label value set. */
  remove(labels: Readonly<Record<string, string>>): void {
    this.slots.delete(this.labelNames.map((n) => labels[n] ?? '').join('\u0000'));
  }

  /** prom-client's metric contract: the registry calls get() on scrape. */
  async get() {
    const values: {
      labels: Readonly<Record<string, string | number>>;
      value: number;
      metricName: string;
    }[] = [];
    const bucketName = `${this.name}_bucket`;
    for (const state of this.slots.values()) {
      let cumulative = 0;
      for (let i = 0; i < this.upperBounds.length; i++) {
        cumulative += state.counts[i]!;
        values.push({ labels: state.bucketLabels[i]!, value: cumulative, metricName: bucketName });
      }
      values.push({
        labels: state.bucketLabels[this.upperBounds.length]!,
        value: state.count,
        metricName: bucketName,
      });
      values.push({ labels: state.labels, value: state.sum, metricName: `${this.name}_sum` });
      values.push({ labels: state.labels, value: state.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  reset(): void {
    this.slots.clear();
  }

  /** Adds this histogram to a registry (prom-client accepts any object with name and get()). */
  registerOn(registry: Registry): this {
    registry.registerMetric(this as unknown as Metric);
    return this;
  }
}
