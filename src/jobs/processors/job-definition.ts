/** The queue jobs go to unless their definition names another (long exports get their own). */
export const DEFAULT_JOB_QUEUE = 'default';

/**
 * A job type: its registered name, the queue it runs on and, in the type, its payload. Enqueueing
 * with a definition type-checks the payload:
 *
 *   export const USERS_EXPORT = defineJob<UsersExportPayload>('users.export', { queue: EXPORTS_QUEUE });
 *   await jobs.enqueue(USERS_EXPORT, { organizationId }, { owner });
 */
export interface JobDefinition<P extends object> {
  readonly name: string;
  readonly queue: string;
  /** Only carries the payload type. */
  readonly payloadType?: P;
}

const JOB_NAME = /^[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)*$/;

export function defineJob<P extends object>(name: string, options: { queue?: string } = {}): JobDefinition<P> {
  if (!JOB_NAME.test(name) || name.length > 100) throw new Error(`Invalid job name "${name}" (dotted lower-case words)`);
  return Object.freeze({ name, queue: options.queue ?? DEFAULT_JOB_QUEUE });
}
