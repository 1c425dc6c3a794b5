/**
 * Brings a SQLite database's schema up to date: the migrations it lacks, then the features it is opened
 * with that the registry lacks (a column each), all in one immediate transaction, so two processes
 * opening the file together never both add a column.
 */
import type Database from 'better-sqlite3';
import type { FeatureSpec } from '../../data/feature-types.js';
import {
  type FeatureColumn,
  MAX_FEATURE_COLUMNS,
  newFeatureColumns,
  type RegistryRow,
  registeredColumns,
  sqlIdentifier,
} from '../feature-registry.js';
import { MIGRATIONS, SCHEMA_MIGRATIONS_TABLE } from '../migrations.js';

/** The registered feature columns, in registration order. */
export function readRegistry(db: Database.Database, where: string): FeatureColumn[] {
  const rows = db
    .prepare<[], RegistryRow>('SELECT position, feature, column_name, kind FROM feature_columns')
    .all();
  return registeredColumns(rows, where);
}

/** Applies missing migrations and registers `features`; returns the registry as it then is. */
export function applyMigrations(
  db: Database.Database,
  features: readonly FeatureSpec[],
  where: string,
): FeatureColumn[] {
  return db
    .transaction(() => {
      db.exec(SCHEMA_MIGRATIONS_TABLE);
      const done = new Set(
        db
          .prepare('SELECT version FROM schema_migrations')
          .pluck()
          .all()
          .map((v) => Number(v)),
      );
      const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
      for (const m of MIGRATIONS) {
        if (done.has(m.version)) continue;
        db.exec(m.sqlite);
        record.run(m.version, m.name, new Date().toISOString());
      }
      const registered = readRegistry(db, where);
      const added = newFeatureColumns(registered, features, where, MAX_FEATURE_COLUMNS.sqlite);
      const register = db.prepare(
        'INSERT INTO feature_columns (position, feature, column_name, kind) VALUES (?, ?, ?, ?)',
      );
      const last = db
        .prepare('SELECT coalesce(max(position), 0) FROM feature_columns')
        .pluck()
        .get() as number;
      added.forEach((c, i) => {
        // The name is one feature-registry.ts made ([a-z0-9_]), never the feature's own.
        db.exec(
          `ALTER TABLE predictions ADD COLUMN ${sqlIdentifier(c.column)} ${c.kind === 'numeric' ? 'REAL' : 'TEXT'}`,
        );
        register.run(last + i + 1, c.feature, c.column, c.kind);
      });
      return [...registered, ...added];
    })
    .immediate();
}
