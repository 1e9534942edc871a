import type { AddressInfo } from 'node:net';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import type { TestApp } from './test-app';

/** The app's base URL over a real socket (supertest on a non-listening server would serialise the requests). */
export async function listeningUrl(t: TestApp): Promise<string> {
  const server = t.app.getHttpServer();
  if (!server.listening) await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Backends of the app's database waiting on a lock (read through the app's pool, so each call sees fresh statistics). */
async function lockWaiters(t: TestApp): Promise<number> {
  const [{ n }] = await t.app
    .get(DataSource)
    .query(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
    );
  return n;
}

/** Waits until `waiters` backends of the app's database wait on a lock. */
export async function lockWaitersReach(t: TestApp, waiters: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while ((await lockWaiters(t)) < waiters) {
    if (Date.now() > deadline) throw new Error(`Fewer than ${waiters} requests came to wait on the held rows`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Makes concurrent requests meet at the same moment: another transaction runs `lock` (statements
 * taking row locks), then `start` sends the requests (their response promises, in an array, are what
 * it returns), and once `waiters` backends wait on a lock the other transaction commits and the
 * requests go on together, in the order they came to wait.
 */
export async function whileHeld<T extends Promise<unknown>[]>(
  t: TestApp,
  lock: [string, unknown[]][],
  waiters: number,
  start: () => T | Promise<T>,
): Promise<T> {
  const other = new Client({ connectionString: t.database.url });
  await other.connect();
  try {
    await other.query('BEGIN');
    for (const [sql, params] of lock) await other.query(sql, params);
    const started = await start();
    await lockWaitersReach(t, waiters);
    await other.query('COMMIT');
    return started;
  } finally {
    await other.end();
  }
}
