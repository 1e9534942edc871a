import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from './data-source-options';

/**
 * Data source for the TypeORM CLI (`npm run migration:generate|run|revert`).
 * It uses DATABASE_URL, or the local PostgreSQL that the test suite uses.
 */
export default new DataSource(
  dataSourceOptions({
    url: process.env.DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    applicationName: 'campus-access-cli',
  }),
);
