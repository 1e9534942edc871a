import type { SettingSpec } from '../setting-spec';

/** Durable jobs: workers, retries, heartbeats, retention and artifacts. */
export const JOBS_SETTINGS = {
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
} as const satisfies Record<string, SettingSpec>;
