/** The event types written to the outbox, by subject. Webhook subscriptions choose among them (with `*` wildcards). */
export const EVENT_TYPES = [
  'course_account.created',
  'course_account.state_changed',
  'course_account.closed',
  'course_account.deleted',
  'project.created',
  'project.updated',
  'project.deleted',
  'membership.added',
  'membership.removed',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

/** An event as a module writes it, in the transaction of the change. */
export interface NewEvent {
  type: EventType;
  organizationId: string | null;
  subjectType: 'CourseAccount' | 'Project' | 'Group';
  subjectId: string;
  /** What changed; no secrets (no passwords, tokens, keys). */
  payload: Record<string, unknown>;
}

/** An event as consumers read it. */
export interface StoredEvent {
  id: string;
  seq: string;
  type: string;
  occurredAt: Date;
  organizationId: string | null;
  subjectType: string;
  subjectId: string;
  payload: Record<string, unknown>;
}

/**
 * Takes a batch of events (in `seq` order) in the relay's transaction: what it writes there commits
 * with the events' `relayed_at`, so an event is taken exactly once by each consumer or not at all.
 */
export type OutboxConsumer = (events: readonly StoredEvent[], tx: import('typeorm').EntityManager) => Promise<void>;
