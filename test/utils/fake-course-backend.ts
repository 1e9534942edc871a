import { randomUUID } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

/** What the fake is told to do wrong; change the fields at any time. */
export interface FakeFailures {
  /** Answer token requests with this status (e.g. 500) … */
  tokenStatus?: number;
  /** … this many times (default: until cleared). */
  tokenTimes?: number;
  /** Answer creations with this status … */
  createStatus?: number;
  createTimes?: number;
  /** Answer closes with this status (e.g. 404) even though the account exists … */
  closeStatus?: number;
  /** … only for these usernames (default: all). */
  closeFailUsernames?: string[];
  /** Never answer creations (the client must time out) this many times (default: until cleared). */
  hangCreates?: boolean;
  hangCreateTimes?: number;
  /** Make the account, then never answer (the answer is lost), this many times. */
  loseCreateAnswers?: number;
  /** Added to every answer. */
  delayMs?: number;
  /** Closes wait for this before they do anything (counted and recorded as they arrive). */
  closeGate?: Promise<void>;
  /** Array creations leave the accounts of these e-mails out of their answer (made, but not answered). */
  omitFromBatch?: string[];
}

export interface FakeTempAccount {
  username: string;
  uuid: string;
  email: string;
  description: string;
  ownerUsername: string;
  scopeSlug: string;
  scopeValidTo: string;
  idempotencyKey: string | null;
  closed: boolean;
}

export interface FakeRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export const FAKE_CLIENT_ID = 'campus-access';
export const FAKE_CLIENT_SECRET = 'fake-backend-secret';

/**
 * A local implementation of Waldur's external temporary-accounts API (and its OAuth2 token
 * endpoint) that counts what it does and can be told to fail. Creations with an `Idempotency-Key`
 * seen before answer the account made the first time, as the real API is expected to.
 */
export class FakeCourseBackend {
  readonly accounts = new Map<string, FakeTempAccount>();
  readonly requests: FakeRequest[] = [];
  fail: FakeFailures = {};
  tokenTtlSeconds = 3600;
  counts = { tokenRequests: 0, createRequests: 0, creations: 0, gets: 0, closes: 0, unauthorized: 0 };
  /** Items of each array creation, in arrival order. */
  batchSizes: number[] = [];
  private readonly byKey = new Map<string, string>();
  private validTokens = new Set<string>();
  private sequence = 0;
  private server?: Server;
  private hanging = new Set<ServerResponse>();
  origin = '';

  get tokenUrl(): string {
    return `${this.origin}/oauth/token`;
  }
  get apiUrl(): string {
    return `${this.origin}/api/temp-accounts`;
  }

  /** Settings that point the `http` backend here. */
  settings(extra: Record<string, string> = {}): Record<string, string> {
    return {
      COURSE_ACCOUNTS_BACKEND: 'http',
      COURSE_ACCOUNTS_API_URL: this.apiUrl,
      COURSE_ACCOUNTS_TOKEN_URL: this.tokenUrl,
      COURSE_ACCOUNTS_CLIENT_ID: FAKE_CLIENT_ID,
      COURSE_ACCOUNTS_CLIENT_SECRET: FAKE_CLIENT_SECRET,
      COURSE_ACCOUNTS_OFFERING_SLUGS: 'hpc-basic,storage',
      COURSE_ACCOUNTS_RETRY_BACKOFF_MS: '10',
      COURSE_ACCOUNTS_TIMEOUT_MS: '2000',
      ...extra,
    };
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(0, '127.0.0.1', () => resolve());
    });
    this.origin = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
    return this;
  }

  async close(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Tokens issued so far stop working (the next call with one gets 401). */
  revokeTokens(): void {
    this.validTokens = new Set();
  }

  /** Removes an account as if an operator deleted it upstream. */
  forget(username: string): void {
    const account = this.accounts.get(username);
    if (account?.idempotencyKey) this.byKey.delete(account.idempotencyKey);
    this.accounts.delete(username);
  }

  reset(): void {
    this.fail = {};
    this.counts = { tokenRequests: 0, createRequests: 0, creations: 0, gets: 0, closes: 0, unauthorized: 0 };
    this.batchSizes = [];
    this.requests.length = 0;
  }

  /** How many accounts were made for each idempotency key (each should be 1). */
  creationsByKey(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const a of this.accounts.values())
      counts.set(a.idempotencyKey ?? a.username, (counts.get(a.idempotencyKey ?? a.username) ?? 0) + 1);
    return counts;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const path = (req.url ?? '').split('?')[0];
    this.requests.push({ method: req.method ?? '', path, headers: req.headers, body });
    if (this.fail.delayMs) await sleep(this.fail.delayMs);

    if (req.method === 'POST' && path === '/oauth/token') return this.token(body, res);
    const api = '/api/temp-accounts';
    if (!path.startsWith(api)) return send(res, 404, { detail: 'Not found.' });
    if (!this.authorized(req)) {
      this.counts.unauthorized++;
      return send(res, 401, { detail: 'Invalid token.' });
    }
    const rest = path.slice(api.length).split('/').filter(Boolean).map(decodeURIComponent);
    if (req.method === 'POST' && rest.length === 0) return this.create(req, body, res);
    if (req.method === 'GET' && rest.length === 1) {
      this.counts.gets++;
      const account = this.accounts.get(rest[0]);
      return account ? send(res, 200, account) : send(res, 404, { detail: 'Not found.' });
    }
    if (req.method === 'PUT' && rest.length === 2 && rest[1] === 'close') {
      this.counts.closes++;
      if (this.fail.closeGate) await this.fail.closeGate;
      if (this.fail.closeStatus && (!this.fail.closeFailUsernames || this.fail.closeFailUsernames.includes(rest[0]))) {
        return send(res, this.fail.closeStatus, { detail: 'No such temporary account.' });
      }
      const account = this.accounts.get(rest[0]);
      if (!account) return send(res, 404, { detail: 'Not found.' });
      account.closed = true;
      return send(res, 200, { status: 'closed' });
    }
    return send(res, 405, { detail: 'Method not allowed.' });
  }

  private token(body: string, res: ServerResponse): void {
    this.counts.tokenRequests++;
    if (this.fail.tokenStatus && consume(this.fail, 'tokenTimes'))
      return send(res, this.fail.tokenStatus, { error: 'server_error', detail: 'token service down' });
    const form = new URLSearchParams(body);
    if (form.get('grant_type') !== 'client_credentials') return send(res, 400, { error: 'unsupported_grant_type' });
    if (form.get('client_id') !== FAKE_CLIENT_ID || form.get('client_secret') !== FAKE_CLIENT_SECRET)
      return send(res, 401, { error: 'invalid_client' });
    const token = `tok-${randomUUID()}`;
    this.validTokens.add(token);
    send(res, 200, { access_token: token, token_type: 'Bearer', expires_in: this.tokenTtlSeconds });
  }

  private authorized(req: IncomingMessage): boolean {
    const header = req.headers.authorization ?? '';
    return header.startsWith('Bearer ') && this.validTokens.has(header.slice(7));
  }

  private create(req: IncomingMessage, body: string, res: ServerResponse): void {
    this.counts.createRequests++;
    if (this.fail.hangCreates && consume(this.fail, 'hangCreateTimes')) {
      this.hanging.add(res);
      res.once('close', () => this.hanging.delete(res));
      return;
    }
    if (this.fail.createStatus && consume(this.fail, 'createTimes'))
      return send(res, this.fail.createStatus, { detail: 'Upstream directory is unavailable.' });
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      return send(res, 400, { detail: 'JSON parse error.' });
    }
    const header = typeof req.headers['idempotency-key'] === 'string' ? req.headers['idempotency-key'] : null;
    if (Array.isArray(parsed)) {
      // An array creation: each item carries its own idempotency key; the answer lists the items made.
      this.batchSizes.push(parsed.length);
      const answers: unknown[] = [];
      for (const item of parsed as Record<string, unknown>[]) {
        const key = typeof item.idempotencyKey === 'string' ? item.idempotencyKey : null;
        const made = this.make(item, key);
        if (typeof made === 'string') return send(res, 400, { detail: made });
        if (this.fail.omitFromBatch?.includes(made.email)) continue;
        answers.push({ idempotencyKey: key, email: made.email, tempAccount: made });
      }
      return send(res, 201, answers);
    }
    const made = this.make(parsed as Record<string, unknown>, header);
    if (typeof made === 'string') return send(res, 400, { detail: made });
    if (this.fail.loseCreateAnswers && this.fail.loseCreateAnswers > 0) {
      this.fail.loseCreateAnswers--;
      this.hanging.add(res);
      res.once('close', () => this.hanging.delete(res));
      return;
    }
    send(res, 201, { tempAccount: made });
  }

  /** Makes (or finds, by idempotency key) one account; a string says why the item is invalid. */
  private make(data: Record<string, unknown>, key: string | null): FakeTempAccount | string {
    const required = [
      'ownerUsername',
      'email',
      'description',
      'scopeType',
      'scopeName',
      'scopeSlug',
      'scopeOfferingSlugs',
      'scopeValidFrom',
      'scopeValidTo',
    ];
    const missing = required.filter((k) => !(k in data));
    if (missing.length || data.scopeType !== 'project' || !Array.isArray(data.scopeOfferingSlugs)) {
      return `Invalid body: ${missing.join(', ') || 'scopeType/scopeOfferingSlugs'}`;
    }
    const existing = key ? this.byKey.get(key) : undefined;
    if (existing && this.accounts.has(existing)) return this.accounts.get(existing)!;
    const account: FakeTempAccount = {
      username: `tmp${String(++this.sequence).padStart(5, '0')}`,
      uuid: randomUUID(),
      email: String(data.email),
      description: String(data.description),
      ownerUsername: String(data.ownerUsername),
      scopeSlug: String(data.scopeSlug),
      scopeValidTo: String(data.scopeValidTo),
      idempotencyKey: key,
      closed: false,
    };
    this.accounts.set(account.username, account);
    if (key) this.byKey.set(key, account.username);
    this.counts.creations++;
    return account;
  }
}

/** True while a limited failure still has uses left (and uses one); unlimited when no count is set. */
function consume(fail: FakeFailures, counter: 'tokenTimes' | 'createTimes' | 'hangCreateTimes'): boolean {
  const left = fail[counter];
  if (left === undefined) return true;
  if (left <= 0) return false;
  fail[counter] = left - 1;
  return true;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export async function startFakeCourseBackend(): Promise<FakeCourseBackend> {
  return new FakeCourseBackend().start();
}
