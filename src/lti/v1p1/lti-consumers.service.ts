import { Injectable } from '@nestjs/common';
import { AuditService } from '../../accounts/audit/audit.service';
import { SigningKeyRings } from '../../accounts/keys/signing-keys.service';
import { OrganizationsService } from '../../accounts/organizations/organizations.service';
import type { Principal } from '../../common/auth/principal';
import { randomSecret } from '../../common/crypto/secrets';
import { isUniqueViolation } from '../../common/errors/database-errors';
import { InjectSettings } from '../../config/settings.module';
import { Settings } from '../../config/settings.schema';
import { TransactionRunner } from '../../database/transaction';
import type { AppAbility } from '../../permissions/ability';
import { requireAccess, requireCreateIn } from '../../permissions/access';
import { toolUrls } from '../lti-urls';
import { LtiError } from '../lti.errors';
import type { LaunchSource } from '../provisioning/launch-source';
import { ROLE_MAPPING_TARGETS, RoleMappingTarget, roleMappingKey } from '../provisioning/lti-roles';
import { CreateLtiConsumerDto, LtiConsumerQuery, UpdateLtiConsumerDto } from './lti-consumer.dto';
import { LtiConsumer } from './lti-consumer.entity';
import { LtiConsumersRepository } from './lti-consumers.repository';

/** The LTI 1.1 launch URL every consumer is given, from PUBLIC_URL. */
export const lti11LaunchUrl = (settings: Settings) => `${toolUrls(settings).base}/lti/1.1/launch`;

export function consumerSource(c: LtiConsumer): LaunchSource {
  return {
    kind: 'consumer',
    id: c.id,
    organizationId: c.organizationId,
    name: c.consumerName,
    roleMappings: c.roleMappings,
    verifiesEmail: c.verifiesEmail,
    courseAccountsOnLaunch: c.courseAccountsOnLaunch,
  };
}

/**
 * LTI 1.1 consumers: organization admins of the consumer's organization, or staff. The shared secret
 * is made here (256 bits), sealed with the key encryption of the signing keys (KEY_ENCRYPTION_SECRET)
 * and answered once, at creation and at each rotation.
 */
@Injectable()
export class LtiConsumersService {
  constructor(
    private readonly consumers: LtiConsumersRepository,
    private readonly organizations: OrganizationsService,
    private readonly rings: SigningKeyRings,
    private readonly tx: TransactionRunner,
    private readonly audit: AuditService,
    @InjectSettings() private readonly settings: Settings,
  ) {}

  get launchUrl(): string {
    return lti11LaunchUrl(this.settings);
  }

  /** The consumer's shared secret in clear, for checking and making signatures. */
  secretOf(c: LtiConsumer): string {
    return this.rings.deps.encryption.decrypt(c.consumerSecret);
  }

  list(ability: AppAbility, q: LtiConsumerQuery): Promise<[LtiConsumer[], number]> {
    return this.consumers.list(ability, q);
  }

  async get(ability: AppAbility, id: string): Promise<LtiConsumer> {
    return requireAccess(ability, 'read', 'LtiConsumer', await this.consumers.findLive(id));
  }

  async create(
    who: Principal,
    ability: AppAbility,
    dto: CreateLtiConsumerDto,
  ): Promise<{ consumer: LtiConsumer; secret: string }> {
    const [org] = await this.organizations.summaries([dto.organization]);
    requireCreateIn(ability, 'LtiConsumer', dto.organization, Boolean(org));
    const roleMappings = normalizeRoleMappings(dto.role_mappings ?? {});
    const secret = randomSecret();
    const consumer = await this.unique(() =>
      this.tx.run(async (tx) => {
        const consumer = await this.consumers.insert(
          {
            organizationId: dto.organization,
            consumerName: dto.consumer_name,
            consumerKey: dto.consumer_key ?? randomSecret(16),
            consumerSecret: this.rings.deps.encryption.encrypt(secret),
            instanceGuid: dto.instance_guid ?? null,
            roleMappings,
            verifiesEmail: dto.verifies_email ?? false,
            courseAccountsOnLaunch: dto.course_accounts_on_launch ?? 'never',
          },
          tx,
        );
        await this.audit.record(
          {
            action: 'lti_consumer.created',
            actor: who,
            subjectType: 'LtiConsumer',
            subjectId: consumer.id,
            organizationId: consumer.organizationId,
            data: { consumer_name: consumer.consumerName, consumer_key: consumer.consumerKey },
          },
          tx,
        );
        return consumer;
      }),
    );
    return { consumer, secret };
  }

  async update(who: Principal, ability: AppAbility, id: string, dto: UpdateLtiConsumerDto): Promise<LtiConsumer> {
    const roleMappings = dto.role_mappings ? normalizeRoleMappings(dto.role_mappings) : undefined;
    return this.unique(() =>
      this.tx.run(async (tx) => {
        const consumer = requireAccess(ability, 'update', 'LtiConsumer', await this.consumers.lockLive(id, tx));
        const saved = await this.consumers.save(
          {
            ...consumer,
            consumerName: dto.consumer_name ?? consumer.consumerName,
            consumerKey: dto.consumer_key ?? consumer.consumerKey,
            instanceGuid: dto.instance_guid === undefined ? consumer.instanceGuid : dto.instance_guid,
            roleMappings: roleMappings ?? consumer.roleMappings,
            verifiesEmail: dto.verifies_email ?? consumer.verifiesEmail,
            courseAccountsOnLaunch: dto.course_accounts_on_launch ?? consumer.courseAccountsOnLaunch,
          },
          tx,
        );
        await this.audit.record(
          {
            action: 'lti_consumer.updated',
            actor: who,
            subjectType: 'LtiConsumer',
            subjectId: id,
            organizationId: consumer.organizationId,
            data: { fields: Object.keys(dto) },
          },
          tx,
        );
        return saved;
      }),
    );
  }

  /** A new shared secret, answered once; the old one stops verifying at once. */
  async rotateSecret(
    who: Principal,
    ability: AppAbility,
    id: string,
  ): Promise<{ consumer: LtiConsumer; secret: string }> {
    const secret = randomSecret();
    const consumer = await this.tx.run(async (tx) => {
      const consumer = requireAccess(ability, 'rotate_secret', 'LtiConsumer', await this.consumers.lockLive(id, tx));
      const saved = await this.consumers.save(
        { ...consumer, consumerSecret: this.rings.deps.encryption.encrypt(secret) },
        tx,
      );
      await this.audit.record(
        {
          action: 'lti_consumer.secret_rotated',
          actor: who,
          subjectType: 'LtiConsumer',
          subjectId: id,
          organizationId: consumer.organizationId,
          data: { consumer_key: consumer.consumerKey },
        },
        tx,
      );
      return saved;
    });
    return { consumer, secret };
  }

  /** Soft delete: its launches are refused and its grades no longer sent; its users and course projects stay. */
  async remove(who: Principal, ability: AppAbility, id: string): Promise<void> {
    await this.tx.run(async (tx) => {
      const consumer = requireAccess(ability, 'delete', 'LtiConsumer', await this.consumers.lockLive(id, tx));
      await this.consumers.softDelete(id, tx);
      await this.audit.record(
        {
          action: 'lti_consumer.deleted',
          actor: who,
          subjectType: 'LtiConsumer',
          subjectId: id,
          organizationId: consumer.organizationId,
          data: { consumer_name: consumer.consumerName, consumer_key: consumer.consumerKey },
        },
        tx,
      );
    });
  }

  private async unique<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (e) {
      if (isUniqueViolation(e)) {
        throw new LtiError('duplicate_consumer', 'A consumer with this name, key or instance guid exists.');
      }
      throw e;
    }
  }
}

/** Validates role-mapping overrides and keys them by their canonical role URI (as platforms do). */
function normalizeRoleMappings(raw: Record<string, unknown>): Record<string, RoleMappingTarget> {
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
