import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { closedPort, occupyPort } from '../utils/local-http';
import { killPostgres, postgresPids, ServerProcess, startServer, stopAllServers } from '../utils/server-process';
import { createTestDatabase } from '../utils/test-databases';

const FAILED_START_MS = 30_000;
const READY_MS = 60_000;
const RUNNING_AT = /Campus Access is running at (http:\/\/\S+)/;

/** The one line a failed start prints. */
function onlyStderrLine(server: ServerProcess): string {
  const lines = server
    .stderr()
    .split('\n')
    .filter((l) => l.trim() !== '');
  expect(lines).toHaveLength(1);
  return lines[0];
}

async function getStatus(url: string): Promise<{ status: number; type: string; body: string }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.text() };
}

/** The embedded server's port, from the JSON log line it writes once it is up. */
function embeddedPort(server: ServerProcess): number {
  for (const line of server.stdout().split('\n')) {
    if (!line.startsWith('{')) continue;
    const entry = JSON.parse(line) as { msg?: string; port?: number };
    if (entry.msg === 'embedded PostgreSQL started' && entry.port) return entry.port;
  }
  throw new Error(`no "embedded PostgreSQL started" log line in:\n${server.stdout()}`);
}

async function embeddedClient(dataDir: string, port: number): Promise<Client> {
  const password = (await readFile(join(dataDir, 'embedded-postgres.password'), 'utf8')).trim();
  const client = new Client({ host: '127.0.0.1', port, user: 'postgres', password, database: 'campus_access' });
  await client.connect();
  return client;
}

describe('start-up', () => {
  const tempDirs: string[] = [];
  const newDataDir = async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ca-startup-'));
    tempDirs.push(dir);
    return dir;
  };

  afterAll(async () => {
    await stopAllServers();
    for (const dir of tempDirs) {
      killPostgres(join(dir, 'postgres'));
      await rm(dir, { recursive: true, force: true });
    }
  });

  it(
    'exits non-zero with one stderr line naming PORT when PORT is not a number',
    async () => {
      const server = startServer({ DATA_DIR: await newDataDir(), PORT: 'abc' });
      const exit = await server.waitForExit(FAILED_START_MS);
      expect(exit.code).not.toBe(0);
      expect(exit.code).not.toBeNull();
      const line = onlyStderrLine(server);
      expect(line).toMatch(/\bPORT\b/);
      expect(line).toContain('environment');
      expect(line).not.toMatch(/\bat .*\.(ts|js):\d+/);
    },
    FAILED_START_MS + 5_000,
  );

  it(
    'exits non-zero with one clear line when DATABASE_URL points at a closed port',
    async () => {
      const port = await closedPort();
      const server = startServer({
        DATA_DIR: await newDataDir(),
        PORT: '0',
        DATABASE_URL: `postgres://postgres:not-a-real-password@127.0.0.1:${port}/x`,
      });
      const exit = await server.waitForExit(FAILED_START_MS);
      expect(exit.code).not.toBe(0);
      expect(exit.code).not.toBeNull();
      const line = onlyStderrLine(server);
      expect(line).toMatch(/cannot reach the database/);
      expect(line).toContain(`127.0.0.1:${port}`);
      expect(line).toContain('DATABASE_URL');
      expect(line).not.toContain('not-a-real-password');
    },
    FAILED_START_MS + 5_000,
  );

  it(
    'refuses to start, naming the source and not its token, when a settings source cannot be reached',
    async () => {
      const port = await closedPort();
      const dataDir = await newDataDir();
      const server = startServer({
        DATA_DIR: dataDir,
        PORT: '0',
        EXTRA_SETTINGS_URLS: 'KEY_ENCRYPTION_SECRET=vault://kv/campus-access#key',
        VAULT_ADDR: `http://127.0.0.1:${port}`,
        VAULT_TOKEN: 'hvs.never-printed-token',
      });
      const exit = await server.waitForExit(FAILED_START_MS);
      expect(exit.code).not.toBe(0);
      expect(exit.code).not.toBeNull();
      const line = onlyStderrLine(server);
      expect(line).toBe(
        'Campus Access could not start: EXTRA_SETTINGS_URLS entry KEY_ENCRYPTION_SECRET=vault://kv/campus-access#key: cannot be read (ECONNREFUSED); it would have set KEY_ENCRYPTION_SECRET',
      );
      expect(line).not.toContain('hvs.never-printed-token');
      // It stopped before starting anything: no embedded PostgreSQL, nothing listening.
      expect(server.stdout()).not.toMatch(/embedded PostgreSQL|is running at/);
      expect(postgresPids(join(dataDir, 'postgres'))).toEqual([]);
    },
    FAILED_START_MS + 5_000,
  );

  it(
    'exits non-zero with one line saying the port is in use',
    async () => {
      const busy = await occupyPort();
      try {
        const database = await createTestDatabase();
        const server = startServer({
          DATA_DIR: await newDataDir(),
          PORT: String(busy.port),
          DATABASE_URL: database.url,
        });
        const exit = await server.waitForExit(FAILED_START_MS);
        expect(exit.code).not.toBe(0);
        expect(exit.code).not.toBeNull();
        const line = onlyStderrLine(server);
        expect(line).toMatch(new RegExp(`port ${busy.port} is already in use`));
      } finally {
        await busy.close();
      }
    },
    FAILED_START_MS + 5_000,
  );

  it(
    'exits non-zero with one line naming KEY_ENCRYPTION_SECRET when it does not decrypt the stored signing keys',
    async () => {
      const database = await createTestDatabase();
      const env = { DATA_DIR: await newDataDir(), PORT: '0', DATABASE_URL: database.url };
      const original = `original-${randomUUID()}-secret`;
      const first = startServer({ ...env, KEY_ENCRYPTION_SECRET: original });
      await first.waitForStdout(RUNNING_AT, READY_MS);
      first.child.kill('SIGINT');
      expect(await first.waitForExit(30_000)).toEqual({ code: 0, signal: null });

      const other = `other-${randomUUID()}-secret`;
      const second = startServer({ ...env, KEY_ENCRYPTION_SECRET: other });
      const exit = await second.waitForExit(FAILED_START_MS);
      expect(exit.code).not.toBe(0);
      expect(exit.code).not.toBeNull();
      const line = onlyStderrLine(second);
      expect(line).toBe(
        'Campus Access could not start: KEY_ENCRYPTION_SECRET does not match the secret the stored signing keys were encrypted with; set that secret again',
      );
      expect(line).not.toContain(other);
      expect(line).not.toContain(original);

      // The right secret starts it again: nothing was changed by the failed start.
      const third = startServer({ ...env, KEY_ENCRYPTION_SECRET: original });
      await third.waitForStdout(RUNNING_AT, READY_MS);
      third.child.kill('SIGINT');
      expect(await third.waitForExit(30_000)).toEqual({ code: 0, signal: null });
    },
    2 * READY_MS + FAILED_START_MS + 10_000,
  );

  it(
    'runs on an embedded PostgreSQL with no configuration, stops it on SIGINT and keeps its data',
    async () => {
      const dataDir = await newDataDir();
      const clusterDir = join(dataDir, 'postgres');
      const marker = `kept-${randomUUID()}`;

      // First start: creates the cluster.
      const first = startServer({ DATA_DIR: dataDir, PORT: '0' });
      const [, base] = await first.waitForStdout(RUNNING_AT, READY_MS);
      expect(base).toMatch(/^http:\/\/localhost:\d+$/);
      expect(first.stdout()).toContain(`embedded PostgreSQL in ${clusterDir}`);

      const ready = await getStatus(`${base}/health/ready`);
      expect(ready.status).toBe(200);
      expect(JSON.parse(ready.body)).toMatchObject({ status: 'ok', info: { database: { status: 'up' } } });
      const docs = await getStatus(`${base}/docs`);
      expect(docs.status).toBe(200);
      expect(docs.type).toMatch(/text\/html/);
      const openapi = await getStatus(`${base}/openapi.json`);
      expect(openapi.status).toBe(200);
      expect(JSON.parse(openapi.body)).toMatchObject({ info: { title: 'Campus Access' } });
      // The web console's URL is printed next to the API's, and it answers.
      expect(first.stdout()).toContain(`Console: ${base}/console`);
      const consolePage = await getStatus(`${base}/console`);
      expect({ status: consolePage.status, type: consolePage.type }).toEqual({
        status: 200,
        type: expect.stringMatching(/text\/html/),
      });

      const client = await embeddedClient(dataDir, embeddedPort(first));
      try {
        await client.query('CREATE TABLE startup_kept (note text NOT NULL)');
        await client.query('INSERT INTO startup_kept (note) VALUES ($1)', [marker]);
      } finally {
        await client.end();
      }
      expect(postgresPids(clusterDir)).toHaveLength(1);

      // Requests still arriving while it shuts down must not change how it ends.
      const late = Array.from({ length: 5 }, () => fetch(`${base}/docs`, { signal: AbortSignal.timeout(10_000) }));
      first.child.kill('SIGINT');
      await Promise.allSettled(late);
      const firstExit = await first.waitForExit(30_000);
      expect(firstExit).toEqual({ code: 0, signal: null });
      expect(postgresPids(clusterDir)).toEqual([]);

      // Second start on the same folder: no new cluster, same data.
      const second = startServer({ DATA_DIR: dataDir, PORT: '0' });
      const [, base2] = await second.waitForStdout(RUNNING_AT, READY_MS);
      expect(second.stdout()).not.toMatch(/first start/);
      expect((await getStatus(`${base2}/health/ready`)).status).toBe(200);
      const again = await embeddedClient(dataDir, embeddedPort(second));
      try {
        const { rows } = await again.query<{ note: string }>('SELECT note FROM startup_kept');
        expect(rows).toEqual([{ note: marker }]);
      } finally {
        await again.end();
      }

      second.child.kill('SIGINT');
      expect(await second.waitForExit(30_000)).toEqual({ code: 0, signal: null });
      expect(postgresPids(clusterDir)).toEqual([]);
    },
    3 * READY_MS,
  );
});
