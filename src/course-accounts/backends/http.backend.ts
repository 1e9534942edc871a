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
import { MicroBatcher } from '../../common/batching/micro-batcher';

export interface HttpBackendOptions extends HttpCallerOptions {
  /** The temporary-accounts collection: POST creates, GET /{username} reads, PUT /{username}/close closes. */
  apiUrl: string;
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  /** Offerings the accounts may use (`scopeOfferingSlugs`). */
  offeringSlugs: string[];
  /** Accounts per creation call (COURSE_ACCOUNTS_BATCH_SIZE): above 1, concurrent creations go as one array POST. */
  batchSize?: number;
}

interface BatchItem {
  account: BackendAccountRequest;
  project: BackendProject;
  signal?: AbortSignal;
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

  private readonly batches?: MicroBatcher<BatchItem, BackendAccount | CourseAccountBackendError>;

  constructor(private readonly options: HttpBackendOptions) {
    this.http = new HttpCaller(options);
    this.tokens = new ClientCredentialsToken(options, this.http);
    const size = options.batchSize ?? 1;
    if (size > 1) this.batches = new MicroBatcher((items) => this.createBatch(items), size, 2);
  }

  async create(
    account: BackendAccountRequest,
    project: BackendProject,
    options: BackendCallOptions = {},
  ): Promise<BackendAccount> {
    if (this.batches) {
      const made = await this.batches.add({ account, project, signal: options.signal });
      if (made instanceof CourseAccountBackendError) throw made;
      return made;
    }
    const body = this.creationBody(account, project);
    const url = this.options.apiUrl;
    const res = await this.send('POST', url, options, {
      body: JSON.stringify(body),
      idempotencyKey: account.idempotencyKey,
    });
    if (res.status < 200 || res.status >= 300) throw this.failure('create the account', 'POST', url, res);
    const made = tempAccountOf((res.json as CreatedTempAccount | undefined)?.tempAccount);
    if (!made) {
      throw new CourseAccountBackendError('The backend answered a creation without tempAccount.username', {
        stage: 'request',
        method: 'POST',
        url: redact(url),
        status: res.status,
        body: res.excerpt,
        attempts: res.attempts,
      });
    }
    return made;
  }

  /**
   * One array POST for several accounts, each item with its `idempotencyKey`. The answer's items
   * (an array, or `{ tempAccounts: [...] }`) are matched back by idempotency key, else by e-mail
   * when it names one account of the batch. A failed call fails every item; an item missing from
   * the answer fails alone (its account ends ERRED, retryable under the same key).
   */
  private async createBatch(items: BatchItem[]): Promise<(BackendAccount | CourseAccountBackendError)[]> {
    const url = this.options.apiUrl;
    const body = items.map((i) => ({
      ...this.creationBody(i.account, i.project),
      idempotencyKey: i.account.idempotencyKey,
    }));
    let res: HttpAnswer;
    try {
      // One signal for the call: a canceled job's own items only wait; the others' call goes on.
      res = await this.send('POST', url, {}, { body: JSON.stringify(body) });
    } catch (e) {
      if (e instanceof CourseAccountBackendError) return items.map(() => e);
      throw e;
    }
    if (res.status < 200 || res.status >= 300) {
      const error = this.failure(`create ${items.length} accounts`, 'POST', url, res);
      return items.map(() => error);
    }
    const json = res.json as unknown;
    const answered: unknown[] = Array.isArray(json)
      ? json
      : Array.isArray((json as { tempAccounts?: unknown })?.tempAccounts)
        ? (json as { tempAccounts: unknown[] }).tempAccounts
        : [];
    const byKey = new Map<string, BackendAccount>();
    const byEmail = new Map<string, BackendAccount | null>();
    for (const raw of answered) {
      const entry = raw as { idempotencyKey?: unknown; email?: unknown; tempAccount?: unknown };
      const temp = (entry.tempAccount ?? entry) as { email?: unknown; idempotencyKey?: unknown };
      const made = tempAccountOf(temp as CreatedTempAccount['tempAccount']);
      if (!made) continue;
      const key = entry.idempotencyKey ?? temp.idempotencyKey;
      if (typeof key === 'string' && key) byKey.set(key, made);
      const email = entry.email ?? temp.email;
      if (typeof email === 'string' && email) {
        const lower = email.toLowerCase();
        byEmail.set(lower, byEmail.has(lower) ? null : made);
      }
    }
    const emailsInBatch = new Map<string, number>();
    for (const i of items) {
      const lower = (i.account.email ?? '').toLowerCase();
      if (lower) emailsInBatch.set(lower, (emailsInBatch.get(lower) ?? 0) + 1);
    }
    return items.map((i) => {
      const lower = (i.account.email ?? '').toLowerCase();
      const found =
        byKey.get(i.account.idempotencyKey) ??
        (lower && emailsInBatch.get(lower) === 1 ? (byEmail.get(lower) ?? undefined) : undefined);
      return (
        found ??
        new CourseAccountBackendError(
          `The backend's answer to a creation of ${items.length} accounts did not include this one`,
          {
            stage: 'request',
            method: 'POST',
            url: redact(url),
            status: res.status,
            body: res.excerpt,
            attempts: res.attempts,
          },
        )
      );
    });
  }

  private creationBody(account: BackendAccountRequest, project: BackendProject): Record<string, unknown> {
    return {
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

/** The upstream identity in a creation's answer, or null when it names no username. */
function tempAccountOf(temp: CreatedTempAccount['tempAccount']): BackendAccount | null {
  if (!temp || typeof temp.username !== 'string' || !temp.username) return null;
  const id =
    typeof temp.uuid === 'string'
      ? temp.uuid
      : typeof temp.id === 'string' || typeof temp.id === 'number'
        ? String(temp.id)
        : temp.username;
  return { username: temp.username, backendId: id };
}

function oneLine(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}
