import { DataSource, Logger } from 'typeorm';
import { dataSourceOptions } from '../../src/database/data-source-options';

/** A TypeORM logger that counts (and keeps) the SQL statements a data source sends. */
export class CountingLogger implements Logger {
  readonly queries: string[] = [];

  logQuery(query: string): void {
    this.queries.push(query);
  }
  logQueryError(): void {}
  logQuerySlow(): void {}
  logSchemaBuild(): void {}
  logMigration(): void {}
  log(): void {}

  /** Runs `work` and returns its result with the statements it sent. */
  async during<T>(work: () => Promise<T>): Promise<{ result: T; queries: string[] }> {
    const start = this.queries.length;
    const result = await work();
    return { result, queries: this.queries.slice(start) };
  }
}

/** A data source on `url` (a migrated test database) whose statements `log` counts; initialized. */
export async function countingDataSource(url: string, poolSize = 4): Promise<{ ds: DataSource; log: CountingLogger }> {
  const log = new CountingLogger();
  const ds = new DataSource({ ...dataSourceOptions({ url, poolSize }), logger: log });
  await ds.initialize();
  return { ds, log };
}
