import { defineJob } from '../../../jobs/processors/job-definition';

/** Sends the latest request (replace or delete) of a graded assignment to its consumer. */
export interface SendOutcomePayload {
  assignmentId: string;
  /** The request this job delivers: a newer one makes it a no-op. */
  revision: number;
  organizationId: string;
  projectId: string | null;
}

export const SEND_OUTCOME_JOB = defineJob<SendOutcomePayload>('lti.outcomes.send', {
  // The owner must still be allowed to grade in the course when the job runs.
  requires: (p) => ({
    action: 'update',
    subject: 'LtiAssignment',
    object: { id: p.assignmentId, organizationId: p.organizationId, projectId: p.projectId },
    description: 'send grades of this LTI assignment',
  }),
});
