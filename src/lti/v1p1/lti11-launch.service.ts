import { Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { PinoLogger } from 'nestjs-pino';
import { InjectSettings } from '../../config/settings.module';
import { Settings } from '../../config/settings.schema';
import type { LaunchClaims } from '../launch/lti-claims';
import { LtiLaunchError } from '../launch/lti-launch-error';
import { isToolUri, platformUrlProblem, toolUrls } from '../lti-urls';
import { LtiProvisioner } from '../provisioning/lti-provisioner';
import type { LtiConsumer } from './lti-consumer.entity';
import { consumerSource, LtiConsumersService, lti11LaunchUrl } from './lti-consumers.service';
import { LtiConsumersRepository } from './lti-consumers.repository';
import { Lti11AssignmentsRepository } from './lti11-assignments.repository';
import { Lti11LaunchError } from './lti11-launch-error';
import { Lti11NoncesRepository, NonceStoreUnavailable } from './lti11-nonces.repository';
import { lti11Roles } from './lti11-roles';
import { OAuthParam, signatureMatches, SIGNATURE_METHOD } from './oauth1';

/** How far oauth_timestamp may be from our clock, either way; nonces are kept as long. */
export const TIMESTAMP_WINDOW_SECONDS = 300;

const MAX_ID = 255;
const MAX_PARAMS = 500;

/** Parameters whose repetition makes the launch ambiguous: refused. */
const SINGLE = [
  'oauth_consumer_key',
  'oauth_signature',
  'oauth_signature_method',
  'oauth_timestamp',
  'oauth_nonce',
  'oauth_version',
  'lti_message_type',
  'lti_version',
  'resource_link_id',
  'user_id',
  'roles',
  'context_id',
  'tool_consumer_instance_guid',
  'lis_outcome_service_url',
  'lis_result_sourcedid',
  'custom_target',
];

/** An optional text parameter: blank, too long or with a NUL counts as absent. */
function text(v: string | undefined, max = 255): string | undefined {
  if (v === undefined || !v.trim() || v.includes('\u0000')) return undefined;
  const t = v.trim();
  return [...t].length <= max ? t : undefined;
}

/** An identifier that is stored: present, at most 255 characters, no NUL. */
function id(v: string | undefined, name: string): string | undefined {
  if (v === undefined || v === '') return undefined;
  if (v.includes('\u0000') || [...v].length > MAX_ID)
    throw new Lti11LaunchError('invalid_parameter', { parameter: name });
  return v;
}

const pick = (params: Map<string, string>, prefix: string, strip = false) =>
  Object.fromEntries(
    [...params].filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [strip ? k.slice(prefix.length) : k, v]),
  );

/**
 * The LTI 1.1 launch (Basic LTI): checks the OAuth 1.0a signature of the consumer's form post
 * (HMAC-SHA1 over the public launch URL, its query and every form parameter), the timestamp window and
 * the nonce, then the LTI parameters, and provisions through the same code as LTI 1.3 launches. The
 * answer is a 303 to the target with the same one-time launch id.
 */
@Injectable()
export class Lti11LaunchService {
  constructor(
    private readonly consumers: LtiConsumersRepository,
    private readonly consumerSecrets: LtiConsumersService,
    private readonly nonces: Lti11NoncesRepository,
    private readonly assignments: Lti11AssignmentsRepository,
    private readonly provisioner: LtiProvisioner,
    private readonly logger: PinoLogger,
    @InjectSettings() private readonly settings: Settings,
  ) {
    this.logger.setContext('LTI');
  }

  async launch(req: Request): Promise<{ location: string }> {
    if (!req.is('application/x-www-form-urlencoded')) throw new Lti11LaunchError('not_form_encoded');
    const { all, single } = this.parameters(req);
    const get = (name: string) => single.get(name);

    const key = get('oauth_consumer_key');
    if (!key) throw new Lti11LaunchError('missing_consumer_key');
    const method = get('oauth_signature_method');
    if (method !== SIGNATURE_METHOD)
      throw new Lti11LaunchError('unsupported_signature_method', { method: method?.slice(0, 32) ?? null });
    const version = get('oauth_version');
    if (version !== undefined && version !== '1.0') throw new Lti11LaunchError('wrong_oauth_version');
    const signature = get('oauth_signature');
    if (!signature) throw new Lti11LaunchError('missing_signature');
    const timestampText = get('oauth_timestamp');
    if (!timestampText || !/^\d{1,12}$/.test(timestampText)) throw new Lti11LaunchError('invalid_timestamp');
    const nonce = get('oauth_nonce');
    if (!nonce) throw new Lti11LaunchError('missing_nonce');
    if (nonce.length > 255) throw new Lti11LaunchError('invalid_parameter', { parameter: 'oauth_nonce' });
    const guid = id(get('tool_consumer_instance_guid'), 'tool_consumer_instance_guid');

    const consumer = await this.consumers.findForLaunch(key, guid);
    if (!consumer || consumer.consumerKey !== key)
      throw new Lti11LaunchError('unknown_consumer', { consumer_key: key.slice(0, 255) });
    const timestamp = Number(timestampText);
    const skew = Date.now() / 1000 - timestamp;
    if (Math.abs(skew) > TIMESTAMP_WINDOW_SECONDS)
      throw new Lti11LaunchError('timestamp_out_of_window', {
        lti_consumer: consumer.id,
        skew_seconds: Math.round(skew),
      });
    // The URL the consumer signed is ours as PUBLIC_URL names it, with the query the request carried.
    const signedUrl = new URL(lti11LaunchUrl(this.settings));
    signedUrl.search = new URL(req.originalUrl, 'http://query.invalid').search;
    if (!this.verifies(signature, signedUrl, all, consumer))
      throw new Lti11LaunchError('bad_signature', { lti_consumer: consumer.id });
    const nonceExpiry = new Date((timestamp + TIMESTAMP_WINDOW_SECONDS) * 1000);
    let fresh: boolean;
    try {
      fresh = await this.nonces.spend(consumer.id, nonce, nonceExpiry);
    } catch (e) {
      if (e instanceof NonceStoreUnavailable)
        throw new Lti11LaunchError('nonce_store_unavailable', { lti_consumer: consumer.id });
      throw e;
    }
    if (!fresh) throw new Lti11LaunchError('nonce_replayed', { lti_consumer: consumer.id });

    if (get('lti_message_type') !== 'basic-lti-launch-request')
      throw new Lti11LaunchError('unsupported_message_type', { message_type: get('lti_message_type')?.slice(0, 64) });
    if (get('lti_version') !== 'LTI-1p0') throw new Lti11LaunchError('wrong_lti_version');
    const resourceLinkId = id(get('resource_link_id'), 'resource_link_id');
    if (!resourceLinkId) throw new Lti11LaunchError('missing_resource_link_id');
    const userId = id(get('user_id'), 'user_id');
    if (!userId) throw new Lti11LaunchError('missing_user_id');
    if (guid && !consumer.instanceGuid) await this.consumers.supplementGuid(consumer.id, guid);

    const urls = toolUrls(this.settings);
    const customTarget = get('custom_target');
    if (customTarget !== undefined && (customTarget.length > 2048 || !isToolUri(customTarget, urls)))
      throw new Lti11LaunchError('foreign_target');
    const claims = this.claims(single, userId, resourceLinkId, timestamp, customTarget ?? urls.target);
    const outcome = this.outcome(single, consumer);

    let launchId: string;
    try {
      ({ launchId } = await this.provisioner.provisionLaunch(
        consumerSource(consumer),
        claims,
        undefined,
        outcome
          ? async (tx, provisioned) => {
              await this.assignments.record(tx, {
                consumerId: consumer.id,
                serviceUrl: outcome.serviceUrl,
                sourcedid: outcome.sourcedid,
                organizationId: consumer.organizationId,
                projectId: provisioned.projectId,
                userId: provisioned.userId,
                resourceLinkId,
              });
            }
          : undefined,
      ));
    } catch (e) {
      if (e instanceof LtiLaunchError && e.reason === 'user_deactivated')
        throw new Lti11LaunchError('user_deactivated', e.details);
      throw e;
    }
    const target = new URL(claims.targetLinkUri);
    target.searchParams.set('launch_id', launchId);
    this.logger.info({ lti_consumer: consumer.id, lti_launch: launchId }, 'LTI 1.1 launch');
    return { location: target.toString() };
  }

  /** Logs a refusal with its reason (never a signature or a secret). */
  logRefusal(e: Lti11LaunchError): void {
    this.logger.warn(
      { lti_step: 'lti11_launch', lti_reason: e.reason, ...e.details },
      `LTI 1.1 launch refused: ${e.reason}`,
    );
  }

  private verifies(signature: string, url: URL, params: OAuthParam[], consumer: LtiConsumer): boolean {
    try {
      return signatureMatches(signature, 'POST', url, params, this.consumerSecrets.secretOf(consumer));
    } catch {
      // A value with no UTF-8 form (a lone surrogate) cannot have been signed.
      return false;
    }
  }

  /** Every form parameter (repeated ones kept, for the signature) and the single-valued view the launch reads. */
  private parameters(req: Request): { all: OAuthParam[]; single: Map<string, string> } {
    const all: OAuthParam[] = [];
    for (const [name, value] of Object.entries((req.body ?? {}) as Record<string, unknown>)) {
      for (const v of Array.isArray(value) ? value : [value]) {
        if (typeof v !== 'string') throw new Lti11LaunchError('invalid_parameter', { parameter: name.slice(0, 64) });
        all.push([name, v]);
      }
    }
    if (all.length > MAX_PARAMS) throw new Lti11LaunchError('invalid_parameter', { parameter: '(too many)' });
    const single = new Map<string, string>();
    for (const [name, value] of all) {
      if (single.has(name) && SINGLE.includes(name))
        throw new Lti11LaunchError('invalid_parameter', { parameter: name });
      if (!single.has(name)) single.set(name, value);
    }
    // The query string is signed too (as part of the URL), but the launch reads the form only.
    return { all, single };
  }

  private claims(
    p: Map<string, string>,
    userId: string,
    resourceLinkId: string,
    timestamp: number,
    targetLinkUri: string,
  ): LaunchClaims {
    const get = (name: string) => p.get(name);
    const contextId = id(get('context_id'), 'context_id');
    const context = contextId
      ? {
          id: contextId,
          title: text(get('context_title')),
          label: text(get('context_label')),
          type: get('context_type'),
        }
      : null;
    const resourceLink = {
      id: resourceLinkId,
      title: text(get('resource_link_title')),
      description: text(get('resource_link_description'), 4000),
    };
    return {
      sub: userId,
      exp: timestamp + TIMESTAMP_WINDOW_SECONDS,
      messageType: 'basic-lti-launch-request',
      deploymentId: '',
      targetLinkUri,
      roles: lti11Roles(get('roles')).slice(0, 100),
      context,
      resourceLink,
      email: text(get('lis_person_contact_email_primary'), 254),
      givenName: text(get('lis_person_name_given'), 150),
      familyName: text(get('lis_person_name_family'), 150),
      name: text(get('lis_person_name_full'), 300),
      record: {
        lti_version: get('lti_version'),
        context: context ?? undefined,
        resource_link: resourceLink,
        custom: pick(p, 'custom_', true),
        ext: pick(p, 'ext_'),
        launch_presentation: pick(p, 'launch_presentation_', true),
        lis: pick(p, 'lis_', true),
        tool_platform: pick(p, 'tool_consumer_', true),
        roles_sent: get('roles') ?? '',
      },
    };
  }

  /** The outcome service and result the launch names, when both are there and the URL is acceptable. */
  private outcome(p: Map<string, string>, consumer: LtiConsumer): { serviceUrl: string; sourcedid: string } | null {
    const serviceUrl = p.get('lis_outcome_service_url');
    const sourcedid = p.get('lis_result_sourcedid');
    if (!serviceUrl || !sourcedid) return null;
    const problem =
      serviceUrl.length > 2048 || Buffer.byteLength(sourcedid) > 2000 || sourcedid.includes('\u0000')
        ? 'is too long'
        : platformUrlProblem(serviceUrl, this.settings.LTI_ALLOW_INSECURE_PLATFORM_URLS);
    if (problem) {
      // The launch goes on; its grades cannot be sent there.
      this.logger.warn({ lti_consumer: consumer.id, problem }, 'LTI 1.1 launch: outcome service not recorded');
      return null;
    }
    return { serviceUrl, sourcedid };
  }
}
