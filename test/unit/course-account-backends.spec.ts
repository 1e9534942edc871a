import { DataSource } from 'typeorm';
import {
  ClientCredentialsToken,
  TOKEN_EXPIRY_MARGIN_MS,
} from '../../src/course-accounts/backends/client-credentials-token';
import {
  BackendAccountRequest,
  BackendProject,
  CourseAccountBackendError,
} from '../../src/course-accounts/backends/course-account-backend';
import { HttpCaller } from '../../src/course-accounts/backends/http-caller';
import { HttpCourseAccountBackend } from '../../src/course-accounts/backends/http.backend';
import { MockCourseAccountBackend, mockUsername } from '../../src/course-accounts/backends/mock.backend';
import { createStateMachineDatabase } from '../utils/course-accounts-db';
import {
  FAKE_CLIENT_ID,
  FAKE_CLIENT_SECRET,
  FakeCourseBackend,
  startFakeCourseBackend,
} from '../utils/fake-course-backend';

const project: BackendProject = {
  id: 'p1',
  key: 'engl-101-2026',
  name: 'English 101',
  startDate: '2026-09-01',
  endDate: '2026-12-20',
};
let keys = 0;
const request = (overrides: Partial<BackendAccountRequest> = {}): BackendAccountRequest => ({
  idempotencyKey: `key-${++keys}-${Math.random().toString(36).slice(2, 8)}`,
  email: 'student@example.edu',
  description: 'Lab account',
  ownerUsername: 'teacher',
  validTo: '2026-12-20',
  ...overrides,
});

async function failure(work: Promise<unknown>): Promise<CourseAccountBackendError> {
  const e = await work.then(
    () => {
      throw new Error('expected a backend error');
    },
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(CourseAccountBackendError);
  return e as CourseAccountBackendError;
}

describe('HTTP course-account backend against the fake temporary-accounts API', () => {
  let fake: FakeCourseBackend;
  beforeAll(async () => {
    fake = await startFakeCourseBackend();
  });
  afterAll(() => fake.close());
  beforeEach(() => fake.reset());

  const backend = (overrides: Partial<ConstructorParameters<typeof HttpCourseAccountBackend>[0]> = {}) =>
    new HttpCourseAccountBackend({
      apiUrl: fake.apiUrl,
      tokenUrl: fake.tokenUrl,
      clientId: FAKE_CLIENT_ID,
      clientSecret: FAKE_CLIENT_SECRET,
      offeringSlugs: ['hpc-basic'],
      timeoutMs: 1000,
      retries: 2,
      retryBackoffMs: 5,
      ...overrides,
    });

  it('creates an account with the contract body, a bearer token and an idempotency key', async () => {
    const b = backend();
    const req = request();
    const created = await b.create(req, project);
    const account = fake.accounts.get(created.username)!;
    expect(created.backendId).toBe(account.uuid);
    const post = fake.requests.find((r) => r.method === 'POST' && r.path === '/api/temp-accounts')!;
    expect(post.headers['idempotency-key']).toBe(req.idempotencyKey);
    expect(post.headers.authorization).toMatch(/^Bearer tok-/);
    expect(JSON.parse(post.body)).toEqual({
      ownerUsername: 'teacher',
      email: 'student@example.edu',
      description: 'Lab account',
      scopeType: 'project',
      scopeName: 'English 101',
      scopeSlug: 'engl-101-2026',
      scopeOfferingSlugs: ['hpc-basic'],
      scopeValidFrom: '2026-09-01',
      scopeValidTo: '2026-12-20',
    });
    const token = fake.requests.find((r) => r.path === '/oauth/token')!;
    expect(Object.fromEntries(new URLSearchParams(token.body))).toEqual({
      grant_type: 'client_credentials',
      client_id: FAKE_CLIENT_ID,
      client_secret: FAKE_CLIENT_SECRET,
    });
  });

  it('answers the first account when a creation is repeated with the same key', async () => {
    const b = backend();
    const req = request();
    const [a, c] = await Promise.all([b.create(req, project), b.create(req, project)]);
    expect(await b.create(req, project)).toEqual(a);
    expect(c).toEqual(a);
    expect(fake.counts.creations).toBe(1);
  });

  it('shares one token between concurrent calls and reuses it', async () => {
    const b = backend();
    await Promise.all(Array.from({ length: 10 }, () => b.create(request(), project)));
    await b.get('nobody');
    expect(fake.counts.tokenRequests).toBe(1);
    expect(fake.counts.creations).toBe(10);
  });

  it('gets a new token once when the API answers 401, and goes on', async () => {
    const b = backend();
    await b.create(request(), project);
    fake.revokeTokens();
    await b.create(request(), project);
    expect(fake.counts).toMatchObject({ tokenRequests: 2, unauthorized: 1, creations: 2 });
  });

  it('reports a failing token endpoint as a token error with its status, after retrying', async () => {
    fake.fail = { tokenStatus: 500 };
    const e = await failure(backend().create(request(), project));
    expect(e.details).toMatchObject({ stage: 'token', status: 500, attempts: 3 });
    expect(e.details.body).toContain('token service down');
    expect(e.message).toContain('500');
    expect(fake.counts).toMatchObject({ tokenRequests: 3, createRequests: 0 });
  });

  it('retries a 5xx creation and succeeds once the API recovers', async () => {
    fake.fail = { createStatus: 503, createTimes: 2 };
    const created = await backend().create(request(), project);
    expect(fake.accounts.has(created.username)).toBe(true);
    expect(fake.counts).toMatchObject({ createRequests: 3, creations: 1 });
  });

  it('gives up on a creation after the retries, recording the status and a body excerpt', async () => {
    fake.fail = { createStatus: 500 };
    const e = await failure(backend().create(request(), project));
    expect(e.details).toMatchObject({ stage: 'request', method: 'POST', status: 500, attempts: 3 });
    expect(e.message).toContain('Upstream directory is unavailable');
    expect(e.traceback).toContain('status: 500');
    expect(fake.counts.createRequests).toBe(3);
  });

  it('does not retry a 4xx answer', async () => {
    fake.fail = { createStatus: 400 };
    const e = await failure(backend().create(request(), project));
    expect(e.details.status).toBe(400);
    expect(fake.counts.createRequests).toBe(1);
  });

  it('times out a creation that gets no answer and retries it without creating twice', async () => {
    fake.fail = { hangCreates: true, hangCreateTimes: 1 };
    const started = Date.now();
    const created = await backend({ timeoutMs: 200 }).create(request(), project);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(fake.accounts.has(created.username)).toBe(true);
    expect(fake.counts).toMatchObject({ createRequests: 2, creations: 1 });
  });

  it('says when the backend never answers', async () => {
    fake.fail = { hangCreates: true };
    const e = await failure(backend({ timeoutMs: 100, retries: 1 }).create(request(), project));
    expect(e.message).toContain('no answer within 100 ms');
    expect(e.details.attempts).toBe(2);
  });

  it('works with slow answers inside the timeout', async () => {
    fake.fail = { delayMs: 60 };
    const b = backend({ timeoutMs: 1000 });
    const created = await b.create(request(), project);
    expect(await b.get(created.username)).toBe(true);
  });

  it('reads accounts (404 means gone) and closes them', async () => {
    const b = backend();
    const { username } = await b.create(request(), project);
    expect(await b.get(username)).toBe(true);
    expect(await b.get('tmp-missing')).toBe(false);
    await b.close(username);
    expect(fake.accounts.get(username)!.closed).toBe(true);
    const e = await failure(b.close('tmp-missing'));
    expect(e.details).toMatchObject({ status: 404, method: 'PUT' });
  });

  it('reports a close answered 404 with the upstream status, without retrying', async () => {
    const b = backend();
    const { username } = await b.create(request(), project);
    fake.fail = { closeStatus: 404 };
    const e = await failure(b.close(username));
    expect(e.details.status).toBe(404);
    expect(fake.counts.closes).toBe(1);
  });

  it('reports an unreachable backend after retrying network errors', async () => {
    const gone = await startFakeCourseBackend();
    const url = gone.apiUrl;
    await gone.close();
    const b = new HttpCourseAccountBackend({
      apiUrl: url,
      tokenUrl: `${url.replace('/api/temp-accounts', '')}/oauth/token`,
      clientId: 'x',
      clientSecret: 'y',
      offeringSlugs: [],
      timeoutMs: 500,
      retries: 1,
      retryBackoffMs: 5,
    });
    const e = await failure(b.get('anyone'));
    expect(e.details).toMatchObject({ stage: 'token', attempts: 2 });
    expect(e.details.cause).toMatch(/ECONNREFUSED|fetch failed/);
  });

  it('stops waiting when the caller aborts', async () => {
    fake.fail = { hangCreates: true };
    const abort = new AbortController();
    const pending = backend({ timeoutMs: 5000 }).create(request(), project, { signal: abort.signal });
    setTimeout(() => abort.abort(new Error('job canceled')), 50);
    await expect(pending).rejects.toThrow('job canceled');
  });
});

describe('Client-credentials token cache', () => {
  let fake: FakeCourseBackend;
  beforeAll(async () => {
    fake = await startFakeCourseBackend();
  });
  afterAll(() => fake.close());

  it('keeps a token until 60 s before it expires', async () => {
    fake.reset();
    fake.tokenTtlSeconds = 3600;
    let now = 1_000_000;
    const tokens = new ClientCredentialsToken(
      { tokenUrl: fake.tokenUrl, clientId: FAKE_CLIENT_ID, clientSecret: FAKE_CLIENT_SECRET },
      new HttpCaller({ timeoutMs: 1000, retries: 0, retryBackoffMs: 0 }),
      () => now,
    );
    const first = await tokens.get();
    now += 3600_000 - TOKEN_EXPIRY_MARGIN_MS - 1;
    expect(await tokens.get()).toBe(first);
    now += 2;
    const second = await tokens.get();
    expect(second).not.toBe(first);
    expect(fake.counts.tokenRequests).toBe(2);
  });
});

describe('Mock course-account backend', () => {
  let ds: DataSource;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    ({ ds, drop } = await createStateMachineDatabase(4));
  }, 60_000);
  afterAll(() => drop?.());

  it('gives deterministic usernames, answers repeated creations with the first account, reads and closes', async () => {
    const mock = new MockCourseAccountBackend(ds);
    const req = request();
    const a = await mock.create(req, project);
    expect(a.username).toBe(mockUsername(project.key, req.idempotencyKey));
    expect(a.username).toMatch(/^engl-101-2026-[0-9a-f]{10}$/);
    expect(await mock.create(req, project)).toEqual(a);
    expect(await mock.get(a.username)).toBe(true);
    expect(await mock.get('nobody')).toBe(false);
    await mock.close(a.username);
    await mock.close(a.username);
    const e = await failure(mock.close('nobody'));
    expect(e.details.status).toBe(404);
  });
});
