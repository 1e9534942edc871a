import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { AccountsError } from '../../accounts/accounts.errors';
import { AuditService } from '../../accounts/audit/audit.service';
import type { ProjectSummary } from '../../accounts/projects/project.types';
import { ProjectsService } from '../../accounts/projects/projects.service';
import { UsersService } from '../../accounts/users/users.service';
import type { Principal } from '../../common/auth/principal';
import { InjectSettings } from '../../config/settings.module';
import { Settings } from '../../config/settings.schema';
import { CourseAccountsService } from '../../course-accounts/course-accounts.service';
import { TransactionRunner } from '../../database/transaction';
import { GroupsService } from '../../permissions/groups/groups.service';
import type { LaunchClaims } from '../launch/lti-claims';
import { LtiLaunchError } from '../launch/lti-launch-error';
import { LoginRecord, LtiLoginsRepository } from '../launch/lti-logins.repository';
import type { LtiPlatform } from '../platforms/lti-platform.entity';
import { LtiLaunchesRepository } from '../sessions/lti-launches.repository';
import { LaunchSource, platformSource, sourceRef, sourceTag } from './launch-source';
import type { LtiContext } from './lti-context.entity';
import { LtiProvisioningRepository } from './lti-provisioning.repository';
import { mapRoles, PROJECT_ROLES, ProjectRoleName } from './lti-roles';
import { usernameCandidates } from './lti-usernames';

const DAY_MS = 86_400_000;

/** The role groups of an LMS course's project, one per project role. */
const ROLE_GROUPS: Record<ProjectRoleName, string> = {
  project_manager: 'Instructors (LMS)',
  project_contributor: 'Teaching assistants and mentors (LMS)',
  project_member: 'Learners (LMS)',
};

/** The custom parameter a resource link sets to `true` to provision course accounts (platform policy `when_link_asks`). */
export const COURSE_ACCOUNT_PARAMETER = 'campus_access_course_account';

export interface ProvisionedLaunch {
  launchId: string;
  userId: string;
  projectId: string | null;
  /** A course account created PENDING by this launch, to be created upstream after commit. */
  pendingCourseAccountId: string | null;
  username: string;
  actor: Principal;
}

const isTrue = (v: unknown) =>
  v === true || (typeof v === 'string' && ['true', '1', 'yes'].includes(v.trim().toLowerCase()));

/**
 * What a valid launch does, in one transaction with the spending of its login: the user of
 * (platform, sub) created or kept in line (names, e-mail; never staff), the context's course project
 * created on its first launch and kept in sync, the user's membership of the project's role groups
 * brought in line with the launch's roles (demotions included), the resource link, optionally the
 * user's course account, and the launch record. LTI 1.3 and LTI 1.1 launches run the same code, keyed
 * by their source (platform or consumer).
 */
@Injectable()
export class LtiProvisioner {
  constructor(
    private readonly repo: LtiProvisioningRepository,
    private readonly logins: LtiLoginsRepository,
    private readonly launches: LtiLaunchesRepository,
    private readonly users: UsersService,
    private readonly projects: ProjectsService,
    private readonly groups: GroupsService,
    private readonly courseAccounts: CourseAccountsService,
    private readonly audit: AuditService,
    private readonly tx: TransactionRunner,
    @InjectSettings() private readonly settings: Settings,
  ) {}

  /** An LTI 1.3 launch: provisions as the one spending of its login (see LtiLoginsRepository.spending). */
  launch(platform: LtiPlatform, login: LoginRecord, claims: LaunchClaims): Promise<ProvisionedLaunch> {
    const keepUntil = new Date((claims.exp + this.settings.LTI_CLOCK_SKEW_SECONDS) * 1000);
    return this.logins.spending(login, keepUntil, (first) =>
      this.provisionLaunch(platformSource(platform), claims, first),
    );
  }

  /**
   * A validated launch of either version; `first` runs first in the transaction (an LTI 1.3 launch
   * spends its login), `then` last (an LTI 1.1 launch records its outcome service).
   */
  async provisionLaunch(
    source: LaunchSource,
    claims: LaunchClaims,
    first?: (tx: EntityManager) => Promise<void>,
    then?: (tx: EntityManager, provisioned: ProvisionedLaunch) => Promise<void>,
  ): Promise<ProvisionedLaunch> {
    const run = async (tx: EntityManager) => {
      const provisioned = await this.provision(tx, source, claims, first);
      if (then) await then(tx, provisioned);
      return provisioned;
    };
    let provisioned: ProvisionedLaunch;
    try {
      provisioned = await this.tx.run(run);
    } catch (e) {
      // Another newcomer took the free username between our look and our insert: once more, now seeing it taken.
      if (!(e instanceof AccountsError && e.code === 'duplicate_username')) throw e;
      provisioned = await this.tx.run(run);
    }
    if (provisioned.pendingCourseAccountId) {
      await this.courseAccounts.completeCreation(
        provisioned.pendingCourseAccountId,
        provisioned.actor,
        provisioned.username,
      );
    }
    return provisioned;
  }

  private async provision(
    tx: EntityManager,
    source: LaunchSource,
    claims: LaunchClaims,
    first?: (tx: EntityManager) => Promise<void>,
  ): Promise<ProvisionedLaunch> {
    if (first) await first(tx);
    await this.repo.lock(tx, source.id, claims.sub, claims.context?.id ?? null);
    const { user, emailVerified } = await this.user(tx, source, claims);
    if (!user.isActive) throw new LtiLaunchError('user_deactivated', { user: user.id });
    const actor: Principal = {
      type: 'user',
      id: user.id,
      name: user.username,
      tokenKind: 'lti',
      scopes: [],
      isStaff: false,
      isSupport: false,
    };

    let context: LtiContext | null = null;
    let project: ProjectSummary | null = null;
    let projectRole: ProjectRoleName | null = null;
    let courseAccountId: string | null = null;
    let pendingCourseAccountId: string | null = null;
    if (claims.context) {
      ({ context, project } = await this.context(tx, source, claims.context));
      projectRole = mapRoles(claims.roles, source.roleMappings);
      await this.groups.setMembershipAmong(
        { type: 'user', id: user.id },
        PROJECT_ROLES.map((r) => context!.groupIds[r]),
        context.groupIds[projectRole],
        actor,
        tx,
      );
      const membership = await this.repo.upsertMembership(tx, {
        contextRef: context.id,
        userId: user.id,
        roles: claims.roles,
        projectRole,
      });
      courseAccountId = membership.courseAccountId;
      if (!courseAccountId && this.wantsCourseAccount(source, claims) && !this.courseAccounts.projectProblem(project)) {
        const account = await this.courseAccounts.requestInProject(
          project,
          {
            email: emailVerified ? (user.email ?? null) : null,
            description: `LTI: ${user.username} (${source.name})`,
          },
          actor,
          tx,
        );
        await this.repo.setCourseAccount(tx, membership.id, account.id);
        courseAccountId = account.id;
        if (account.state === 'PENDING') pendingCourseAccountId = account.id;
      }
    }
    const resourceLinkRef = claims.resourceLink
      ? await this.repo.upsertResourceLink(tx, source, {
          resourceLinkId: claims.resourceLink.id,
          contextRef: context?.id ?? null,
          title: claims.resourceLink.title ?? '',
          agsEndpoint: claims.record.ags_endpoint,
        })
      : null;
    const launchId = await this.launches.insert(tx, {
      ...sourceRef(source),
      deploymentId: claims.deploymentId,
      userId: user.id,
      contextRef: context?.id ?? null,
      resourceLinkRef,
      projectId: project?.id ?? null,
      messageType: claims.messageType,
      roles: claims.roles,
      projectRole,
      targetLinkUri: claims.targetLinkUri,
      claims: claims.record,
      courseAccountId,
    });
    return {
      launchId,
      userId: user.id,
      projectId: project?.id ?? null,
      pendingCourseAccountId,
      username: user.username,
      actor,
    };
  }

  private wantsCourseAccount(source: LaunchSource, claims: LaunchClaims): boolean {
    if (source.courseAccountsOnLaunch === 'always') return true;
    if (source.courseAccountsOnLaunch !== 'when_link_asks') return false;
    const custom = claims.record.custom;
    return (
      typeof custom === 'object' &&
      custom !== null &&
      isTrue((custom as Record<string, unknown>)[COURSE_ACCOUNT_PARAMETER])
    );
  }

  /** The person the launch names: identity (platform or consumer, sub) → user, created on the first launch, names and e-mail kept current. */
  private async user(tx: EntityManager, source: LaunchSource, claims: LaunchClaims) {
    const names = personNames(claims);
    const emailVerified = Boolean(claims.email && source.verifiesEmail);
    const identity = await this.repo.findIdentity(tx, source, claims.sub);
    if (identity) {
      const synced = await this.users.syncProfile(
        identity.userId,
        { email: claims.email, firstName: names.firstName, lastName: names.lastName },
        tx,
      );
      if (!synced) throw new Error(`LTI identity ${identity.id} names a missing user`);
      if (synced.changed.length) {
        await this.audit.record(
          {
            action: 'user.updated',
            actor: { type: 'system' },
            subjectType: 'User',
            subjectId: synced.user.id,
            organizationId: source.organizationId,
            data: { fields: synced.changed, ...sourceTag(source) },
          },
          tx,
        );
      }
      // An e-mail a verifying platform sent stays verified until another platform's launch changes it.
      const verified = synced.changed.includes('email') ? emailVerified : identity.emailVerified || emailVerified;
      if (verified !== identity.emailVerified) await this.repo.setEmailVerified(tx, source, identity.id, verified);
      return { user: synced.user, emailVerified: verified };
    }
    const candidates = usernameCandidates(source.id, claims.sub, {
      email: claims.email,
      givenName: names.firstName,
      familyName: names.lastName,
    });
    const username =
      (await this.users.freeUsername(candidates, tx)) ??
      `lti_user_${sha(`${source.id}\n${claims.sub}\n${Date.now()}`).slice(0, 20)}`;
    // No claim makes an LTI user staff or support: the flags are never set here.
    const user = await this.users.insert(
      {
        username,
        email: claims.email ?? null,
        firstName: names.firstName ?? '',
        lastName: names.lastName ?? '',
        organizationId: source.organizationId,
        kind: 'lti',
        source: source.kind === 'platform' ? `lti:${source.id}` : `lti11:${source.id}`,
      },
      tx,
    );
    await this.repo.insertIdentity(tx, source, {
      subject: claims.sub,
      userId: user.id,
      emailVerified,
    });
    await this.audit.record(
      {
        action: 'user.provisioned_lti',
        actor: { type: 'system' },
        subjectType: 'User',
        subjectId: user.id,
        organizationId: source.organizationId,
        data: { ...sourceTag(source), username },
      },
      tx,
    );
    return { user, emailVerified };
  }

  /** The context's course project: created on the first launch, renamed when the LMS renames the course, recreated if it was deleted. */
  private async context(
    tx: EntityManager,
    source: LaunchSource,
    claim: NonNullable<LaunchClaims['context']>,
  ): Promise<{ context: LtiContext; project: ProjectSummary }> {
    const title = claim.title ?? claim.label ?? `Course ${claim.id}`;
    const existing = await this.repo.findContext(tx, source, claim.id);
    if (existing) {
      let project = await this.projects.findSummary(existing.projectId, tx);
      if (!project || project.deletedAt) {
        // Deleting the project removed its groups: the course starts again in a new project.
        const fresh = await this.newProject(tx, source, claim.id, title);
        await this.repo.updateContext(tx, existing.id, {
          projectId: fresh.project.id,
          groupIds: fresh.groupIds,
          title: claim.title ?? '',
          label: claim.label ?? '',
        });
        return {
          context: { ...existing, projectId: fresh.project.id, groupIds: fresh.groupIds },
          project: fresh.project,
        };
      }
      if ((claim.title ?? '') !== existing.title || (claim.label ?? '') !== existing.label) {
        await this.repo.updateContext(tx, existing.id, { title: claim.title ?? '', label: claim.label ?? '' });
        if (project.name !== title) {
          await this.projects.rename(project.id, title, { type: 'system' }, tx, {
            ...sourceTag(source),
            lti_context: claim.id,
          });
          project = { ...project, name: title };
        }
      }
      return { context: existing, project };
    }
    const { project, groupIds } = await this.newProject(tx, source, claim.id, title);
    const context = await this.repo.insertContext(tx, {
      ...sourceRef(source),
      contextId: claim.id,
      projectId: project.id,
      title: claim.title ?? '',
      label: claim.label ?? '',
      groupIds,
    });
    return { context, project };
  }

  private async newProject(tx: EntityManager, source: LaunchSource, contextId: string, title: string) {
    const today = new Date();
    const key = `lti-${sha(`${source.id}\n${contextId}\n${today.getTime()}`).slice(0, 24)}`;
    const project = await this.projects.insert(
      {
        organizationId: source.organizationId,
        key,
        name: title.slice(0, 255),
        kind: 'course',
        startDate: today.toISOString().slice(0, 10),
        endDate: new Date(today.getTime() + this.settings.LTI_COURSE_DURATION_DAYS * DAY_MS).toISOString().slice(0, 10),
      },
      { type: 'system' },
      tx,
      { ...sourceTag(source), lti_context: contextId },
    );
    const ids = await this.groups.createScopeGroups(
      { type: 'project', id: project.id, organizationId: project.organizationId },
      PROJECT_ROLES.map((role) => ({
        name: ROLE_GROUPS[role],
        role,
        description: 'Kept in line with the LMS course roles on every LTI launch.',
      })),
      { type: 'system' },
      tx,
    );
    const groupIds = Object.fromEntries(PROJECT_ROLES.map((role, i) => [role, ids[i]])) as Record<
      ProjectRoleName,
      string
    >;
    return { project, groupIds };
  }
}

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

/** Given and family names, or the full `name` split at its first space when they are absent. */
function personNames(claims: LaunchClaims): { firstName?: string; lastName?: string } {
  if (claims.givenName || claims.familyName) return { firstName: claims.givenName, lastName: claims.familyName };
  if (!claims.name) return {};
  const [first, ...rest] = claims.name.split(/\s+/);
  return { firstName: first.slice(0, 150), lastName: rest.join(' ').slice(0, 150) || undefined };
}
