import pg from 'pg';

/**
 * Why the PostgreSQL at `url` cannot be tested (unreachable), or false when it can; under CI=true an
 * unreachable PostgreSQL throws instead, since CI must provide it.
 */
export async function postgresSkip(url: string): Promise<string | false> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  let reason: string | false = false;
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (error) {
    reason = `PostgreSQL at ${url} is unreachable: ${(error as Error).message}`;
  } finally {
    await client.end().catch(() => {});
  }
  if (reason && process.env.CI === 'true') throw new Error(`${reason} (CI must provide it)`);
  return reason;
}
