/**
 * The sliding monitoring window: the last N predictions and/or those of the last T ms, kept as ring
 * buffers of typed arrays. Each observation costs O(features): its reference bin per feature is looked up
 * once and added to running bin counts (removed again on eviction), so binned statistics (PSI,
 * Jensen-Shannon, chi-square, missing shares) need no pass over the rows. Raw numeric values, scores,
 * classes and labels are kept for what needs them (KS, Wasserstein, ROC AUC, CBPE).
 *
 * Labels join by prediction id when feedback arrives; a row without a label is "unknown", never
 * "no churn". Binning is the server counters' own (record-binner.ts, shared with create-metrics.ts):
 * numbers for numeric features, strings for categorical ones, anything else counts as missing.
 */
import type { RawFeatures } from '../data/feature-types.js';
import { type RecordBinner, type RecordBins, recordBinnerOf } from '../model/record-binner.js';
import type { ReferenceProfile } from '../model/reference-profile-types.js';
import type { DriftWindow, FeatureWindow } from './drift-policy.js';

export interface WindowOptions {
  /** Most predictions kept: the last `maxRows`. */
  readonly maxRows: number;
  /** Predictions older than this many ms (by createdAt, against the clock) leave the window; undefined: no age limit. */
  readonly maxAgeMs?: number | undefined;
  /**
   * Most raw values per feature handed to KS and Wasserstein: a larger window is thinned to an evenly
   * spaced subsample. The reference side is a sample of a few thousand values, so more current values add
   * little power while the sort dominates the cost.
   */
  readonly rawValueRows: number;
}

/** The largest window accepted (memory: about 150 bytes per row). */
export const MAX_WINDOW_ROWS = 2_000_000;

/** Used when the profile carries no calibrated window size. */
export const DEFAULT_WINDOW_ROWS = 1000;
export const DEFAULT_RAW_VALUE_ROWS = 20_000;

/**
 * Defaults: the window size the profile's drift thresholds were calibrated for (so a threshold means
 * what it was calibrated to mean), else 1,000 rows; no age limit; 20,000 raw values for KS/Wasserstein.
 */
export function resolveWindowOptions(
  profile: Pick<ReferenceProfile, 'thresholds'>,
  options: Partial<WindowOptions> = {},
): Readonly<WindowOptions> {
  const merged = {
    maxRows: options.maxRows ?? profile.thresholds?.windowSize ?? DEFAULT_WINDOW_ROWS,
    maxAgeMs: options.maxAgeMs,
    rawValueRows: options.rawValueRows ?? DEFAULT_RAW_VALUE_ROWS,
  } satisfies WindowOptions;
  if (!(Number.isInteger(merged.maxRows) && merged.maxRows >= 1 && merged.maxRows <= MAX_WINDOW_ROWS))
    throw new RangeError(
      `window maxRows must be an integer from 1 to ${MAX_WINDOW_ROWS}, got ${merged.maxRows}`,
    );
  if (merged.maxAgeMs !== undefined && !(merged.maxAgeMs > 0 && Number.isFinite(merged.maxAgeMs)))
    throw new RangeError(`window maxAgeMs must be a positive number, got ${merged.maxAgeMs}`);
  if (!(Number.isInteger(merged.rawValueRows) && merged.rawValueRows >= 1))
    throw new RangeError(`window rawValueRows must be a positive integer, got ${merged.rawValueRows}`);
  return Object.freeze(merged);
}

/** What one prediction brings to the window (a PredictionRecord or a LoggedPrediction fits). */
export interface WindowObservation {
  readonly id: string;
  readonly createdAt: number;
  readonly modelVersion: string;
  readonly features: RawFeatures;
  readonly score: number;
  readonly predictedClass: 0 | 1;
}

/**
 * The rows of a window (or of a chunk of the stored log), oldest first, in the shape the analysis reads.
 * Arrays are copies: the window may move on while they are analysed.
 */
export interface WindowData {
  readonly modelVersion: string;
  readonly rows: number;
  /** createdAt of the oldest and newest rows (NaN when empty). */
  readonly from: number;
  readonly to: number;
  readonly score: Float64Array;
  readonly predictedClass: Uint8Array;
  /** 0/1 for a joined label, -1 for none yet. */
  readonly label: Int8Array;
  /** observedAt − createdAt of joined labels in ms; NaN where none. */
  readonly labelDelayMs: Float64Array;
  /** Bin counts (all rows) and raw values (at most rawValueRows) per feature and for the score. */
  readonly drift: DriftWindow;
}

/** A feature's ring buffers; `column` is its column in the binner's RecordBins. */
interface NumericSlot {
  readonly name: string;
  readonly column: number;
  readonly bins: Uint16Array;
  readonly values: Float64Array;
  readonly counts: Float64Array;
}

interface CategoricalSlot {
  readonly name: string;
  readonly column: number;
  readonly bins: Uint16Array;
  readonly counts: Float64Array;
}

/** Indexes of an evenly spaced subsample of `take` positions out of `n` (all when n ≤ take). */
export function evenlySpaced(n: number, take: number): { count: number; at: (k: number) => number } {
  if (n <= take) return { count: n, at: (k) => k };
  const stride = n / take;
  return { count: take, at: (k) => Math.floor(k * stride) };
}

export class PredictionWindow {
  readonly modelVersion: string;
  readonly options: Readonly<WindowOptions>;
  private readonly capacity: number;
  private head = 0;
  private size = 0;
  private labeledRows = 0;
  private readonly createdAt: Float64Array;
  private readonly score: Float64Array;
  private readonly predictedClass: Uint8Array;
  private readonly label: Int8Array;
  private readonly labelDelayMs: Float64Array;
  private readonly ids: (string | undefined)[];
  /**
   * Slot of each id, kept up to date lazily: rows appended without a duplicate check are indexed only
   * when a lookup by id comes (has, setLabel, add). `added` counts every row ever added (row k sits in
   * slot k mod capacity); rows before `indexedThrough` are in the map.
   */
  private readonly slotOfId = new Map<string, number>();
  private added = 0;
  private indexedThrough = 0;
  private readonly numeric: NumericSlot[] = [];
  private readonly categorical: CategoricalSlot[] = [];
  private readonly binner: RecordBinner;
  private readonly scoreBins: Uint16Array;
  private readonly scoreCounts: Float64Array;

  constructor(profile: ReferenceProfile, modelVersion: string, options: Partial<WindowOptions> = {}) {
    this.modelVersion = modelVersion;
    this.options = resolveWindowOptions(profile, options);
    const c = this.options.maxRows;
    this.capacity = c;
    this.createdAt = new Float64Array(c);
    this.score = new Float64Array(c);
    this.predictedClass = new Uint8Array(c);
    this.label = new Int8Array(c);
    this.labelDelayMs = new Float64Array(c);
    this.ids = new Array<string | undefined>(c);
    // The binner's features (schema order, those the profile bins), as the server counters use.
    this.binner = recordBinnerOf(profile);
    for (const [column, { name, profile: fp }] of this.binner.features.entries()) {
      const counts = new Float64Array(fp.labels.length);
      if (fp.kind === 'numeric')
        this.numeric.push({ name, column, bins: new Uint16Array(c), values: new Float64Array(c), counts });
      else this.categorical.push({ name, column, bins: new Uint16Array(c), counts });
    }
    this.scoreBins = new Uint16Array(c);
    this.scoreCounts = new Float64Array(profile.score.labels.length);
  }

  /** Predictions in the window now. */
  get rows(): number {
    return this.size;
  }

  /** Predictions in the window with a joined label. */
  get labeled(): number {
    return this.labeledRows;
  }

  /** Whether a prediction id is in the window. */
  has(id: string): boolean {
    this.index();
    return this.slotOfId.has(id);
  }

  /** Puts the rows appended since the last lookup into the id map. O(rows appended, at most the window). */
  private index(): void {
    for (let k = Math.max(this.indexedThrough, this.added - this.size); k < this.added; k++) {
      const slot = k % this.capacity;
      this.slotOfId.set(this.ids[slot]!, slot);
    }
    this.indexedThrough = this.added;
  }

  /** createdAt of the oldest row, NaN when empty. */
  get oldestCreatedAt(): number {
    return this.size === 0 ? Number.NaN : this.createdAt[this.head]!;
  }

  /**
   * Adds one prediction, evicting the oldest when full. O(features). An id already in the window is
   * ignored (returns false), so a tailer may re-read overlapping rows.
   */
  add(o: WindowObservation): boolean {
    if (this.has(o.id)) return false;
    this.append(o);
    this.index();
    return true;
  }

  /**
   * add() for a prediction the caller knows is not in the window (the server's own, just made): no
   * lookup by id, and the id map is updated only when a lookup comes, so a window under load does no
   * map work per prediction.
   */
  append(o: WindowObservation): void {
    this.appendBinned(o, this.binner.bin([o.features], [o.score]), 0);
  }

  /**
   * Bins of `records` under this window's profile: those of `bins` (another profile's) binned again,
   * else of the records' features, which must then be given.
   */
  binsOf(
    records: readonly (Omit<WindowObservation, 'features'> & { features?: RawFeatures })[],
    bins?: RecordBins,
  ): RecordBins {
    const scores = records.map((r) => r.score);
    if (bins !== undefined) return this.binner.binAgain(bins, scores);
    return this.binner.bin(
      records.map((r, i) => {
        if (!r.features) throw new TypeError(`prediction ${i} has neither features nor bins`);
        return r.features;
      }),
      scores,
    );
  }

  /** Whether bins were made under this window's profile, so appendBinned can take them. */
  accepts(bins: RecordBins): boolean {
    return bins.binner === this.binner;
  }

  /**
   * appendBinned() of rows [0, bins.rows) of `bins`, `records` being those rows, written an array at a
   * time: under a 1,000-record request, one row at a time touched some 40 ring buffers per row and was
   * the largest part of the monitor's cost. Leaves the window as appendBinned row by row does.
   */
  appendBinnedRows(records: readonly Omit<WindowObservation, 'features'>[], bins: RecordBins): void {
    if (bins.binner !== this.binner) throw new Error('bins of another profile given to the window');
    const n = records.length;
    if (bins.rows !== n) throw new RangeError(`${n} predictions given with bins of ${bins.rows} rows`);
    const c = this.capacity;
    if (n > c) {
      // Most of such a batch would pass through the window: row by row is simplest and as exact.
      for (let i = 0; i < n; i++) this.appendBinned(records[i]!, bins, i);
      return;
    }
    const evict = Math.max(0, this.size + n - c);
    for (let e = 0; e < evict; e++) this.evictOldest();
    this.place(records, bins, 0);
  }

  /**
   * append() with the observation's bins already computed: row `row` of `bins` (see accepts()). The
   * numeric values come from the bins too, so the observation's features are not read.
   */
  appendBinned(o: Omit<WindowObservation, 'features'>, bins: RecordBins, row: number): void {
    if (bins.binner !== this.binner) throw new Error('bins of another profile given to the window');
    if (this.size === this.capacity) this.evictOldest();
    this.place([o], bins, row);
  }

  /**
   * Writes `records` into the free slots after the newest row (the caller made room), records[i] with
   * row firstRow + i of `bins`, one array at a time.
   */
  private place(
    records: readonly Omit<WindowObservation, 'features'>[],
    bins: RecordBins,
    firstRow: number,
  ): void {
    const n = records.length;
    const c = this.capacity;
    const start = (this.head + this.size) % c;
    this.added += n;
    this.size += n;
    for (let i = 0, slot = start; i < n; i++, slot = slot + 1 === c ? 0 : slot + 1) {
      const o = records[i]!;
      this.createdAt[slot] = o.createdAt;
      this.score[slot] = o.score;
      this.predictedClass[slot] = o.predictedClass;
      this.label[slot] = -1;
      this.labelDelayMs[slot] = Number.NaN;
      this.ids[slot] = o.id;
    }
    const width = this.binner.features.length;
    const featureBins = bins.features;
    const values = bins.values;
    for (const s of this.numeric) {
      const { bins: ring, counts, values: kept, column } = s;
      for (let i = 0, slot = start; i < n; i++, slot = slot + 1 === c ? 0 : slot + 1) {
        const at = (firstRow + i) * width + column;
        const bin = featureBins[at]!;
        kept[slot] = values[at]!;
        ring[slot] = bin;
        counts[bin]! += 1;
      }
    }
    for (const s of this.categorical) {
      const { bins: ring, counts, column } = s;
      for (let i = 0, slot = start; i < n; i++, slot = slot + 1 === c ? 0 : slot + 1) {
        const bin = featureBins[(firstRow + i) * width + column]!;
        ring[slot] = bin;
        counts[bin]! += 1;
      }
    }
    for (let i = 0, slot = start; i < n; i++, slot = slot + 1 === c ? 0 : slot + 1) {
      const scoreBin = bins.score[firstRow + i]!;
      this.scoreBins[slot] = scoreBin;
      this.scoreCounts[scoreBin]! += 1;
    }
  }

  /**
   * Joins a label to a prediction in the window. Returns false when the prediction is not in the window
   * or already has a label (the first label stands, as in the store). O(1).
   */
  setLabel(predictionId: string, label: 0 | 1, delayMs?: number): boolean {
    this.index();
    const slot = this.slotOfId.get(predictionId);
    if (slot === undefined || this.label[slot] !== -1) return false;
    this.label[slot] = label;
    this.labelDelayMs[slot] = delayMs ?? Number.NaN;
    this.labeledRows++;
    return true;
  }

  /** Drops rows created before `now − maxAgeMs` (no-op without an age limit). O(evicted). */
  expire(now: number): void {
    const maxAge = this.options.maxAgeMs;
    if (maxAge === undefined) return;
    const cutoff = now - maxAge;
    while (this.size > 0 && this.createdAt[this.head]! < cutoff) this.evictOldest();
  }

  private evictOldest(): void {
    const slot = this.head;
    for (const s of this.numeric) s.counts[s.bins[slot]!]! -= 1;
    for (const s of this.categorical) s.counts[s.bins[slot]!]! -= 1;
    this.scoreCounts[this.scoreBins[slot]!]! -= 1;
    if (this.label[slot] !== -1) this.labeledRows--;
    const id = this.ids[slot];
    // The oldest row is row added − size; only rows before indexedThrough are in the map.
    if (id !== undefined && this.added - this.size < this.indexedThrough) this.slotOfId.delete(id);
    this.ids[slot] = undefined;
    this.head = (this.head + 1) % this.capacity;
    this.size--;
  }

  /** Copies the window out, oldest first, after expiring old rows when `now` is given. O(rows · features). */
  snapshot(now?: number): WindowData {
    if (now !== undefined) this.expire(now);
    const n = this.size;
    const c = this.capacity;
    const at = (k: number) => (this.head + k) % c;
    const score = new Float64Array(n);
    const predictedClass = new Uint8Array(n);
    const label = new Int8Array(n);
    const labelDelayMs = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      const slot = at(k);
      score[k] = this.score[slot]!;
      predictedClass[k] = this.predictedClass[slot]!;
      label[k] = this.label[slot]!;
      labelDelayMs[k] = this.labelDelayMs[slot]!;
    }
    const sample = evenlySpaced(n, this.options.rawValueRows);
    const rawValues = (source: Float64Array): Float64Array => {
      const out = new Float64Array(sample.count);
      for (let k = 0; k < sample.count; k++) out[k] = source[at(sample.at(k))]!;
      return out;
    };
    const features: Record<string, FeatureWindow> = {};
    for (const s of this.numeric)
      features[s.name] = { binCounts: s.counts.slice(), values: rawValues(s.values) };
    for (const s of this.categorical) features[s.name] = { binCounts: s.counts.slice() };
    return {
      modelVersion: this.modelVersion,
      rows: n,
      from: n === 0 ? Number.NaN : this.createdAt[at(0)]!,
      to: n === 0 ? Number.NaN : this.createdAt[at(n - 1)]!,
      score,
      predictedClass,
      label,
      labelDelayMs,
      drift: {
        rows: n,
        features,
        score: { binCounts: this.scoreCounts.slice(), values: rawValues(this.score) },
      },
    };
  }
}
