import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AuditService } from '../../../accounts/audit/audit.service';
import { OrganizationsService } from '../../../accounts/organizations/organizations.service';
import type { Principal } from '../../../common/auth/principal';
import { randomSecret, sha256Hex } from '../../../common/crypto/secrets';
import { isUniqueViolation } from '../../../common/errors/database-errors';
import { InjectSettings } from '../../../config/settings.module';
import { Settings } from '../../../config/settings.schema';
import { queryRows } from '../../../database/query';
import { TransactionRunner } from '../../../database/transaction';
import type { AppAbility } from '../../../permissions/ability';
import { requireAccess, requireCreateIn } from '../../../permissions/access';
import { platformUrlProblem, toolUrls } from '../../lti-urls';
import { LtiError } from '../../lti.errors';
import type { LtiPlatform } from '../../platforms/lti-platform.entity';
import { LtiPlatformsRepository } from '../../platforms/lti-platforms.repository';
import { AGS_SCOPE } from '../ags/ags.client';
import { NRPS_SCOPE } from '../nrps/nrps.client';
import { answerText, platformFetch } from '../platform-tokens/platform-http';

const TOOL_CONFIGURATION = 'https://purl.imsglobal.org/spec/lti-tool-configuration';
const PLATFORM_CONFIGURATION = 'https://purl.imsglobal.org/spec/lti-platform-configuration';

/** A registration that cannot go on: its reason code and message, shown on the registration page. */
export class RegistrationRefused extends Error {
  constructor(
    readonly reason: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = 'RegistrationRefused';
  }
}

export interface RegistrationLinkAnswer {
  id: string;
  organization: string;
  url: string;
  expires_at: string;
}

/**
 * IMS LTI Dynamic Registration 1.0. An organization admin makes a one-time registration URL; the
 * LMS opens it with `openid_configuration` and `registration_token`; the tool reads the platform's
 * configuration (https only except loopback; its issuer on the configuration URL's origin), posts
 * its own registration (private_key_jwt, AGS and NRPS scopes, resource-link and deep-linking
 * messages) with the token, and stores the platform with the client_id and deployment_id it got —
 * waiting for an admin's approval when LTI_REGISTRATION_APPROVAL says so.
 */
@Injectable()
export class DynamicRegistrationService {
  constructor(
    private readonly platforms: LtiPlatformsRepository,
    private readonly organizations: OrganizationsService,
    private readonly audit: AuditService,
    private readonly transactions: TransactionRunner,
    @InjectDataSource() private readonly db: DataSource,
    @InjectSettings() private readonly settings: Settings,
  ) {}

  async createLink(who: Principal, ability: AppAbility, organizationId: string): Promise<RegistrationLinkAnswer> {
    const [org] = await this.organizations.summaries([organizationId]);
    requireCreateIn(ability, 'LtiPlatform', organizationId, Boolean(org));
    const token = randomSecret();
    const expiresAt = new Date(Date.now() + this.settings.LTI_REGISTRATION_LINK_TTL_SECONDS * 1000);
    const [row] = await queryRows<{ id: string }>(
      this.db,
      `INSERT INTO lti_registration_links (organization_id, token_hash, expires_at, created_by) VALUES ($1, $2, $3, $4)
       RETURNING id`,
      [organizationId, sha256Hex(token), expiresAt, who.type === 'user' ? who.id : null],
    );
    return {
      id: row.id,
      organization: organizationId,
      url: `${toolUrls(this.settings).base}/lti/register?link=${encodeURIComponent(token)}`,
      expires_at: expiresAt.toISOString(),
    };
  }

  async approve(who: Principal, ability: AppAbility, id: string): Promise<LtiPlatform> {
    const found = await this.platforms.findAnyById(id);
    const platform = found && !found.deletedAt ? found : null;
    requireAccess(ability, 'update', 'LtiPlatform', platform, { details: { id } });
    if (platform!.approved) throw new LtiError('already_approved', 'This platform is approved already.');
    return this.transactions.run(async (tx) => {
      platform!.approved = true;
      const saved = await this.platforms.save(platform!, tx);
      await this.audit.record(
        {
          action: 'lti_platform.approved',
          actor: who,
          subjectType: 'LtiPlatform',
          subjectId: saved.id,
          organizationId: saved.organizationId,
          data: { issuer: saved.issuer, client_id: saved.clientId },
        },
        tx,
      );
      return saved;
    });
  }

  private url(value: unknown, what: string): string {
    if (typeof value !== 'string' || !value)
      throw new RegistrationRefused('invalid_openid_configuration', `The platform configuration has no ${what}.`);
    const problem = platformUrlProblem(value, this.settings.LTI_ALLOW_INSECURE_PLATFORM_URLS);
    if (problem) throw new RegistrationRefused('insecure_platform_url', `The platform's ${what} ${problem}.`);
    return value;
  }

  private async json(url: string, init: RequestInit, what: string): Promise<Record<string, unknown>> {
    let res: Response;
    try {
      res = await platformFetch(url, init, this.settings.LTI_SERVICE_TIMEOUT_MS);
    } catch (e) {
      throw new RegistrationRefused(
        'platform_unreachable',
        `The platform's ${what} did not answer: ${(e as Error).message}`,
        502,
      );
    }
    const text = await answerText(res);
    if (!res.ok)
      throw new RegistrationRefused(
        'platform_refused',
        `The platform's ${what} answered ${res.status}: ${text.slice(0, 300)}`,
        502,
      );
    try {
      const body: unknown = JSON.parse(text);
      if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new Error('not an object');
      return body as Record<string, unknown>;
    } catch {
      throw new RegistrationRefused('platform_refused', `The platform's ${what} is not a JSON object.`, 502);
    }
  }

  /** The registration itself; the platform stored, and whether it waits for approval. */
  async register(query: Record<string, unknown>): Promise<{ platform: LtiPlatform; pending: boolean }> {
    const token = typeof query.link === 'string' ? query.link : '';
    const configUrl = query.openid_configuration;
    const registrationToken = typeof query.registration_token === 'string' ? query.registration_token : undefined;
    const [link] = token
      ? await queryRows<{ id: string; organization_id: string }>(
          this.db,
          `SELECT id, organization_id FROM lti_registration_links
           WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now()`,
          [sha256Hex(token)],
        )
      : [];
    if (!link)
      throw new RegistrationRefused(
        'registration_link_invalid',
        'This registration URL is unknown, used or expired: ask for a new one.',
      );
    const configuration = this.url(configUrl, 'openid_configuration');
    const config = await this.json(configuration, { headers: { Accept: 'application/json' } }, 'OpenID configuration');
    const issuer = this.url(config.issuer, 'issuer');
    if (new URL(issuer).origin !== new URL(configuration).origin)
      throw new RegistrationRefused(
        'issuer_mismatch',
        'The platform’s issuer is not on the origin of its configuration URL.',
      );
    const authLoginUrl = this.url(config.authorization_endpoint, 'authorization_endpoint');
    const authTokenUrl = this.url(config.token_endpoint, 'token_endpoint');
    const jwksUrl = this.url(config.jwks_uri, 'jwks_uri');
    const registrationEndpoint = this.url(config.registration_endpoint, 'registration_endpoint');
    const methods = config.token_endpoint_auth_methods_supported;
    if (Array.isArray(methods) && !methods.includes('private_key_jwt'))
      throw new RegistrationRefused(
        'invalid_openid_configuration',
        'The platform does not take private_key_jwt client authentication.',
      );
    const supported = Array.isArray(config.scopes_supported) ? (config.scopes_supported as unknown[]) : null;
    const scopes = [...Object.values(AGS_SCOPE), NRPS_SCOPE].filter((s) => !supported || supported.includes(s));
    const urls = toolUrls(this.settings);
    const registration = {
      application_type: 'web',
      response_types: ['id_token'],
      grant_types: ['implicit', 'client_credentials'],
      initiate_login_uri: urls.login,
      redirect_uris: [urls.launch],
      client_name: 'Campus Access',
      jwks_uri: urls.jwks,
      token_endpoint_auth_method: 'private_key_jwt',
      scope: scopes.join(' '),
      [TOOL_CONFIGURATION]: {
        domain: new URL(urls.base).host,
        target_link_uri: urls.target,
        description: 'Campus Access: course projects, lab accounts, grades and rosters.',
        claims: ['iss', 'sub', 'name', 'given_name', 'family_name', 'email'],
        messages: [
          { type: 'LtiResourceLinkRequest', target_link_uri: urls.target, label: 'Campus Access' },
          { type: 'LtiDeepLinkingRequest', target_link_uri: urls.target, label: 'Campus Access content' },
        ],
      },
    };
    const answer = await this.json(
      registrationEndpoint,
      {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          Accept: 'application/json',
          ...(registrationToken ? { Authorization: `Bearer ${registrationToken}` } : {}),
        },
        body: JSON.stringify(registration),
      },
      'registration endpoint',
    );
    const clientId = answer.client_id;
    const toolConfig = answer[TOOL_CONFIGURATION] as Record<string, unknown> | undefined;
    const deploymentId = toolConfig?.deployment_id;
    if (typeof clientId !== 'string' || !clientId || clientId.length > 255)
      throw new RegistrationRefused('platform_refused', 'The platform’s registration answer has no client_id.', 502);
    if (typeof deploymentId !== 'string' || !deploymentId || deploymentId.length > 255)
      throw new RegistrationRefused(
        'platform_refused',
        'The platform’s registration answer has no deployment_id.',
        502,
      );
    const product = (config[PLATFORM_CONFIGURATION] as Record<string, unknown> | undefined)?.product_family_code;
    const pending = this.settings.LTI_REGISTRATION_APPROVAL;
    try {
      const platform = await this.transactions.run(async (tx) => {
        const used = await queryRows<{ id: string }>(
          tx,
          `UPDATE lti_registration_links SET used_at = now(), updated_at = now() WHERE id = $1 AND used_at IS NULL RETURNING id`,
          [link.id],
        );
        if (used.length === 0)
          throw new RegistrationRefused('registration_link_invalid', 'This registration URL was used meanwhile.');
        const made = await this.platforms.insert(
          {
            organizationId: link.organization_id,
            name: typeof product === 'string' ? product.slice(0, 255) : new URL(issuer).host,
            issuer,
            clientId,
            authLoginUrl,
            authTokenUrl,
            jwksUrl,
            deploymentIds: [deploymentId],
            approved: !pending,
          },
          tx,
        );
        await queryRows(tx, 'UPDATE lti_registration_links SET platform_id = $2 WHERE id = $1', [link.id, made.id]);
        await this.audit.record(
          {
            action: 'lti_platform.registered',
            actor: { type: 'system' },
            subjectType: 'LtiPlatform',
            subjectId: made.id,
            organizationId: made.organizationId,
            data: { issuer, client_id: clientId, deployment_ids: [deploymentId], pending_approval: pending },
          },
          tx,
        );
        return made;
      });
      return { platform, pending };
    } catch (e) {
      if (isUniqueViolation(e))
        throw new RegistrationRefused('duplicate_platform', 'This platform and client id are registered already.', 409);
      throw e;
    }
  }
}
