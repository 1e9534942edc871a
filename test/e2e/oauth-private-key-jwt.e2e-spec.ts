import { generateKeyPairSync } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import type { Response } from 'supertest';
import { DataSource } from 'typeorm';
import { createOrganization, createStaff } from '../factories/accounts';
import { assertionForm, clientAssertion } from '../utils/client-assertions';
import { IssuerKey, newIssuerKey } from '../utils/jwks-server';
import { startLocalHttpServer } from '../utils/local-http';
import { basicAuth } from '../utils/oauth';
import { createTestApp, TestApp } from '../utils/test-app';

function expectOAuthError(res: Response, status: number, error: string): void {
  expect({ status: res.status, body: res.body }).toEqual({
    status,
    body: { error, error_description: expect.any(String) },
  });
  expect(res.headers['cache-control']).toBe('no-store');
}

describe('private_key_jwt client authentication (RFC 7523 §2.2)', () => {
  let t: TestApp;
  let staff: Awaited<ReturnType<typeof createStaff>>;
  let issuer: string;
  let tokenEndpoint: string;
  beforeAll(async () => {
    t = await createTestApp({ settings: { LOGIN_RATE_LIMIT: '10000' } });
    staff = await createStaff(t);
    const meta = (await t.http.get('/.well-known/oauth-authorization-server').expect(200)).body;
    issuer = meta.issuer;
    tokenEndpoint = meta.token_endpoint;
  });
  afterAll(() => t.close());

  /** A service account registered through the API with `keys` (a JWK Set body or a jwks_uri). */
  async function keyClient(keys: { jwks?: object; jwks_uri?: string }, scopes: string[] = []) {
    const org = await createOrganization(t);
    const res = await t.http
      .post('/api/v1/service-accounts')
      .set(staff.auth)
      .send({ organization: org.id, name: 'keyed', allowed_scopes: scopes, ...keys });
    expect(res.status).toBe(201);
    return res.body as { id: string; client_id: string; client_secret?: string; secrets: unknown[] };
  }

  const token = (form: Record<string, string>, path = '/oauth/token') =>
    t.http
      .post(path)
      .type('form')
      .send({ grant_type: 'client_credentials', ...form });

  it('registers a public JWK instead of a secret and gets tokens with assertions for the issuer or the endpoint', async () => {
    const key = await newIssuerKey('RS256');
    const client = await keyClient({ jwks: { keys: [key.publicJwk] } }, ['courses:read']);
    expect(client).not.toHaveProperty('client_secret');
    expect(client.secrets).toEqual([]);
    const view = await t.http.get(`/api/v1/service-accounts/${client.id}`).set(staff.auth).expect(200);
    expect(view.body).toMatchObject({ jwks: { keys: [key.publicJwk] }, jwks_uri: null });

    for (const aud of [issuer, tokenEndpoint, [tokenEndpoint, 'https://other.example']]) {
      const res = await token(assertionForm(await clientAssertion(key, client.client_id, aud))).expect(200);
      expect(res.body).toMatchObject({ token_type: 'bearer', scope: 'courses:read' });
      await t.http.get('/api/v1/auth/me').set('Authorization', `Bearer ${res.body.access_token}`).expect(200);
    }
    // The body may also name the client, and the /token alias takes an assertion for itself.
    await token(
      {
        client_id: client.client_id,
        ...assertionForm(await clientAssertion(key, client.client_id, tokenEndpoint.replace(/oauth\/token$/, 'token'))),
      },
      '/token',
    ).expect(200);
  });

  it('takes the keys from a JWKS URL (ES256 here)', async () => {
    const key = await newIssuerKey('ES256');
    const server = await startLocalHttpServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [key.publicJwk] }));
    });
    try {
      const client = await keyClient({ jwks_uri: `${server.origin}/jwks.json` });
      await token(assertionForm(await clientAssertion(key, client.client_id, issuer))).expect(200);
      await token(assertionForm(await clientAssertion(key, client.client_id, issuer))).expect(200);
      // Fetched once, then cached.
      expect(server.requests).toHaveLength(1);
    } finally {
      await server.close();
    }
  });

  it('refuses a replayed assertion, on this replica and on another one', async () => {
    const key = await newIssuerKey();
    const client = await keyClient({ jwks: { keys: [key.publicJwk] } });
    const assertion = await clientAssertion(key, client.client_id, issuer);
    await token(assertionForm(assertion)).expect(200);
    expectOAuthError(await token(assertionForm(assertion)), 401, 'invalid_client');
    const other = await createTestApp({ databaseUrl: t.database.url });
    try {
      const replayed = await other.http
        .post('/oauth/token')
        .type('form')
        .send({ grant_type: 'client_credentials', ...assertionForm(assertion) });
      expectOAuthError(replayed, 401, 'invalid_client');
    } finally {
      await other.close();
    }
  });

  it('refuses assertions with a missing, long or past exp, a wrong aud, iss or sub, no jti, or a foreign key', async () => {
    const key = await newIssuerKey();
    const stranger = await newIssuerKey();
    const client = await keyClient({ jwks: { keys: [key.publicJwk] } });
    const id = client.client_id;
    const now = Math.floor(Date.now() / 1000);
    const bad = [
      await clientAssertion(key, id, issuer, { exp: undefined }),
      await clientAssertion(key, id, issuer, { exp: now + 3600 }),
      await clientAssertion(key, id, issuer, { iat: now - 600, exp: now - 300 }),
      await clientAssertion(key, id, 'https://elsewhere.example/oauth/token'),
      await clientAssertion(key, id, `${issuer}/oauth/introspect`),
      await clientAssertion(key, id, issuer, { iss: 'someone-else' }),
      await clientAssertion(key, id, issuer, { sub: 'someone-else' }),
      await clientAssertion(key, id, issuer, { jti: undefined }),
      await clientAssertion({ ...stranger, kid: key.kid }, id, issuer),
      // A symmetric algorithm, "signed" with the public key's modulus as the secret.
      await new SignJWT({ iss: id, sub: id, aud: issuer, jti: 'x', exp: now + 60 })
        .setProtectedHeader({ alg: 'HS256', kid: key.kid })
        .sign(new TextEncoder().encode(String(key.publicJwk.n))),
      'not.a.jwt',
    ];
    for (const assertion of bad) expectOAuthError(await token(assertionForm(assertion)), 401, 'invalid_client');
    // The body's client_id must be the assertion's.
    expectOAuthError(
      await token({ client_id: 'ca-other', ...assertionForm(await clientAssertion(key, id, issuer)) }),
      401,
      'invalid_client',
    );
    const reasons = await t.app
      .get(DataSource)
      .query<{ reason: string }[]>(
        `SELECT data->>'reason' AS reason FROM audit_events WHERE action = 'oauth.client_auth_failed' AND data->>'client_id' = $1`,
        [id],
      );
    expect(new Set(reasons.map((r) => r.reason))).toEqual(
      new Set(['claims', 'too_long', 'expired', 'signature', 'client_id_mismatch']),
    );
    // None of those spent a good assertion's chance.
    await token(assertionForm(await clientAssertion(key, id, issuer))).expect(200);
  });

  it('refuses an unknown client, a secret for a client with keys, and mixed methods', async () => {
    const key = await newIssuerKey();
    const client = await keyClient({ jwks: { keys: [key.publicJwk] } });
    expectOAuthError(
      await token(assertionForm(await clientAssertion(key, 'ca-nobody', issuer))),
      401,
      'invalid_client',
    );
    // A client that had a secret and then registered a key authenticates with the key only.
    const org = await createOrganization(t);
    const withSecret = await t.http
      .post('/api/v1/service-accounts')
      .set(staff.auth)
      .send({ organization: org.id, name: 'old' })
      .expect(201);
    await token({})
      .set('Authorization', basicAuth(withSecret.body.client_id, withSecret.body.client_secret))
      .expect(200);
    await t.http
      .patch(`/api/v1/service-accounts/${withSecret.body.id}`)
      .set(staff.auth)
      .send({ jwks: { keys: [key.publicJwk] } })
      .expect(200);
    expectOAuthError(
      await token({}).set('Authorization', basicAuth(withSecret.body.client_id, withSecret.body.client_secret)),
      401,
      'invalid_client',
    );
    await token(assertionForm(await clientAssertion(key, withSecret.body.client_id, issuer))).expect(200);
    // Removing the keys brings the secret back.
    await t.http
      .patch(`/api/v1/service-accounts/${withSecret.body.id}`)
      .set(staff.auth)
      .send({ jwks: null })
      .expect(200);
    await token({})
      .set('Authorization', basicAuth(withSecret.body.client_id, withSecret.body.client_secret))
      .expect(200);

    const assertion = await clientAssertion(key, client.client_id, issuer);
    expectOAuthError(
      await token({ ...assertionForm(assertion) }).set('Authorization', basicAuth(client.client_id, 'x')),
      400,
      'invalid_request',
    );
    expectOAuthError(await token({ ...assertionForm(assertion), client_secret: 'x' }), 400, 'invalid_request');
    expectOAuthError(
      await token({ client_assertion_type: 'urn:x', client_assertion: assertion }),
      400,
      'invalid_request',
    );
    expectOAuthError(
      await token({ client_assertion_type: assertionForm(assertion).client_assertion_type }),
      400,
      'invalid_request',
    );
  });

  it('authenticates revocation and introspection with assertions for those endpoints', async () => {
    const key = await newIssuerKey();
    const resourceServer = await newIssuerKey('ES256');
    const client = await keyClient({ jwks: { keys: [key.publicJwk] } });
    const rs = await keyClient({ jwks: { keys: [resourceServer.publicJwk] } }, ['token:introspect']);
    const base = tokenEndpoint.replace(/\/oauth\/token$/, '');
    const access = (await token(assertionForm(await clientAssertion(key, client.client_id, issuer))).expect(200)).body
      .access_token as string;
    const introspect = async () =>
      (
        await t.http
          .post('/oauth/introspect')
          .type('form')
          .send({
            token: access,
            ...assertionForm(await clientAssertion(resourceServer, rs.client_id, `${base}/oauth/introspect`)),
          })
          .expect(200)
      ).body;
    expect(await introspect()).toMatchObject({ active: true, client_id: client.client_id });
    await t.http
      .post('/oauth/revoke')
      .type('form')
      .send({ token: access, ...assertionForm(await clientAssertion(key, client.client_id, `${base}/oauth/revoke`)) })
      .expect(200);
    expect(await introspect()).toEqual({ active: false });
  });

  it('checks the keys a client registers', async () => {
    const org = await createOrganization(t);
    const create = (keys: object) =>
      t.http
        .post('/api/v1/service-accounts')
        .set(staff.auth)
        .send({ organization: org.id, name: 'k', ...keys });
    const { privateKey } = await generateKeyPair('RS256', { extractable: true });
    // jose refuses to make one; node:crypto still does.
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' });
    const hmac = { kty: 'oct', k: 'c2VjcmV0' };
    const good: IssuerKey = await newIssuerKey();
    const refused = [
      { jwks: { keys: [await exportJWK(privateKey)] } },
      { jwks: { keys: [weak] } },
      { jwks: { keys: [hmac] } },
      { jwks: { keys: [] } },
      { jwks: { keys: [{ ...good.publicJwk, use: 'enc' }] } },
      { jwks: { keys: [{ ...good.publicJwk, alg: 'PS256' }] } },
      { jwks: { keys: [{ kty: 'RSA', n: 'AQAB', e: 'AQAB' }] } },
      { jwks: [good.publicJwk] },
      { jwks_uri: 'http://keys.example.edu/jwks.json' },
      { jwks_uri: 'ftp://keys.example.edu/jwks.json' },
      { jwks_uri: 'https://user:pw@keys.example.edu/jwks.json' },
      { jwks: { keys: [good.publicJwk] }, jwks_uri: 'https://keys.example.edu/jwks.json' },
    ];
    for (const keys of refused) {
      const res = await create(keys);
      expect({ keys, status: res.status, error: res.body.error }).toEqual({
        keys,
        status: 400,
        error: 'validation_failed',
      });
    }
    await create({ jwks_uri: 'https://keys.example.edu/jwks.json' }).expect(201);
  });
});
