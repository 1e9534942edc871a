import { defineJob } from '../../jobs/processors/job-definition';

/** LTI Advantage jobs (grade passback, roster sync) run on their own queue: a slow LMS holds up nothing else. */
export const LTI_QUEUE = 'lti';

export interface PostScorePayload {
  scoreId: string;
  organizationId: string;
  projectId: string;
}

export interface RosterSyncPayload {
  contextRef: string;
  organizationId: string;
  projectId: string;
  /** NRPS filters: one role, or the members of one resource link (the platform's id). */
  filter?: { role?: string; rlid?: string };
}

/** Delivers one score to the LMS gradebook; retried on network errors, 5xx and 429. */
export const POST_SCORE_JOB = defineJob<PostScorePayload>('lti.score.post', {
  queue: LTI_QUEUE,
  requires: ({ organizationId, projectId }) => ({
    action: 'create',
    subject: 'LtiScore',
    object: { organizationId, projectId },
    description: "post scores to this course's LMS gradebook",
  }),
});

/** Brings a course project's LMS role groups in line with the context's roster (NRPS). */
export const ROSTER_SYNC_JOB = defineJob<RosterSyncPayload>('lti.roster.sync', {
  queue: LTI_QUEUE,
  requires: ({ contextRef, organizationId, projectId }) => ({
    action: 'update',
    subject: 'LtiContext',
    object: { id: contextRef, organizationId, projectId },
    description: "sync this course's roster with its LMS",
  }),
});

/** The same sync started by the schedule (LTI_ROSTER_SYNC_INTERVAL_MS), owned by the system: no owner's right to check. */
export const SCHEDULED_ROSTER_SYNC_JOB = defineJob<RosterSyncPayload>('lti.roster.sync-scheduled', {
  queue: LTI_QUEUE,
});
