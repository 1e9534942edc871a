import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { queryRows } from '../../../database/query';
import type { ProjectRoleName } from '../../provisioning/lti-roles';

/** A context with what a roster sync needs: its platform, project and role groups. */
export interface RosterContext {
  id: string;
  contextId: string;
  projectId: string;
  groupIds: Record<ProjectRoleName, string>;
  platformId: string;
  organizationId: string;
  clientId: string;
  authTokenUrl: string;
  roleMappings: Record<string, ProjectRoleName | 'none'>;
  verifiesEmail: boolean;
  platformLive: boolean;
}

/** What we know of a roster member already: their user, and their membership of the context. */
export interface KnownMember {
  subject: string;
  userId: string;
  membershipId: string | null;
  roles: string[] | null;
  projectRole: string | null;
}

/** The roster side of `lti_contexts`, `lti_identities`, `lti_memberships` and the NRPS claims of `lti_launches`. */
@Injectable()
export class LtiRosterRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async findContext(id: string): Promise<RosterContext | null> {
    const [r] = await queryRows<Record<string, unknown>>(
      this.db,
      `SELECT c.id, c.context_id, c.project_id, c.group_ids, c.platform_id, p.organization_id, p.client_id,
              p.auth_token_url, p.role_mappings, p.verifies_email, (p.deleted_at IS NULL AND p.approved) AS platform_live
       FROM lti_contexts c JOIN lti_platforms p ON p.id = c.platform_id WHERE c.id = $1`,
      [id],
    );
    if (!r) return null;
    return {
      id: r.id as string,
      contextId: r.context_id as string,
      projectId: r.project_id as string,
      groupIds: r.group_ids as Record<ProjectRoleName, string>,
      platformId: r.platform_id as string,
      organizationId: r.organization_id as string,
      clientId: r.client_id as string,
      authTokenUrl: r.auth_token_url as string,
      roleMappings: r.role_mappings as Record<string, ProjectRoleName | 'none'>,
      verifiesEmail: r.verifies_email as boolean,
      platformLive: r.platform_live as boolean,
    };
  }

  /** The roster URL of the context's latest launch that carried the NRPS claim. */
  async membershipsUrl(contextRef: string, platformId: string): Promise<string | null> {
    const [r] = await queryRows<{ url: string | null }>(
      this.db,
      `SELECT claims->'nrps'->>'context_memberships_url' AS url FROM lti_launches
       WHERE platform_id = $1 AND context_ref = $2 AND claims->'nrps'->>'context_memberships_url' IS NOT NULL
       ORDER BY created_at DESC LIMIT 1`,
      [platformId, contextRef],
    );
    return r?.url ?? null;
  }

  /** Contexts whose roster is due (never synced, or longer ago than `everyMs`) and that have a roster service. */
  async dueContexts(
    everyMs: number,
    limit: number,
  ): Promise<{ id: string; organization_id: string; project_id: string }[]> {
    return queryRows(
      this.db,
      `SELECT c.id, p.organization_id, c.project_id FROM lti_contexts c JOIN lti_platforms p ON p.id = c.platform_id
       WHERE p.deleted_at IS NULL AND p.approved
         AND (c.roster_synced_at IS NULL OR c.roster_synced_at < now() - make_interval(secs => $1 / 1000.0))
         AND EXISTS (SELECT 1 FROM lti_launches l WHERE l.platform_id = c.platform_id AND l.context_ref = c.id
                     AND l.claims ? 'nrps')
       ORDER BY c.roster_synced_at NULLS FIRST LIMIT $2`,
      [everyMs, limit],
    );
  }

  async markSynced(contextRef: string, tx?: EntityManager): Promise<void> {
    await queryRows(tx ?? this.db, 'UPDATE lti_contexts SET roster_synced_at = now() WHERE id = $1', [contextRef]);
  }

  /** Locks the identities of a page's members, in one order, as launches do (one statement). */
  async lockIdentities(tx: EntityManager, platformId: string, subjects: readonly string[]): Promise<void> {
    await queryRows(
      tx,
      `SELECT pg_advisory_xact_lock(hashtext(k)) FROM (SELECT k FROM unnest($1::text[]) AS k ORDER BY k) s`,
      [[...new Set(subjects)].map((s) => `lti:identity:${platformId}:${s}`)],
    );
  }

  /** The page's members we know, with their membership of the context (one statement). */
  async knownMembers(
    tx: EntityManager,
    platformId: string,
    contextRef: string,
    subjects: readonly string[],
  ): Promise<Map<string, KnownMember>> {
    const rows = await queryRows<Record<string, unknown>>(
      tx,
      `SELECT i.subject, i.user_id, m.id AS membership_id, m.roles, m.project_role
       FROM lti_identities i LEFT JOIN lti_memberships m ON m.user_id = i.user_id AND m.context_ref = $2
       WHERE i.platform_id = $1 AND i.subject = ANY($3::text[])`,
      [platformId, contextRef, [...subjects]],
    );
    return new Map(
      rows.map((r) => [
        r.subject as string,
        {
          subject: r.subject as string,
          userId: r.user_id as string,
          membershipId: (r.membership_id as string | null) ?? null,
          roles: (r.roles as string[] | null) ?? null,
          projectRole: (r.project_role as string | null) ?? null,
        },
      ]),
    );
  }

  /** Writes the memberships of a page (new or changed ones) in one statement. */
  async writeMemberships(
    tx: EntityManager,
    contextRef: string,
    rows: readonly { userId: string; roles: string[]; projectRole: string | null }[],
  ): Promise<void> {
    if (rows.length === 0) return;
    await queryRows(
      tx,
      `INSERT INTO lti_memberships (context_ref, user_id, roles, project_role)
       SELECT $1, r.user_id, ARRAY(SELECT jsonb_array_elements_text(r.roles)), r.project_role
       FROM unnest($2::uuid[], $3::jsonb[], $4::varchar[]) AS r(user_id, roles, project_role)
       ON CONFLICT (context_ref, user_id) DO UPDATE
         SET roles = EXCLUDED.roles, project_role = EXCLUDED.project_role, updated_at = now()`,
      [contextRef, rows.map((r) => r.userId), rows.map((r) => JSON.stringify(r.roles)), rows.map((r) => r.projectRole)],
    );
  }

  /** Members of the context holding a course role who are not among `listed` (one statement). */
  async unlisted(contextRef: string, listed: readonly string[]): Promise<{ user_id: string }[]> {
    return queryRows(
      this.db,
      `SELECT user_id FROM lti_memberships
       WHERE context_ref = $1 AND project_role IS NOT NULL AND NOT (user_id = ANY($2::uuid[]))`,
      [contextRef, [...listed]],
    );
  }

  async insertIdentity(
    tx: EntityManager,
    values: { platformId: string; subject: string; userId: string; emailVerified: boolean },
  ): Promise<void> {
    await queryRows(
      tx,
      'INSERT INTO lti_identities (platform_id, subject, user_id, email_verified) VALUES ($1, $2, $3, $4)',
      [values.platformId, values.subject, values.userId, values.emailVerified],
    );
  }
}
