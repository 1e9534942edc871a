import type { SettingSpec } from '../setting-spec';

/** Course accounts: the backend, its retries and the expiry and pending checks. */
export const COURSE_ACCOUNTS_SETTINGS = {
  COURSE_ACCOUNTS_BACKEND: {
    kind: 'enum',
    values: ['mock', 'http'],
    default: 'mock',
    description:
      'Where course accounts are created: `mock` (kept in the database, no network) or `http` (the external temporary-accounts API).',
  },
  COURSE_ACCOUNTS_API_URL: {
    kind: 'url',
    description:
      'With the `http` backend: the temporary-accounts API (POST creates, GET /{username} reads, PUT /{username}/close closes).',
  },
  COURSE_ACCOUNTS_TOKEN_URL: {
    kind: 'url',
    description: 'With the `http` backend: OAuth2 token endpoint for the client-credentials grant.',
  },
  COURSE_ACCOUNTS_CLIENT_ID: { kind: 'string', description: 'With the `http` backend: OAuth2 client id.' },
  COURSE_ACCOUNTS_CLIENT_SECRET: {
    kind: 'string',
    secret: true,
    description: 'With the `http` backend: OAuth2 client secret.',
  },
  COURSE_ACCOUNTS_OFFERING_SLUGS: {
    kind: 'list',
    default: '',
    description: 'Comma-separated offering slugs the accounts may use (`scopeOfferingSlugs` of each creation).',
  },
  COURSE_ACCOUNTS_TIMEOUT_MS: {
    kind: 'duration_ms',
    default: '10000',
    min: 100,
    description: 'Timeout of one call to the course-account backend (token requests included).',
  },
  COURSE_ACCOUNTS_RETRIES: {
    kind: 'int',
    default: '2',
    min: 0,
    max: 10,
    description:
      'Further attempts after a network error, a timeout or a 5xx answer of the backend (never after a 4xx).',
  },
  COURSE_ACCOUNTS_RETRY_BACKOFF_MS: {
    kind: 'duration_ms',
    default: '500',
    min: 0,
    description: 'Delay before the first further attempt of a backend call; it doubles with each one.',
  },
  COURSE_ACCOUNTS_CONCURRENCY: {
    kind: 'int',
    default: '8',
    min: 1,
    max: 64,
    description:
      'Backend calls a bulk creation, expiry, project-deletion or reconciliation job makes at once (at least 64 with the mock backend, which batches them into single statements).',
  },
  COURSE_ACCOUNTS_EXPIRY_INTERVAL_MS: {
    kind: 'duration_ms',
    default: '86400000',
    min: 0,
    description: 'How often expired course accounts are closed (a job; 0 = never, staff can still start one).',
  },
  COURSE_ACCOUNTS_PENDING_TIMEOUT_MS: {
    kind: 'duration_ms',
    default: '900000',
    min: 1000,
    description:
      'A course account still PENDING this long after its last change, and listed by no creation job that may still run, has stalled: it is handed to a new creation job, and may be retried or closed. Keep it above the longest creation request (COURSE_ACCOUNTS_TIMEOUT_MS × (COURSE_ACCOUNTS_RETRIES + 1) plus backoff).',
  },
  COURSE_ACCOUNTS_PENDING_CHECK_INTERVAL_MS: {
    kind: 'duration_ms',
    default: '60000',
    min: 0,
    description:
      'How often each process looks for stalled PENDING course accounts (see COURSE_ACCOUNTS_PENDING_TIMEOUT_MS); the first look comes 5 s after start, or sooner with a shorter interval (0 = never; users can still retry or close them).',
  },
} as const satisfies Record<string, SettingSpec>;
