import { Injectable } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { setBounded } from '../../../common/collections/bounded-map';
import { InjectSettings } from '../../../config/settings.module';
import { Settings } from '../../../config/settings.schema';
import { LtiToolKeysService } from '../../keys/lti-tool-keys.service';
import { answerText, checkServiceUrl, PlatformCallError, platformFetch } from './platform-http';

/** The parts of a platform record a token request needs. */
export interface TokenPlatform {
  id: string;
  clientId: string;
  authTokenUrl: string;
}

interface CachedToken {
  token: string;
  /** Epoch ms after which the token is not used any more (shortly before the platform's expires_in). */
  useUntil: number;
}

/** Platforms × scope sets whose tokens are kept. */
const MAX_CACHED = 5000;
/** Lifetime of our client assertion (RFC 7523): the platform checks it once, right away. */
const ASSERTION_TTL_SECONDS = 300;
export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** How long before `expires_in` a cached token is dropped: a tenth of its life, between 5 s and 60 s. */
export const refreshMarginSeconds = (expiresIn: number) => Math.max(5, Math.min(60, Math.floor(expiresIn / 10)));

/**
 * Access tokens of platform services (AGS, NRPS): the OAuth 2 client_credentials grant with a JWT
 * client assertion (RFC 7523; iss = sub = our client_id, aud = the platform's token URL, jti, exp)
 * signed with the tool key published at /lti/jwks.json. A token is cached per (platform, scope set)
 * until shortly before its `expires_in`, and concurrent askers share one request. `call()` drops the
 * token and asks once more when a service answers 401 (a token the platform revoked or forgot).
 */
@Injectable()
export class PlatformTokens {
  private readonly cache = new Map<string, CachedToken>();
  private readonly inflight = new Map<string, Promise<CachedToken>>();
  /** Token requests made (benches and tests read it). */
  requests = 0;

  constructor(
    private readonly keys: LtiToolKeysService,
    private readonly logger: PinoLogger,
    @InjectSettings() private readonly settings: Settings,
  ) {
    this.logger.setContext('LTI');
  }

  private key(platform: TokenPlatform, scopes: readonly string[]): string {
    return `${platform.id}\n${[...new Set(scopes)].sort().join(' ')}`;
  }

  /** A valid access token for these scopes on the platform (cached, or fetched). */
  async token(platform: TokenPlatform, scopes: readonly string[]): Promise<string> {
    const key = this.key(platform, scopes);
    const cached = this.cache.get(key);
    if (cached && cached.useUntil > Date.now()) return cached.token;
    let pending = this.inflight.get(key);
    if (!pending) {
      pending = this.fetchToken(platform, scopes).finally(() => this.inflight.delete(key));
      this.inflight.set(key, pending);
    }
    return (await pending).token;
  }

  /** Forgets a token the platform refused (only that one: a newer token fetched meanwhile stays). */
  drop(platform: TokenPlatform, scopes: readonly string[], token: string): void {
    const key = this.key(platform, scopes);
    if (this.cache.get(key)?.token === token) this.cache.delete(key);
  }

  /** Forgets every token of the platform (its registration changed). */
  forget(platformId: string): void {
    for (const key of [...this.cache.keys()]) if (key.startsWith(`${platformId}\n`)) this.cache.delete(key);
  }

  /**
   * Calls a platform service with a bearer token; on a 401 the token is dropped and the call made
   * once more with a fresh one. Non-2xx answers become a PlatformCallError.
   */
  async call(
    platform: TokenPlatform,
    scopes: readonly string[],
    url: string,
    init: RequestInit & { headers?: Record<string, string> },
  ): Promise<Response> {
    for (let attempt = 1; ; attempt++) {
      const token = await this.token(platform, scopes);
      const res = await platformFetch(
        url,
        { ...init, headers: { ...init.headers, Authorization: `Bearer ${token}` } },
        this.settings.LTI_SERVICE_TIMEOUT_MS,
      );
      if (res.ok) return res;
      if (res.status === 401 && attempt === 1) {
        await res.body?.cancel();
        this.drop(platform, scopes, token);
        continue;
      }
      throw new PlatformCallError(res.status, await answerText(res), url);
    }
  }

  private async fetchToken(platform: TokenPlatform, scopes: readonly string[]): Promise<CachedToken> {
    const url = checkServiceUrl(
      platform.authTokenUrl,
      this.settings.LTI_ALLOW_INSECURE_PLATFORM_URLS,
      'auth_token_url',
    );
    const assertion = await this.keys.ring.sign(
      { iss: platform.clientId, sub: platform.clientId, aud: url },
      ASSERTION_TTL_SECONDS,
    );
    this.requests++;
    const res = await platformFetch(
      url,
      {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_assertion_type: CLIENT_ASSERTION_TYPE,
          client_assertion: assertion,
          scope: [...new Set(scopes)].sort().join(' '),
        }).toString(),
      },
      this.settings.LTI_SERVICE_TIMEOUT_MS,
    );
    const text = await answerText(res);
    if (!res.ok) {
      this.logger.warn({ lti_platform: platform.id, status: res.status }, 'LTI platform refused a token request');
      throw new PlatformCallError(res.status, text, url);
    }
    let body: { access_token?: unknown; expires_in?: unknown };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      throw new PlatformCallError(res.status, `token answer is not JSON: ${text.slice(0, 200)}`, url);
    }
    if (typeof body.access_token !== 'string' || !body.access_token)
      throw new PlatformCallError(res.status, 'token answer has no access_token', url);
    const expiresIn =
      typeof body.expires_in === 'number' && Number.isFinite(body.expires_in) && body.expires_in > 0
        ? body.expires_in
        : 3600;
    const entry = {
      token: body.access_token,
      useUntil: Date.now() + (expiresIn - refreshMarginSeconds(expiresIn)) * 1000,
    };
    setBounded(this.cache, this.key(platform, scopes), entry, MAX_CACHED);
    return entry;
  }
}
