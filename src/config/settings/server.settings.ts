import type { SettingSpec } from '../setting-spec';

/** The process: environment, HTTP server, database, Redis, logging, docs and metrics. */
export const SERVER_SETTINGS = {
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
  DATABASE_PREPARED_STATEMENTS: {
    kind: 'bool',
    default: 'true',
    description:
      'Run the statements of every request and every job (principal lookups, job insert) as named prepared statements, planned once per connection. Turn off behind a PgBouncer older than 1.21 in transaction mode.',
  },
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
    description:
      'Redis URL for job queues, shared rate limits, and LTI login states and nonces. Unset: jobs run in process, LTI logins and nonces are kept in PostgreSQL.',
  },
  REDIS_KEY_PREFIX: {
    kind: 'string',
    default: 'ca',
    pattern: /^[A-Za-z0-9._-]{1,64}$/,
    description:
      'Prefix of every key the application puts in Redis (job queues under `<prefix>:bull`, rate limits under `<prefix>:rl`, LTI login states and nonces under `<prefix>:lti` and `<prefix>:lti11`); deployments (or test runs) sharing a Redis use different prefixes. Letters, digits, `.`, `_`, `-`.',
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
    description:
      'Largest accepted request body; larger bodies get 413 `payload_too_large` (`invalid_request` at the OAuth token endpoint).',
  },
  HTTP_HEADERS_TIMEOUT_MS: {
    kind: 'duration_ms',
    default: '20000',
    min: 1000,
    description:
      'How long a client may take to send the request headers before it gets 408 `request_timeout` and its connection is closed (slow-header attacks). At most HTTP_REQUEST_TIMEOUT_MS.',
  },
  HTTP_REQUEST_TIMEOUT_MS: {
    kind: 'duration_ms',
    default: '30000',
    min: 1000,
    description:
      'How long a client may take to send the whole request, headers and body, before it gets 408 `request_timeout` and its connection is closed (slow-body attacks).',
  },
  SHUTDOWN_TIMEOUT_MS: {
    kind: 'duration_ms',
    default: '10000',
    min: 0,
    description: 'On SIGTERM/SIGINT, how long in-flight requests may take before connections are closed.',
  },
  METRICS_ENABLED: { kind: 'bool', default: 'true', description: 'Serve Prometheus metrics at `/metrics`.' },
  DOCS_ENABLED: {
    kind: 'bool',
    default: 'true',
    description: 'Serve the OpenAPI UI at `/docs` and JSON at `/openapi.json`.',
  },
} as const satisfies Record<string, SettingSpec>;
