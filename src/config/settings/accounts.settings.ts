import type { SettingSpec } from '../setting-spec';

/** Accounts: proxies, tokens, keys, the bootstrap admin, rate limits, activation, trusted issuers. */
export const ACCOUNTS_SETTINGS = {
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
} as const satisfies Record<string, SettingSpec>;
