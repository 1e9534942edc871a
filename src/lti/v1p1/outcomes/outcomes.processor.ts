import {
  AbandonedJob,
  JobContext,
  JobProcessor,
  ProcessesJob,
  UnrecoverableJobError,
} from '../../../jobs/processors/job-processor';
import { LtiConsumersRepository } from '../lti-consumers.repository';
import { LtiConsumersService } from '../lti-consumers.service';
import { Lti11AssignmentsRepository } from '../lti11-assignments.repository';
import { OutcomeDeliveryError, OutcomesClient } from './outcomes.client';
import { SEND_OUTCOME_JOB, SendOutcomePayload } from './outcomes.job';

/**
 * Delivers a graded assignment's latest request to its consumer. Each attempt's outcome is written on
 * the assignment (state, attempts, last error); a retryable failure throws, so the job runner retries
 * with its backoff (JOB_RETRY_BACKOFF_MS, doubling) up to JOB_MAX_ATTEMPTS; a refusal by the consumer
 * ends it at once. A job for an older revision does nothing: replaceResult is idempotent, and the
 * newest score is the one the gradebook must hold.
 */
@ProcessesJob(SEND_OUTCOME_JOB)
export class SendOutcomeProcessor implements JobProcessor<SendOutcomePayload> {
  constructor(
    private readonly assignments: Lti11AssignmentsRepository,
    private readonly consumers: LtiConsumersRepository,
    private readonly secrets: LtiConsumersService,
    private readonly client: OutcomesClient,
  ) {}

  async process(ctx: JobContext<SendOutcomePayload>): Promise<void> {
    const { assignmentId, revision } = ctx.payload;
    const target = await this.assignments.target(assignmentId);
    if (!target) throw new UnrecoverableJobError('The graded assignment no longer exists.');
    const { assignment } = target;
    if (assignment.revision !== revision || assignment.state !== 'pending') {
      await ctx.writeArtifact('result', 'A newer request replaced this one: nothing sent.');
      return;
    }
    const consumer = await this.consumers.findLive(target.consumerId);
    if (!consumer) {
      await this.assignments.attempted(assignmentId, revision, 'failed', 'The LTI consumer was deleted.');
      throw new UnrecoverableJobError('The LTI consumer was deleted.');
    }
    const kind = assignment.operation === 'delete' ? 'deleteResult' : 'replaceResult';
    try {
      await this.client.send(
        {
          url: target.serviceUrl,
          consumerKey: consumer.consumerKey,
          consumerSecret: this.secrets.secretOf(consumer),
          sourcedId: assignment.lisResultSourcedid,
        },
        kind,
        assignment.score ?? undefined,
        ctx.signal,
      );
    } catch (e) {
      if (!(e instanceof OutcomeDeliveryError)) throw e;
      const last = !e.retryable || ctx.attempt >= ctx.maxAttempts;
      await this.assignments.attempted(assignmentId, revision, last ? 'failed' : 'pending', e.message);
      if (!e.retryable) throw new UnrecoverableJobError(e.message);
      throw e;
    }
    await this.assignments.attempted(assignmentId, revision, 'delivered', null);
    await ctx.writeArtifact('result', `${kind} delivered.`);
  }

  async abandoned(job: AbandonedJob<SendOutcomePayload>): Promise<void> {
    await this.assignments.abandon(
      job.payload.assignmentId,
      job.payload.revision,
      job.error ?? 'The delivery was canceled.',
    );
  }
}
