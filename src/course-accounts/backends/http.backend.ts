import { ClientCredentialsToken } from './client-credentials-token';
import {
  BackendAccount,
  BackendAccountRequest,
  BackendCallOptions,
  BackendProject,
  CourseAccountBackend,
  CourseAccountBackendError,
} from './course-account-backend';
import { HttpAnswer, HttpCaller, HttpCallerOptions, redact } from './http-caller';

export interface HttpBackendOptions extends HttpCallerOptions {
  /** The temporary-accounts collection: POST creates, GET /{username} reads, PUT /{username}/close closes. */
  apiUrl: string;
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  /** Offerings the accounts may use (`scopeOfferingSlugs`). */
  offeringSlugs: string[];
}

/** What the API answers to a creation. */
interface CreatedTempAccount {
  tempAccount?: { username?: unknown; uuid?: unknown; id?: unknown };
}

function join(base: string, ...parts: string[]): string {
  return [base.replace(/\/+$/, ''), ...parts.map(encodeURIComponent)].join('/');
}

/**
 * Waldur's external temporary-accounts API. Every call carries an OAuth2 client-credentials token
 * (cached, shared, refreshed once on 401); creations carry an `Idempotency-Key` header so that a
 * creation repeated after a timeout or a crash answers the account made the first time.
 */
export class HttpCourseAccountBackend implements CourseAccountBackend {
  readonly kind = 'http' as const;
  readonly tokens: ClientCredentialsToken;
  private readonly http: HttpCaller;

  constructor(private readonly options: HttpBackendOptions) {
    this.http = new HttpCaller(options);
    this.tokens = new ClientCredentialsToken(options, this.http);
  }

  async create(
    account: BackendAccountRequest,
    project: BackendProject,
    options: BackendCallOptions = {},
  ): Promise<BackendAccount> {
    const body = {
      ownerUsername: account.ownerUsername,
      email: account.email ?? '',
      description: account.description,
      scopeType: 'project',
      scopeName: project.name,
      scopeSlug: project.key,
      scopeOfferingSlugs: this.options.offeringSlugs,
      scopeValidFrom: project.startDate ?? new Date().toISOString().slice(0, 10),
      scopeValidTo: account.validTo,
    };
    const url = this.options.apiUrl;
    const res = await this.send('POST', url, options, {
      body: JSON.stringify(body),
      idempotencyKey: account.idempotencyKey,
    });
    if (res.status < 200 || res.status >= 300) throw this.failure('create the account', 'POST', url, res);
    const temp = (res.json as CreatedTempAccount | undefined)?.tempAccount;
    if (!temp || typeof temp.username !== 'string' || !temp.username) {
      throw new CourseAccountBackendError('The backend answered a creation without tempAccount.username', {
        stage: 'request',
        method: 'POST',
        url: redact(url),
        status: res.status,
        body: res.excerpt,
        attempts: res.attempts,
      });
    }
    const id =
      typeof temp.uuid === 'string'
        ? temp.uuid
        : typeof temp.id === 'string' || typeof temp.id === 'number'
          ? String(temp.id)
          : temp.username;
    return { username: temp.username, backendId: id };
  }

  async get(username: string, options: BackendCallOptions = {}): Promise<boolean> {
    const url = join(this.options.apiUrl, username);
    const res = await this.send('GET', url, options);
    if (res.status === 404) return false;
    if (res.status >= 200 && res.status < 300) return true;
    throw this.failure('read the account', 'GET', url, res);
  }

  async close(username: string, options: BackendCallOptions = {}): Promise<void> {
    const url = `${join(this.options.apiUrl, username)}/close`;
    const res = await this.send('PUT', url, options);
    if (res.status < 200 || res.status >= 300) throw this.failure('close the account', 'PUT', url, res);
  }

  /** One call with a token; a 401 drops the token and tries once more with a fresh one. */
  private async send(
    method: string,
    url: string,
    options: BackendCallOptions,
    extra: { body?: string; idempotencyKey?: string } = {},
  ): Promise<HttpAnswer> {
    for (let refreshed = false; ; refreshed = true) {
      const token = await this.tokens.get();
      const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'application/json' };
      if (extra.body !== undefined) headers['content-type'] = 'application/json';
      if (extra.idempotencyKey) headers['idempotency-key'] = extra.idempotencyKey;
      const res = await this.http.call('request', method, url, { headers, body: extra.body, signal: options.signal });
      if (res.status !== 401 || refreshed) return res;
      this.tokens.invalidate(token);
    }
  }

  private failure(what: string, method: string, url: string, res: HttpAnswer): CourseAccountBackendError {
    return new CourseAccountBackendError(
      `The backend answered ${res.status} when asked to ${what}${res.excerpt ? `: ${oneLine(res.excerpt)}` : ''}`,
      {
        stage: 'request',
        method,
        url: redact(url),
        status: res.status,
        body: res.excerpt,
        attempts: res.attempts,
      },
    );
  }
}

function oneLine(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}
