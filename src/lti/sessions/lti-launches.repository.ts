import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import { LtiLaunch } from './lti-launch.entity';
import { Listed, pageOf, PageQuery } from '../../common/pagination/pagination';
import { queryRows } from '../../database/query';

const LIST_COLUMNS = [
  'id',
  'createdAt',
  'platformId',
  'deploymentId',
  'userId',
  'contextRef',
  'resourceLinkRef',
  'projectId',
  'messageType',
  'roles',
] as const satisfies readonly (keyof LtiLaunch)[];

/** The filters of a platform's list of launches. */
export interface PlatformLaunchFilter extends PageQuery {
  /** Only this user's launches. */
  user?: string;
  /** Only launches at or after this instant. */
  since?: string;
}

/** How long a launch id may be exchanged for a session. */
export const EXCHANGE_WINDOW_SECONDS = 60;

/** The `lti_launches` table: the record of every valid launch, and its one-time exchange. */
@Injectable()
export class LtiLaunchesRepository {
  constructor(@InjectRepository(LtiLaunch) private readonly launches: Repository<LtiLaunch>) {}

  async insert(
    tx: EntityManager,
    values: Omit<LtiLaunch, 'id' | 'createdAt' | 'updatedAt' | 'exchangedAt'>,
  ): Promise<string> {
    const rows: { id: string }[] = await queryRows(
      tx,
      `INSERT INTO lti_launches (platform_id, deployment_id, user_id, context_ref, resource_link_ref, project_id,
                                 message_type, roles, project_role, target_link_uri, claims, course_account_id,
                                 consumer_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8::text[], $9, $10, $11::jsonb, $12, $13) RETURNING id`,
      [
        values.platformId,
        values.deploymentId,
        values.userId,
        values.contextRef,
        values.resourceLinkRef,
        values.projectId,
        values.messageType,
        values.roles,
        values.projectRole,
        values.targetLinkUri,
        JSON.stringify(values.claims),
        values.courseAccountId,
        values.consumerId,
      ],
    );
    return rows[0].id;
  }

  /** Marks the launch exchanged, once and within the window: the launch, or null when it was not exchangeable. */
  async exchange(id: string): Promise<LtiLaunch | null> {
    const r = await this.launches
      .createQueryBuilder()
      .update(LtiLaunch)
      .set({ exchangedAt: () => 'now()' })
      .where(`id = :id AND exchanged_at IS NULL AND created_at > now() - make_interval(secs => :window)`, {
        id,
        window: EXCHANGE_WINDOW_SECONDS,
      })
      .returning('*')
      .execute();
    const row = (r.raw as Record<string, unknown>[])[0];
    return row ? this.fromRow(row) : null;
  }

  /** A page of an LTI 1.3 platform's launches, newest first (the `ix_lti_launches_platform` index). */
  listForPlatform(platformId: string, q: PlatformLaunchFilter): Promise<Listed<LtiLaunch>> {
    const qb = this.launches
      .createQueryBuilder('l')
      // Not the claims: the list shows none of them.
      .select(LIST_COLUMNS.map((c) => `l.${c}`))
      .where('l.platform_id = :platformId', { platformId })
      .orderBy('l.created_at', 'DESC')
      .addOrderBy('l.id', 'DESC');
    if (q.user) qb.andWhere('l.user_id = :user', { user: q.user });
    if (q.since) qb.andWhere('l.created_at >= :since', { since: q.since });
    return pageOf(qb, q);
  }

  findById(id: string): Promise<LtiLaunch | null> {
    return this.launches.findOneBy({ id });
  }

  private fromRow(row: Record<string, unknown>): LtiLaunch {
    return {
      id: row.id as string,
      createdAt: row.created_at as Date,
      updatedAt: row.updated_at as Date,
      platformId: row.platform_id as string | null,
      consumerId: row.consumer_id as string | null,
      deploymentId: row.deployment_id as string,
      userId: row.user_id as string,
      contextRef: row.context_ref as string | null,
      resourceLinkRef: row.resource_link_ref as string | null,
      projectId: row.project_id as string | null,
      messageType: row.message_type as string,
      roles: row.roles as string[],
      projectRole: row.project_role as string | null,
      targetLinkUri: row.target_link_uri as string,
      claims: row.claims as Record<string, unknown>,
      courseAccountId: row.course_account_id as string | null,
      exchangedAt: row.exchanged_at as Date | null,
    };
  }
}
