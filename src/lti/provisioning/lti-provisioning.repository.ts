import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { LtiContext } from './lti-context.entity';
import { LtiIdentity } from './lti-identity.entity';
import { LtiMembership } from './lti-membership.entity';
import type { ProjectRoleName } from './lti-roles';
import { queryRows } from '../../database/query';
import { LtiUser } from '../v1p1/lti-user.entity';
import { LaunchSource, SourceRef, sourceColumn } from './launch-source';

/** Who a source's subject is: an LTI 1.3 identity (platform, sub) or an LTI 1.1 user (consumer, user_id). */
export interface SourceIdentity {
  id: string;
  userId: string;
  emailVerified: boolean;
}

/**
 * The tables a launch provisions into: identities (LTI 1.1: `lti_users`), contexts, resource links and
 * memberships. Every call runs in the launch's transaction.
 */
@Injectable()
export class LtiProvisioningRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /**
   * Serializes launches of the same user (and, when given, into the same context) across requests
   * and replicas, until the transaction ends: first launches make one user, one project, one
   * membership. Always user first, then context, so two launches never wait on each other in a cycle.
   */
  async lock(tx: EntityManager, sourceId: string, subject: string, contextId: string | null): Promise<void> {
    if (contextId === null) {
      await queryRows(tx, 'SELECT pg_advisory_xact_lock(hashtext($1))', [`lti:identity:${sourceId}:${subject}`]);
      return;
    }
    await queryRows(tx, 'SELECT pg_advisory_xact_lock(hashtext($1)), pg_advisory_xact_lock(hashtext($2))', [
      `lti:identity:${sourceId}:${subject}`,
      `lti:context:${sourceId}:${contextId}`,
    ]);
  }

  findIdentity(tx: EntityManager, source: LaunchSource, subject: string): Promise<SourceIdentity | null> {
    return source.kind === 'platform'
      ? tx.findOneBy(LtiIdentity, { platformId: source.id, subject })
      : tx.findOneBy(LtiUser, { consumerId: source.id, ltiUserId: subject });
  }

  async insertIdentity(
    tx: EntityManager,
    source: LaunchSource,
    values: { subject: string; userId: string; emailVerified: boolean },
  ): Promise<void> {
    if (source.kind === 'platform') await tx.insert(LtiIdentity, { platformId: source.id, ...values });
    else
      await tx.insert(LtiUser, {
        consumerId: source.id,
        ltiUserId: values.subject,
        userId: values.userId,
        emailVerified: values.emailVerified,
      });
  }

  /** Whether the user's e-mail, as this platform (or consumer) knows the user, counts as verified. */
  async emailVerified(source: SourceRef, userId: string): Promise<boolean> {
    const [row]: { email_verified: boolean }[] = await queryRows(
      this.db,
      source.platformId
        ? 'SELECT email_verified FROM lti_identities WHERE platform_id = $1 AND user_id = $2 LIMIT 1'
        : 'SELECT email_verified FROM lti_users WHERE consumer_id = $1 AND user_id = $2 LIMIT 1',
      [source.platformId ?? source.consumerId, userId],
    );
    return row?.email_verified ?? false;
  }

  async setEmailVerified(tx: EntityManager, source: LaunchSource, id: string, emailVerified: boolean): Promise<void> {
    await tx.update(source.kind === 'platform' ? LtiIdentity : LtiUser, { id }, { emailVerified });
  }

  findContext(tx: EntityManager, source: LaunchSource, contextId: string): Promise<LtiContext | null> {
    return tx.findOneBy(
      LtiContext,
      source.kind === 'platform' ? { platformId: source.id, contextId } : { consumerId: source.id, contextId },
    );
  }

  insertContext(
    tx: EntityManager,
    values: Pick<LtiContext, 'platformId' | 'consumerId' | 'contextId' | 'projectId' | 'title' | 'label' | 'groupIds'>,
  ): Promise<LtiContext> {
    return tx.save(LtiContext, tx.create(LtiContext, values));
  }

  async updateContext(
    tx: EntityManager,
    id: string,
    values: Partial<Pick<LtiContext, 'projectId' | 'title' | 'label' | 'groupIds'>>,
  ): Promise<void> {
    await tx.update(LtiContext, { id }, values);
  }

  /** The resource link, created or brought up to date (title, context, AGS endpoint) in one statement; its id. */
  async upsertResourceLink(
    tx: EntityManager,
    source: LaunchSource,
    values: {
      resourceLinkId: string;
      contextRef: string | null;
      title: string;
      agsEndpoint: unknown;
    },
  ): Promise<string> {
    // Unchanged, the conditional update writes (and returns) nothing: the row is then read in the same statement.
    const key = sourceColumn(source);
    const rows: { id: string }[] = await queryRows(
      tx,
      `WITH written AS (
         INSERT INTO lti_resource_links (${key}, resource_link_id, context_ref, title, ags_endpoint)
         VALUES ($1, $2, $3, $4, $5::jsonb)
         ON CONFLICT (${key}, resource_link_id) DO UPDATE
           SET context_ref = EXCLUDED.context_ref, title = EXCLUDED.title, ags_endpoint = EXCLUDED.ags_endpoint,
               updated_at = now()
           WHERE lti_resource_links.context_ref IS DISTINCT FROM EXCLUDED.context_ref
              OR lti_resource_links.title IS DISTINCT FROM EXCLUDED.title
              OR lti_resource_links.ags_endpoint IS DISTINCT FROM EXCLUDED.ags_endpoint
         RETURNING id)
       SELECT id FROM written
       UNION ALL
       SELECT id FROM lti_resource_links
       WHERE ${key} = $1 AND resource_link_id = $2 AND NOT EXISTS (SELECT 1 FROM written)`,
      [
        source.id,
        values.resourceLinkId,
        values.contextRef,
        values.title,
        values.agsEndpoint === undefined ? null : JSON.stringify(values.agsEndpoint),
      ],
    );
    return rows[0].id;
  }

  /** The user's membership of the context, created or brought in line with this launch's roles, in one statement. */
  async upsertMembership(
    tx: EntityManager,
    values: { contextRef: string; userId: string; roles: string[]; projectRole: ProjectRoleName },
  ): Promise<Pick<LtiMembership, 'id' | 'courseAccountId'>> {
    const rows: { id: string; course_account_id: string | null }[] = await queryRows(
      tx,
      `INSERT INTO lti_memberships (context_ref, user_id, roles, project_role)
       VALUES ($1, $2, $3::text[], $4)
       ON CONFLICT (context_ref, user_id) DO UPDATE
         SET roles = EXCLUDED.roles, project_role = EXCLUDED.project_role, updated_at = now()
       RETURNING id, course_account_id`,
      [values.contextRef, values.userId, values.roles, values.projectRole],
    );
    return { id: rows[0].id, courseAccountId: rows[0].course_account_id };
  }

  async setCourseAccount(tx: EntityManager, membershipId: string, courseAccountId: string): Promise<void> {
    await tx.update(LtiMembership, { id: membershipId }, { courseAccountId });
  }
}
