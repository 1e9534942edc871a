import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { queryRows } from '../../../database/query';
import type { AgsResult } from './ags.client';
import { LtiScore } from './lti-score.entity';

/** A resource link with what grade passback needs: its platform, context, project and AGS claim. */
export interface GradedLink {
  id: string;
  resourceLinkId: string;
  title: string;
  agsEndpoint: unknown;
  platformId: string;
  clientId: string;
  authTokenUrl: string;
  platformLive: boolean;
  organizationId: string;
  contextRef: string | null;
  projectId: string | null;
}

/** The AGS tables: `lti_scores` (deliveries) and `lti_results` (what the gradebooks say), and the link lookups they need. */
@Injectable()
export class LtiAgsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async findLink(id: string): Promise<GradedLink | null> {
    const [row] = await queryRows<Record<string, unknown>>(
      this.db,
      `SELECT rl.id, rl.resource_link_id, rl.title, rl.ags_endpoint, rl.platform_id, p.client_id, p.auth_token_url,
              (p.deleted_at IS NULL AND p.approved) AS platform_live, p.organization_id, c.id AS context_ref, c.project_id
       FROM lti_resource_links rl
       JOIN lti_platforms p ON p.id = rl.platform_id
       LEFT JOIN lti_contexts c ON c.id = rl.context_ref
       WHERE rl.id = $1`,
      [id],
    );
    if (!row) return null;
    return {
      id: row.id as string,
      resourceLinkId: row.resource_link_id as string,
      title: row.title as string,
      agsEndpoint: row.ags_endpoint,
      platformId: row.platform_id as string,
      clientId: row.client_id as string,
      authTokenUrl: row.auth_token_url as string,
      platformLive: row.platform_live as boolean,
      organizationId: row.organization_id as string,
      contextRef: (row.context_ref as string | null) ?? null,
      projectId: (row.project_id as string | null) ?? null,
    };
  }

  /** The platform's id of our user (the `sub` of its launches), or null. */
  async subjectOf(platformId: string, userId: string): Promise<string | null> {
    const [row] = await queryRows<{ subject: string }>(
      this.db,
      'SELECT subject FROM lti_identities WHERE platform_id = $1 AND user_id = $2 ORDER BY created_at LIMIT 1',
      [platformId, userId],
    );
    return row?.subject ?? null;
  }

  insertScore(tx: EntityManager, values: Partial<LtiScore>): Promise<LtiScore> {
    return tx.save(LtiScore, tx.create(LtiScore, values));
  }

  async setJob(tx: EntityManager, id: string, jobId: string): Promise<void> {
    await tx.update(LtiScore, { id }, { jobId });
  }

  findScore(id: string): Promise<LtiScore | null> {
    return this.db.getRepository(LtiScore).findOneBy({ id });
  }

  async setLineItem(id: string, lineItemUrl: string): Promise<void> {
    await this.db.getRepository(LtiScore).update({ id }, { lineItemUrl });
  }

  /** Records one delivery try; `state` moves only from pending. */
  async recordAttempt(
    id: string,
    outcome: { state: 'pending' | 'delivered' | 'failed'; status: number | null; answer: string },
  ): Promise<void> {
    await queryRows(
      this.db,
      `UPDATE lti_scores SET attempts = attempts + 1, state = $2::varchar, platform_status = $3, platform_answer = $4,
              delivered_at = CASE WHEN $2::varchar = 'delivered' THEN now() ELSE delivered_at END, updated_at = now()
       WHERE id = $1 AND state = 'pending'`,
      [id, outcome.state, outcome.status, outcome.answer],
    );
  }

  /** A score still pending whose job ended without delivering it. */
  async failPending(id: string, answer: string): Promise<void> {
    await queryRows(
      this.db,
      `UPDATE lti_scores SET state = 'failed', platform_answer = COALESCE(platform_answer, $2), updated_at = now()
       WHERE id = $1 AND state = 'pending'`,
      [id, answer],
    );
  }

  /** Stores a line item's results (one statement), with our user of each platform user id where there is one. */
  async storeResults(
    platformId: string,
    contextRef: string,
    lineItemUrl: string,
    results: readonly AgsResult[],
  ): Promise<number> {
    if (results.length === 0) return 0;
    const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
    const rows = await queryRows<{ id: string }>(
      this.db,
      `INSERT INTO lti_results (platform_id, context_ref, line_item_url, lti_user_id, user_id, result_score, result_maximum, comment)
       SELECT $1, $2, $3, r.lti_user_id, i.user_id, r.result_score, r.result_maximum, r.comment
       FROM unnest($4::text[], $5::float8[], $6::float8[], $7::text[]) AS r(lti_user_id, result_score, result_maximum, comment)
       LEFT JOIN lti_identities i ON i.platform_id = $1 AND i.subject = r.lti_user_id
       ON CONFLICT (line_item_url, lti_user_id) DO UPDATE
         SET user_id = EXCLUDED.user_id, result_score = EXCLUDED.result_score,
             result_maximum = EXCLUDED.result_maximum, comment = EXCLUDED.comment, updated_at = now()
       RETURNING id`,
      [
        platformId,
        contextRef,
        lineItemUrl,
        results.map((r) => r.userId.slice(0, 255)),
        results.map((r) => num(r.resultScore)),
        results.map((r) => num(r.resultMaximum)),
        results.map((r) => (typeof r.comment === 'string' ? r.comment.slice(0, 4000) : null)),
      ],
    );
    return rows.length;
  }

  /** The stored results of a context's line items. */
  async resultsOf(contextRef: string, lineItemUrl?: string): Promise<Record<string, unknown>[]> {
    return queryRows(
      this.db,
      `SELECT line_item_url, lti_user_id, user_id, result_score, result_maximum, comment, updated_at
       FROM lti_results WHERE context_ref = $1 AND ($2::text IS NULL OR line_item_url = $2)
       ORDER BY line_item_url, lti_user_id`,
      [contextRef, lineItemUrl ?? null],
    );
  }

  /**
   * Course grades from stored results: for each user, the sum of their result scores over the sum
   * of the maxima, across the line items of the organization's LMS courses whose context id (or
   * label) is the course key.
   */
  async gradesOf(
    organizationId: string,
    courseKey: string,
    userIds: readonly string[],
  ): Promise<{ user_id: string; score: number; maximum: number }[]> {
    return queryRows(
      this.db,
      `SELECT r.user_id, sum(r.result_score)::float8 AS score, sum(r.result_maximum)::float8 AS maximum
       FROM lti_results r
       JOIN lti_contexts c ON c.id = r.context_ref
       JOIN lti_platforms p ON p.id = c.platform_id
       WHERE p.organization_id = $1 AND (c.context_id = $2 OR c.label = $2) AND r.user_id = ANY($3::uuid[])
         AND r.result_score IS NOT NULL AND r.result_maximum > 0
       GROUP BY r.user_id`,
      [organizationId, courseKey, [...userIds]],
    );
  }
}
