/**
 * Every setting Campus Access reads, in one table. README's configuration table and .env.example
 * are checked against this list by a test, so a setting cannot exist without documentation.
 */
export type SettingKind = 'string' | 'int' | 'bool' | 'enum' | 'list' | 'url' | 'duration_ms';

export interface SettingSpec {
  kind: SettingKind;
  /** Default as it would be written in the environment; `undefined` means "not set". */
  default?: string;
  /** Values allowed for `enum`. */
  values?: readonly string[];
  /** Inclusive bounds for `int`/`duration_ms`. */
  min?: number;
  max?: number;
  /** Never printed, not even in start-up errors. */
  secret?: boolean;
  description: string;
}

export const SETTINGS_SCHEMA = {
  NODE_ENV: {
    kind: 'enum',
    values: ['development', 'production', 'test'],
    default: 'development',
    description: 'Runtime mode. `production` turns off the generated embedded defaults warnings only.',
  },
  HOST: { kind: 'string', default: '127.0.0.1', description: 'Address the HTTP server binds to.' },
  PORT: { kind: 'int', default: '3000', min: 0, max: 65535, description: 'HTTP port (0 picks a free port).' },
  PUBLIC_URL: {
    kind: 'url',
    description: 'Externally visible base URL (token issuer, links). Default: http://localhost:PORT.',
  },
  DATA_DIR: {
    kind: 'string',
    default: './.data',
    description: 'Local data folder: embedded PostgreSQL (`postgres/`), generated secrets, artifacts.',
  },
  DATABASE_URL: {
    kind: 'url',
    secret: true,
    description: 'PostgreSQL connection URL. Unset: an embedded PostgreSQL runs in DATA_DIR/postgres.',
  },
  DATABASE_POOL_SIZE: { kind: 'int', default: '10', min: 1, max: 500, description: 'Connections per process.' },
  DATABASE_CONNECT_TIMEOUT_MS: {
    kind: 'duration_ms',
    default: '3000',
    min: 100,
    description: 'How long a request waits for a database connection before answering 503.',
  },
  DATABASE_STATEMENT_TIMEOUT_MS: {
    kind: 'duration_ms',
    default: '30000',
    min: 0,
    description: 'PostgreSQL statement_timeout for API connections (0 = none).',
  },
  MIGRATIONS_RUN: { kind: 'bool', default: 'true', description: 'Apply pending migrations at start-up.' },
  REDIS_URL: {
    kind: 'url',
    secret: true,
    description: 'Redis URL for job queues and shared rate limits. Unset: jobs run in process.',
  },
  LOG_LEVEL: {
    kind: 'enum',
    values: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
    default: 'info',
    description: 'Minimum level of the JSON logs.',
  },
  CORS_ORIGINS: {
    kind: 'list',
    default: '',
    description: 'Comma-separated origins allowed by CORS (empty: CORS off, `*`: any origin without credentials).',
  },
  BODY_LIMIT_BYTES: {
    kind: 'int',
    default: '1048576',
    min: 1024,
    description: 'Largest accepted request body; larger bodies get 413 `payload_too_large`.',
  },
  SHUTDOWN_TIMEOUT_MS: {
    kind: 'duration_ms',
    default: '10000',
    min: 0,
    description: 'On SIGTERM/SIGINT, how long in-flight requests may take before connections are closed.',
  },
  METRICS_ENABLED: { kind: 'bool', default: 'true', description: 'Serve Prometheus metrics at `/metrics`.' },
  DOCS_ENABLED: { kind: 'bool', default: 'true', description: 'Serve the OpenAPI UI at `/docs` and JSON at `/openapi.json`.' },
  EXTRA_SETTINGS_URLS: {
    kind: 'list',
    default: '',
    description:
      'Comma-separated YAML documents of settings applied in order: `file://…`, bare paths, `https://…`, `s3://bucket/key`.',
  },
  EXTRA_SETTINGS_TIMEOUT_MS: {
    kind: 'duration_ms',
    default: '5000',
    min: 100,
    description: 'Timeout for fetching each `https://` or `s3://` settings document.',
  },
  S3_ENDPOINT: {
    kind: 'url',
    description: 'Endpoint of an S3-compatible store (MinIO, Ceph…). Unset: AWS S3. Credentials from the AWS default chain.',
  },
  S3_REGION: { kind: 'string', default: 'us-east-1', description: 'S3 region.' },
  S3_FORCE_PATH_STYLE: { kind: 'bool', default: 'false', description: 'Path-style S3 URLs (most S3-compatible stores).' },
} as const satisfies Record<string, SettingSpec>;

export type SettingName = keyof typeof SETTINGS_SCHEMA;

type ValueOf<S extends SettingSpec> = S['kind'] extends 'int' | 'duration_ms'
  ? number
  : S['kind'] extends 'bool'
    ? boolean
    : S['kind'] extends 'list'
      ? string[]
      : S extends { values: readonly (infer V)[] }
        ? V
        : string;

type Spec = typeof SETTINGS_SCHEMA;

/** Typed settings: a setting with a default is always present; one without may be undefined. */
export type Settings = {
  readonly [K in SettingName]: Spec[K] extends { default: string } ? ValueOf<Spec[K]> : ValueOf<Spec[K]> | undefined;
};
