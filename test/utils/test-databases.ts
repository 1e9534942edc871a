import { Client } from 'pg';

/** The PostgreSQL server the suite uses; each run creates and drops its own databases on it. */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

const STALE_AFTER_SECONDS = 6 * 3600;

export function databaseUrl(name: string): string {
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function withAdminClient<T>(work: (c: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Run ids start with the epoch second, so a later run can drop what a crashed one left behind. */
export function newRunId(): string {
  return `${Math.floor(Date.now() / 1000)}_${Math.random().toString(36).slice(2, 8)}`;
}

export const templateName = (runId: string) => `ca_test_${runId}_tpl`;

export async function dropDatabases(filter: (name: string) => boolean): Promise<void> {
  await withAdminClient(async (c) => {
    const { rows } = await c.query<{ datname: string }>(
      "SELECT datname FROM pg_database WHERE datname LIKE 'ca\\_test\\_%'",
    );
    for (const { datname } of rows.filter((r) => filter(r.datname))) {
      await c.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
    }
  });
}

export function isStale(name: string, nowSeconds = Date.now() / 1000): boolean {
  const started = Number(/^ca_test_(\d+)_/.exec(name)?.[1]);
  return Number.isFinite(started) && nowSeconds - started > STALE_AFTER_SECONDS;
}

let counter = 0;

/** A fresh database copied from the run's migrated template. */
export async function createTestDatabase(): Promise<{ name: string; url: string }> {
  const runId = process.env.CA_TEST_RUN_ID;
  if (!runId) throw new Error('CA_TEST_RUN_ID is not set: e2e tests need the global setup');
  // Each test file has its own module registry (and counter), so a random part keeps names apart.
  const name = `ca_test_${runId}_${process.env.JEST_WORKER_ID ?? '0'}_${++counter}_${Math.random().toString(36).slice(2, 10)}`;
  await withAdminClient(async (c) => {
    for (let attempt = 0; ; attempt++) {
      try {
        await c.query(`CREATE DATABASE "${name}" TEMPLATE "${templateName(runId)}"`);
        return;
      } catch (e) {
        // Two workers copying the template at the same instant: wait and try again.
        if (attempt < 20 && /being accessed by other users/.test((e as Error).message)) {
          await new Promise((r) => setTimeout(r, 100 + Math.random() * 200));
          continue;
        }
        throw e;
      }
    }
  });
  return { name, url: databaseUrl(name) };
}
