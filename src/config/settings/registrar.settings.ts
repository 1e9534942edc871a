import type { SettingSpec } from '../setting-spec';

/** The Registrar API: enrollment writes, uploads and result URLs. */
export const REGISTRAR_SETTINGS = {
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
} as const satisfies Record<string, SettingSpec>;
