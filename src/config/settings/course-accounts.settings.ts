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
  COURSE_ACCOUNTS_BATCH_SIZE: {
    kind: 'int',
    default: '1',
    min: 1,
    max: 500,
    description:
      'Accounts the `http` backend creates per call: 1 POSTs one account object per call; above 1, creation jobs POST arrays of up to this many accounts and map the answer back by e-mail and idempotency key.',
  },
  COURSE_ACCOUNTS_EXPIRY_NOTICE_DAYS: {
    kind: 'int',
    default: '7',
    min: 0,
    max: 365,
    description: 'Participants get an e-mail this many days before their course account expires (0 = no notice).',
  },
  OUTBOX_RELAY_INTERVAL_MS: {
    kind: 'duration_ms',
    default: '1000',
    min: 0,
    description:
      'How often each process looks for committed events to hand to webhooks and e-mails (a process also relays right after its own commits; 0 = only then).',
  },
  OUTBOX_RETENTION_DAYS: {
    kind: 'int',
    default: '30',
    min: 1,
    description: 'Relayed events older than this are purged from the outbox.',
  },
  WEBHOOK_TIMEOUT_MS: {
    kind: 'duration_ms',
    default: '10000',
    min: 100,
    description: 'Time a webhook receiver has to answer one delivery attempt (connecting included).',
  },
  WEBHOOK_RETRY_BACKOFF_MS: {
    kind: 'duration_ms',
    default: '10000',
    min: 0,
    description:
      'Delay before the second attempt of a failed webhook delivery; it doubles with each attempt, up to one hour.',
  },
  WEBHOOK_RETRY_WINDOW_MS: {
    kind: 'duration_ms',
    default: '86400000',
    min: 0,
    description:
      'How long a webhook delivery is retried (network errors, 5xx, 429) after its first attempt; then it fails, and its subscription is disabled and its organization admins told.',
  },
  WEBHOOK_ALLOW_PRIVATE_ADDRESSES: {
    kind: 'bool',
    default: 'false',
    description:
      'Let webhooks reach loopback, private and link-local addresses (checked after DNS resolution). Off in production: a subscription must not reach internal services.',
  },
  WEBHOOK_ALLOW_HTTP: {
    kind: 'bool',
    default: 'false',
    description:
      'Accept `http://` webhook URLs for any host (without it, `http` only for loopback hosts; else `https`).',
  },
  WEBHOOK_SECRET_OVERLAP_SECONDS: {
    kind: 'int',
    default: '86400',
    min: 0,
    description:
      'After a webhook signing secret is rotated, deliveries are signed with the old secret too for this long, so receivers can switch over.',
  },
  WEBHOOK_DELIVERY_RETENTION_DAYS: {
    kind: 'int',
    default: '30',
    min: 1,
    description:
      'Webhook deliveries finished (delivered or failed) longer ago than this are purged, with their attempts; pending ones are kept.',
  },
  SMTP_URL: {
    kind: 'string',
    secret: true,
    description:
      'SMTP server for participant e-mails, e.g. `smtp://user:pass@mail.example.edu:587` or `smtps://…:465`. Unset: e-mails are written as .eml files under DATA_DIR/outbox and logged.',
  },
  SMTP_FROM: {
    kind: 'string',
    default: 'Campus Access <no-reply@localhost>',
    description: 'From address of participant e-mails.',
  },
  SMTP_REQUIRE_TLS: {
    kind: 'bool',
    default: 'false',
    description: 'Refuse to send unless the SMTP connection is upgraded with STARTTLS (smtp://) or is TLS (smtps://).',
  },
  SMTP_TLS_REJECT_UNAUTHORIZED: {
    kind: 'bool',
    default: 'true',
    description: "Verify the SMTP server's TLS certificate. Turn off only for a test server.",
  },
} as const satisfies Record<string, SettingSpec>;
