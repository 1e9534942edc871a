import { decodeJwt } from 'jose';
import { DataSource } from 'typeorm';
import { TokenIssuanceAudit } from '../../src/accounts/audit/token-issuance-audit';
import type { Response } from 'supertest';
import { createOrganization, createServiceAccount, createStaff, unique } from '../factories/accounts';
import { basicAuth, tokenRequest } from '../utils/oauth';
import { createTestApp, TestApp } from '../utils/test-app';

/** RFC 6749 §5.2: exactly `{ error, error_description }`, never cached. */
function expectOAuthError(res: Response, status: number, error: string): void {
  expect({ status: res.status, body: res.body }).toEqual({
    status,
    body: { error, error_description: expect.any(String) },
  });
  expect(res.headers['cache-control']).toBe('no-store');
  expect(res.headers['pragma']).toBe('no-cache');
}

describe('POST /oauth/token', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ settings: { LOGIN_RATE_LIMIT: '10000' } });
  });
  afterAll(() => t.close());

  async function client(scopes: string[] = []) {
    const org = await createOrganization(t);
    const sa = await createServiceAccount(t, org.id, { scopes });
    return { org, sa, clientId: sa.row.clientId, secret: sa.clientSecret };
  }

  it('issues a client_credentials token to a client authenticating with HTTP Basic', async () => {
    const { org, sa, clientId, secret } = await client();
    const res = await tokenRequest(
      t,
      { grant_type: 'client_credentials' },
      { authorization: basicAuth(clientId, secret) },
    ).expect(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['pragma']).toBe('no-cache');
    expect(res.body).toEqual({ access_token: expect.any(String), token_type: 'bearer', expires_in: 600 });
    expect(decodeJwt(res.body.access_token)).toMatchObject({
      sub: sa.row.id,
      client_id: clientId,
      kind: 'service',
      org: org.id,
    });
    const me = await t.http.get('/api/v1/auth/me').set('Authorization', `Bearer ${res.body.access_token}`).expect(200);
    expect(me.body).toMatchObject({ type: 'service_account', id: sa.row.id, token_kind: 'service' });
  });

  it('issues a token to a client sending its credentials in the body, at /oauth/token and /token', async () => {
    const { sa, clientId, secret } = await client();
    for (const path of ['/oauth/token', '/token']) {
      const res = await tokenRequest(
        t,
        { grant_type: 'client_credentials', client_id: clientId, client_secret: secret },
        { path },
      ).expect(200);
      expect(res.body).toEqual({ access_token: expect.any(String), token_type: 'bearer', expires_in: 600 });
      expect(res.headers['cache-control']).toBe('no-store');
      const me = await t.http
        .get('/api/v1/auth/me')
        .set('Authorization', `Bearer ${res.body.access_token}`)
        .expect(200);
      expect(me.body.id).toBe(sa.row.id);
    }
  });

  it('grants all allowed scopes by default, a requested subset, and refuses a scope outside them', async () => {
    const { clientId, secret } = await client(['courses:read', 'courses:write', 'reports:read']);
    const auth = { authorization: basicAuth(clientId, secret) };
    const all = await tokenRequest(t, { grant_type: 'client_credentials' }, auth).expect(200);
    expect(all.body.scope).toBe('courses:read courses:write reports:read');
    const subset = await tokenRequest(
      t,
      { grant_type: 'client_credentials', scope: 'courses:read reports:read' },
      auth,
    ).expect(200);
    expect(subset.body).toEqual({
      access_token: expect.any(String),
      token_type: 'bearer',
      expires_in: 600,
      scope: 'courses:read reports:read',
    });
    expect(decodeJwt(subset.body.access_token).scope).toBe('courses:read reports:read');
    const me = await t.http
      .get('/api/v1/auth/me')
      .set('Authorization', `Bearer ${subset.body.access_token}`)
      .expect(200);
    expect(me.body.scopes).toEqual(['courses:read', 'reports:read']);

    expectOAuthError(
      await tokenRequest(t, { grant_type: 'client_credentials', scope: 'courses:read admin' }, auth),
      400,
      'invalid_scope',
    );
    expectOAuthError(
      await tokenRequest(t, { grant_type: 'client_credentials', scope: '"quoted"' }, auth),
      400,
      'invalid_scope',
    );
  });

  it('treats parameters sent without a value as omitted (RFC 6749 §3.2)', async () => {
    const { clientId, secret } = await client(['courses:read', 'reports:read']);
    // An empty scope asks for the default: every allowed scope.
    const res = await tokenRequest(
      t,
      { grant_type: 'client_credentials', scope: '' },
      { authorization: basicAuth(clientId, secret) },
    ).expect(200);
    expect(res.body.scope).toBe('courses:read reports:read');
    // An empty client_id beside Basic credentials names no other client.
    await tokenRequest(
      t,
      { grant_type: 'client_credentials', client_id: '' },
      { authorization: basicAuth(clientId, secret) },
    ).expect(200);
    // An empty client_secret is no secret: the client has not authenticated.
    const noSecret = await tokenRequest(t, {
      grant_type: 'client_credentials',
      client_id: clientId,
      client_secret: '',
    });
    expectOAuthError(noSecret, 401, 'invalid_client');
  });

  it('refuses a client that authenticates both with Basic and in the body', async () => {
    const { clientId, secret } = await client();
    const res = await tokenRequest(
      t,
      { grant_type: 'client_credentials', client_id: clientId, client_secret: secret },
      { authorization: basicAuth(clientId, secret) },
    );
    expectOAuthError(res, 400, 'invalid_request');
    // A body client_id naming another client than the Basic credentials.
    const other = await client();
    const mismatch = await tokenRequest(
      t,
      { grant_type: 'client_credentials', client_id: other.clientId },
      { authorization: basicAuth(clientId, secret) },
    );
    expectOAuthError(mismatch, 400, 'invalid_request');
    // Only Basic is accepted in the Authorization header.
    const bearer = await tokenRequest(t, { grant_type: 'client_credentials' }, { authorization: `Bearer ${secret}` });
    expectOAuthError(bearer, 400, 'invalid_request');
  });

  it('answers a wrong secret over Basic with 401 invalid_client and a Basic challenge', async () => {
    const { clientId, secret } = await client();
    const res = await tokenRequest(
      t,
      { grant_type: 'client_credentials' },
      { authorization: basicAuth(clientId, `${secret}x`) },
    );
    expectOAuthError(res, 401, 'invalid_client');
    expect(res.headers['www-authenticate']).toMatch(/^Basic /);
  });

  it('answers a wrong secret in the body with 401 invalid_client and no challenge', async () => {
    const { clientId, secret } = await client();
    const res = await tokenRequest(t, {
      grant_type: 'client_credentials',
      client_id: clientId,
      client_secret: secret.slice(0, -1),
    });
    expectOAuthError(res, 401, 'invalid_client');
    expect(res.headers['www-authenticate']).toBeUndefined();
  });

  it('answers an unknown client exactly as a wrong secret', async () => {
    const { clientId, secret } = await client();
    const wrong = await tokenRequest(t, {
      grant_type: 'client_credentials',
      client_id: clientId,
      client_secret: 'cas_wrong',
    });
    const unknown = await tokenRequest(t, {
      grant_type: 'client_credentials',
      client_id: unique('ca'),
      client_secret: secret,
    });
    expectOAuthError(unknown, 401, 'invalid_client');
    expect(unknown.body).toEqual(wrong.body);
    const unknownBasic = await tokenRequest(
      t,
      { grant_type: 'client_credentials' },
      { authorization: basicAuth(unique('ca'), secret) },
    );
    expectOAuthError(unknownBasic, 401, 'invalid_client');
    expect(unknownBasic.body).toEqual(wrong.body);
  });

  it('refuses a deactivated client', async () => {
    const { sa, clientId, secret } = await client();
    const staff = await createStaff(t);
    await t.http.post(`/api/v1/service-accounts/${sa.row.id}/deactivate`).set(staff.auth).expect(200);
    expectOAuthError(
      await tokenRequest(t, { grant_type: 'client_credentials' }, { authorization: basicAuth(clientId, secret) }),
      401,
      'invalid_client',
    );
    expectOAuthError(
      await tokenRequest(t, { grant_type: 'client_credentials', client_id: clientId, client_secret: secret }),
      401,
      'invalid_client',
    );
  });

  it('refuses a JSON body with invalid_request', async () => {
    const { clientId, secret } = await client();
    const res = await t.http
      .post('/oauth/token')
      .set('Authorization', basicAuth(clientId, secret))
      .send({ grant_type: 'client_credentials' });
    expectOAuthError(res, 400, 'invalid_request');
  });

  it('answers a body it cannot read with 400 invalid_request in the OAuth error shape, at both paths', async () => {
    for (const path of ['/oauth/token', '/token']) {
      const post = () => t.http.post(path);
      const unreadable = [
        // Malformed JSON (JSON is refused anyway, but the parser sees it first).
        await post().set('Content-Type', 'application/json').send('{"grant_type":'),
        // More form parameters than the parser takes.
        await post()
          .type('form')
          .send(Array.from({ length: 1001 }, (_, i) => `p${i}=x`).join('&')),
        // A charset the form parser does not read.
        await post()
          .set('Content-Type', 'application/x-www-form-urlencoded; charset=koi8-r')
          .send('grant_type=client_credentials'),
        // A content encoding it does not know, and a gzip body that is not gzip.
        await post().type('form').set('Content-Encoding', 'compress').send('grant_type=client_credentials'),
        await post().type('form').set('Content-Encoding', 'gzip').send('grant_type=client_credentials'),
      ];
      for (const res of unreadable) expectOAuthError(res, 400, 'invalid_request');
    }
  });

  it('answers a body over BODY_LIMIT_BYTES with 413 invalid_request in the OAuth error shape, at both paths', async () => {
    const { clientId, secret } = await client();
    for (const path of ['/oauth/token', '/token']) {
      const res = await tokenRequest(
        t,
        { grant_type: 'client_credentials', padding: 'x'.repeat(t.settings.BODY_LIMIT_BYTES) },
        { authorization: basicAuth(clientId, secret), path },
      );
      expectOAuthError(res, 413, 'invalid_request');
    }
  });

  it('answers GET, PUT, PATCH and DELETE with 405 and Allow: POST, at both paths', async () => {
    for (const path of ['/oauth/token', '/token']) {
      for (const res of [
        await t.http.get(path),
        await t.http.put(path).type('form').send({ grant_type: 'client_credentials' }),
        await t.http.patch(path).type('form').send({ grant_type: 'client_credentials' }),
        await t.http.delete(path),
      ]) {
        expectOAuthError(res, 405, 'invalid_request');
        expect(res.headers['allow']).toBe('POST');
      }
    }
  });

  it('decodes form-encoded HTTP Basic credentials (RFC 6749 §2.3.1)', async () => {
    const { sa, clientId, secret } = await client();
    // Generated ids and secrets hold no character that form encoding changes, so encode ordinary ones:
    // a server that did not decode would look up "%63a%2D…" and fail.
    expect(clientId).toMatch(/^ca-[0-9a-f]+$/);
    expect(secret).toMatch(/^cas_[A-Za-z0-9_-]+$/);
    const encodedId = `%63%61%2D${clientId.slice(3)}`;
    const encodedSecret = `%63as%5F${secret.slice(4)}`;
    const basic = (id: string, pass: string) => `Basic ${Buffer.from(`${id}:${pass}`, 'utf8').toString('base64')}`;
    const res = await tokenRequest(
      t,
      { grant_type: 'client_credentials' },
      { authorization: basic(encodedId, encodedSecret) },
    ).expect(200);
    expect(decodeJwt(res.body.access_token)).toMatchObject({ sub: sa.row.id, client_id: clientId });
    // The body's client_id is compared with the decoded one.
    await tokenRequest(
      t,
      { grant_type: 'client_credentials', client_id: clientId },
      { authorization: basic(encodedId, encodedSecret) },
    ).expect(200);
    // A broken escape is a malformed credential, not an error.
    const broken = await tokenRequest(
      t,
      { grant_type: 'client_credentials' },
      { authorization: basic(clientId, `${secret}%zz`) },
    );
    expectOAuthError(broken, 401, 'invalid_client');
    expect(broken.headers['www-authenticate']).toMatch(/^Basic /);
  });

  it('requires grant_type and refuses unknown grants', async () => {
    const { clientId, secret } = await client();
    const auth = { authorization: basicAuth(clientId, secret) };
    expectOAuthError(await tokenRequest(t, {}, auth), 400, 'invalid_request');
    expectOAuthError(await tokenRequest(t, { grant_type: '' }, auth), 400, 'invalid_request');
    expectOAuthError(
      await tokenRequest(t, { grant_type: 'password', username: 'a', password: 'b' }, auth),
      400,
      'unsupported_grant_type',
    );
    expectOAuthError(
      await tokenRequest(t, { grant_type: 'authorization_code', code: 'x' }, auth),
      400,
      'unsupported_grant_type',
    );
  });

  it('leaves the scope claim out of a token that grants no scope (RFC 6749 §3.3), client or user', async () => {
    const { clientId, secret } = await client();
    const res = await tokenRequest(
      t,
      { grant_type: 'client_credentials' },
      { authorization: basicAuth(clientId, secret) },
    ).expect(200);
    expect(res.body).not.toHaveProperty('scope');
    expect(decodeJwt(res.body.access_token)).not.toHaveProperty('scope');
    const staff = await createStaff(t);
    expect(decodeJwt(staff.token)).not.toHaveProperty('scope');
    const me = await t.http.get('/api/v1/auth/me').set('Authorization', `Bearer ${res.body.access_token}`).expect(200);
    expect(me.body.scopes).toEqual([]);
  });

  it('describes errors without echoing what the client sent, in the characters RFC 6749 §5.2 allows', async () => {
    const { clientId, secret } = await client(['courses:read']);
    const auth = { authorization: basicAuth(clientId, secret) };
    const allowed = /^[\x20\x21\x23-\x5B\x5D-\x7E]*$/;
    const grant = await tokenRequest(t, { grant_type: 'x"y\\é' }, auth);
    expectOAuthError(grant, 400, 'unsupported_grant_type');
    const scope = await tokenRequest(t, { grant_type: 'client_credentials', scope: 'courses:read zz\\top' }, auth);
    expectOAuthError(scope, 400, 'invalid_scope');
    const extra = await tokenRequest(t, { grant_type: 'client_credentials', scope: 'courses:read secret-scope' }, auth);
    expectOAuthError(extra, 400, 'invalid_scope');
    for (const res of [grant, scope, extra]) {
      expect(res.body.error_description).toMatch(allowed);
      for (const echoed of ['x"y', 'zz', 'secret-scope']) expect(res.body.error_description).not.toContain(echoed);
    }
  });

  it('answers a form that does not percent-decode with invalid_request, at both paths', async () => {
    const { clientId, secret } = await client(['courses:read']);
    for (const path of ['/oauth/token', '/token'])
      for (const body of [
        'grant_type=client_credentials&scope=%zz',
        'grant_type=client_credentials&scope=%ff',
        'grant_type=%',
      ]) {
        const res = await t.http.post(path).type('form').set('Authorization', basicAuth(clientId, secret)).send(body);
        expectOAuthError(res, 400, 'invalid_request');
      }
    // Well-formed escapes still decode.
    const ok = await t.http
      .post('/oauth/token')
      .type('form')
      .set('Authorization', basicAuth(clientId, secret))
      .send('grant_type=client_credentials&scope=courses%3Aread')
      .expect(200);
    expect(ok.body.scope).toBe('courses:read');
  });

  it('refuses a repeated parameter and a client_credentials request without client authentication', async () => {
    const { clientId, secret } = await client();
    const repeated = await t.http
      .post('/oauth/token')
      .type('form')
      .set('Authorization', basicAuth(clientId, secret))
      .send('grant_type=client_credentials&grant_type=client_credentials');
    expectOAuthError(repeated, 400, 'invalid_request');
    const anonymous = await tokenRequest(t, { grant_type: 'client_credentials' });
    expectOAuthError(anonymous, 401, 'invalid_client');
  });

  it('audits issued tokens as one oauth.token_issued event per client, scope and address, with a count', async () => {
    const { org, sa, clientId, secret } = await client(['reports:read']);
    for (let i = 0; i < 3; i++)
      await tokenRequest(
        t,
        { grant_type: 'client_credentials' },
        { authorization: basicAuth(clientId, secret) },
      ).expect(200);
    await tokenRequest(
      t,
      { grant_type: 'client_credentials', scope: 'reports:read' },
      { authorization: basicAuth(clientId, secret) },
    ).expect(200);
    const staff = await createStaff(t);
    const events = () =>
      t.http.get(`/api/v1/audit-events?action=oauth.token_issued&subject_id=${sa.row.id}`).set(staff.auth).expect(200);
    // Counted in memory until the next flush (every AUDIT_TOKEN_FLUSH_SECONDS, and at shutdown).
    expect((await events()).body.count).toBe(0);
    await t.app.get(TokenIssuanceAudit).flush();
    const res = await events();
    expect(res.body.count).toBe(1);
    expect(res.body.results[0]).toMatchObject({
      action: 'oauth.token_issued',
      actor_type: 'service_account',
      actor_id: sa.row.id,
      subject_type: 'ServiceAccount',
      organization: org.id,
      data: {
        grant_type: 'client_credentials',
        scope: 'reports:read',
        count: 4,
        first_issued_at: expect.any(String),
        last_issued_at: expect.any(String),
      },
    });
    const { first_issued_at, last_issued_at } = res.body.results[0].data;
    expect(Date.parse(first_issued_at)).toBeLessThanOrEqual(Date.parse(last_issued_at));
    expect(JSON.stringify(res.body)).not.toContain(secret);
    // Nothing is written twice.
    await t.app.get(TokenIssuanceAudit).flush();
    expect((await events()).body.count).toBe(1);
  });
});

describe('token issuance audit', () => {
  it('with AUDIT_TOKEN_FLUSH_SECONDS=0, writes one event per token before answering', async () => {
    const t = await createTestApp({ settings: { AUDIT_TOKEN_FLUSH_SECONDS: '0' } });
    try {
      const org = await createOrganization(t);
      const sa = await createServiceAccount(t, org.id);
      for (let i = 0; i < 2; i++)
        await tokenRequest(
          t,
          { grant_type: 'client_credentials' },
          { authorization: basicAuth(sa.row.clientId, sa.clientSecret) },
        ).expect(200);
      const staff = await createStaff(t);
      const res = await t.http
        .get(`/api/v1/audit-events?action=oauth.token_issued&subject_id=${sa.row.id}`)
        .set(staff.auth)
        .expect(200);
      expect(res.body.results.map((e: { data: { count: number } }) => e.data.count)).toEqual([1, 1]);
    } finally {
      await t.close();
    }
  });

  it('records an address longer than the audit column, cut to 64 characters, instead of failing the request', async () => {
    // With TRUST_PROXY, req.ip is whatever the trusted hop of X-Forwarded-For says.
    const t = await createTestApp({ settings: { AUDIT_TOKEN_FLUSH_SECONDS: '0', TRUST_PROXY: '1' } });
    try {
      const org = await createOrganization(t);
      const sa = await createServiceAccount(t, org.id);
      const address = `2001:db8::1%${'z'.repeat(100)}`;
      await tokenRequest(
        t,
        { grant_type: 'client_credentials' },
        { authorization: basicAuth(sa.row.clientId, sa.clientSecret), 'x-forwarded-for': address },
      ).expect(200);
      expectOAuthError(
        await tokenRequest(
          t,
          { grant_type: 'client_credentials' },
          { authorization: basicAuth(sa.row.clientId, 'cas_wrong'), 'x-forwarded-for': address },
        ),
        401,
        'invalid_client',
      );
      const rows: { action: string; ip: string }[] = await t.app
        .get(DataSource)
        .query(
          `SELECT action, ip FROM audit_events WHERE action IN ('oauth.token_issued', 'oauth.client_auth_failed') AND ip LIKE '2001:db8::1%' ORDER BY action`,
        );
      expect(rows).toEqual([
        { action: 'oauth.client_auth_failed', ip: address.slice(0, 64) },
        { action: 'oauth.token_issued', ip: address.slice(0, 64) },
      ]);
    } finally {
      await t.close();
    }
  });

  it('writes the counts it holds when the application shuts down', async () => {
    const first = await createTestApp({ settings: { AUDIT_TOKEN_FLUSH_SECONDS: '3600' } });
    const org = await createOrganization(first);
    const sa = await createServiceAccount(first, org.id);
    for (let i = 0; i < 2; i++)
      await tokenRequest(
        first,
        { grant_type: 'client_credentials' },
        { authorization: basicAuth(sa.row.clientId, sa.clientSecret) },
      ).expect(200);
    await first.close();
    const again = await createTestApp({ databaseUrl: first.database.url });
    try {
      const rows: { data: { count: number } }[] = await again.app
        .get(DataSource)
        .query(`SELECT data FROM audit_events WHERE action = 'oauth.token_issued' AND subject_id = $1`, [sa.row.id]);
      expect(rows.map((r) => r.data.count)).toEqual([2]);
    } finally {
      await again.close();
    }
  });

  it('keeps every count a failed flush could not write, later chunks included, and writes them all at the next flush', async () => {
    const t = await createTestApp({ settings: { AUDIT_TOKEN_FLUSH_SECONDS: '3600' } });
    const db = t.app.get(DataSource);
    try {
      const org = await createOrganization(t);
      const sa = await createServiceAccount(t, org.id);
      const audit = t.app.get(TokenIssuanceAudit);
      // One tally per address: more than the 500 events a flush writes per INSERT.
      const ips = Array.from({ length: 1200 }, (_, i) => `10.9.${i >> 8}.${i & 255}`);
      const issue = (ip: string) =>
        audit.issued({ serviceAccountId: sa.row.id, organizationId: org.id, scope: '', ip });
      for (const ip of ips) await issue(ip);
      // The database refuses the first INSERT, as it would a row it cannot store.
      await db.query(`CREATE FUNCTION refuse_first_tally() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN IF NEW.ip = '${ips[0]}' THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$`);
      await db.query(
        'CREATE TRIGGER refuse_first_tally BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION refuse_first_tally()',
      );
      const failing = audit.flush();
      // Tokens issued while the flush runs (or just before it) add to the counts it keeps.
      await new Promise((r) => setImmediate(r));
      await issue(ips[0]);
      await issue(ips[ips.length - 1]);
      await failing;
      const written = () =>
        db.query(
          `SELECT ip, (data->>'count')::int AS count FROM audit_events WHERE action = 'oauth.token_issued' AND subject_id = $1`,
          [sa.row.id],
        ) as Promise<{ ip: string; count: number }[]>;
      // Nothing was written: the first INSERT failed and the flush stopped there.
      expect(await written()).toEqual([]);

      await db.query('DROP TRIGGER refuse_first_tally ON audit_events');
      await db.query('DROP FUNCTION refuse_first_tally()');
      await audit.flush();
      const rows = await written();
      expect(rows).toHaveLength(ips.length);
      const counts = new Map(rows.map((r) => [r.ip, r.count]));
      expect(counts.get(ips[0])).toBe(2);
      expect(counts.get(ips[ips.length - 1])).toBe(2);
      expect(rows.reduce((sum, r) => sum + r.count, 0)).toBe(ips.length + 2);
    } finally {
      await db.query('DROP TRIGGER IF EXISTS refuse_first_tally ON audit_events').catch(() => undefined);
      await t.close();
    }
  });
});

describe('POST /oauth/token rate limit', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({
      settings: { LOGIN_RATE_LIMIT: '3', LOGIN_RATE_WINDOW_SECONDS: '60', TOKEN_RATE_LIMIT: '8', TRUST_PROXY: '1' },
    });
  });
  afterAll(() => t.close());
  const from = (ip: string) => ({ 'x-forwarded-for': ip });

  it('answers 429 in the OAuth error shape with Retry-After to an address that has failed too often, while the client still gets tokens from its own', async () => {
    const org = await createOrganization(t);
    const sa = await createServiceAccount(t, org.id);
    const wrong = { authorization: basicAuth(sa.row.clientId, 'cas_wrong') };
    const right = { authorization: basicAuth(sa.row.clientId, sa.clientSecret) };
    // Failures for the client from elsewhere first: they count for their own addresses only.
    for (const ip of ['10.1.0.2', '10.1.0.3'])
      expectOAuthError(
        await tokenRequest(t, { grant_type: 'client_credentials' }, { ...wrong, ...from(ip) }),
        401,
        'invalid_client',
      );
    const attacker = from('10.1.0.1');
    for (let i = 0; i < 3; i++)
      expectOAuthError(
        await tokenRequest(t, { grant_type: 'client_credentials' }, { ...wrong, ...attacker }),
        401,
        'invalid_client',
      );
    const limited = await tokenRequest(t, { grant_type: 'client_credentials' }, { ...wrong, ...attacker });
    expectOAuthError(limited, 429, 'invalid_request');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    // The failing address is refused even with the right secret until its window ends...
    const fromAttacker = await tokenRequest(t, { grant_type: 'client_credentials' }, { ...right, ...attacker });
    expectOAuthError(fromAttacker, 429, 'invalid_request');
    expect(Number(fromAttacker.headers['retry-after'])).toBeGreaterThan(0);
    // ...but the client, whose id anyone can read in its tokens, is not locked out.
    expect(
      (await tokenRequest(t, { grant_type: 'client_credentials' }, { ...right, ...from('10.1.0.10') })).status,
    ).toBe(200);
  });

  it('neither locks a client out nor spends its request budget when failures sent under its id come from many addresses', async () => {
    const org = await createOrganization(t);
    const sa = await createServiceAccount(t, org.id);
    // More failures than TOKEN_RATE_LIMIT, each from its own address so none is blocked.
    for (let i = 1; i <= t.settings.TOKEN_RATE_LIMIT + 2; i++) {
      const res = await tokenRequest(
        t,
        { grant_type: 'client_credentials' },
        { authorization: basicAuth(sa.row.clientId, 'cas_guess'), ...from(`10.4.0.${i}`) },
      );
      expectOAuthError(res, 401, 'invalid_client');
    }
    expect(
      (
        await tokenRequest(
          t,
          { grant_type: 'client_credentials' },
          { authorization: basicAuth(sa.row.clientId, sa.clientSecret), ...from('10.4.1.1') },
        )
      ).status,
    ).toBe(200);
  });

  it('blocks an address that keeps failing, whichever clients it tries, while other addresses still get tokens', async () => {
    const org = await createOrganization(t);
    const victim = await createServiceAccount(t, org.id);
    const ip = '10.2.0.1';
    for (let i = 0; i < 3; i++) {
      const other = await createServiceAccount(t, org.id);
      expectOAuthError(
        await tokenRequest(
          t,
          { grant_type: 'client_credentials' },
          { authorization: basicAuth(other.row.clientId, 'cas_guess'), ...from(ip) },
        ),
        401,
        'invalid_client',
      );
    }
    expect(
      (
        await tokenRequest(
          t,
          { grant_type: 'client_credentials' },
          { authorization: basicAuth(victim.row.clientId, 'cas_guess'), ...from(ip) },
        )
      ).status,
    ).toBe(429);
    expect(
      (
        await tokenRequest(
          t,
          { grant_type: 'client_credentials' },
          { authorization: basicAuth(victim.row.clientId, victim.clientSecret), ...from(ip) },
        )
      ).status,
    ).toBe(429);
    expect(
      (
        await tokenRequest(
          t,
          { grant_type: 'client_credentials' },
          { authorization: basicAuth(victim.row.clientId, victim.clientSecret), ...from('10.2.0.2') },
        )
      ).status,
    ).toBe(200);
  });

  it('does not count successful requests against the failure limit; a client is capped at TOKEN_RATE_LIMIT requests per window', async () => {
    const org = await createOrganization(t);
    const sa = await createServiceAccount(t, org.id);
    const auth = { authorization: basicAuth(sa.row.clientId, sa.clientSecret), ...from('10.3.0.1') };
    for (let i = 0; i < t.settings.TOKEN_RATE_LIMIT; i++)
      expect((await tokenRequest(t, { grant_type: 'client_credentials' }, auth)).status).toBe(200);
    const capped = await tokenRequest(t, { grant_type: 'client_credentials' }, { ...auth, ...from('10.3.0.2') });
    expect(capped.status).toBe(429);
    expect(capped.body.error).toBe('invalid_request');
    // Another client behind the same address is not affected.
    const neighbour = await createServiceAccount(t, org.id);
    expect(
      (
        await tokenRequest(
          t,
          { grant_type: 'client_credentials' },
          { authorization: basicAuth(neighbour.row.clientId, neighbour.clientSecret), ...from('10.3.0.1') },
        )
      ).status,
    ).toBe(200);
  });
});
