import { Injectable } from '@nestjs/common';
import { AuditService } from '../../accounts/audit/audit.service';
import { OrganizationsService } from '../../accounts/organizations/organizations.service';
import type { Principal } from '../../common/auth/principal';
import { isUniqueViolation } from '../../common/errors/database-errors';
import { InjectSettings } from '../../config/settings.module';
import { Settings } from '../../config/settings.schema';
import { TransactionRunner } from '../../database/transaction';
import type { AppAbility } from '../../permissions/ability';
import { requireAccess, requireCreateIn } from '../../permissions/access';
import { LtiToolKeysService } from '../keys/lti-tool-keys.service';
import { LtiFrameAncestors } from '../launch/lti-frame-ancestors';
import { LtiError } from '../lti.errors';
import { platformUrlProblem, toolUrls } from '../lti-urls';
import { LtiLaunch } from '../sessions/lti-launch.entity';
import { LtiLaunchesRepository, PlatformLaunchFilter } from '../sessions/lti-launches.repository';
import { Listed } from '../../common/pagination/pagination';
import { ROLE_MAPPING_TARGETS, RoleMappingTarget, roleMappingKey } from '../provisioning/lti-roles';
import { CreateLtiPlatformDto, LtiPlatformQuery, LtiToolConfigView, UpdateLtiPlatformDto } from './lti-platform.dto';
import { LtiPlatform } from './lti-platform.entity';
import { LtiPlatformsRepository } from './lti-platforms.repository';

const URL_FIELDS = ['auth_login_url', 'auth_token_url', 'jwks_url'] as const;

/** Registration of LMS platforms: organization admins of the platform's organization, or staff. */
@Injectable()
export class LtiPlatformsService {
  constructor(
    private readonly platforms: LtiPlatformsRepository,
    private readonly launches: LtiLaunchesRepository,
    private readonly organizations: OrganizationsService,
    private readonly tx: TransactionRunner,
    private readonly audit: AuditService,
    private readonly keys: LtiToolKeysService,
    private readonly frames: LtiFrameAncestors,
    @InjectSettings() private readonly settings: Settings,
  ) {}

  list(ability: AppAbility, q: LtiPlatformQuery): Promise<[LtiPlatform[], number]> {
    return this.platforms.list(ability, q);
  }

  async get(ability: AppAbility, id: string): Promise<LtiPlatform> {
    return requireAccess(ability, 'read', 'LtiPlatform', await this.platforms.findLive(id));
  }

  /** The launches of a platform the caller may read (a deleted one is not found), newest first. */
  async launchesOf(ability: AppAbility, id: string, q: PlatformLaunchFilter): Promise<Listed<LtiLaunch>> {
    const platform = requireAccess(ability, 'read', 'LtiPlatform', await this.platforms.findLive(id));
    return this.launches.listForPlatform(platform.id, q);
  }

  async create(who: Principal, ability: AppAbility, dto: CreateLtiPlatformDto): Promise<LtiPlatform> {
    const [org] = await this.organizations.summaries([dto.organization]);
    requireCreateIn(ability, 'LtiPlatform', dto.organization, Boolean(org));
    this.checkUrls(dto);
    const roleMappings = this.roleMappings(dto.role_mappings ?? {});
    const platform = await this.unique(dto, () =>
      this.tx.run(async (tx) => {
        const platform = await this.platforms.insert(
          {
            organizationId: dto.organization,
            name: dto.name ?? '',
            issuer: dto.issuer,
            clientId: dto.client_id,
            authLoginUrl: dto.auth_login_url,
            authTokenUrl: dto.auth_token_url,
            jwksUrl: dto.jwks_url,
            deploymentIds: [...new Set(dto.deployment_ids)],
            roleMappings,
            verifiesEmail: dto.verifies_email ?? false,
            courseAccountsOnLaunch: dto.course_accounts_on_launch ?? 'never',
          },
          tx,
        );
        await this.audit.record(
          {
            action: 'lti_platform.created',
            actor: who,
            subjectType: 'LtiPlatform',
            subjectId: platform.id,
            organizationId: platform.organizationId,
            data: { issuer: platform.issuer, client_id: platform.clientId, deployment_ids: platform.deploymentIds },
          },
          tx,
        );
        return platform;
      }),
    );
    this.frames.invalidate();
    return platform;
  }

  async update(who: Principal, ability: AppAbility, id: string, dto: UpdateLtiPlatformDto): Promise<LtiPlatform> {
    this.checkUrls(dto);
    const roleMappings = dto.role_mappings ? this.roleMappings(dto.role_mappings) : undefined;
    const platform = await this.unique(dto, () =>
      this.tx.run(async (tx) => {
        const platform = requireAccess(ability, 'update', 'LtiPlatform', await this.platforms.lockLive(id, tx));
        const next: LtiPlatform = {
          ...platform,
          name: dto.name ?? platform.name,
          issuer: dto.issuer ?? platform.issuer,
          clientId: dto.client_id ?? platform.clientId,
          authLoginUrl: dto.auth_login_url ?? platform.authLoginUrl,
          authTokenUrl: dto.auth_token_url ?? platform.authTokenUrl,
          jwksUrl: dto.jwks_url ?? platform.jwksUrl,
          deploymentIds: dto.deployment_ids ? [...new Set(dto.deployment_ids)] : platform.deploymentIds,
          roleMappings: roleMappings ?? platform.roleMappings,
          verifiesEmail: dto.verifies_email ?? platform.verifiesEmail,
          courseAccountsOnLaunch: dto.course_accounts_on_launch ?? platform.courseAccountsOnLaunch,
        };
        const saved = await this.platforms.save(next, tx);
        await this.audit.record(
          {
            action: 'lti_platform.updated',
            actor: who,
            subjectType: 'LtiPlatform',
            subjectId: id,
            organizationId: platform.organizationId,
            data: { fields: Object.keys(dto) },
          },
          tx,
        );
        return saved;
      }),
    );
    this.frames.invalidate();
    return platform;
  }

  /** Soft delete: its launches are refused from now on; its users, identities and course projects stay. */
  async remove(who: Principal, ability: AppAbility, id: string): Promise<void> {
    await this.tx.run(async (tx) => {
      const platform = requireAccess(ability, 'delete', 'LtiPlatform', await this.platforms.lockLive(id, tx));
      await this.platforms.softDelete(id, tx);
      await this.audit.record(
        {
          action: 'lti_platform.deleted',
          actor: who,
          subjectType: 'LtiPlatform',
          subjectId: id,
          organizationId: platform.organizationId,
          data: { issuer: platform.issuer, client_id: platform.clientId },
        },
        tx,
      );
    });
    this.frames.invalidate();
  }

  /** The values an LMS administrator pastes into the LMS, all from PUBLIC_URL. */
  async toolConfig(): Promise<LtiToolConfigView> {
    const urls = toolUrls(this.settings);
    const key = await this.keys.activeKey();
    return {
      login_initiation_url: urls.login,
      redirect_url: urls.launch,
      target_link_url: urls.target,
      jwks_url: urls.jwks,
      public_jwk: key?.jwk ?? null,
      public_key_pem: key?.pem ?? null,
      domain: new URL(urls.base).host,
    };
  }

  private checkUrls(dto: Partial<Record<(typeof URL_FIELDS)[number], string>>): void {
    const problems = URL_FIELDS.flatMap((field) => {
      const value = dto[field];
      const problem =
        value === undefined ? null : platformUrlProblem(value, this.settings.LTI_ALLOW_INSECURE_PLATFORM_URLS);
      return problem ? [{ field, problem }] : [];
    });
    if (problems.length) {
      throw new LtiError('insecure_platform_url', problems.map((p) => `${p.field} ${p.problem}.`).join(' '), {
        fields: Object.fromEntries(problems.map((p) => [p.field, [p.problem]])),
      });
    }
  }

  /** Validates the overrides and stores them under their canonical role URIs. */
  private roleMappings(raw: Record<string, unknown>): Record<string, RoleMappingTarget> {
    const entries = Object.entries(raw);
    const bad = entries.filter(
      ([role, target]) =>
        !role.trim() || role.length > 255 || !(ROLE_MAPPING_TARGETS as readonly unknown[]).includes(target),
    );
    if (entries.length > 200 || bad.length) {
      throw new LtiError(
        'invalid_role_mappings',
        `role_mappings maps LIS roles to one of ${ROLE_MAPPING_TARGETS.join(', ')} (at most 200 entries).`,
        { invalid: bad.map(([role]) => role), targets: ROLE_MAPPING_TARGETS },
      );
    }
    return Object.fromEntries(entries.map(([role, target]) => [roleMappingKey(role), target as RoleMappingTarget]));
  }

  private async unique<T>(dto: { issuer?: string; client_id?: string }, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (e) {
      if (isUniqueViolation(e)) {
        throw new LtiError('duplicate_platform', 'A platform with this issuer and client_id is registered.', {
          issuer: dto.issuer,
          client_id: dto.client_id,
        });
      }
      throw e;
    }
  }
}
