import { PinoLogger } from 'nestjs-pino';
import { setBounded } from '../../../common/collections/bounded-map';
import { queryRows } from '../../../database/query';
import { TransactionRunner } from '../../../database/transaction';
import type { AbandonedJob, JobContext, JobProcessor } from '../../../jobs/processors/job-processor';
import { ProcessesJob, UnrecoverableJobError } from '../../../jobs/processors/job-processor';
import { PlatformCallError } from '../platform-tokens/platform-http';
import { POST_SCORE_JOB, PostScorePayload } from '../lti-services.jobs';
import { AgsClient, AgsEndpoint, agsEndpointOf, ScoreBody } from './ags.client';
import { GradedLink, LtiAgsRepository } from './lti-ags.repository';
import { tokenPlatformOf } from './lti-scores.service';

/**
 * Delivers one score: finds the link's line item (the launch's `lineitem`, else the container's
 * item of this resource link, else a new one), posts the score+json, and records the platform's
 * answer. Network errors, 5xx and 429 are thrown to be retried with the job backoff; any other
 * refusal fails the score at once with the platform's answer. A delivered score is not posted again.
 */
@ProcessesJob(POST_SCORE_JOB)
export class PostScoreProcessor implements JobProcessor<PostScorePayload> {
  /** The line item of each link, found or made once per process (concurrent scores of a link share the lookup). */
  private readonly lineItems = new Map<string, Promise<string>>();

  constructor(
    private readonly repo: LtiAgsRepository,
    private readonly ags: AgsClient,
    private readonly transactions: TransactionRunner,
    private readonly logger: PinoLogger,
  ) {
    this.logger.setContext('LTI');
  }

  async process(ctx: JobContext<PostScorePayload>): Promise<void> {
    const score = await this.repo.findScore(ctx.payload.scoreId);
    if (!score || score.state !== 'pending') return;
    const link = await this.repo.findLink(score.resourceLinkRef);
    const endpoint = link?.platformLive ? agsEndpointOf(link.agsEndpoint) : null;
    if (!link || !endpoint) {
      await this.repo.recordAttempt(score.id, {
        state: 'failed',
        status: null,
        answer: 'the link, its platform or its grade service is gone',
      });
      throw new UnrecoverableJobError('The resource link, its platform or its grade service is gone.');
    }
    try {
      const lineItem = score.lineItemUrl ?? (await this.lineItem(link, endpoint, score.body as unknown as ScoreBody));
      if (!score.lineItemUrl) await this.repo.setLineItem(score.id, lineItem);
      const answer = await this.ags.postScore(
        tokenPlatformOf(link),
        endpoint,
        lineItem,
        score.body as unknown as ScoreBody,
      );
      await this.repo.recordAttempt(score.id, { state: 'delivered', status: answer.status, answer: answer.answer });
      await ctx.writeArtifact('result', `Delivered (${answer.status}).`);
    } catch (e) {
      if (!(e instanceof PlatformCallError)) throw e;
      if (e.status === 404) this.lineItems.delete(link.id);
      const last = !e.retryable || ctx.attempt >= ctx.maxAttempts;
      await this.repo.recordAttempt(score.id, {
        state: last ? 'failed' : 'pending',
        status: e.status,
        answer: e.answer,
      });
      this.logger.warn(
        { lti_score: score.id, platform_status: e.status, attempt: ctx.attempt },
        `LTI score delivery failed${last ? '' : ', will retry'}`,
      );
      if (!e.retryable) throw new UnrecoverableJobError(e.message);
      throw e;
    }
  }

  async abandoned(job: AbandonedJob<PostScorePayload>): Promise<void> {
    await this.repo.failPending(job.payload.scoreId, job.error ?? 'the job was canceled');
  }

  private lineItem(link: GradedLink, endpoint: AgsEndpoint, score: ScoreBody): Promise<string> {
    if (endpoint.lineitem) return Promise.resolve(endpoint.lineitem);
    let found = this.lineItems.get(link.id);
    if (!found) {
      found = this.findOrCreateLineItem(link, endpoint, score);
      found.catch(() => this.lineItems.delete(link.id));
      setBounded(this.lineItems, link.id, found, 10_000);
    }
    return found;
  }

  /** Under a lock per link (replicas too), so two first scores do not make two line items. */
  private findOrCreateLineItem(link: GradedLink, endpoint: AgsEndpoint, score: ScoreBody): Promise<string> {
    return this.transactions.run(async (tx) => {
      await queryRows(tx, 'SELECT pg_advisory_xact_lock(hashtext($1))', [`lti:lineitem:${link.id}`]);
      return this.lookUpLineItem(link, endpoint, score);
    });
  }

  private async lookUpLineItem(link: GradedLink, endpoint: AgsEndpoint, score: ScoreBody): Promise<string> {
    const platform = tokenPlatformOf(link);
    const [found] = await this.ags.listLineItems(platform, endpoint, { resource_link_id: link.resourceLinkId });
    if (found?.id) return found.id;
    const made = await this.ags.createLineItem(platform, endpoint, {
      label: link.title || 'Campus Access',
      scoreMaximum: score.scoreMaximum ?? 100,
      resourceLinkId: link.resourceLinkId,
    });
    if (!made.id) throw new PlatformCallError(201, 'the created line item has no id', endpoint.lineitems ?? '');
    return made.id;
  }
}
