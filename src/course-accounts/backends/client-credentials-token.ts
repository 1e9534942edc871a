import { CourseAccountBackendError } from './course-account-backend';
import { HttpCaller } from './http-caller';

/** A token is used until this long before it expires. */
export const TOKEN_EXPIRY_MARGIN_MS = 60_000;
/** Lifetime assumed when the token endpoint does not say (`expires_in` missing). */
const DEFAULT_LIFETIME_S = 300;

export interface ClientCredentials {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
}

/**
 * An OAuth2 client-credentials access token, cached until TOKEN_EXPIRY_MARGIN_MS before it expires.
 * Concurrent callers share one token request; a failed request is not cached (the next call asks
 * again), and a token the API refused is dropped with `invalidate()`.
 */
export class ClientCredentialsToken {
  private cached?: { token: string; refreshAt: number };
  private inflight?: Promise<string>;
  /** Token requests sent (for tests and metrics). */
  requests = 0;

  constructor(
    private readonly credentials: ClientCredentials,
    private readonly http: HttpCaller,
    private readonly now: () => number = Date.now,
  ) {}

  get(): Promise<string> {
    if (this.cached && this.now() < this.cached.refreshAt) return Promise.resolve(this.cached.token);
    this.inflight ??= this.fetchToken().finally(() => (this.inflight = undefined));
    return this.inflight;
  }

  /** Forgets `token` if it is the cached one (the API answered 401 to it). */
  invalidate(token: string): void {
    if (this.cached?.token === token) this.cached = undefined;
  }

  private async fetchToken(): Promise<string> {
    this.requests++;
    const { clientId, clientSecret, tokenUrl } = this.credentials;
    const body = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: clientId,
      client_secret: clientSecret,
    });
    const res = await this.http.call('token', 'POST', tokenUrl, {
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: body.toString(),
    });
    if (res.status < 200 || res.status >= 300) {
      throw new CourseAccountBackendError(`The token endpoint answered ${res.status}`, {
        stage: 'token',
        method: 'POST',
        url: tokenUrl,
        status: res.status,
        body: res.excerpt,
        attempts: res.attempts,
      });
    }
    const json = res.json as { access_token?: unknown; expires_in?: unknown } | undefined;
    if (!json || typeof json.access_token !== 'string' || !json.access_token) {
      throw new CourseAccountBackendError('The token endpoint answered without an access_token', {
        stage: 'token',
        method: 'POST',
        url: tokenUrl,
        status: res.status,
        body: res.excerpt,
        attempts: res.attempts,
      });
    }
    const lifetimeS = typeof json.expires_in === 'number' && json.expires_in > 0 ? json.expires_in : DEFAULT_LIFETIME_S;
    this.cached = {
      token: json.access_token,
      refreshAt: this.now() + Math.max(0, lifetimeS * 1000 - TOKEN_EXPIRY_MARGIN_MS),
    };
    return json.access_token;
  }
}
