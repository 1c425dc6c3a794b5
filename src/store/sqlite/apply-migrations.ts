/** Brings a SQLite database's schema up to date: the migrations it lacks, in one immediate transaction. */
import type Database from 'better-sqlite3';
import { MIGRATIONS, SCHEMA_MIGRATIONS_TABLE } from '../migrations.js';

export function applyMigrations(db: Database.Database): void {
  db.transaction(() => {
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
  }).immediate();
}
