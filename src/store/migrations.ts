/**
 * Numbered schema migrations for both backends. Each runs once, in order, and is recorded in
 * schema_migrations; a migration is never edited after release, a change is a new number.
 * Timestamps are ms since the epoch (INTEGER in SQLite, DOUBLE PRECISION in PostgreSQL) so they read
 * back as plain JS numbers without date parsing; the label of a prediction lives on its row (label,
 * label_observed_at) so the monitor reads predictions and labels in one scan, without a join.
 *
 * One exception to "never edited": until the feature registry (migration 7), migration 1 also created
 * Expresso's 17 feature columns. Feature columns are now data (feature-registry.ts): a new database
 * gets those of the model that opens it, and migration 7 registers Expresso's where migration 1 made
 * them, so databases made before keep their columns and their data as they are.
 */
import { EXPRESSO_COLUMNS } from './feature-registry.js';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sqlite: string;
  /** Empty when the migration concerns the other backend only (still recorded, so versions agree). */
  readonly postgres: string;
}

function predictionsTable(real: string, time: string): string {
  return `CREATE TABLE predictions (
  id TEXT PRIMARY KEY,
  created_at ${time} NOT NULL,
  user_id TEXT,
  model_version TEXT NOT NULL,
  score ${real} NOT NULL,
  predicted_class SMALLINT NOT NULL CHECK (predicted_class IN (0, 1)),
  label SMALLINT CHECK (label IN (0, 1)),
  label_observed_at ${time},
  label_feedback_id TEXT
);
CREATE INDEX predictions_user_created ON predictions (user_id, created_at);
CREATE INDEX predictions_created ON predictions (created_at, id);`;
}

function feedbackTable(time: string): string {
  return `CREATE TABLE feedback (
  id TEXT PRIMARY KEY,
  prediction_id TEXT,
  user_id TEXT,
  label SMALLINT NOT NULL CHECK (label IN (0, 1)),
  observed_at ${time} NOT NULL,
  received_at ${time} NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('joined', 'pending', 'duplicate', 'conflict')),
  joined_prediction_id TEXT
);
CREATE INDEX feedback_pending ON feedback (received_at, id) WHERE status = 'pending';
CREATE INDEX feedback_status ON feedback (status);`;
}

const FEATURE_COLUMNS_TABLE = `CREATE TABLE feature_columns (
  position INTEGER PRIMARY KEY,
  feature TEXT NOT NULL UNIQUE,
  column_name TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL CHECK (kind IN ('numeric', 'categorical'))
);`;

const PENDING_RETRY = `ALTER TABLE feedback ADD COLUMN retry SMALLINT NOT NULL DEFAULT 0;
UPDATE feedback SET retry = 1 WHERE status = 'pending';
CREATE INDEX feedback_pending_prediction ON feedback (prediction_id) WHERE status = 'pending';
CREATE INDEX feedback_pending_user ON feedback (user_id, observed_at)
  WHERE status = 'pending' AND prediction_id IS NULL;
CREATE INDEX feedback_pending_retry ON feedback (received_at, id) WHERE status = 'pending' AND retry = 1;`;

const FEEDBACK_BY_PREDICTION = `CREATE INDEX feedback_joined_prediction ON feedback (joined_prediction_id)
  WHERE joined_prediction_id IS NOT NULL;`;

/** Expresso's columns as VALUES rows (position, feature, column_name, kind), in block order. */
const EXPRESSO_VALUES = EXPRESSO_COLUMNS.map(
  (c, i) => `(${i + 1}, '${c.feature}', '${c.column}', '${c.kind}')`,
).join(',\n    ');

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'predictions and feedback',
    sqlite: `${predictionsTable('REAL', 'INTEGER')}\n${feedbackTable('INTEGER')}`,
    postgres: `${predictionsTable('DOUBLE PRECISION', 'DOUBLE PRECISION')}\n${feedbackTable('DOUBLE PRECISION')}`,
  },
  {
    // SQLite hands rows to JS at about a microsecond each, too slow for the monitor's 2M-row reads, so
    // sealed predictions are also kept as column blocks (sqlite/column-block.ts). Existing rows have
    // block_id NULL and are sealed by migrate(). PostgreSQL has no such cost per row: nothing to do.
    version: 2,
    name: 'sqlite column blocks',
    sqlite: `CREATE TABLE prediction_blocks (
  id INTEGER PRIMARY KEY,
  row_count INTEGER NOT NULL,
  first_created_at INTEGER NOT NULL,
  last_created_at INTEGER NOT NULL,
  first_id TEXT NOT NULL,
  last_id TEXT NOT NULL,
  dictionaries TEXT NOT NULL,
  data BLOB NOT NULL,
  ids TEXT NOT NULL
);
CREATE INDEX prediction_blocks_range ON prediction_blocks (first_created_at, last_created_at);
CREATE TABLE prediction_block_labels (
  block_id INTEGER PRIMARY KEY REFERENCES prediction_blocks (id),
  labels BLOB NOT NULL
);
ALTER TABLE predictions ADD COLUMN block_id INTEGER;
ALTER TABLE predictions ADD COLUMN block_row INTEGER;
CREATE INDEX predictions_unsealed ON predictions (created_at, id) WHERE block_id IS NULL;`,
    postgres: '',
  },
  {
    // Customer ids are long random strings (40 hex characters in the Expresso data): every insert
    // landed at a random place of a wide text index, the largest single cost of a batch insert. A
    // 53-bit hash of the id (store-columns.ts userKey, registered on each connection as
    // churnwatch_user_key) indexes in a third of the space; lookups also compare user_id, so a
    // collision can never join the wrong customer. Inserts went from 42k to 55k rows/s (docs/feedback.md).
    version: 3,
    name: 'sqlite integer user key',
    sqlite: `ALTER TABLE predictions ADD COLUMN user_key INTEGER;
UPDATE predictions SET user_key = churnwatch_user_key(user_id) WHERE user_id IS NOT NULL;
DROP INDEX predictions_user_created;
CREATE INDEX predictions_user_key ON predictions (user_key, created_at);`,
    postgres: '',
  },
  {
    // Sealing in key order marked each sealed row with an UPDATE of its 26 columns and kept an index of
    // unsealed rows: 31% of an insert. Blocks are now cut in insertion (rowid) order after a watermark
    // and their rows listed in a narrow table (sqlite-store.ts sealBlock). predictions.block_id and
    // block_row stay, unused. Rows sealed before keep their blocks; the watermark stops at the first
    // row not sealed yet.
    version: 4,
    name: 'sqlite seal by insertion order',
    sqlite: `CREATE TABLE prediction_block_rows (
  prediction_rowid INTEGER PRIMARY KEY,
  block_id INTEGER NOT NULL,
  block_row INTEGER NOT NULL
);
INSERT INTO prediction_block_rows (prediction_rowid, block_id, block_row)
  SELECT rowid, block_id, block_row FROM predictions WHERE block_id IS NOT NULL;
CREATE TABLE prediction_seal_state (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  sealed_through INTEGER NOT NULL
);
INSERT INTO prediction_seal_state (id, sealed_through) VALUES (1, COALESCE(
  (SELECT min(rowid) - 1 FROM predictions WHERE block_id IS NULL),
  (SELECT max(rowid) FROM predictions),
  0));
DROP INDEX predictions_unsealed;`,
    postgres: '',
  },
  {
    // A block sealed from the contiguous rowids just after the watermark (the normal case) records
    // that range instead of a prediction_block_rows row per prediction: block row = rowid - first_rowid,
    // or row_order[rowid - first_rowid] (Int32, native order) when sorting by key moved rows. The
    // writer also seals from the rows it has just inserted rather than reading them back. With 32-row
    // INSERTs the writer thread went from 82k to 143k rows per CPU second (docs/performance.md).
    // Blocks sealed before keep their rows listed.
    version: 5,
    name: 'sqlite blocks by rowid range',
    sqlite: `ALTER TABLE prediction_blocks ADD COLUMN first_rowid INTEGER;
ALTER TABLE prediction_blocks ADD COLUMN last_rowid INTEGER;
ALTER TABLE prediction_blocks ADD COLUMN row_order BLOB;
CREATE INDEX prediction_blocks_rowids ON prediction_blocks (first_rowid);`,
    postgres: '',
  },
  {
    // The (user_key, created_at) index took every insert at a random place: a 10,000-row transaction
    // dirtied most of its leaf pages, all written to the WAL, about half the writer's time at a million
    // rows. Sealing a block now appends its (user_key, rowid) pairs keyed by block, so the B-tree only
    // grows at its end, and a lookup seeks the blocks whose Bloom filter (prediction_block_users, built
    // on first use) may hold the user, plus a scan of the unsealed rows (sqlite/user-index.ts).
    // Existing blocks are indexed here, from their rowid ranges and their listed rows.
    version: 6,
    name: 'sqlite user index by block',
    sqlite: `CREATE TABLE prediction_user_rows (
  block_id INTEGER NOT NULL,
  user_key INTEGER NOT NULL,
  prediction_rowid INTEGER NOT NULL,
  PRIMARY KEY (block_id, user_key, prediction_rowid)
) WITHOUT ROWID;
INSERT OR IGNORE INTO prediction_user_rows (block_id, user_key, prediction_rowid)
  SELECT b.id, p.user_key, p.rowid FROM prediction_blocks b
  JOIN predictions p ON p.rowid BETWEEN b.first_rowid AND b.last_rowid
  WHERE b.first_rowid IS NOT NULL AND p.user_key IS NOT NULL;
INSERT OR IGNORE INTO prediction_user_rows (block_id, user_key, prediction_rowid)
  SELECT r.block_id, p.user_key, p.rowid FROM prediction_block_rows r
  JOIN predictions p ON p.rowid = r.prediction_rowid
  WHERE p.user_key IS NOT NULL;
CREATE TABLE prediction_block_users (
  block_id INTEGER PRIMARY KEY REFERENCES prediction_blocks (id),
  bloom BLOB NOT NULL
);
DROP INDEX predictions_user_key;`,
    postgres: '',
  },
  {
    // Feature columns become data: feature_columns records, in registration order, which column of
    // predictions holds each feature and its kind (feature-registry.ts; migrate() then adds the opening
    // model's features). Expresso's columns, where migration 1 made them, are registered as they are,
    // numeric then categorical, the order of their values in column blocks. A block now records how many
    // feature columns of each kind it holds: 13 and 4 for the blocks sealed before.
    version: 7,
    name: 'feature registry',
    sqlite: `${FEATURE_COLUMNS_TABLE}
INSERT INTO feature_columns (position, feature, column_name, kind)
  SELECT v.column1, v.column2, v.column3, v.column4 FROM (VALUES
    ${EXPRESSO_VALUES}) AS v
  WHERE v.column3 IN (SELECT name FROM pragma_table_info('predictions'));
ALTER TABLE prediction_blocks ADD COLUMN numeric_columns INTEGER NOT NULL DEFAULT 13;
ALTER TABLE prediction_blocks ADD COLUMN categorical_columns INTEGER NOT NULL DEFAULT 4;`,
    postgres: `${FEATURE_COLUMNS_TABLE}
INSERT INTO feature_columns (position, feature, column_name, kind)
  SELECT v.position, v.feature, v.column_name, v.kind FROM (VALUES
    ${EXPRESSO_VALUES}) AS v (position, feature, column_name, kind)
  WHERE EXISTS (SELECT 1 FROM information_schema.columns c
    WHERE c.table_schema = current_schema() AND c.table_name = 'predictions' AND c.column_name = v.column_name);`,
  },
  {
    // Pending feedback was retried on a timer, every item every time: 200,000 unjoinable items kept the
    // writer at ~45 % of a core forever (issue 19). An item is now retried only once a prediction that
    // could match it is written: the insert sets `retry` on the pending rows whose prediction id, or
    // whose user (observed at or after the new prediction), it holds, through the two partial indexes
    // below, and joinPending reads the rows with `retry` set only. Items pending at the upgrade are
    // retried once. The cap and the expiry delete the oldest pending rows by the pending index.
    version: 8,
    name: 'pending feedback retried on insert',
    sqlite: PENDING_RETRY,
    postgres: PENDING_RETRY,
  },
  {
    // Retention (docs/feedback.md, "Retention") deletes old predictions with the feedback resolved to
    // them (joined, duplicate, conflict): found by this index, which leaves out pending items (their
    // joined_prediction_id is NULL). On SQLite a column block loses its oldest rows first (its rows are
    // in time order): prediction_block_trims records how many rows at its start readers skip and the
    // key of the first one kept, until every row is gone and the block with them (sqlite/retention.ts).
    // A table of its own, as labels have: an UPDATE of prediction_blocks would write its data BLOB again.
    version: 9,
    name: 'retention',
    sqlite: `${FEEDBACK_BY_PREDICTION}
CREATE TABLE prediction_block_trims (
  block_id INTEGER PRIMARY KEY REFERENCES prediction_blocks (id),
  trimmed_rows INTEGER NOT NULL,
  first_created_at INTEGER NOT NULL,
  first_id TEXT NOT NULL
);`,
    postgres: FEEDBACK_BY_PREDICTION,
  },
  {
    // Under batch load the SQLite writer thread spent most of a prediction's CPU on its 26-column row.
    // A write transaction now stores its rows' features once, as one BLOB of columns (the encoding of a
    // block's feature columns), and each row only its fixed values and (feature_batch, feature_row);
    // its feature columns stay NULL (sqlite/feature-batches.ts). first_rowid, the rowid the batch's
    // first row got, tells retention whether any of its rows remain. Rows written before keep
    // feature_batch NULL and their features in their columns. PostgreSQL: nothing to do.
    version: 10,
    name: 'sqlite feature batches',
    sqlite: `CREATE TABLE prediction_feature_batches (
  id INTEGER PRIMARY KEY,
  first_rowid INTEGER NOT NULL,
  row_count INTEGER NOT NULL,
  numeric_columns INTEGER NOT NULL,
  categorical_columns INTEGER NOT NULL,
  dictionaries TEXT NOT NULL,
  data BLOB NOT NULL
);
ALTER TABLE predictions ADD COLUMN feature_batch INTEGER;
ALTER TABLE predictions ADD COLUMN feature_row INTEGER;`,
    postgres: '',
  },
];

export const SCHEMA_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  applied_at TEXT NOT NULL
)`;
