import { Injectable } from '@nestjs/common';
import type { Principal } from '../../../common/auth/principal';
import { CommonError } from '../../../common/errors/common.errors';
import { InjectSettings } from '../../../config/settings.module';
import { Settings } from '../../../config/settings.schema';
import { TransactionRunner } from '../../../database/transaction';
import { JobsService } from '../../../jobs/jobs.service';
import type { AppAbility } from '../../../permissions/ability';
import { requireAccess } from '../../../permissions/access';
import { LtiError } from '../../lti.errors';
import { PlatformCallError } from '../platform-tokens/platform-http';
import type { TokenPlatform } from '../platform-tokens/platform-tokens.service';
import { POST_SCORE_JOB } from '../lti-services.jobs';
import { AgsClient, AgsEndpoint, agsEndpointOf, LineItem, ScoreBody } from './ags.client';
import { GradedLink, LtiAgsRepository } from './lti-ags.repository';
import type { LtiScore } from './lti-score.entity';
import type { LineItemDto, LineItemView, LtiResultView, PostScoreDto } from './lti-scores.dto';

export const tokenPlatformOf = (link: GradedLink): TokenPlatform => ({
  id: link.platformId,
  clientId: link.clientId,
  authTokenUrl: link.authTokenUrl,
});

const lineItemView = (i: LineItem): LineItemView => ({
  id: i.id ?? '',
  label: i.label,
  score_maximum: i.scoreMaximum,
  resource_id: i.resourceId ?? null,
  resource_link_id: i.resourceLinkId ?? null,
  tag: i.tag ?? null,
});

/**
 * Grades back to the LMS (AGS) for resource links of course projects: scores are recorded and
 * delivered by a job (retried with backoff on network errors, 5xx and 429), their delivery state
 * visible; line items listed and created; results read back and stored (the Registrar's grades).
 */
@Injectable()
export class LtiScoresService {
  constructor(
    private readonly repo: LtiAgsRepository,
    private readonly ags: AgsClient,
    private readonly jobs: JobsService,
    private readonly transactions: TransactionRunner,
    @InjectSettings() private readonly settings: Settings,
  ) {}

  /** The link as a score subject: invisible (404) without a course project, forbidden (403) without the right. */
  private async link(ability: AppAbility, id: string, action: 'read' | 'create'): Promise<GradedLink> {
    const link = await this.repo.findLink(id);
    const subject = link?.projectId ? { organizationId: link.organizationId, projectId: link.projectId } : null;
    requireAccess(ability, action, 'LtiScore', subject, {
      message: 'Resource link not found.',
      details: { id },
    });
    return link!;
  }

  private endpoint(link: GradedLink): AgsEndpoint {
    if (!link.platformLive) throw new CommonError('not_found', 'Resource link not found.', { id: link.id });
    const endpoint = agsEndpointOf(link.agsEndpoint);
    if (!endpoint)
      throw new LtiError(
        'no_grade_service',
        'The LMS granted no grade service (AGS) to this link: its launches carry no line item endpoint.',
      );
    return endpoint;
  }

  async post(who: Principal, ability: AppAbility, linkId: string, dto: PostScoreDto): Promise<LtiScore> {
    const link = await this.link(ability, linkId, 'create');
    this.endpoint(link);
    if ((dto.score_given === undefined) !== (dto.score_maximum === undefined))
      throw new LtiError('invalid_score', 'score_given and score_maximum go together.');
    if (dto.score_given !== undefined && dto.score_given > dto.score_maximum!)
      throw new LtiError('invalid_score', 'score_given may not exceed score_maximum.');
    const subject = await this.repo.subjectOf(link.platformId, dto.user);
    if (!subject)
      throw new LtiError('user_not_on_platform', 'This user was never launched from the LMS of this link.', {
        user: dto.user,
      });
    const body: ScoreBody = {
      userId: subject,
      timestamp: new Date().toISOString(),
      ...(dto.score_given !== undefined ? { scoreGiven: dto.score_given, scoreMaximum: dto.score_maximum } : {}),
      activityProgress: dto.activity_progress,
      gradingProgress: dto.grading_progress,
      ...(dto.comment ? { comment: dto.comment } : {}),
    };
    return this.transactions.run(async (tx) => {
      const score = await this.repo.insertScore(tx, {
        platformId: link.platformId,
        resourceLinkRef: link.id,
        organizationId: link.organizationId,
        projectId: link.projectId!,
        userId: dto.user,
        body: body as unknown as Record<string, unknown>,
        state: 'pending',
      });
      const { id: jobId } = await this.jobs.enqueue(
        POST_SCORE_JOB,
        { scoreId: score.id, organizationId: link.organizationId, projectId: link.projectId! },
        { owner: who, organizationId: link.organizationId, maxAttempts: this.settings.LTI_SCORE_MAX_ATTEMPTS },
        tx,
      );
      await this.repo.setJob(tx, score.id, jobId);
      return { ...score, jobId };
    });
  }

  async get(ability: AppAbility, id: string): Promise<LtiScore> {
    const score = await this.repo.findScore(id);
    return requireAccess(ability, 'read', 'LtiScore', score, { message: 'Score not found.', details: { id } });
  }

  async lineItems(ability: AppAbility, linkId: string): Promise<LineItemView[]> {
    const link = await this.link(ability, linkId, 'read');
    const endpoint = this.endpoint(link);
    return this.platformCall(async () => {
      if (!endpoint.lineitems) {
        return [
          lineItemView({
            id: endpoint.lineitem,
            label: link.title,
            scoreMaximum: 0,
            resourceLinkId: link.resourceLinkId,
          }),
        ];
      }
      return (
        await this.ags.listLineItems(tokenPlatformOf(link), endpoint, { resource_link_id: link.resourceLinkId })
      ).map(lineItemView);
    });
  }

  async createLineItem(ability: AppAbility, linkId: string, dto: LineItemDto): Promise<LineItemView> {
    const link = await this.link(ability, linkId, 'create');
    const endpoint = this.endpoint(link);
    if (!endpoint.lineitems)
      throw new LtiError('no_grade_service', 'The LMS lets this link post to its one line item only.');
    return this.platformCall(async () =>
      lineItemView(
        await this.ags.createLineItem(tokenPlatformOf(link), endpoint, {
          label: dto.label,
          scoreMaximum: dto.score_maximum,
          resourceLinkId: link.resourceLinkId,
          ...(dto.resource_id ? { resourceId: dto.resource_id } : {}),
          ...(dto.tag ? { tag: dto.tag } : {}),
        }),
      ),
    );
  }

  /** Reads the results of the link's line items from the LMS, stores them, and answers them. */
  async results(ability: AppAbility, linkId: string): Promise<LtiResultView[]> {
    const link = await this.link(ability, linkId, 'read');
    const endpoint = this.endpoint(link);
    const platform = tokenPlatformOf(link);
    await this.platformCall(async () => {
      const items = endpoint.lineitem
        ? [endpoint.lineitem]
        : (await this.ags.listLineItems(platform, endpoint, { resource_link_id: link.resourceLinkId })).flatMap((i) =>
            i.id ? [i.id] : [],
          );
      for (const url of items) {
        await this.repo.storeResults(
          link.platformId,
          link.contextRef!,
          url,
          await this.ags.results(platform, endpoint, url),
        );
      }
    });
    const rows = await this.repo.resultsOf(link.contextRef!);
    return rows.map((r) => ({
      line_item: r.line_item_url as string,
      lti_user_id: r.lti_user_id as string,
      user: (r.user_id as string | null) ?? null,
      result_score: (r.result_score as number | null) ?? null,
      result_maximum: (r.result_maximum as number | null) ?? null,
      comment: (r.comment as string | null) ?? null,
    }));
  }

  /** A platform failure is the platform's problem, answered 502 with what it said (never a 500). */
  private async platformCall<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (e) {
      if (!(e instanceof PlatformCallError)) throw e;
      throw new LtiError('platform_error', 'The LMS refused or did not answer.', {
        platform_status: e.status,
        platform_answer: e.answer.slice(0, 500),
      });
    }
  }
}
