import { join } from 'node:path';
import { DataSourceOptions } from 'typeorm';
import { SnakeNamingStrategy } from './snake-naming.strategy';

const runningFromSource = __filename.endsWith('.ts');

/** Entity and migration locations work both from TypeScript sources and from the compiled dist/. */
export const ENTITY_GLOB = runningFromSource
  ? join(__dirname, '..', '**', '*.entity.ts')
  : join(__dirname, '..', '**', '*.entity.js');
export const MIGRATION_GLOB = runningFromSource
  ? join(__dirname, '..', '..', 'migrations', '*.ts')
  : join(__dirname, '..', 'migrations', '*.js');

export interface DatabaseOptions {
  url: string;
  poolSize?: number;
  connectTimeoutMs?: number;
  statementTimeoutMs?: number;
  applicationName?: string;
}

/** One definition of the data source, shared by the app, the migration CLI and the tests. */
export function dataSourceOptions(db: DatabaseOptions): DataSourceOptions {
  return {
    type: 'postgres',
    uuidExtension: 'pgcrypto',
    url: db.url,
    entities: [ENTITY_GLOB],
    migrations: [MIGRATION_GLOB],
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each',
    namingStrategy: new SnakeNamingStrategy(),
    synchronize: false,
    migrationsRun: false,
    logging: false,
    applicationName: db.applicationName ?? 'campus-access',
    poolSize: db.poolSize ?? 10,
    connectTimeoutMS: db.connectTimeoutMs ?? 3000,
    extra: {
      // Fail fast when the server is gone instead of queueing requests forever.
      connectionTimeoutMillis: db.connectTimeoutMs ?? 3000,
      statement_timeout: db.statementTimeoutMs || undefined,
      idleTimeoutMillis: 30_000,
      keepAlive: true,
    },
  };
}
