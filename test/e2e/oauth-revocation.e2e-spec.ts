import { decodeJwt } from 'jose';
import type { Response } from 'supertest';
import { DataSource } from 'typeorm';
import { createOrganization, createServiceAccount, createStaff, createUser } from '../factories/accounts';
import { signOwnToken } from '../utils/own-tokens';
import { basicAuth, clientCredentialsToken } from '../utils/oauth';
import { createTestApp, TestApp } from '../utils/test-app';

const PASSWORD = 'correct horse battery staple';

function expectOAuthError(res: Response, status: number, error: string): void {
  expect({ status: res.status, body: res.body }).toEqual({
    status,
    body: { error, error_description: expect.any(String) },
  });
  expect(res.headers['cache-control']).toBe('no-store');
}

describe('POST /oauth/revoke (RFC 7009)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ settings: { LOGIN_RATE_LIMIT: '10000' } });
  });
  afterAll(() => t.close());

  const revoke = (form: Record<string, string>, authorization?: string, app: TestApp = t) => {
    const req = app.http.post('/oauth/revoke').type('form');
    if (authorization) req.set('Authorization', authorization);
    return req.send(form);
  };
  const me = (token: string, app: TestApp = t) =>
    app.http.get('/api/v1/auth/me').set('Authorization', `Bearer ${token}`);

  async function client() {
    const org = await createOrganization(t);
    const sa = await createServiceAccount(t, org.id);
    const token = await clientCredentialsToken(t, sa.row.clientId, sa.clientSecret);
    return { org, sa, clientId: sa.row.clientId, secret: sa.clientSecret, token };
  }

  async function login() {
    const { row } = await createUser(t, { password: PASSWORD });
    const res = await t.http
      .post('/api/v1/auth/login')
      .send({ username: row.username, password: PASSWORD })
      .expect(200);
    return { user: row, access: res.body.access_token as string, refresh: res.body.refresh_token as string };
  }

  const revokedEvents = (subjectId: string) =>
    t.app
      .get(DataSource)
      .query<{ actor_type: string; data: Record<string, unknown> }[]>(
        `SELECT actor_type, data FROM audit_events WHERE action = 'oauth.token_revoked' AND subject_id = $1`,
        [subjectId],
      );

  it("revokes a client's own access token (Basic): 200 with an empty body, then the token is refused", async () => {
    const { sa, clientId, secret, token } = await client();
    await me(token).expect(200);
    const res = await revoke({ token, token_type_hint: 'access_token' }, basicAuth(clientId, secret)).expect(200);
    expect(res.text).toBe('');
    expect(res.headers['cache-control']).toBe('no-store');
    const refused = await me(token).expect(401);
    expect(refused.body.error).toBe('invalid_token');
    expect(refused.headers['www-authenticate']).toMatch(/error="invalid_token"/);
    // Revoking it again changes nothing and is not audited twice.
    await revoke({ token }, basicAuth(clientId, secret)).expect(200);
    const events = await revokedEvents(sa.row.id);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      actor_type: 'service_account',
      data: { token_type: 'access_token', kind: 'service', jti: decodeJwt(token).jti, client_id: clientId },
    });
    expect(JSON.stringify(events)).not.toContain(token);
    // Its other tokens are untouched, and it still gets new ones.
    await me(await clientCredentialsToken(t, clientId, secret)).expect(200);
  });

  it('revokes with client_secret_post, whatever the hint says', async () => {
    const { clientId, secret, token } = await client();
    await revoke({ token, token_type_hint: 'refresh_token', client_id: clientId, client_secret: secret }).expect(200);
    await me(token).expect(401);
  });

  it('answers 200 for an unknown, malformed, foreign or expired token, and changes nothing', async () => {
    const { clientId, secret, sa } = await client();
    const auth = basicAuth(clientId, secret);
    const expired = await signOwnToken(t, sa.row.id, {
      claims: {
        kind: 'service',
        client_id: clientId,
        iat: Math.floor(Date.now() / 1000) - 1200,
        exp: Math.floor(Date.now() / 1000) - 900,
      },
    });
    for (const token of ['no-such-token', 'a.b.c', expired, 'x'.repeat(5000)])
      await revoke({ token }, auth).expect(200);
    expect(await revokedEvents(sa.row.id)).toHaveLength(0);
  });

  it("refuses to revoke another client's token with unauthorized_client, and the token keeps working", async () => {
    const a = await client();
    const b = await client();
    expectOAuthError(await revoke({ token: a.token }, basicAuth(b.clientId, b.secret)), 400, 'unauthorized_client');
    // Without client authentication a service token cannot be revoked either: it is not the public client's.
    expectOAuthError(await revoke({ token: a.token }), 400, 'unauthorized_client');
    const { refresh } = await login();
    expectOAuthError(await revoke({ token: refresh }, basicAuth(b.clientId, b.secret)), 400, 'unauthorized_client');
    await me(a.token).expect(200);
    await t.http.post('/api/v1/auth/refresh').send({ refresh_token: refresh }).expect(200);
  });

  it("lets a user end their own session with the refresh token: the family and the session's access tokens stop", async () => {
    const session = await login();
    const other = await login();
    await revoke({ token: session.refresh, token_type_hint: 'refresh_token' }).expect(200);
    await t.http.post('/api/v1/auth/refresh').send({ refresh_token: session.refresh }).expect(401);
    expect(decodeJwt(session.access).sid).toEqual(expect.any(String));
    await me(session.access).expect(401);
    await me(other.access).expect(200);
    const events = await revokedEvents(session.user.id);
    expect(events).toEqual([
      {
        actor_type: 'user',
        data: { token_type: 'refresh_token', family_id: decodeJwt(session.access).sid, sessions_revoked: 1 },
      },
    ]);
  });

  it('lets a user revoke one access token, naming the public client or not', async () => {
    const session = await login();
    const second = await t.http.post('/api/v1/auth/refresh').send({ refresh_token: session.refresh }).expect(200);
    await revoke({ token: session.access, client_id: 'campus-access' }).expect(200);
    await me(session.access).expect(401);
    // The session goes on: the next access token of the same session works.
    await me(second.body.access_token).expect(200);
    await revoke({ token: second.body.access_token }).expect(200);
    await me(second.body.access_token).expect(401);
  });

  it('answers bad requests in the OAuth error shape', async () => {
    const { clientId, secret, token } = await client();
    expectOAuthError(await revoke({}, basicAuth(clientId, secret)), 400, 'invalid_request');
    expectOAuthError(await revoke({ token }, basicAuth(clientId, 'wrong')), 401, 'invalid_client');
    expectOAuthError(await revoke({ token, client_id: clientId }), 401, 'invalid_client');
    expectOAuthError(
      await t.http.post('/oauth/revoke').set('Authorization', basicAuth(clientId, secret)).send({ token }),
      400,
      'invalid_request',
    );
    expectOAuthError(
      await t.http
        .post('/oauth/revoke')
        .type('form')
        .send(`token=${encodeURIComponent(token)}&token=x`),
      400,
      'invalid_request',
    );
    expectOAuthError(await t.http.post('/oauth/revoke').type('form').send('token=%zz'), 400, 'invalid_request');
    const get = await t.http.get('/oauth/revoke');
    expectOAuthError(get, 405, 'invalid_request');
    expect(get.headers['allow']).toBe('POST');
    // None of those revoked it.
    await me(token).expect(200);
  });

  it('is refused on every replica at once: a second app on the same database', async () => {
    const other = await createTestApp({ databaseUrl: t.database.url });
    try {
      const { clientId, secret, token } = await client();
      await me(token, other).expect(200);
      await revoke({ token }, basicAuth(clientId, secret)).expect(200);
      await me(token, other).expect(401);
    } finally {
      await other.close();
    }
  });

  it('is advertised in the metadata', async () => {
    const meta = (await t.http.get('/.well-known/oauth-authorization-server').expect(200)).body;
    expect(meta.revocation_endpoint).toBe(`${meta.token_endpoint.replace(/\/oauth\/token$/, '')}/oauth/revoke`);
    expect(meta.revocation_endpoint_auth_methods_supported).toEqual(
      expect.arrayContaining(['client_secret_basic', 'client_secret_post', 'none']),
    );
  });
});

describe('POST /api/v1/service-accounts/{id}/revoke-tokens', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('refuses every token the account held, audited; tokens asked for afterwards work', async () => {
    const org = await createOrganization(t);
    const sa = await createServiceAccount(t, org.id);
    const staff = await createStaff(t);
    const before = await clientCredentialsToken(t, sa.row.clientId, sa.clientSecret);
    const other = await createServiceAccount(t, org.id);
    await t.http.get('/api/v1/auth/me').set(sa.auth).expect(200);
    const res = await t.http.post(`/api/v1/service-accounts/${sa.row.id}/revoke-tokens`).set(staff.auth).expect(200);
    expect(res.body.id).toBe(sa.row.id);
    for (const token of [sa.token, before])
      await t.http.get('/api/v1/auth/me').set('Authorization', `Bearer ${token}`).expect(401);
    await t.http.get('/api/v1/auth/me').set(other.auth).expect(200);
    // iat has whole seconds: a token of the next second is after the cut-off.
    await new Promise((r) => setTimeout(r, 1100));
    const after = await clientCredentialsToken(t, sa.row.clientId, sa.clientSecret);
    await t.http.get('/api/v1/auth/me').set('Authorization', `Bearer ${after}`).expect(200);
    const [event] = await t.app
      .get(DataSource)
      .query(`SELECT actor_id FROM audit_events WHERE action = 'service_account.tokens_revoked' AND subject_id = $1`, [
        sa.row.id,
      ]);
    expect(event).toEqual({ actor_id: staff.row.id });
  });

  it('is 404 for an account in another organization, 403 for one the caller only reads', async () => {
    const org = await createOrganization(t);
    const sa = await createServiceAccount(t, org.id);
    const outsider = await createUser(t, { organizationId: (await createOrganization(t)).id });
    await t.http.post(`/api/v1/service-accounts/${sa.row.id}/revoke-tokens`).set(outsider.auth).expect(404);
    const support = await createUser(t, { isSupport: true });
    await t.http.post(`/api/v1/service-accounts/${sa.row.id}/revoke-tokens`).set(support.auth).expect(403);
    await t.http.get('/api/v1/auth/me').set(sa.auth).expect(200);
  });
});
