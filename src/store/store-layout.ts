/**
 * A store's layout: the database's registered feature columns (feature-registry.ts) as the column lists
 * and positions every read and write uses, and how the rows of the model's features (store-columns.ts
 * RowLayout) map onto them. Made once per migrate (and per read, where another process may have added
 * features since), so no loop looks a feature up by name.
 *
 * Read rows (`readColumns`) have fixed positions up to the features: created_at, score,
 * predicted_class, label, label_observed_at, model_version, then the numeric features, then the
 * categorical ones (each kind in registration order), then id and user_id.
 */
import { EXPRESSO_COLUMNS, type FeatureColumn, sqlIdentifier } from './feature-registry.js';
import { EXPRESSO_ROWS, FIXED_INSERT_COLUMNS, type RowLayout } from './row-layout.js';

export const READ_CREATED_AT = 0;
export const READ_SCORE = 1;
export const READ_PREDICTED_CLASS = 2;
export const READ_LABEL = 3;
export const READ_LABEL_OBSERVED_AT = 4;
export const READ_MODEL_VERSION = 5;
/** The first feature; numeric features follow, then categorical ones. */
export const READ_FIRST_FEATURE = 6;
const READ_FIXED = ['created_at', 'score', 'predicted_class', 'label', 'label_observed_at', 'model_version'];

export interface StoreLayout {
  /** The row layout inserts take (the model's features). */
  readonly rows: RowLayout;
  /** Every registered feature: numeric ones, then categorical ones, each in registration order. */
  readonly features: readonly FeatureColumn[];
  readonly numeric: readonly FeatureColumn[];
  readonly categorical: readonly FeatureColumn[];
  /**
   * Feature names as readColumns lists them: the model's in its schema order, then the registered
   * features it lacks, in registration order.
   */
  readonly header: readonly string[];
  /** SQL column expressions of a read row, in order (feature columns quoted). */
  readonly readColumns: readonly string[];
  /** Positions of id and user_id in a read row (after the features). */
  readonly readId: number;
  readonly readUserId: number;
  /** Features of the rows that have no column yet (migrate() registers them; writes refuse until then). */
  readonly unregistered: readonly string[];
  /** SQL columns of an insert, in `rows.names` order (feature columns quoted). */
  readonly insertColumns: readonly string[];
  /** Per read-row position up to the id: the insert value it comes from, -1 for none (labels, or a
   * registered feature this model lacks). */
  readonly readFromInsert: Int32Array;
}

export function storeLayout(registered: readonly FeatureColumn[], rows: RowLayout): StoreLayout {
  const numeric = registered.filter((c) => c.kind === 'numeric');
  const categorical = registered.filter((c) => c.kind === 'categorical');
  const features = [...numeric, ...categorical];
  const byFeature = new Map(features.map((c) => [c.feature, c]));
  const unregistered = rows.features.filter((f) => !byFeature.has(f.name)).map((f) => f.name);
  const insertColumns = [
    ...FIXED_INSERT_COLUMNS,
    ...rows.features.map((f) => {
      const column = byFeature.get(f.name);
      return column ? sqlIdentifier(column.column) : 'NULL';
    }),
  ];
  const readColumns = [...READ_FIXED, ...features.map((c) => sqlIdentifier(c.column)), 'id', 'user_id'];
  const readId = READ_FIRST_FEATURE + features.length;
  const readFromInsert = new Int32Array(readId + 1).fill(-1);
  const fixedInsert: readonly string[] = FIXED_INSERT_COLUMNS;
  READ_FIXED.forEach((name, p) => {
    readFromInsert[p] = fixedInsert.indexOf(name);
  });
  readFromInsert[readId] = fixedInsert.indexOf('id');
  const rowFeature = new Map(rows.features.map((f, i) => [f.name, fixedInsert.length + i]));
  features.forEach((c, f) => {
    readFromInsert[READ_FIRST_FEATURE + f] = rowFeature.get(c.feature) ?? -1;
  });
  const given = new Set(rows.given);
  const header = [
    ...rows.given.filter((name) => byFeature.has(name)),
    ...registered.filter((c) => !given.has(c.feature)).map((c) => c.feature),
  ];
  return {
    rows,
    header,
    features,
    numeric,
    categorical,
    readColumns,
    readId,
    readUserId: readId + 1,
    unregistered,
    insertColumns,
    readFromInsert,
  };
}

/** Throws unless every feature of the rows has a column: writing before migrate() is a bug. */
export function checkWritable(layout: StoreLayout, where: string): void {
  if (layout.unregistered.length > 0) {
    throw new TypeError(
      `${where}: feature "${layout.unregistered[0]}" has no column yet: call migrate() first, which adds it`,
    );
  }
}

/** Expresso's layout in a database made for it: what tests of blocks and rows use without a database. */
export function expressoLayout(): StoreLayout {
  return storeLayout(EXPRESSO_COLUMNS, EXPRESSO_ROWS);
}
