import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { AuditService } from '../../../accounts/audit/audit.service';
import { UsersService } from '../../../accounts/users/users.service';
import { TransactionRunner } from '../../../database/transaction';
import { GroupsService } from '../../../permissions/groups/groups.service';
import { mapRoles, PROJECT_ROLES } from '../../provisioning/lti-roles';
import { usernameCandidates } from '../../provisioning/lti-usernames';
import { NrpsClient, NrpsMember, RosterFilter } from './nrps.client';
import { LtiRosterRepository, RosterContext } from './lti-roster.repository';

export interface RosterSummary {
  added: number;
  updated: number;
  removed: number;
  unchanged: number;
}

const text = (v: unknown, max: number): string | undefined =>
  typeof v === 'string' && v.trim() && !v.includes('\u0000') && [...v.trim()].length <= max ? v.trim() : undefined;

/** NRPS statuses that take a member's course role away. */
const GONE = new Set(['Inactive', 'Deleted']);

/**
 * Brings a course project's LMS role groups in line with its context's roster (NRPS). Page by page,
 * in one transaction each: the page's identities locked (as launches lock them), the members we know
 * read in one statement, newcomers created (identity (platform, user_id) = the launch `sub`), names
 * and e-mails kept current, each member's role group set from their roles. Inactive and Deleted
 * members lose their course role, and after an unfiltered sync so do those no longer listed; only
 * members the LMS put there are touched, only in the project's LMS role groups. The statements per
 * member are bounded whatever the roster's size.
 */
@Injectable()
export class RosterSync {
  constructor(
    private readonly repo: LtiRosterRepository,
    private readonly nrps: NrpsClient,
    private readonly users: UsersService,
    private readonly groups: GroupsService,
    private readonly audit: AuditService,
    private readonly transactions: TransactionRunner,
  ) {}

  async sync(
    context: RosterContext,
    membershipsUrl: string,
    filter: RosterFilter = {},
    onPage: (done: number) => Promise<void> = async () => undefined,
  ): Promise<RosterSummary> {
    const summary: RosterSummary = { added: 0, updated: 0, removed: 0, unchanged: 0 };
    const listed: string[] = [];
    const platform = { id: context.platformId, clientId: context.clientId, authTokenUrl: context.authTokenUrl };
    let done = 0;
    for await (const page of this.nrps.pages(platform, membershipsUrl, filter)) {
      const members = [...new Map(page.map((m) => [m.user_id, m])).values()];
      if (members.length === 0) continue;
      await this.transactions.run(async (tx) => {
        const outcome = await this.syncPage(tx, context, members);
        listed.push(...outcome.listed);
        for (const k of ['added', 'updated', 'removed', 'unchanged'] as const) summary[k] += outcome[k];
      });
      done += members.length;
      await onPage(done);
    }
    // A filtered roster (one role, one link) does not list everyone: nobody is removed for being absent.
    if (!filter.role && !filter.rlid) {
      for (const { user_id } of await this.repo.unlisted(context.id, listed)) {
        await this.transactions.run(async (tx) => {
          await this.setRole(tx, context, user_id, null);
          await this.repo.writeMemberships(tx, context.id, [{ userId: user_id, roles: [], projectRole: null }]);
        });
        summary.removed++;
      }
    }
    await this.repo.markSynced(context.id);
    return summary;
  }

  private async syncPage(
    tx: EntityManager,
    context: RosterContext,
    members: NrpsMember[],
  ): Promise<RosterSummary & { listed: string[] }> {
    const out = { added: 0, updated: 0, removed: 0, unchanged: 0, listed: [] as string[] };
    const subjects = members.map((m) => m.user_id);
    await this.repo.lockIdentities(tx, context.platformId, subjects);
    const known = await this.repo.knownMembers(tx, context.platformId, context.id, subjects);
    const writes: { userId: string; roles: string[]; projectRole: string | null }[] = [];
    for (const member of members) {
      const roles = Array.isArray(member.roles)
        ? member.roles.filter((r): r is string => typeof r === 'string' && r.length <= 1024).slice(0, 100)
        : [];
      const gone = GONE.has(member.status ?? 'Active');
      const person = {
        email: text(member.email, 254),
        firstName: text(member.given_name, 150),
        lastName: text(member.family_name, 150),
      };
      if (!person.firstName && !person.lastName && text(member.name, 300)) {
        const [first, ...rest] = text(member.name, 300)!.split(/\s+/);
        person.firstName = first.slice(0, 150);
        person.lastName = rest.join(' ').slice(0, 150) || undefined;
      }
      const existing = known.get(member.user_id);
      if (!existing) {
        if (gone) continue; // Never here, and not in the course: nothing to make.
        const userId = await this.newUser(tx, context, member.user_id, person);
        const projectRole = mapRoles(roles, context.roleMappings);
        await this.setRole(tx, context, userId, projectRole);
        writes.push({ userId, roles, projectRole });
        out.listed.push(userId);
        out.added++;
        continue;
      }
      const synced = await this.users.syncProfile(existing.userId, person, tx);
      if (synced?.changed.length) {
        await this.audit.record(
          {
            action: 'user.updated',
            actor: { type: 'system' },
            subjectType: 'User',
            subjectId: existing.userId,
            organizationId: context.organizationId,
            data: { fields: synced.changed, lti_platform: context.platformId, via: 'roster' },
          },
          tx,
        );
      }
      const projectRole = gone || !synced?.user.isActive ? null : mapRoles(roles, context.roleMappings);
      if (!gone) out.listed.push(existing.userId);
      const roleChanged = await this.setRole(tx, context, existing.userId, projectRole);
      const sameRoles =
        existing.membershipId !== null &&
        existing.projectRole === projectRole &&
        JSON.stringify(existing.roles ?? []) === JSON.stringify(gone ? (existing.roles ?? []) : roles);
      if (!sameRoles) writes.push({ userId: existing.userId, roles: gone ? [] : roles, projectRole });
      if (gone) {
        if (existing.projectRole !== null || roleChanged) out.removed++;
        else out.unchanged++;
      } else if (existing.membershipId === null) out.added++;
      else if (roleChanged || !sameRoles || synced?.changed.length) out.updated++;
      else out.unchanged++;
    }
    await this.repo.writeMemberships(tx, context.id, writes);
    return out;
  }

  /** Puts the user in the role group of `projectRole` (none: out of all of them); whether anything changed. */
  private async setRole(
    tx: EntityManager,
    context: RosterContext,
    userId: string,
    projectRole: (typeof PROJECT_ROLES)[number] | null,
  ): Promise<boolean> {
    const { added, removed } = await this.groups.setMembershipAmong(
      { type: 'user', id: userId },
      PROJECT_ROLES.map((r) => context.groupIds[r]),
      projectRole ? context.groupIds[projectRole] : null,
      { type: 'system' },
      tx,
    );
    return added !== null || removed.length > 0;
  }

  private async newUser(
    tx: EntityManager,
    context: RosterContext,
    subject: string,
    person: { email?: string; firstName?: string; lastName?: string },
  ): Promise<string> {
    const candidates = usernameCandidates(context.platformId, subject, {
      email: person.email,
      givenName: person.firstName,
      familyName: person.lastName,
    });
    const username =
      (await this.users.freeUsername(candidates, tx)) ??
      `lti_user_${createHash('sha256').update(`${context.platformId}\n${subject}\n${Date.now()}`).digest('hex').slice(0, 20)}`;
    const user = await this.users.insert(
      {
        username,
        email: person.email ?? null,
        firstName: person.firstName ?? '',
        lastName: person.lastName ?? '',
        organizationId: context.organizationId,
        kind: 'lti',
        source: `lti:${context.platformId}`,
      },
      tx,
    );
    await this.repo.insertIdentity(tx, {
      platformId: context.platformId,
      subject,
      userId: user.id,
      emailVerified: Boolean(person.email && context.verifiesEmail),
    });
    await this.audit.record(
      {
        action: 'user.provisioned_lti',
        actor: { type: 'system' },
        subjectType: 'User',
        subjectId: user.id,
        organizationId: context.organizationId,
        data: { lti_platform: context.platformId, username, via: 'roster' },
      },
      tx,
    );
    return user.id;
  }
}
