/**
 * The prediction log and the feedback that arrives for it later. One contract, two backends:
 * SQLite (embedded default) and PostgreSQL (shared by several API replicas). The shared contract test
 * suite in prediction-store.contract.ts runs against both.
 *
 * Join rule (documented in docs/feedback.md): feedback names a `predictionId`, or a `userId`, in which
 * case it joins the latest prediction for that user made at or before `observedAt`. A prediction holds
 * at most one label: repeating the same label is a no-op (`duplicate`); a different label for an already
 * labelled prediction is refused as `conflict` and the first label stands. Feedback that matches no
 * prediction yet is kept as `pending` and joined by `joinPending()` once the prediction is known: an
 * insert marks the pending items its predictions could match, and joinPending retries those only.
 * `dropPending` bounds what waits (a cap and an expiry). `dropPredictions` is retention: predictions
 * older than a cutoff go, with the feedback resolved to them.
 */
import type { CategoricalColumn, ColumnarTable } from '../data/columnar-table.js';
import type { RawFeatures } from '../data/feature-types.js';
import type { RowLayout } from './row-layout.js';

export interface PredictionRecord {
  /** Server-assigned id returned to the client as `prediction_id`. */
  readonly id: string;
  /** When the prediction was made, ms since the epoch. */
  readonly createdAt: number;
  readonly userId: string | null;
  readonly modelVersion: string;
  /** The features as scored (canonical names; null for missing). */
  readonly features: RawFeatures;
  /** Calibrated churn probability. */
  readonly score: number;
  /** 0/1 at the model's threshold. */
  readonly predictedClass: 0 | 1;
}

/** A prediction without its features (a batch's features travel as columns: record-columns.ts). */
export type ScoredPrediction = Omit<PredictionRecord, 'features'>;

/**
 * Predictions as their insert values (row-layout.ts: the fixed values, then the model's features),
 * packed row by row into one Float64Array for the numbers (NaN = null) and one array for the texts:
 * what the batched writer queues and the stores write. A queued prediction then costs no array of its
 * own and no boxed number, and a batch crosses to the SQLite writer thread as a copy of one buffer plus
 * its strings. Made by store-columns.ts `toPredictionRows` in a store's `rowLayout`, read by its
 * `insertValue`.
 */
export interface PredictionRows {
  readonly count: number;
  /** count × the layout's numberWidth. */
  readonly numbers: Float64Array;
  /** count × the layout's textWidth. */
  readonly texts: readonly (string | null)[];
}

export interface FeedbackInput {
  readonly predictionId?: string | undefined;
  readonly userId?: string | undefined;
  readonly label: 0 | 1;
  /** When the outcome was observed, ms since the epoch (defaults to receipt time). */
  readonly observedAt: number;
  /** When the server received it, ms since the epoch. */
  readonly receivedAt: number;
}

export type FeedbackStatus = 'joined' | 'pending' | 'duplicate' | 'conflict';

/** What happened to one feedback item; a join carries what the metrics need (class, score, delay). */
export interface FeedbackOutcome {
  readonly status: FeedbackStatus;
  readonly feedbackId: string;
  readonly label: 0 | 1;
  readonly prediction?: {
    readonly id: string;
    readonly createdAt: number;
    readonly modelVersion: string;
    readonly score: number;
    readonly predictedClass: 0 | 1;
  };
  /** observedAt - prediction.createdAt in ms, for joined feedback. */
  readonly labelDelayMs?: number;
}

/** A prediction row as the monitor reads it back, with its label when one has joined. */
export interface LoggedPrediction extends PredictionRecord {
  readonly label: 0 | 1 | null;
  readonly labelObservedAt: number | null;
}

export interface PredictionQuery {
  /** Inclusive lower bound on createdAt (ms). */
  readonly from?: number;
  /** Exclusive upper bound on createdAt (ms). */
  readonly to?: number;
  /** Only the newest `limit` predictions in the range. */
  readonly limit?: number;
  readonly modelVersion?: string;
  /** Rows per page (addition for the store): readPredictions defaults to 1,000, readColumns to 50,000. */
  readonly pageSize?: number;
  /**
   * readColumns only: the features to return (names as in the model's schema); default every feature
   * the database holds. A name it does not hold is an error.
   */
  readonly features?: readonly string[];
}

/**
 * Addition for the monitor: the predictions of a query as typed columns, oldest first, so millions of
 * rows cost a few arrays instead of millions of objects. Row i of every array is the same prediction.
 */
export interface PredictionColumns {
  readonly rowCount: number;
  /** ms since the epoch. */
  readonly createdAt: Float64Array;
  readonly score: Float64Array;
  readonly predictedClass: Uint8Array;
  /** 0/1 for a joined label, -1 where none has joined yet ("no label" is never "no churn"). */
  readonly label: Int8Array;
  /** ms since the epoch; NaN where no label has joined. */
  readonly labelObservedAt: Float64Array;
  /** Model version per row as codes into a dictionary (name `model_version`). */
  readonly modelVersion: CategoricalColumn;
  /**
   * The features, keyed by their names in the model's schema (Expresso's canonical names by default),
   * in ColumnarTable shapes: numeric columns NaN for missing, categorical columns codes with -1 for
   * missing. Every feature the database holds (or those the query names): the store's own features in
   * schema order, then those registered by earlier models, missing where a row has none. No ids or target.
   */
  readonly features: ColumnarTable;
}

export interface FeedbackCounts {
  readonly joined: number;
  readonly pending: number;
  readonly duplicate: number;
  readonly conflict: number;
}

/** What joinPending did: the items that left `pending`, and how many pending items it tried. */
export interface PendingJoin {
  readonly outcomes: FeedbackOutcome[];
  /** Pending items tried (joined or not): only those a prediction written since could match. */
  readonly tried: number;
}

/** The bounds of pending feedback, applied by dropPending. */
export interface PendingLimits {
  /** Most pending items kept; the oldest received beyond it are dropped. */
  readonly max: number;
  /** Pending items received before this (ms since the epoch) are dropped as expired. */
  readonly receivedBefore: number;
}

/** Pending items dropped by one dropPending, by reason. */
export interface DroppedPending {
  readonly cap: number;
  readonly expired: number;
}

/** What retention (dropPredictions) deleted. */
export interface DroppedPredictions {
  readonly predictions: number;
  /** Feedback resolved to those predictions: joined, duplicate and conflict items. */
  readonly feedback: number;
}

/** The store's size and span, for the gauges. */
export interface StoreStats {
  /**
   * Bytes the store takes on disk: SQLite's file and its write-ahead log; PostgreSQL's tables with
   * their indexes and TOAST.
   */
  readonly sizeBytes: number;
  /** created_at of the oldest prediction kept (ms), null when none is. */
  readonly oldestPredictionAt: number | null;
}

export interface PendingStats {
  readonly count: number;
  /** received_at of the oldest pending item (ms), null when none waits. */
  readonly oldestReceivedAt: number | null;
}

export interface PredictionStore {
  /** The backend's name for logs and /readyz: `sqlite` or `postgres`. */
  readonly kind: 'sqlite' | 'postgres';
  /** How insertRows takes rows: the features the store was opened with (store-columns.ts toPredictionRows). */
  readonly rowLayout: RowLayout;
  /** Creates or upgrades the schema; safe to call on every start and from several replicas. */
  migrate(): Promise<void>;
  /**
   * Inserts a batch in one transaction (multi-row insert or COPY). A prediction whose id is already
   * stored is skipped, so a batch retried after an ambiguous failure (commit done, answer lost) is
   * harmless. Records become rows with store-columns.ts `toPredictionRows(records, store.rowLayout)`,
   * which validates them.
   */
  insertRows(rows: PredictionRows): Promise<void>;
  /**
   * Only where writes run one at a time in call order (the SQLite writer thread): insertRows, run after
   * the insertRows or insertRowsAfter call just before it, or not at all when that one failed (resolves
   * false, nothing written). The batched writer posts the next write this way while one is still running,
   * so the store starts it at once, and rows are never stored out of order.
   */
  insertRowsAfter?(rows: PredictionRows): Promise<boolean>;
  /**
   * Which of `ids` the store holds. POST /log asks before it counts a record with a client's id, so a
   * retried record is acknowledged without being counted twice (docs/your-model.md). One primary-key
   * lookup per id.
   */
  storedIds(ids: readonly string[]): Promise<Set<string>>;
  /** Stores feedback and joins what it can; one outcome per input, in input order. */
  recordFeedback(items: readonly FeedbackInput[]): Promise<FeedbackOutcome[]>;
  /**
   * Retries the pending feedback that predictions written since could match (insertRows marks it; an
   * item no prediction could match is never read). Returns one outcome per item that left `pending`:
   * mostly `joined`, but `duplicate`/`conflict` when its prediction was labelled meanwhile (filter on
   * status to count joins), and how many items were tried. Items still unmatched stay pending.
   */
  joinPending(): Promise<PendingJoin>;
  /**
   * Deletes pending feedback received before `limits.receivedBefore` (expired), then the oldest beyond
   * `limits.max` (cap), a small batch per statement; returns how many of each.
   */
  dropPending(limits: PendingLimits): Promise<DroppedPending>;
  /**
   * Retention: deletes the predictions made before `createdBefore` (ms since the epoch) and the
   * feedback resolved to them, RETENTION_PAGE predictions per transaction, so writes go on between
   * them; safe while other processes write or run it too. Pending feedback is left to dropPending.
   * SQLite never deletes the prediction written last (docs/feedback.md, "Retention"). An aborted
   * `signal` stops it between transactions (a server shutting down), with what it deleted so far.
   */
  dropPredictions(createdBefore: number, signal?: AbortSignal): Promise<DroppedPredictions>;
  /** Size on disk and the oldest prediction's time (cheap: the server reads it at every scrape). */
  storeStats(): Promise<StoreStats>;
  /** Predictions in time order (oldest first) with their labels, streamed in pages. */
  readPredictions(query?: PredictionQuery): AsyncIterable<LoggedPrediction[]>;
  /**
   * Addition for the monitor: the same rows as readPredictions (same query, same order) as typed
   * columns. Reads in pages and yields to the event loop between them, so a server stays responsive.
   */
  readColumns(query?: PredictionQuery): Promise<PredictionColumns>;
  countFeedback(): Promise<FeedbackCounts>;
  /**
   * countFeedback().pending at the cost of the pending rows only (a partial index), not of all feedback:
   * the server reads it at every scrape.
   */
  countPendingFeedback(): Promise<number>;
  /** The pending count and the oldest pending item's receipt time (for the gauges), from the same index. */
  pendingStats(): Promise<PendingStats>;
  /** Throws when the store cannot be written; used by /readyz. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
