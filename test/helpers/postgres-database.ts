/**
 * A fresh database on the test PostgreSQL (CHURNWATCH_TEST_POSTGRES_URL, default the local server's
 * `test` database, trust auth), for tests that start `churnwatch` itself: a command takes a store URL,
 * not a schema, so isolation is a database of its own, dropped (connections included) after.
 */
import { randomBytes } from 'node:crypto';
import type { TestContext } from 'node:test';
import pg from 'pg';

export const ADMIN_URL =
  process.env.CHURNWATCH_TEST_POSTGRES_URL ??
  `postgres://${process.env.PGUSER ?? 'postgres'}@127.0.0.1:5432/test`;

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * Creates `<prefix>_<random>` and returns its URL and a drop function; undefined (the test skipped)
 * when PostgreSQL is unreachable, which fails the test under CI=true.
 */
export async function freshDatabase(
  t: TestContext,
  prefix: string,
): Promise<{ url: string; drop: () => Promise<void> } | undefined> {
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  try {
    await admin((c) => c.query(`CREATE DATABASE ${name}`));
  } catch (error) {
    const message = `PostgreSQL at ${ADMIN_URL} is unreachable: ${(error as Error).message}`;
    if (process.env.CI === 'true') throw new Error(`${message} (CI must provide it)`);
    t.skip(message);
    return undefined;
  }
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => {}),
  };
}
