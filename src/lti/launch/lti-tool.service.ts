import { Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { PinoLogger } from 'nestjs-pino';
import { InjectSettings } from '../../config/settings.module';
import { Settings } from '../../config/settings.schema';
import { isToolUri, toolUrls } from '../lti-urls';
import type { LtiPlatform } from '../platforms/lti-platform.entity';
import { LtiPlatformsRepository } from '../platforms/lti-platforms.repository';
import { LtiProvisioner } from '../provisioning/lti-provisioner';
import { IdTokenValidator } from './id-token.validator';
import { LtiLaunchError } from './lti-launch-error';
import { LtiLoginsRepository } from './lti-logins.repository';
import { digestsEqual, randomSecret, sha256Hex } from '../../common/crypto/secrets';

/** Name of the cookie that binds a login's state to the browser that started it. */
export const stateCookieName = (state: string) => `lti_state_${state}`;
/** Key of the same secret in the platform's postMessage storage. */
export const storageKey = (state: string) => `lti_state_${state}`;

const STORAGE_TARGET = /^[A-Za-z0-9_.:-]{1,255}$/;

/** What the login answers: a redirect to the platform, or the postMessage page that stores the secret first. */
export type LoginAnswer =
  | { kind: 'redirect'; location: string; cookie: string }
  | {
      kind: 'storage';
      cookie: string;
      authUrl: string;
      platformOrigin: string;
      target: string;
      key: string;
      value: string;
    };

/** What the launch answers: a redirect to the target, or the page that reads the secret from platform storage. */
export type LaunchAnswer =
  | { kind: 'redirect'; location: string; clearCookie: string }
  | { kind: 'storage'; platformOrigin: string; target: string; key: string; fields: Record<string, string> };

/** A request parameter: a string or absent; a repeated or structured one is refused. */
function param(source: Record<string, unknown>, name: string, max = 2048): string | undefined {
  const v = source[name];
  if (v === undefined || v === '') return undefined;
  if (typeof v !== 'string' || v.length > max) throw new LtiLaunchError('invalid_parameter', { parameter: name });
  return v;
}

function cookies(req: Request): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out.set(part.slice(0, i).trim(), part.slice(i + 1).trim());
  }
  return out;
}

/**
 * The tool's two browser steps. Login (OIDC third-party initiated login): checks the platform's
 * parameters, makes the state, nonce and browser secret, and sends the browser to the platform.
 * Launch: finds the login by its state, checks the browser is the one that started it (state
 * cookie, or the platform's postMessage storage read back by our own page), validates the id_token
 * and provisions; the answer is a 303 to the target with a one-time launch id.
 */
@Injectable()
export class LtiToolService {
  constructor(
    private readonly platforms: LtiPlatformsRepository,
    private readonly logins: LtiLoginsRepository,
    private readonly validator: IdTokenValidator,
    private readonly provisioner: LtiProvisioner,
    private readonly logger: PinoLogger,
    @InjectSettings() private readonly settings: Settings,
  ) {
    this.logger.setContext('LTI');
  }

  private get urls() {
    return toolUrls(this.settings);
  }

  private cookie(name: string, value: string, maxAge: number): string {
    return `${name}=${value}; Path=${this.urls.cookiePath}; Max-Age=${maxAge}; HttpOnly; Secure; SameSite=None; Partitioned`;
  }

  async login(source: Record<string, unknown>): Promise<LoginAnswer> {
    const iss = param(source, 'iss', 255);
    const loginHint = param(source, 'login_hint');
    const targetLinkUri = param(source, 'target_link_uri');
    const messageHint = param(source, 'lti_message_hint', 4096);
    const clientId = param(source, 'client_id', 255);
    const deploymentId = param(source, 'lti_deployment_id', 255);
    const storageTarget = param(source, 'lti_storage_target', 255);
    if (!iss) throw new LtiLaunchError('missing_iss');
    const candidates = await this.platforms.findByIssuer(iss);
    if (candidates.length === 0) throw new LtiLaunchError('unknown_issuer', { iss });
    if (!loginHint) throw new LtiLaunchError('missing_login_hint');
    if (!targetLinkUri) throw new LtiLaunchError('missing_target_link_uri');
    if (!isToolUri(targetLinkUri, this.urls)) throw new LtiLaunchError('foreign_target_link_uri');
    let platform: LtiPlatform | undefined;
    if (clientId) {
      platform = candidates.find((p) => p.clientId === clientId);
      if (!platform) throw new LtiLaunchError('unknown_client_id', { iss, client_id: clientId });
    } else {
      if (candidates.length > 1) throw new LtiLaunchError('client_id_required', { iss });
      platform = candidates[0];
    }
    if (deploymentId && !platform.deploymentIds.includes(deploymentId))
      throw new LtiLaunchError('unknown_deployment', { platform: platform.id, deployment_id: deploymentId });
    if (storageTarget !== undefined && !STORAGE_TARGET.test(storageTarget))
      throw new LtiLaunchError('invalid_parameter', { parameter: 'lti_storage_target' });

    const state = randomSecret();
    const nonce = randomSecret();
    const binding = randomSecret();
    const ttl = this.settings.LTI_STATE_TTL_SECONDS;
    await this.logins.insert({
      stateHash: sha256Hex(state),
      nonceHash: sha256Hex(nonce),
      bindingHash: sha256Hex(binding),
      platformId: platform.id,
      deploymentId: deploymentId ?? null,
      targetLinkUri,
      storageTarget: storageTarget ?? null,
      expiresAt: new Date(Date.now() + ttl * 1000),
    });
    const auth = new URL(platform.authLoginUrl);
    const query: Record<string, string> = {
      scope: 'openid',
      response_type: 'id_token',
      response_mode: 'form_post',
      prompt: 'none',
      client_id: platform.clientId,
      redirect_uri: this.urls.launch,
      login_hint: loginHint,
      state,
      nonce,
      ...(messageHint ? { lti_message_hint: messageHint } : {}),
    };
    for (const [k, v] of Object.entries(query)) auth.searchParams.set(k, v);
    const cookie = this.cookie(stateCookieName(state), binding, ttl);
    if (!storageTarget) return { kind: 'redirect', location: auth.toString(), cookie };
    return {
      kind: 'storage',
      cookie,
      authUrl: auth.toString(),
      platformOrigin: auth.origin,
      target: storageTarget,
      key: storageKey(state),
      value: binding,
    };
  }

  async launch(req: Request): Promise<LaunchAnswer> {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const idToken = param(body, 'id_token', 64 * 1024);
    const state = param(body, 'state', 255);
    if (!idToken) throw new LtiLaunchError('missing_id_token');
    if (!state) throw new LtiLaunchError('missing_state');
    const login = await this.logins.findByState(sha256Hex(state));
    if (!login) throw new LtiLaunchError('unknown_state');
    if (login.usedAt) throw new LtiLaunchError('state_used', { login: login.id });
    if (login.expiresAt.getTime() <= Date.now()) throw new LtiLaunchError('state_expired', { login: login.id });
    const platform = await this.platforms.findAnyById(login.platformId);
    if (!platform || platform.deletedAt) throw new LtiLaunchError('platform_deleted', { platform: login.platformId });

    const storageTarget = param(body, 'lti_storage_target', 255) ?? login.storageTarget ?? undefined;
    const fromCookie = cookies(req).get(stateCookieName(state));
    const fromStorage = body.lti_storage_value;
    if (fromCookie !== undefined) {
      if (!digestsEqual(sha256Hex(fromCookie), login.bindingHash)) throw new LtiLaunchError('state_cookie_mismatch');
    } else if (fromStorage !== undefined) {
      // Only our own launch page posts this field: a form another site makes the browser send is cross-site.
      const site = req.headers['sec-fetch-site'];
      const sameOrigin = site === undefined ? req.headers.origin === this.urls.origin : site === 'same-origin';
      if (!sameOrigin) throw new LtiLaunchError('storage_cross_site', { sec_fetch_site: site ?? null });
      if (typeof fromStorage !== 'string' || !fromStorage || !digestsEqual(sha256Hex(fromStorage), login.bindingHash))
        throw new LtiLaunchError('storage_value_mismatch');
    } else if (storageTarget && STORAGE_TARGET.test(storageTarget)) {
      const fields: Record<string, string> = { id_token: idToken, state, lti_storage_target: storageTarget };
      return {
        kind: 'storage',
        platformOrigin: new URL(platform.authLoginUrl).origin,
        target: storageTarget,
        key: storageKey(state),
        fields,
      };
    } else {
      throw new LtiLaunchError('missing_state_cookie');
    }

    const claims = await this.validator.validate(idToken, platform, login, (hash) => this.logins.nonceIssued(hash));
    const { launchId } = await this.provisioner.launch(platform, login, claims);
    // A deep-linking launch opens the content picker, whatever its target.
    const target = new URL(
      claims.messageType === 'LtiDeepLinkingRequest' ? `${this.urls.base}/lti/deep-linking` : claims.targetLinkUri,
    );
    target.searchParams.set('launch_id', launchId);
    this.logger.info({ lti_platform: platform.id, lti_launch: launchId }, 'LTI launch');
    return { kind: 'redirect', location: target.toString(), clearCookie: this.cookie(stateCookieName(state), '', 0) };
  }

  /** Logs a refusal with its reason (never a token or a secret). */
  logRefusal(step: 'login' | 'launch', e: LtiLaunchError): void {
    this.logger.warn({ lti_step: step, lti_reason: e.reason, ...e.details }, `LTI ${step} refused: ${e.reason}`);
  }
}
