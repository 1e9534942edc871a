import { DynamicModule, Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { SETTINGS } from '../config/settings.module';
import { Settings } from '../config/settings.schema';
import { dataSourceOptions } from './data-source-options';
import { TransactionRunner } from './transaction';

@Global()
@Module({})
export class DatabaseModule {
  /** `url` is the resolved database URL (DATABASE_URL or the embedded server's). */
  static forRoot(url: string): DynamicModule {
    return {
      module: DatabaseModule,
      imports: [
        TypeOrmModule.forRootAsync({
          inject: [SETTINGS],
          useFactory: (settings: Settings) => ({
            ...dataSourceOptions({
              url,
              poolSize: settings.DATABASE_POOL_SIZE,
              connectTimeoutMs: settings.DATABASE_CONNECT_TIMEOUT_MS,
              statementTimeoutMs: settings.DATABASE_STATEMENT_TIMEOUT_MS,
            }),
            migrationsRun: settings.MIGRATIONS_RUN,
            // Start-up fails once, clearly, instead of retrying for minutes.
            retryAttempts: 0,
          }),
        }),
      ],
      providers: [TransactionRunner],
      exports: [TransactionRunner],
    };
  }
}
