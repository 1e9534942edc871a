import 'reflect-metadata';
import { Writable } from 'node:stream';
import { DynamicModule, Type } from '@nestjs/common';
import { NestExpressApplication } from '@nestjs/platform-express';
import request from 'supertest';
import { createApp } from '../../src/app.factory';
import { loadSettings } from '../../src/config/load-settings';
import { SettingName, Settings } from '../../src/config/settings.schema';
import { createTestDatabase } from './test-databases';

export interface TestApp {
  app: NestExpressApplication;
  http: ReturnType<typeof request>;
  settings: Settings;
  database: { name: string; url: string };
  /** Every JSON log line the app wrote. */
  logs: string[];
  close(): Promise<void>;
}

export interface TestAppOptions {
  settings?: Partial<Record<SettingName, string>>;
  imports?: (Type | DynamicModule)[];
  /** Use this database instead of a fresh copy of the template. */
  databaseUrl?: string;
}

/** Boots the real application on a fresh, migrated database of its own. */
export async function createTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const database = options.databaseUrl ? { name: 'external', url: options.databaseUrl } : await createTestDatabase();
  const settings = await loadSettings({
    env: {},
    envFile: '/nonexistent/.env',
    overrides: {
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      MIGRATIONS_RUN: 'false',
      DATABASE_URL: database.url,
      ...options.settings,
    },
  });
  const logs: string[] = [];
  const logStream = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  const app = await createApp({ settings, databaseUrl: database.url, logStream, extraImports: options.imports });
  await app.init();
  return {
    app,
    http: request(app.getHttpServer()),
    settings,
    database,
    logs,
    close: () => app.close(),
  };
}
