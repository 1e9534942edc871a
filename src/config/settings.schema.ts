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
  /** What a `string` must match. */
  pattern?: RegExp;
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
    description: 'Redis URL for job queues and shared rate limits. Unset: jobs run in process.',
  },
  REDIS_KEY_PREFIX: {
    kind: 'string',
    default: 'ca',
    pattern: /^[A-Za-z0-9._-]{1,64}$/,
    description:
      'Prefix of every key the application puts in Redis (job queues under `<prefix>:bull`, rate limits under `<prefix>:rl`, and whatever comes later); deployments (or test runs) sharing a Redis use different prefixes. Letters, digits, `.`, `_`, `-`.',
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
  EXTRA_SETTINGS_URLS: {
    kind: 'list',
    default: '',
    description:
      'Comma-separated sources of settings applied in order: `file://…`, bare paths, `https://…`, `s3://BUCKET/KEY`, `gs://BUCKET/OBJECT`, `sm://PROJECT/SECRET#VERSION`, `awssm://SECRET-ID#VERSION-STAGE`, `vault://MOUNT/PATH#FIELD`. Each holds a YAML mapping of settings; an entry written `SETTING=SOURCE` sets that one setting to the value read.',
  },
  EXTRA_SETTINGS_TIMEOUT_MS: {
    kind: 'duration_ms',
    default: '5000',
    min: 100,
    description: 'Timeout for reading each EXTRA_SETTINGS_URLS entry from a server (everything but local files).',
  },
  S3_ENDPOINT: {
    kind: 'url',
    description:
      'Endpoint of an S3-compatible store (MinIO, Ceph…). Unset: AWS S3. Credentials from the AWS default chain.',
  },
  S3_REGION: { kind: 'string', default: 'us-east-1', description: 'S3 region.' },
  S3_FORCE_PATH_STYLE: {
    kind: 'bool',
    default: 'false',
    description: 'Path-style S3 URLs (most S3-compatible stores).',
  },
  GOOGLE_SECRET_MANAGER_ENDPOINT: {
    kind: 'url',
    description:
      'Endpoint of Google Secret Manager for `sm://` entries, e.g. a Private Service Connect endpoint or a local emulator (plain `http://` only on loopback). Unset: secretmanager.googleapis.com. Credentials: application default credentials.',
  },
  AWS_SECRETS_MANAGER_ENDPOINT: {
    kind: 'url',
    description:
      'Endpoint of AWS Secrets Manager for `awssm://` entries (a VPC endpoint, LocalStack…). Unset: the regional AWS endpoint. Credentials from the AWS default chain.',
  },
  AWS_SECRETS_MANAGER_REGION: {
    kind: 'string',
    description:
      "Region of AWS Secrets Manager for `awssm://` entries. Unset: the secret ARN's region, else the AWS default chain's (`AWS_REGION`…).",
  },
  VAULT_ADDR: {
    kind: 'url',
    description:
      'HashiCorp Vault server for `vault://` entries, e.g. `https://vault.example.edu:8200` (plain `http://` only on loopback).',
  },
  VAULT_TOKEN: {
    kind: 'string',
    secret: true,
    description: 'Vault token for `vault://` entries. Unset: an AppRole login with VAULT_ROLE_ID and VAULT_SECRET_ID.',
  },
  VAULT_ROLE_ID: { kind: 'string', description: 'Role ID of the Vault AppRole login used when VAULT_TOKEN is unset.' },
  VAULT_SECRET_ID: {
    kind: 'string',
    secret: true,
    description: 'Secret ID of the Vault AppRole login used when VAULT_TOKEN is unset.',
  },
  VAULT_APPROLE_MOUNT: {
    kind: 'string',
    default: 'approle',
    description: 'Path the AppRole auth method is mounted at (`auth/<mount>/login`).',
  },
  TRUST_PROXY: {
    kind: 'int',
    default: '0',
    min: 0,
    max: 10,
    description:
      'Number of reverse proxies in front of the API whose X-Forwarded-For is trusted (client IPs for rate limits and audit).',
  },
  JWT_ISSUER: { kind: 'url', description: 'The `iss` of tokens we issue. Default: PUBLIC_URL.' },
  JWT_AUDIENCE: { kind: 'string', default: 'campus-access', description: 'The `aud` of tokens we issue and require.' },
  JWT_ALG: {
    kind: 'enum',
    values: ['RS256', 'ES256'],
    default: 'RS256',
    description: 'Algorithm of new signing keys.',
  },
  JWT_CLOCK_SKEW_SECONDS: {
    kind: 'int',
    default: '30',
    min: 0,
    max: 300,
    description: 'Tolerance for `exp`/`nbf`/`iat` checks.',
  },
  ACCESS_TOKEN_TTL_SECONDS: { kind: 'int', default: '900', min: 60, description: 'Lifetime of user access tokens.' },
  SERVICE_TOKEN_TTL_SECONDS: {
    kind: 'int',
    default: '600',
    min: 60,
    description: 'Lifetime of client_credentials tokens.',
  },
  ACTIVATION_TOKEN_TTL_SECONDS: { kind: 'int', default: '900', min: 60, description: 'Lifetime of activation tokens.' },
  REFRESH_TOKEN_TTL_SECONDS: {
    kind: 'int',
    default: '2592000',
    min: 300,
    description: 'Lifetime of refresh tokens (rotating).',
  },
  REFRESH_TOKEN_REUSE_GRACE_SECONDS: {
    kind: 'int',
    default: '5',
    min: 0,
    max: 60,
    description:
      'A refresh token presented again this soon after its rotation (two tabs refreshing at once) gets a new token pair of the same session instead of revoking it; later, the reuse revokes the whole session (0 = always revoke).',
  },
  KEY_ENCRYPTION_SECRET: {
    kind: 'string',
    secret: true,
    description:
      'Secret (32+ characters) that encrypts signing keys at rest. Unset outside production: generated once into DATA_DIR with a warning.',
  },
  SIGNING_KEYS_RELOAD_SECONDS: {
    kind: 'int',
    default: '60',
    min: 1,
    max: 3600,
    description:
      'How often each process reloads the signing keys from the database: a rotation made by the CLI or another replica is signed with, and a retired key refused, within this time. A rotation keeps the previous key published for this plus the longest token lifetime and the clock skew, so give every process (the CLI included) the same value.',
  },
  SECRET_ROTATION_OVERLAP_SECONDS: {
    kind: 'int',
    default: '86400',
    min: 0,
    description:
      "How long a service account's previous secret stays valid after a rotation (0 = immediately invalid). A further rotation revokes it at once: only the latest previous secret overlaps.",
  },
  BOOTSTRAP_ADMIN_USERNAME: {
    kind: 'string',
    default: 'admin',
    description: 'Staff admin created on first start when no user exists.',
  },
  BOOTSTRAP_ADMIN_PASSWORD: {
    kind: 'string',
    secret: true,
    description: 'Password of the bootstrap admin. Unset: one is generated and printed once.',
  },
  LOGIN_RATE_LIMIT: {
    kind: 'int',
    default: '10',
    min: 1,
    description:
      'Password logins per IP and per account, failed client authentications per IP, and activation attempts per IP, in LOGIN_RATE_WINDOW_SECONDS.',
  },
  AUDIT_TOKEN_FLUSH_SECONDS: {
    kind: 'int',
    default: '10',
    min: 0,
    description:
      'Client credentials tokens are audited as one event per client, scope and IP with a count, written every this many seconds and at shutdown (0 = one event per token, written before the token is returned).',
  },
  CLIENT_CACHE_SECONDS: {
    kind: 'int',
    default: '5',
    min: 0,
    description:
      'How long a replica keeps an OAuth client it authenticated in memory; changes made on another replica reach it within this time (0 = query on every token request).',
  },
  TOKEN_RATE_LIMIT: {
    kind: 'int',
    default: '600',
    min: 1,
    description: 'Authenticated token requests per OAuth client in LOGIN_RATE_WINDOW_SECONDS.',
  },
  LOGIN_RATE_WINDOW_SECONDS: {
    kind: 'int',
    default: '60',
    min: 1,
    description: 'Window of LOGIN_RATE_LIMIT and TOKEN_RATE_LIMIT.',
  },
  ACTIVATION_MAX_ATTEMPTS: {
    kind: 'int',
    default: '5',
    min: 1,
    description: 'Failed activation attempts before a record locks.',
  },
  ACTIVATION_LOCK_SECONDS: {
    kind: 'int',
    default: '900',
    min: 1,
    description: 'How long a locked activation record refuses attempts.',
  },
  ACTIVATION_CODE_TTL_DAYS: { kind: 'int', default: '30', min: 1, description: 'Validity of new activation codes.' },
  NEW_USER_GRANT_TYPES: {
    kind: 'list',
    default:
      'urn:devops.uis.cam.ac.uk:params:oauth:grant-type:new-user-credentials,urn:campus-access:params:oauth:grant-type:new-user-credentials',
    description: 'Grant type URNs accepted for the new-user-credentials (activation) grant.',
  },
  TRUSTED_ISSUERS: {
    kind: 'string',
    default: '[]',
    description:
      'YAML/JSON list of external token issuers: `{ issuer, jwks_uri | public_key_pem, audience, algorithms?, claims?: { username, email, first_name, last_name } }`.',
  },
  JWKS_CACHE_TTL_SECONDS: {
    kind: 'int',
    default: '600',
    min: 10,
    description: 'How long fetched external JWKS are cached.',
  },
  JWKS_REFETCH_INTERVAL_SECONDS: {
    kind: 'int',
    default: '30',
    min: 1,
    description: 'At most one JWKS refetch per issuer in this interval when a token names an unknown `kid`.',
  },
  JOB_WORKERS_ENABLED: {
    kind: 'bool',
    default: 'true',
    description:
      'With REDIS_URL: run job workers inside the API process too. Off: only `npm run worker` processes run jobs.',
  },
  JOB_CONCURRENCY: {
    kind: 'int',
    default: '4',
    min: 1,
    max: 256,
    description: 'Jobs run at once per queue in each process (Bull workers and the in-process runner alike).',
  },
  JOB_MAX_ATTEMPTS: {
    kind: 'int',
    default: '3',
    min: 1,
    max: 100,
    description: 'Runs a job gets before it is Failed (per-job override at enqueue).',
  },
  JOB_RETRY_BACKOFF_MS: {
    kind: 'duration_ms',
    default: '5000',
    min: 0,
    description: 'Delay before the first retry of a failed job; it doubles with each further attempt, up to one hour.',
  },
  JOB_HEARTBEAT_INTERVAL_MS: {
    kind: 'duration_ms',
    default: '5000',
    min: 50,
    description: 'How often a worker records that its running jobs are alive.',
  },
  JOB_HEARTBEAT_TIMEOUT_MS: {
    kind: 'duration_ms',
    default: '60000',
    min: 200,
    description:
      'A running job without a heartbeat for this long is taken back by the sweeper (retried, or Failed when out of attempts). Must exceed twice JOB_HEARTBEAT_INTERVAL_MS.',
  },
  JOB_SWEEP_INTERVAL_MS: {
    kind: 'duration_ms',
    default: '15000',
    min: 0,
    description: 'How often each process sweeps for lost dispatches and dead workers (0 = never).',
  },
  JOB_REDISPATCH_AFTER_MS: {
    kind: 'duration_ms',
    default: '10000',
    min: 0,
    description: 'A Pending or Retrying job still waiting this long after it was due is dispatched again.',
  },
  JOB_RETENTION_DAYS: {
    kind: 'int',
    default: '30',
    min: 1,
    description: 'Jobs finished (or created, if never finished) longer ago than this are purged with their artifacts.',
  },
  JOB_ARTIFACT_STORAGE: {
    kind: 'enum',
    values: ['fs', 's3'],
    default: 'fs',
    description: 'Where job artifacts larger than JOB_ARTIFACT_INLINE_MAX_BYTES go: a local folder or S3.',
  },
  JOB_ARTIFACT_DIR: {
    kind: 'string',
    description: 'Folder for artifacts with storage `fs`. Default: DATA_DIR/artifacts.',
  },
  JOB_ARTIFACT_S3_BUCKET: {
    kind: 'string',
    description: 'Bucket for artifacts with storage `s3` (uses S3_ENDPOINT, S3_REGION, S3_FORCE_PATH_STYLE).',
  },
  JOB_ARTIFACT_S3_PREFIX: {
    kind: 'string',
    default: '',
    description: 'Key prefix of artifacts in JOB_ARTIFACT_S3_BUCKET.',
  },
  JOB_ARTIFACT_INLINE_MAX_BYTES: {
    kind: 'int',
    default: '4096',
    min: 0,
    max: 1048576,
    description: 'Text results up to this size are kept inline in the database instead of the artifact storage.',
  },
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
  REGISTRAR_ENROLLMENT_WRITE_MAX_ROWS: {
    kind: 'int',
    default: '25',
    min: 1,
    max: 1000,
    description:
      'Most rows one Registrar enrollment write (POST or PATCH of `/enrollments`) may carry; more is 413. Larger sets go through the CSV uploads.',
  },
  REGISTRAR_UPLOAD_MAX_BYTES: {
    kind: 'int',
    default: '5242880',
    min: 1024,
    description:
      'Largest Registrar enrollment CSV upload (the `file` part); larger is 413. Raise it for a large import.',
  },
  REGISTRAR_RESULT_URL_TTL_SECONDS: {
    kind: 'int',
    default: '3600',
    min: 60,
    max: 604800,
    description:
      "How long the signed result and report URLs of the Registrar API work (they need no credentials, as upstream's storage URLs).",
  },
  LTI_ALLOW_INSECURE_PLATFORM_URLS: {
    kind: 'bool',
    default: 'false',
    description:
      'Accept plain http:// login, token and JWKS URLs of LTI platforms on any host. Off: http is accepted only for loopback hosts (a local LMS); https everywhere else.',
  },
  LTI_CLOCK_SKEW_SECONDS: {
    kind: 'int',
    default: '60',
    min: 0,
    max: 600,
    description:
      "How far an LTI id_token's `iat` may lie in the future, and its `exp` in the past, to allow for the platform's clock.",
  },
  LTI_STATE_TTL_SECONDS: {
    kind: 'int',
    default: '600',
    min: 30,
    max: 3600,
    description: "How long an LTI login's state and nonce wait for the launch that spends them.",
  },
  LTI_SESSION_TTL_SECONDS: {
    kind: 'int',
    default: '3600',
    min: 60,
    max: 86400,
    description: 'Lifetime of the access token an LTI launch is exchanged for.',
  },
  LTI_JWKS_CACHE_TTL_SECONDS: {
    kind: 'int',
    default: '600',
    min: 10,
    description: "How long a platform's fetched JWKS is used before it is fetched again.",
  },
  LTI_JWKS_REFETCH_INTERVAL_SECONDS: {
    kind: 'int',
    default: '30',
    min: 1,
    description: "At most one refetch of a platform's JWKS in this interval when an id_token names an unknown `kid`.",
  },
  LTI_JWKS_TIMEOUT_MS: {
    kind: 'duration_ms',
    default: '5000',
    min: 100,
    description: "Timeout of one fetch of a platform's JWKS.",
  },
  LTI_COURSE_DURATION_DAYS: {
    kind: 'int',
    default: '365',
    min: 1,
    max: 3650,
    description: 'End date of a course project an LTI launch creates: this many days after its first launch.',
  },
  LTI_TOOL_KEY_OVERLAP_SECONDS: {
    kind: 'int',
    default: '86400',
    min: 0,
    description:
      'How long the previous LTI tool key stays published at /lti/jwks.json after a rotation, so platforms that cached our JWKS still verify what it signed.',
  },
  LTI_SERVICE_TIMEOUT_MS: {
    kind: 'duration_ms',
    default: '10000',
    min: 100,
    description:
      "Timeout of one call to an LTI platform's services (token endpoint, grades, rosters, OpenID configuration and registration).",
  },
  LTI_SCORE_MAX_ATTEMPTS: {
    kind: 'int',
    default: '6',
    min: 1,
    max: 20,
    description:
      'Tries of the job posting one score to an LMS gradebook: network errors, 5xx and 429 answers are retried with the job backoff (JOB_RETRY_BACKOFF_MS, doubling).',
  },
  LTI_ROSTER_SYNC_INTERVAL_MS: {
    kind: 'duration_ms',
    default: '0',
    min: 0,
    description:
      'How often every LMS course with a roster service (NRPS) is synced with its LMS by a job (0 = never; on demand with POST /api/v1/lti/contexts/{id}/sync).',
  },
  LTI_REGISTRATION_APPROVAL: {
    kind: 'bool',
    default: 'true',
    description:
      'A platform that registers itself through a dynamic registration URL waits for an organization admin to approve it (POST /api/v1/lti/platforms/{id}/approve) before it may launch.',
  },
  LTI_REGISTRATION_LINK_TTL_SECONDS: {
    kind: 'int',
    default: '604800',
    min: 60,
    description: 'How long a dynamic registration URL (POST /api/v1/lti/registration-links) may be used, once.',
  },
  LTI_DEEP_LINKING_TTL_SECONDS: {
    kind: 'int',
    default: '3600',
    min: 60,
    max: 86400,
    description: 'How long after a deep-linking launch its content picker may answer the LMS (once).',
  },
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
