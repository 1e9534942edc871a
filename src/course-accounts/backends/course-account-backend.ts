/** Which backend creates course accounts (setting COURSE_ACCOUNTS_BACKEND). */
export type CourseAccountBackendKind = 'mock' | 'http';

/** Injection token of the configured CourseAccountBackend. */
export const COURSE_ACCOUNT_BACKEND = Symbol('COURSE_ACCOUNT_BACKEND');

/** The account as the backend sees it. */
export interface BackendAccountRequest {
  /** Stable across repeated attempts to create the same account (see CourseAccount.idempotencyKey). */
  idempotencyKey: string;
  email: string | null;
  description: string;
  /** Who asks for the account (`ownerUsername` upstream). */
  ownerUsername: string;
  /** Last day the account is valid (YYYY-MM-DD). */
  validTo: string;
}

/** The course project the account is for. */
export interface BackendProject {
  id: string;
  key: string;
  name: string;
  /** YYYY-MM-DD, or null. */
  startDate: string | null;
  endDate: string | null;
}

export interface BackendAccount {
  username: string;
  backendId: string;
}

export interface BackendCallOptions {
  /** Aborts waiting for the backend (a canceled job, a shutting-down worker). */
  signal?: AbortSignal;
}

/**
 * Why a backend call failed, with what the upstream said: it ends up on the account as its
 * error_message (one line) and error_traceback (the details).
 */
export class CourseAccountBackendError extends Error {
  constructor(
    message: string,
    readonly details: {
      /** What failed: getting a token, or the call itself. */
      stage: 'token' | 'request';
      method?: string;
      url?: string;
      /** Upstream HTTP status; absent for network errors and timeouts. */
      status?: number;
      /** The start of the upstream body. */
      body?: string;
      attempts?: number;
      cause?: string;
    },
  ) {
    super(message);
    this.name = 'CourseAccountBackendError';
  }

  /** The multi-line record kept as the account's error_traceback. */
  get traceback(): string {
    const d = this.details;
    return [
      `${this.name}: ${this.message}`,
      `stage: ${d.stage}`,
      ...(d.method ? [`request: ${d.method} ${d.url ?? ''}`] : []),
      ...(d.status !== undefined ? [`status: ${d.status}`] : []),
      ...(d.attempts !== undefined ? [`attempts: ${d.attempts}`] : []),
      ...(d.cause ? [`cause: ${d.cause}`] : []),
      ...(d.body ? [`body: ${d.body}`] : []),
    ].join('\n');
  }
}

/**
 * The external system that holds course accounts. Implementations are safe to call concurrently;
 * `create` with an idempotency key already used answers the account made the first time.
 */
export interface CourseAccountBackend {
  readonly kind: CourseAccountBackendKind;
  create(
    account: BackendAccountRequest,
    project: BackendProject,
    options?: BackendCallOptions,
  ): Promise<BackendAccount>;
  /** Whether the account exists upstream (false: it is gone). */
  get(username: string, options?: BackendCallOptions): Promise<boolean>;
  close(username: string, options?: BackendCallOptions): Promise<void>;
}
