import { randomUUID } from 'node:crypto';
import { connect, type AddressInfo } from 'node:net';
import { MAX_PAGE } from '../../src/common/pagination/pagination';
import { createOrganization, createStaff, unique } from '../factories/accounts';
import { createTestApp, TestApp } from '../utils/test-app';
import { ProbeModule } from '../utils/probe.module';

describe('HTTP conventions', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({
      imports: [ProbeModule],
      settings: { BODY_LIMIT_BYTES: '2048', CORS_ORIGINS: 'https://lms.example.edu' },
    });
  });
  afterAll(() => t.close());

  it('serves routes under /api/v1 and echoes a valid body', async () => {
    const res = await t.http.post('/api/v1/probe/echo').send({ name: 'a', level: 3 }).expect(201);
    expect(res.body).toEqual({ name: 'a', level: 3 });
  });

  it('answers malformed JSON with 400 invalid_json', async () => {
    const res = await t.http
      .post('/api/v1/probe/echo')
      .set('Content-Type', 'application/json')
      .send('{"name":')
      .expect(400);
    expect(res.body).toEqual({ error: 'invalid_json', message: expect.any(String) });
  });

  it('answers a body it cannot decode with a client error in the common shape, never a 500', async () => {
    const echo = () => t.http.post('/api/v1/probe/echo').set('Content-Type', 'application/json');
    const brokenGzip = await echo().set('Content-Encoding', 'gzip').send('{"name":"a"}');
    expect({ status: brokenGzip.status, body: brokenGzip.body }).toEqual({
      status: 400,
      body: { error: 'bad_request', message: expect.any(String) },
    });
    const unknownEncoding = await echo().set('Content-Encoding', 'compress').send('{"name":"a"}');
    expect({ status: unknownEncoding.status, error: unknownEncoding.body.error }).toEqual({
      status: 415,
      error: 'unsupported_media_type',
    });
  });

  it('answers text PostgreSQL cannot store (a NUL character) with a 400, never a 500', async () => {
    const login = await t.http.post('/api/v1/auth/login').send({ username: 'ad\u0000min', password: 'whatever it is' });
    expect({ status: login.status, error: login.body.error }).toEqual({ status: 400, error: 'invalid_input' });
    const token = await t.http
      .post('/oauth/token')
      .type('form')
      .send('grant_type=client_credentials&client_id=cas%00client&client_secret=cas_secret');
    expect({ status: token.status, error: token.body.error }).toEqual({ status: 400, error: 'invalid_request' });
    const activation = await t.http
      .post('/oauth/token')
      .type('form')
      .send(
        'grant_type=urn:campus-access:params:oauth:grant-type:new-user-credentials&crsid=ab%0012&date_of_birth=1996-12-19&code=ABCDEFGHJKMN',
      );
    expect({ status: activation.status, error: activation.body.error }).toEqual({
      status: 400,
      error: 'invalid_request',
    });
  });

  it('answers text with an unpaired surrogate with 400 invalid_input and changes nothing, never a 500', async () => {
    const staff = await createStaff(t);
    const org = await createOrganization(t, { name: 'Before' });
    const user = `{"username":"${unique('u')}","organization":"${org.id}","email":"\\ud800@example.edu"}`;
    const created = await t.http
      .post('/api/v1/users')
      .set(staff.auth)
      .set('Content-Type', 'application/json')
      .send(user);
    expect({ status: created.status, body: created.body }).toEqual({
      status: 400,
      body: { error: 'invalid_input', message: expect.stringContaining('surrogate') },
    });
    const renamed = await t.http
      .patch(`/api/v1/organizations/${org.id}`)
      .set(staff.auth)
      .set('Content-Type', 'application/json')
      .send('{"name":"x\\udc00y"}');
    expect({ status: renamed.status, error: renamed.body.error }).toEqual({ status: 400, error: 'invalid_input' });
    const key = await t.http
      .patch(`/api/v1/organizations/${org.id}`)
      .set(staff.auth)
      .set('Content-Type', 'application/json')
      .send('{"\\ud800":"x"}');
    expect({ status: key.status, error: key.body.error }).toEqual({ status: 400, error: 'invalid_input' });
    const after = await t.http.get(`/api/v1/organizations/${org.id}`).set(staff.auth).expect(200);
    expect(after.body.name).toBe('Before');
    const paired = await t.http
      .patch(`/api/v1/organizations/${org.id}`)
      .set(staff.auth)
      .send({ name: 'After \u{1F600}' })
      .expect(200);
    expect(paired.body.name).toBe('After \u{1F600}');
  });

  it('answers an unknown field with 400 validation_failed naming it', async () => {
    const res = await t.http.post('/api/v1/probe/echo').send({ name: 'a', admin: true }).expect(400);
    expect(res.body.error).toBe('validation_failed');
    expect(res.body.details.unknown_fields).toEqual(['admin']);
  });

  it('answers a wrong type with 400 validation_failed naming the field', async () => {
    const res = await t.http.post('/api/v1/probe/echo').send({ name: 'a', level: 'high', email: 'nope' }).expect(400);
    expect(res.body.error).toBe('validation_failed');
    expect(res.body.details.fields.map((f: { field: string }) => f.field).sort()).toEqual(['email', 'level']);
  });

  it('answers a body over the limit with 413 payload_too_large', async () => {
    const res = await t.http
      .post('/api/v1/probe/echo')
      .send({ name: 'x'.repeat(5000) })
      .expect(413);
    expect(res.body.error).toBe('payload_too_large');
  });

  it('answers what the HTTP parser refuses (oversized headers, a malformed request line) with the common error body', async () => {
    const server = t.app.getHttpServer();
    if (!server.listening) await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const raw = (request: string) =>
      new Promise<string>((resolve, reject) => {
        const socket = connect(port, '127.0.0.1', () => socket.write(request));
        let answer = '';
        socket.setEncoding('utf8').on('data', (c: string) => (answer += c));
        socket.on('end', () => resolve(answer)).on('error', reject);
      });
    const oversized = await raw(
      `GET /health/live HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${'a'.repeat(20_000)}\r\n\r\n`,
    );
    expect(oversized.split('\r\n')[0]).toBe('HTTP/1.1 431 Request Header Fields Too Large');
    expect(JSON.parse(oversized.split('\r\n\r\n')[1])).toEqual({
      error: 'headers_too_large',
      message: expect.any(String),
    });
    const garbled = await raw('NOT HTTP AT ALL\r\n\r\n');
    expect(garbled.split('\r\n')[0]).toBe('HTTP/1.1 400 Bad Request');
    expect(JSON.parse(garbled.split('\r\n\r\n')[1])).toEqual({ error: 'bad_request', message: expect.any(String) });
  });

  it('gives clients 20 s for the headers and 30 s for the whole request by default', () => {
    const server = t.app.getHttpServer();
    expect({ headers: server.headersTimeout, request: server.requestTimeout }).toEqual({
      headers: 20_000,
      request: 30_000,
    });
  });

  it('answers stalled headers and a stalled body with 408 request_timeout within the configured times', async () => {
    const slow = await createTestApp({
      settings: { HTTP_HEADERS_TIMEOUT_MS: '1000', HTTP_REQUEST_TIMEOUT_MS: '4000' },
    });
    try {
      const server = slow.app.getHttpServer();
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as AddressInfo;
      const stall = (start: string) =>
        new Promise<{ answer: string; ms: number }>((resolve, reject) => {
          const began = Date.now();
          const socket = connect(port, '127.0.0.1', () => socket.write(start));
          let answer = '';
          socket.setEncoding('utf8').on('data', (c: string) => (answer += c));
          socket.on('close', () => resolve({ answer, ms: Date.now() - began })).on('error', reject);
        });
      const [headers, body] = await Promise.all([
        stall('GET /health/live HTTP/1.1\r\nHost: x\r\n'),
        stall(
          'POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"user',
        ),
      ]);
      for (const stalled of [headers, body]) {
        expect(stalled.answer.split('\r\n')[0]).toBe('HTTP/1.1 408 Request Timeout');
        expect(JSON.parse(stalled.answer.split('\r\n\r\n')[1])).toEqual({
          error: 'request_timeout',
          message: expect.any(String),
        });
      }
      expect(headers.ms).toBeGreaterThanOrEqual(900);
      // Node looks for late requests once a second.
      expect(headers.ms).toBeLessThan(3000);
      expect(body.ms).toBeGreaterThanOrEqual(3900);
      expect(body.ms).toBeLessThan(6000);
    } finally {
      await slow.close();
    }
  });

  it('answers an unknown route with 404 not_found', async () => {
    const res = await t.http.get('/api/v1/no/such/thing').expect(404);
    expect(res.body).toEqual({ error: 'not_found', message: 'No such route.' });
    for (const method of ['put', 'trace'] as const) {
      const other = await t.http[method]('/api/v1/no/such/thing').expect(404);
      expect(other.headers.allow).toBeUndefined();
      expect(other.body).toEqual({ error: 'not_found', message: 'No such route.' });
    }
  });

  it('answers a malformed id with 400 bad_request in every module, before looking anything up', async () => {
    const staff = await createStaff(t);
    for (const [method, path] of [
      ['get', '/api/v1/organizations/not-a-uuid'],
      ['get', '/api/v1/groups/not-a-uuid'],
      ['get', '/api/v1/jobs/not-a-uuid'],
      ['post', '/api/v1/jobs/not-a-uuid/cancel'],
      ['post', '/api/v1/organizations/not-a-uuid/users/export'],
      ['get', '/api/v1/course-accounts/not-a-uuid'],
      ['delete', '/api/v1/course-accounts/not-a-uuid'],
    ] as const) {
      const res = await t.http[method](path).set(staff.auth);
      expect({ path, status: res.status, error: res.body.error }).toEqual({ path, status: 400, error: 'bad_request' });
    }
  });

  it('answers a method a route does not take with 405 method_not_allowed and Allow; OPTIONS with 204 and Allow', async () => {
    // Without CORS: with it, the CORS middleware answers every OPTIONS request as a preflight.
    const plain = await createTestApp();
    try {
      for (const [method, path, allowed] of [
        ['put', '/api/v1/organizations', ['GET', 'HEAD', 'OPTIONS', 'POST']],
        ['trace', `/api/v1/organizations/${randomUUID()}`, ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH']],
        ['post', '/health/live', ['GET', 'HEAD', 'OPTIONS']],
        ['delete', '/api/v1/auth/me', ['GET', 'HEAD', 'OPTIONS']],
      ] as const) {
        const res = await plain.http[method](path).expect(405);
        expect(res.headers.allow).toBe(allowed.join(', '));
        expect(res.body).toEqual({
          error: 'method_not_allowed',
          message: `${path} does not accept ${method.toUpperCase()}.`,
          details: { allowed },
        });
        const options = await plain.http.options(path).expect(204);
        expect(options.headers.allow).toBe(allowed.join(', '));
        expect(options.text).toBe('');
      }
      const unknown = await plain.http.options('/api/v1/no/such/thing').expect(404);
      expect(unknown.body).toEqual({ error: 'not_found', message: 'No such route.' });
    } finally {
      await plain.close();
    }
  });

  it('answers an unhandled error with 500 internal_error, a request id and no internals', async () => {
    const res = await t.http.get('/api/v1/probe/boom').set('X-Request-Id', 'req-boom-1').expect(500);
    expect(res.body).toEqual({
      error: 'internal_error',
      message: 'Internal error.',
      details: { request_id: 'req-boom-1' },
    });
    expect(JSON.stringify(res.body)).not.toMatch(/secret internal detail|at .*\.ts/);
    expect(t.logs.some((l) => l.includes('secret internal detail') && l.includes('req-boom-1'))).toBe(true);
  });

  it('echoes a well-formed X-Request-Id and replaces a malformed one', async () => {
    const ok = await t.http.get('/health/live').set('X-Request-Id', 'abc-123').expect(200);
    expect(ok.headers['x-request-id']).toBe('abc-123');
    const bad = await t.http.get('/health/live').set('X-Request-Id', 'no spaces allowed').expect(200);
    expect(bad.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('paginates with count, next and previous', async () => {
    const first = await t.http.get('/api/v1/probe/numbers?page_size=10').expect(200);
    expect(first.body.count).toBe(23);
    expect(first.body.results).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(first.body.previous).toBeNull();
    expect(first.body.next).toMatch(/page=2/);
    const last = await t.http.get('/api/v1/probe/numbers?page_size=10&page=3').expect(200);
    expect(last.body.results).toEqual([21, 22, 23]);
    expect(last.body.next).toBeNull();
    expect(last.body.previous).toMatch(/page=2/);
  });

  it('builds page links on PUBLIC_URL, whatever Host, X-Forwarded-* or absolute-form URI the request names', async () => {
    const proxied = await createTestApp({
      imports: [ProbeModule],
      settings: { PUBLIC_URL: 'https://access.example.edu/', TRUST_PROXY: '1' },
    });
    try {
      const staff = await createStaff(proxied);
      await createOrganization(proxied);
      await createOrganization(proxied);
      const users = await proxied.http
        .get('/api/v1/organizations?page_size=1')
        .set(staff.auth)
        .set('Host', 'evil.example')
        .set('X-Forwarded-Host', 'evil.example')
        .set('X-Forwarded-Proto', 'http')
        .expect(200);
      expect(users.body.next).toBe('https://access.example.edu/api/v1/organizations?page_size=1&page=2');

      const server = proxied.app.getHttpServer();
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as AddressInfo;
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = connect(port, '127.0.0.1', () =>
          socket.write(
            'GET http://evil.example/api/v1/probe/numbers?page_size=10&page=2 HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n',
          ),
        );
        let text = '';
        socket.setEncoding('utf8').on('data', (c: string) => (text += c));
        socket.on('end', () => resolve(text)).on('error', reject);
      });
      const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4));
      expect(body.next).toBe('https://access.example.edu/api/v1/probe/numbers?page_size=10&page=3');
      expect(body.previous).toBe('https://access.example.edu/api/v1/probe/numbers?page_size=10&page=1');
    } finally {
      await proxied.close();
    }
  });

  it('refuses a page size over 500', async () => {
    const res = await t.http.get('/api/v1/probe/numbers?page_size=501').expect(400);
    expect(res.body.error).toBe('validation_failed');
  });

  it('refuses a page past the last one an offset can reach with 400, not a database error', async () => {
    const staff = await createStaff(t);
    for (const page of ['1e20', '99999999999999999999', String(MAX_PAGE + 1)]) {
      const res = await t.http.get(`/api/v1/organizations?page=${page}`).set(staff.auth);
      expect({ page, status: res.status, error: res.body.error }).toEqual({
        page,
        status: 400,
        error: 'validation_failed',
      });
    }
    const last = await t.http.get(`/api/v1/organizations?page=${MAX_PAGE}&page_size=500`).set(staff.auth).expect(200);
    expect(last.body.results).toEqual([]);
  });

  it('sends helmet security headers', async () => {
    const res = await t.http.get('/health/live').expect(200);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-powered-by']).toBeUndefined();
  });

  it('allows CORS only for configured origins', async () => {
    const allowed = await t.http.get('/health/live').set('Origin', 'https://lms.example.edu');
    expect(allowed.headers['access-control-allow-origin']).toBe('https://lms.example.edu');
    const other = await t.http.get('/health/live').set('Origin', 'https://evil.example.com');
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('HTTP conventions for bodies up to the default limit', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  const nested = (depth: number) => `{"username":"a","password":${'['.repeat(depth)}${']'.repeat(depth)}}`;

  it('answers a body nested thousands of levels deep with 400 invalid_json, never a 500', async () => {
    const login = await t.http.post('/api/v1/auth/login').set('Content-Type', 'application/json').send(nested(10_000));
    expect({ status: login.status, body: login.body }).toEqual({
      status: 400,
      body: { error: 'invalid_json', message: expect.stringContaining('nested'), details: { max_depth: 64 } },
    });
    const token = await t.http.post('/oauth/token').set('Content-Type', 'application/json').send(nested(10_000));
    expect({ status: token.status, body: token.body }).toEqual({
      status: 400,
      body: { error: 'invalid_request', error_description: expect.any(String) },
    });
    const shallow = await t.http.post('/api/v1/auth/login').set('Content-Type', 'application/json').send(nested(60));
    expect({ status: shallow.status, error: shallow.body.error }).toEqual({ status: 400, error: 'validation_failed' });
  });
});
