import type { Action, SubjectType } from '../../permissions/subjects';

/** The queue jobs go to unless their definition names another (long exports get their own). */
export const DEFAULT_JOB_QUEUE = 'default';

/**
 * A permission the owner of a job must still hold when the job runs and when they read its
 * artifacts: a job that reads data on its owner's behalf follows the owner's current rights, not
 * those they had when they started it.
 */
export interface JobPermission {
  action: Action;
  subject: SubjectType;
  /** The fields of the object the action is on, as `asSubject` takes them. */
  object: Record<string, unknown>;
  /** What the permission allows, in words: "export this organization's users". */
  description: string;
}

/**
 * A job type: its registered name, the queue it runs on, the permission its owner must keep, and,
 * in the type, its payload. Enqueueing with a definition type-checks the payload:
 *
 *   export const USERS_EXPORT = defineJob<UsersExportPayload>('users.export', { queue: EXPORTS_QUEUE });
 *   await jobs.enqueue(USERS_EXPORT, { organizationId }, { owner });
 */
export interface JobDefinition<P extends object> {
  readonly name: string;
  readonly queue: string;
  /** Method syntax: a definition of any payload type is a JobDefinition<object>. */
  requires?(payload: P): JobPermission;
  /** Only carries the payload type. */
  readonly payloadType?: P;
}

const JOB_NAME = /^[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)*$/;

export function defineJob<P extends object>(
  name: string,
  options: { queue?: string; requires?: (payload: P) => JobPermission } = {},
): JobDefinition<P> {
  if (!JOB_NAME.test(name) || name.length > 100)
    throw new Error(`Invalid job name "${name}" (dotted lower-case words)`);
  return Object.freeze({
    name,
    queue: options.queue ?? DEFAULT_JOB_QUEUE,
    ...(options.requires ? { requires: options.requires } : {}),
  });
}
