import { Injectable } from '@nestjs/common';
import { compactVerify, decodeProtectedHeader, errors as joseErrors } from 'jose';
import { InjectSettings } from '../../config/settings.module';
import { Settings } from '../../config/settings.schema';
import { isToolUri, toolUrls } from '../lti-urls';
import type { LtiPlatform } from '../platforms/lti-platform.entity';
import { CLAIM, HANDLED_MESSAGE_TYPES, HandledMessageType, LaunchClaims, RECORDED_CLAIMS } from './lti-claims';
import { LtiLaunchError, LtiReason } from './lti-launch-error';
import type { LoginRecord } from './lti-logins.repository';
import { PlatformKeys } from './platform-keys';
import { digestsEqual, sha256Hex } from '../../common/crypto/secrets';

const ALGORITHMS = ['RS256', 'ES256'];
const MAX_ID = 255;

type Payload = Record<string, unknown>;

const isObject = (v: unknown): v is Payload => typeof v === 'object' && v !== null && !Array.isArray(v);
const storable = (v: string) => !v.includes('\u0000') && [...v].length <= MAX_ID;

/** An optional string claim that is blank, too long or not text counts as absent. */
function text(v: unknown, max = 255): string | undefined {
  if (typeof v !== 'string' || !v.trim() || v.includes('\u0000')) return undefined;
  const t = v.trim();
  return [...t].length <= max ? t : undefined;
}

function signatureReason(e: unknown): LtiReason {
  if (e instanceof joseErrors.JWKSNoMatchingKey || e instanceof joseErrors.JWKSMultipleMatchingKeys)
    return 'unknown_kid';
  if (e instanceof joseErrors.JOSEAlgNotAllowed) return 'alg_not_allowed';
  if (e instanceof joseErrors.JWKSTimeout || e instanceof joseErrors.JWKSInvalid) return 'jwks_unavailable';
  if (e instanceof joseErrors.JWSInvalid) return 'malformed_id_token';
  if (e instanceof joseErrors.JWSSignatureVerificationFailed) return 'bad_signature';
  // jose's remote key set throws the bare JOSEError for a JWKS answer that is not 200 or not JSON.
  if (e instanceof joseErrors.JOSEError && e.code === joseErrors.JOSEError.code) return 'jwks_unavailable';
  if (e instanceof joseErrors.JOSEError) return 'bad_signature';
  // fetch failures (connection refused, DNS) and non-JSON answers of the JWKS URL.
  return 'jwks_unavailable';
}

/**
 * Validates a launch's id_token as the LTI Security Framework (§5.1.3) and LTI Core ask, each
 * failure its own reason: signature against the platform's cached JWKS (RS256, or ES256 for an EC
 * key; `kid` required), issuer, audience and azp, exp and iat (with LTI_CLOCK_SKEW_SECONDS, no
 * maximum age), the nonce bound to this login's state, deployment, version, message type, target
 * link, resource link, roles and sub.
 */
@Injectable()
export class IdTokenValidator {
  constructor(
    private readonly keys: PlatformKeys,
    @InjectSettings() private readonly settings: Settings,
  ) {}

  async validate(
    token: string,
    platform: LtiPlatform,
    login: LoginRecord,
    nonceIssuedElsewhere: (nonceHash: string) => Promise<'used' | 'issued' | null>,
  ): Promise<LaunchClaims> {
    let header: ReturnType<typeof decodeProtectedHeader>;
    try {
      header = decodeProtectedHeader(token);
    } catch {
      throw new LtiLaunchError('malformed_id_token');
    }
    if (token.split('.').length !== 3) throw new LtiLaunchError('malformed_id_token');
    if (typeof header.alg !== 'string' || !ALGORITHMS.includes(header.alg))
      throw new LtiLaunchError('alg_not_allowed', { alg: header.alg });
    if (typeof header.kid !== 'string' || !header.kid) throw new LtiLaunchError('missing_kid');

    let bytes: Uint8Array;
    try {
      ({ payload: bytes } = await compactVerify(token, this.keys.for(platform), { algorithms: ALGORITHMS }));
    } catch (e) {
      throw new LtiLaunchError(signatureReason(e), { kid: header.kid, error: (e as Error).name });
    }
    let p: Payload;
    try {
      const parsed: unknown = JSON.parse(new TextDecoder().decode(bytes));
      if (!isObject(parsed)) throw new Error('not an object');
      p = parsed;
    } catch {
      throw new LtiLaunchError('malformed_id_token');
    }

    if (p.iss !== platform.issuer) throw new LtiLaunchError('wrong_issuer', { iss: String(p.iss).slice(0, 255) });
    const aud = typeof p.aud === 'string' ? [p.aud] : Array.isArray(p.aud) ? p.aud : [];
    if (!aud.includes(platform.clientId)) throw new LtiLaunchError('wrong_audience');
    if (aud.length > 1 && p.azp === undefined) throw new LtiLaunchError('missing_azp');
    if (p.azp !== undefined && p.azp !== platform.clientId) throw new LtiLaunchError('wrong_azp');

    const now = Math.floor(Date.now() / 1000);
    const skew = this.settings.LTI_CLOCK_SKEW_SECONDS;
    if (typeof p.exp !== 'number' || !Number.isFinite(p.exp)) throw new LtiLaunchError('missing_exp');
    if (typeof p.iat !== 'number' || !Number.isFinite(p.iat)) throw new LtiLaunchError('missing_iat');
    if (p.exp + skew < now) throw new LtiLaunchError('token_expired', { exp: p.exp });
    if (p.iat - skew > now) throw new LtiLaunchError('iat_in_future', { iat: p.iat });

    if (typeof p.nonce !== 'string' || !p.nonce) throw new LtiLaunchError('missing_nonce');
    const nonceHash = sha256Hex(p.nonce);
    if (!digestsEqual(nonceHash, login.nonceHash)) {
      const elsewhere = await nonceIssuedElsewhere(nonceHash);
      throw new LtiLaunchError(
        elsewhere === 'used' ? 'nonce_used' : elsewhere === 'issued' ? 'nonce_not_bound_to_state' : 'nonce_not_issued',
      );
    }

    const deploymentId = p[CLAIM.deploymentId];
    if (typeof deploymentId !== 'string' || !deploymentId) throw new LtiLaunchError('missing_deployment_id');
    if (!platform.deploymentIds.includes(deploymentId))
      throw new LtiLaunchError('unknown_deployment', { deployment_id: deploymentId.slice(0, 255) });
    if (login.deploymentId && login.deploymentId !== deploymentId) throw new LtiLaunchError('deployment_mismatch');
    if (p[CLAIM.version] !== '1.3.0')
      throw new LtiLaunchError('wrong_version', { version: String(p[CLAIM.version]).slice(0, 20) });
    const messageType = p[CLAIM.messageType];
    if (typeof messageType !== 'string' || !(HANDLED_MESSAGE_TYPES as readonly string[]).includes(messageType))
      throw new LtiLaunchError('unsupported_message_type', { message_type: String(messageType).slice(0, 64) });

    const target = p[CLAIM.targetLinkUri];
    if (typeof target !== 'string' || !target) throw new LtiLaunchError('missing_target_link_uri');
    if (target.length > 2048 || !isToolUri(target, toolUrls(this.settings)))
      throw new LtiLaunchError('foreign_target_link_uri');
    if (target !== login.targetLinkUri) throw new LtiLaunchError('target_link_uri_mismatch');

    const link = p[CLAIM.resourceLink];
    const deepLinking = messageType === 'LtiDeepLinkingRequest';
    if (deepLinking) {
      // A deep-linking launch picks content: it needs the settings saying where to answer, and has no resource link.
      const settings = p[CLAIM.deepLinkingSettings];
      if (!isObject(settings)) throw new LtiLaunchError('missing_deep_linking_settings');
      if (
        typeof settings.deep_link_return_url !== 'string' ||
        !/^https?:\/\//.test(settings.deep_link_return_url) ||
        settings.deep_link_return_url.length > 2048 ||
        !Array.isArray(settings.accept_types)
      )
        throw new LtiLaunchError('invalid_claim', { claim: 'deep_linking_settings' });
    } else {
      if (!isObject(link) || typeof link.id !== 'string' || !link.id) throw new LtiLaunchError('missing_resource_link');
      if (!storable(link.id)) throw new LtiLaunchError('invalid_claim', { claim: 'resource_link.id' });
    }

    const roles = p[CLAIM.roles];
    if (roles === undefined) throw new LtiLaunchError('missing_roles');
    if (!Array.isArray(roles) || roles.some((r) => typeof r !== 'string' || r.length > 1024) || roles.length > 100)
      throw new LtiLaunchError('invalid_claim', { claim: 'roles' });

    if (typeof p.sub !== 'string' || !p.sub) throw new LtiLaunchError('missing_sub');
    if (!storable(p.sub)) throw new LtiLaunchError('invalid_claim', { claim: 'sub' });

    const context = p[CLAIM.context];
    if (
      context !== undefined &&
      (!isObject(context) || typeof context.id !== 'string' || !context.id || !storable(context.id))
    )
      throw new LtiLaunchError('invalid_claim', { claim: 'context' });

    const record = Object.fromEntries(
      Object.entries(RECORDED_CLAIMS).flatMap(([name, claim]) => (p[claim] === undefined ? [] : [[name, p[claim]]])),
    );
    return {
      sub: p.sub,
      exp: p.exp,
      messageType: messageType as HandledMessageType,
      deploymentId,
      targetLinkUri: target,
      roles: roles as string[],
      context: isObject(context)
        ? { id: context.id as string, title: text(context.title), label: text(context.label), type: context.type }
        : null,
      resourceLink:
        !deepLinking && isObject(link)
          ? { id: link.id as string, title: text(link.title), description: text(link.description, 4000) }
          : null,
      email: text(p.email, 254),
      givenName: text(p.given_name, 150),
      familyName: text(p.family_name, 150),
      name: text(p.name, 300),
      record,
    };
  }
}
