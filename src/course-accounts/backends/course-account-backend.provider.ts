import { FactoryProvider } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { SETTINGS } from '../../config/settings.module';
import { Settings } from '../../config/settings.schema';
import { COURSE_ACCOUNT_BACKEND, CourseAccountBackend } from './course-account-backend';
import { HttpCourseAccountBackend } from './http.backend';
import { MockCourseAccountBackend } from './mock.backend';

const HTTP_SETTINGS = [
  'COURSE_ACCOUNTS_API_URL',
  'COURSE_ACCOUNTS_TOKEN_URL',
  'COURSE_ACCOUNTS_CLIENT_ID',
  'COURSE_ACCOUNTS_CLIENT_SECRET',
] as const;

/** The backend COURSE_ACCOUNTS_BACKEND names; the `http` backend refuses to start without its settings. */
export function createCourseAccountBackend(settings: Settings, db: DataSource): CourseAccountBackend {
  if (settings.COURSE_ACCOUNTS_BACKEND === 'mock') return new MockCourseAccountBackend(db);
  const missing = HTTP_SETTINGS.filter((name) => !settings[name]);
  if (missing.length > 0) throw new Error(`COURSE_ACCOUNTS_BACKEND=http needs ${missing.join(', ')}`);
  return new HttpCourseAccountBackend({
    apiUrl: settings.COURSE_ACCOUNTS_API_URL!,
    tokenUrl: settings.COURSE_ACCOUNTS_TOKEN_URL!,
    clientId: settings.COURSE_ACCOUNTS_CLIENT_ID!,
    clientSecret: settings.COURSE_ACCOUNTS_CLIENT_SECRET!,
    offeringSlugs: settings.COURSE_ACCOUNTS_OFFERING_SLUGS,
    timeoutMs: settings.COURSE_ACCOUNTS_TIMEOUT_MS,
    retries: settings.COURSE_ACCOUNTS_RETRIES,
    retryBackoffMs: settings.COURSE_ACCOUNTS_RETRY_BACKOFF_MS,
    batchSize: settings.COURSE_ACCOUNTS_BATCH_SIZE,
  });
}

export const COURSE_ACCOUNT_BACKEND_PROVIDER: FactoryProvider<CourseAccountBackend> = {
  provide: COURSE_ACCOUNT_BACKEND,
  inject: [SETTINGS, getDataSourceToken()],
  useFactory: createCourseAccountBackend,
};
