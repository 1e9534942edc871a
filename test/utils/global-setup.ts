import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../../src/database/data-source-options';
import { ensureConsoleBuilt } from './console-build';
import { databaseUrl, dropDatabases, isStale, newRunId, templateName, withAdminClient } from './test-databases';

/** Builds the web console when it is out of date, and creates this run's template database with every migration applied; test files copy it. */
export default async function globalSetup(): Promise<void> {
  ensureConsoleBuilt();
  await dropDatabases((name) => isStale(name));
  const runId = newRunId();
  process.env.CA_TEST_RUN_ID = runId;
  const tpl = templateName(runId);
  await withAdminClient((c) => c.query(`CREATE DATABASE "${tpl}"`));
  const ds = new DataSource(dataSourceOptions({ url: databaseUrl(tpl), poolSize: 1 }));
  await ds.initialize();
  try {
    await ds.runMigrations({ transaction: 'each' });
  } finally {
    await ds.destroy();
  }
}
