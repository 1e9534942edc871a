import type { SettingSpec } from '../setting-spec';

/** The LTI 1.3 tool: platform URLs, clocks, sessions, JWKS and tool keys. */
export const LTI_SETTINGS = {
  LTI_ALLOW_INSECURE_PLATFORM_URLS: {
    kind: 'bool',
    default: 'false',
    description:
      'Accept plain http:// login, token and JWKS URLs of LTI platforms on any host. Off: http is accepted only for loopback hosts (a local LMS); https everywhere else.',
  },
  LTI_FRAME_ANCESTORS: {
    kind: 'list',
    default: '',
    description:
      "Comma-separated CSP sources (origins, or hosts with a leading `*.`, e.g. `https://*.instructure.com`) that may frame the tool's LTI pages besides the origins of the registered platforms' issuer and login URL: for an LMS whose course pages are on another host.",
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
