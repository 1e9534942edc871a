import 'reflect-metadata';
import { DynamicModule, INestApplicationContext, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';
import pino from 'pino';
import { AppModule } from './app.module';
import { loadSettings, SettingsError } from './config/load-settings';
import { describeStartupError } from './startup-errors';

export interface WorkerOptions {
  /** Environment to read settings from (default: process.env). */
  env?: NodeJS.ProcessEnv;
  /** Further modules to mount (more processors). */
  extraImports?: (Type | DynamicModule)[];
}

/**
 * Boots the application without HTTP: every module with its processors, and the job workers on,
 * whatever JOB_WORKERS_ENABLED says (that setting is for the API processes). Needs DATABASE_URL
 * (the API's database) and REDIS_URL (the queues): without Redis, jobs run inside the API.
 */
export async function startWorker(options: WorkerOptions = {}): Promise<INestApplicationContext> {
  const settings = await loadSettings({
    env: options.env,
    // Migrations are the API's job; two processes migrating at once would race.
    overrides: { JOB_WORKERS_ENABLED: 'true', MIGRATIONS_RUN: 'false' },
  });
  if (!settings.DATABASE_URL)
    throw new SettingsError('The worker needs DATABASE_URL: the database of the API it works for.');
  if (!settings.REDIS_URL)
    throw new SettingsError('The worker needs REDIS_URL: without Redis, jobs run inside the API process.');
  const app = await NestFactory.createApplicationContext(
    AppModule.forRoot({ settings, databaseUrl: settings.DATABASE_URL, extraImports: options.extraImports }),
    { bufferLogs: true, abortOnError: false },
  );
  app.useLogger(app.get(Logger));
  await app.init();
  return app;
}

/** `npm run worker`: runs until SIGTERM/SIGINT, then lets running jobs finish (SHUTDOWN_TIMEOUT_MS) and exits 0. */
export async function runWorkerProcess(options: WorkerOptions = {}): Promise<void> {
  const log = pino({ base: { service: 'campus-access-worker' } });
  let app: INestApplicationContext | undefined;
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'worker stopping');
    try {
      await app?.close();
    } catch (e) {
      log.error({ err: e }, 'error while stopping the worker');
    }
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
  try {
    app = await startWorker(options);
    log.info('worker started');
  } catch (e) {
    process.stderr.write(
      `Campus Access worker could not start: ${e instanceof SettingsError ? e.message : describeStartupError(e)}\n`,
    );
    process.exit(1);
  }
}

if (require.main === module) void runWorkerProcess();
