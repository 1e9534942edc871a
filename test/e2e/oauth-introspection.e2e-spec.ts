import { decodeJwt } from 'jose';
import type { Response } from 'supertest';
import { UsersService } from '../../src/accounts/users/users.service';
import { createOrganization, createServiceAccount, createStaff, createUser } from '../factories/accounts';
import { grantRole, orgScope } from '../permissions/grants';
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

describe('POST /oauth/introspect (RFC 7662)', () => {
  let t: TestApp;
  let introspector: { clientId: string; secret: string };
  beforeAll(async () => {
    t = await createTestApp({ settings: { LOGIN_RATE_LIMIT: '10000' } });
    const sa = await createServiceAccount(t, (await createOrganization(t)).id, { scopes: ['token:introspect'] });
    introspector = { clientId: sa.row.clientId, secret: sa.clientSecret };
  });
  afterAll(() => t.close());

  const introspect = (
    form: Record<string, string>,
    authorization = basicAuth(introspector.clientId, introspector.secret),
  ) => t.http.post('/oauth/introspect').type('form').set('Authorization', authorization).send(form);

  async function client(scopes: string[] = []) {
    const org = await createOrganization(t);
    const sa = await createServiceAccount(t, org.id, { scopes });
    return { org, sa, clientId: sa.row.clientId, secret: sa.clientSecret };
  }

  it('describes an active client_credentials token with every RFC 7662 field', async () => {
    const { sa, clientId, secret } = await client(['courses:read', 'reports:read']);
    const token = await clientCredentialsToken(t, clientId, secret, 'courses:read');
    const res = await introspect({ token, token_type_hint: 'access_token' }).expect(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const claims = decodeJwt(token);
    expect(res.body).toEqual({
      active: true,
      scope: 'courses:read',
      client_id: clientId,
      username: clientId,
      token_type: 'Bearer',
      exp: claims.exp,
      iat: claims.iat,
      sub: sa.row.id,
      aud: claims.aud,
      iss: claims.iss,
      jti: claims.jti,
    });
  });

  it("describes a user's access token, with client_secret_post; no scope when it grants none", async () => {
    const { row } = await createUser(t, { password: PASSWORD });
    const login = await t.http.post('/api/v1/auth/login').send({ username: row.username, password: PASSWORD });
    const res = await t.http
      .post('/oauth/introspect')
      .type('form')
      .send({ token: login.body.access_token, client_id: introspector.clientId, client_secret: introspector.secret })
      .expect(200);
    expect(res.body).toMatchObject({ active: true, client_id: 'campus-access', username: row.username, sub: row.id });
    expect(res.body).not.toHaveProperty('scope');
  });

  it('answers { active: false } for expired, revoked, unknown, foreign, refresh and malformed tokens', async () => {
    const { sa, clientId, secret } = await client();
    const revoked = await clientCredentialsToken(t, clientId, secret);
    await t.http
      .post('/oauth/revoke')
      .type('form')
      .set('Authorization', basicAuth(clientId, secret))
      .send({ token: revoked })
      .expect(200);
    const expired = await signOwnToken(t, sa.row.id, {
      claims: {
        kind: 'service',
        client_id: clientId,
        iat: Math.floor(Date.now() / 1000) - 1200,
        exp: Math.floor(Date.now() / 1000) - 900,
      },
    });
    const { row } = await createUser(t, { password: PASSWORD });
    const login = await t.http.post('/api/v1/auth/login').send({ username: row.username, password: PASSWORD });
    const foreignIssuer = await signOwnToken(t, row.id, { claims: { iss: 'https://elsewhere.example' } });
    for (const token of [revoked, expired, foreignIssuer, login.body.refresh_token, 'a.b.c', 'garbage']) {
      const res = await introspect({ token }).expect(200);
      expect(res.body).toEqual({ active: false });
    }
  });

  it('answers { active: false } once the principal behind a valid token is deactivated', async () => {
    const user = await createUser(t);
    const { sa, clientId, secret } = await client();
    const serviceToken = await clientCredentialsToken(t, clientId, secret);
    expect((await introspect({ token: user.token })).body.active).toBe(true);
    expect((await introspect({ token: serviceToken })).body.active).toBe(true);
    await t.app.get(UsersService).deactivate([user.row.id]);
    const staff = await createStaff(t);
    await t.http.post(`/api/v1/service-accounts/${sa.row.id}/deactivate`).set(staff.auth).expect(200);
    expect((await introspect({ token: user.token })).body).toEqual({ active: false });
    expect((await introspect({ token: serviceToken })).body).toEqual({ active: false });
  });

  it('refuses clients that may not introspect, and unauthenticated or malformed requests', async () => {
    const user = await createUser(t);
    const plain = await client(['courses:read']);
    expectOAuthError(
      await introspect({ token: user.token }, basicAuth(plain.clientId, plain.secret)),
      403,
      'unauthorized_client',
    );
    expectOAuthError(
      await introspect({ token: user.token }, basicAuth(introspector.clientId, 'wrong')),
      401,
      'invalid_client',
    );
    expectOAuthError(
      await t.http.post('/oauth/introspect').type('form').send({ token: user.token }),
      401,
      'invalid_client',
    );
    expectOAuthError(
      await t.http.post('/oauth/introspect').type('form').send({ token: user.token, client_id: 'campus-access' }),
      401,
      'invalid_client',
    );
    expectOAuthError(await introspect({}), 400, 'invalid_request');
    expectOAuthError(
      await t.http
        .post('/oauth/introspect')
        .set('Authorization', basicAuth(introspector.clientId, introspector.secret))
        .send({ token: user.token }),
      400,
      'invalid_request',
    );
    const get = await t.http.get('/oauth/introspect');
    expectOAuthError(get, 405, 'invalid_request');
    expect(get.headers['allow']).toBe('POST');
  });

  it('lets only staff allow the introspection scope', async () => {
    const org = await createOrganization(t);
    const admin = await createUser(t, { organizationId: org.id });
    await grantRole(t, admin.principal, 'organization_admin', orgScope(org));
    const created = await t.http
      .post('/api/v1/service-accounts')
      .set(admin.auth)
      .send({ organization: org.id, name: 'rs', allowed_scopes: ['courses:read'] })
      .expect(201);
    const refused = await t.http
      .patch(`/api/v1/service-accounts/${created.body.id}`)
      .set(admin.auth)
      .send({ allowed_scopes: ['courses:read', 'token:introspect'] });
    expect({ status: refused.status, error: refused.body.error }).toEqual({ status: 403, error: 'forbidden' });
    await t.http
      .post('/api/v1/service-accounts')
      .set(admin.auth)
      .send({ organization: org.id, name: 'rs2', allowed_scopes: ['token:introspect'] })
      .expect(403);
    const staff = await createStaff(t);
    await t.http
      .patch(`/api/v1/service-accounts/${created.body.id}`)
      .set(staff.auth)
      .send({ allowed_scopes: ['courses:read', 'token:introspect'] })
      .expect(200);
    const res = await introspect({ token: admin.token }, basicAuth(created.body.client_id, created.body.client_secret));
    expect(res.status).toBe(200);
    expect(res.body.active).toBe(true);
  });

  it('is advertised in the metadata', async () => {
    const meta = (await t.http.get('/.well-known/oauth-authorization-server').expect(200)).body;
    expect(meta.introspection_endpoint).toBe(meta.token_endpoint.replace(/\/oauth\/token$/, '/oauth/introspect'));
    expect(meta.introspection_endpoint_auth_methods_supported).toEqual(
      expect.arrayContaining(['client_secret_basic', 'client_secret_post']),
    );
    expect(meta.scopes_supported).toEqual(expect.arrayContaining(['token:introspect']));
  });
});
