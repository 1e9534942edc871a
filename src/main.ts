import 'reflect-metadata';
import type { Server } from 'node:http';
import { Logger } from '@nestjs/common';
import pino from 'pino';
import { createApp } from './app.factory';
import { loadSettings, publicUrl, SettingsError } from './config/load-settings';
import { Settings } from './config/settings.schema';
import { EmbeddedPostgresHandle, startEmbeddedPostgres } from './database/embedded-postgres';
import { describeStartupError } from './startup-errors';

async function main(): Promise<void> {
  const settings: Settings = await loadSettings();
  const log = pino({ level: settings.LOG_LEVEL, base: { service: 'campus-access' } });

  let embedded: EmbeddedPostgresHandle | undefined;
  let databaseUrl = settings.DATABASE_URL;
  if (!databaseUrl) {
    embedded = await startEmbeddedPostgres(settings.DATA_DIR, {
      info: (m) => log.info(m),
      debug: (m) => log.debug({ component: 'embedded-postgres' }, m),
      warn: (m) => log.warn(m),
    });
    databaseUrl = embedded.url;
    log.info({ port: embedded.port, dataDir: embedded.dataDir }, 'embedded PostgreSQL started');
  }

  let app: Awaited<ReturnType<typeof createApp>> | undefined;
  let shuttingDown = false;
  const shutdown = async (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    log.info({ signal }, 'shutting down');
    const server = app?.getHttpServer() as Server | undefined;
    // In-flight requests get SHUTDOWN_TIMEOUT_MS to finish; then connections are cut.
    const force = setTimeout(() => server?.closeAllConnections(), settings.SHUTDOWN_TIMEOUT_MS);
    force.unref();
    try {
      await app?.close();
    } catch (e) {
      log.error({ err: e }, 'error while closing the application');
    }
    await embedded?.stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));

  // Nest's console logger stays off: until the JSON logger takes over, start-up messages are buffered,
  // and a failed start is reported once, on one stderr line, below.
  Logger.overrideLogger(false);
  try {
    app = await createApp({ settings, databaseUrl });
    await app.listen(settings.PORT, settings.HOST);
  } catch (e) {
    await app?.close().catch(() => undefined);
    await embedded?.stop();
    throw e;
  }
  const address = (app.getHttpServer() as Server).address();
  const port = typeof address === 'object' && address ? address.port : settings.PORT;
  const base = settings.PUBLIC_URL ? publicUrl(settings) : `http://localhost:${port}`;
  process.stdout.write(
    [
      '',
      `Campus Access is running at ${base}`,
      `  Console: ${base}/console  (sign in with the admin below)`,
      `  API:    ${base}/api/v1`,
      `  Docs:   ${base}/docs  (OpenAPI JSON: ${base}/openapi.json)`,
      `  Health: ${base}/health/ready`,
      `  Database: ${embedded ? `embedded PostgreSQL in ${embedded.dataDir}` : 'DATABASE_URL'}`,
      `  Log in:   POST ${base}/api/v1/auth/login {"username":"${settings.BOOTSTRAP_ADMIN_USERNAME}","password":"…"}`,
      `            (password: BOOTSTRAP_ADMIN_PASSWORD, or the generated one printed when the admin was created)`,
      '',
    ].join('\n') + '\n',
  );
}

main().catch((e: unknown) => {
  process.stderr.write(
    `Campus Access could not start: ${e instanceof SettingsError ? e.message : describeStartupError(e)}\n`,
  );
  process.exit(1);
});
