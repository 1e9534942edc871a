import { randomUUID } from 'node:crypto';
import { CryptoKey, decodeJwt, decodeProtectedHeader, exportSPKI, importJWK, JWK, SignJWT, UnsecuredJWT } from 'jose';
import type { Response } from 'supertest';
import { SigningKeysService } from '../../src/accounts/keys/signing-keys.service';
import { createOrganization, createServiceAccount, createStaff, createUser } from '../factories/accounts';
import { activationToken, newActivation } from '../utils/activation';
import { activeSigningKey, signOwnToken, tamperPayload } from '../utils/own-tokens';
import { createTestApp, TestApp } from '../utils/test-app';

const ME = '/api/v1/auth/me';

/** 401 invalid_token with an RFC 6750 challenge, refused for `reason` (so a test cannot pass for some other fault). */
function expectInvalidToken(res: Response, reason: RegExp): void {
  expect(res.status).toBe(401);
  expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="campus-access", error="invalid_token"/);
  expect(res.body).toEqual({ error: 'invalid_token', message: expect.stringMatching(reason) });
}

describe('Our access tokens', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ settings: { JWT_CLOCK_SKEW_SECONDS: '5', LOGIN_RATE_LIMIT: '10000' } });
  });
  afterAll(() => t.close());

  const me = (token: string) => t.http.get(ME).set('Authorization', `Bearer ${token}`);

  it('accepts a user access token the app issued', async () => {
    const user = await createUser(t);
    const res = await me(user.token).expect(200);
    expect(res.body).toMatchObject({ type: 'user', id: user.row.id, token_kind: 'user', is_staff: false });
    expect(decodeProtectedHeader(user.token)).toMatchObject({ typ: 'at+jwt', alg: 'RS256', kid: expect.any(String) });
  });

  it('accepts a token signed by the app key with the usual claims (the baseline for the hostile variants below)', async () => {
    const user = await createUser(t);
    const res = await me(await signOwnToken(t, user.row.id)).expect(200);
    expect(res.body.id).toBe(user.row.id);
  });

  it('refuses a token whose payload was changed after signing', async () => {
    const user = await createUser(t);
    const staff = await createStaff(t);
    expectInvalidToken(await me(tamperPayload(user.token, { sub: staff.row.id })), /signature/);
    expectInvalidToken(
      await me(tamperPayload(user.token, { exp: Math.floor(Date.now() / 1000) + 86400 * 365 })),
      /signature/,
    );
    // The untouched token still works: only the change made it invalid.
    await me(user.token).expect(200);
  });

  it('refuses a token for another audience', async () => {
    const user = await createUser(t);
    expectInvalidToken(await me(await signOwnToken(t, user.row.id, { claims: { aud: 'some-other-api' } })), /aud/);
    expectInvalidToken(await me(await signOwnToken(t, user.row.id, { claims: { aud: undefined } })), /aud/);
  });

  it('refuses a token from an issuer it does not trust, even signed with our key', async () => {
    const user = await createUser(t);
    const res = await me(await signOwnToken(t, user.row.id, { claims: { iss: 'https://idp.evil.example' } }));
    expectInvalidToken(res, /issuer is not trusted/);
  });

  it('refuses an expired token beyond the clock skew and accepts one within it', async () => {
    const user = await createUser(t);
    const now = Math.floor(Date.now() / 1000);
    const expired = await me(await signOwnToken(t, user.row.id, { claims: { iat: now - 600, exp: now - 60 } }));
    expectInvalidToken(expired, /expired/);
    // JWT_CLOCK_SKEW_SECONDS is 5 here.
    await me(await signOwnToken(t, user.row.id, { claims: { iat: now - 600, exp: now - 1 } })).expect(200);
  });

  it('refuses a token it accepted before once the token has expired (verified tokens are not kept past exp)', async () => {
    const user = await createUser(t);
    const now = Math.floor(Date.now() / 1000);
    // Valid for one to two more seconds, counting the 5 s clock skew.
    const token = await signOwnToken(t, user.row.id, { claims: { iat: now - 600, exp: now - 3 } });
    await me(token).expect(200);
    await me(token).expect(200);
    await new Promise((r) => setTimeout(r, 3_100));
    expectInvalidToken(await me(token), /expired/);
  });

  it('refuses a token that is not yet valid (nbf in the future)', async () => {
    const user = await createUser(t);
    expectInvalidToken(
      await me(await signOwnToken(t, user.row.id, { claims: { nbf: Math.floor(Date.now() / 1000) + 600 } })),
      /nbf/,
    );
  });

  it('refuses an unsigned token (alg none)', async () => {
    const user = await createUser(t);
    const { kid } = await activeSigningKey(t);
    const claims = decodeJwt(user.token);
    expectInvalidToken(await me(new UnsecuredJWT(claims).encode()), /algorithm/);
    // The same with our kid and typ in the header.
    const header = Buffer.from(JSON.stringify({ alg: 'none', kid, typ: 'at+jwt' })).toString('base64url');
    const [, payload] = user.token.split('.');
    expectInvalidToken(await me(`${header}.${payload}.`), /algorithm/);
  });

  it('refuses an HS256 token whose HMAC secret is our published public key', async () => {
    const user = await createUser(t);
    const jwks = (await t.http.get('/.well-known/jwks.json').expect(200)).body as {
      keys: (JWK & { kid: string; alg: string })[];
    };
    const jwk = jwks.keys[0];
    const pem = await exportSPKI((await importJWK(jwk, jwk.alg)) as CryptoKey);
    const claims = decodeJwt(user.token);
    for (const secret of [JSON.stringify(jwk), pem, pem.trim(), jwk.n!]) {
      const forged = await new SignJWT(claims)
        .setProtectedHeader({ alg: 'HS256', kid: jwk.kid, typ: 'at+jwt' })
        .sign(new TextEncoder().encode(secret));
      expectInvalidToken(await me(forged), /algorithm/);
    }
  });

  it('refuses a token signed with our key but naming an unknown kid, or none', async () => {
    const user = await createUser(t);
    const unknown = await me(await signOwnToken(t, user.row.id, { header: { kid: randomUUID() } }));
    expectInvalidToken(unknown, /unknown key/);
    expectInvalidToken(await me(await signOwnToken(t, user.row.id, { header: { kid: undefined } })), /key id/);
  });

  it('refuses a token whose typ is not at+jwt', async () => {
    const user = await createUser(t);
    expectInvalidToken(await me(await signOwnToken(t, user.row.id, { header: { typ: 'JWT' } })), /typ/);
    expectInvalidToken(await me(await signOwnToken(t, user.row.id, { header: { typ: 'id_token+jwt' } })), /typ/);
    expectInvalidToken(await me(await signOwnToken(t, user.row.id, { header: { typ: undefined } })), /typ/);
  });

  it('refuses a token missing a required claim or with an unknown kind', async () => {
    const user = await createUser(t);
    for (const claim of ['sub', 'exp', 'iat', 'jti', 'client_id']) {
      expectInvalidToken(
        await me(await signOwnToken(t, user.row.id, { claims: { [claim]: undefined } })),
        new RegExp(`\\b${claim}\\b`),
      );
    }
    expectInvalidToken(await me(await signOwnToken(t, user.row.id, { claims: { kind: 'admin' } })), /kind/);
    expectInvalidToken(await me(await signOwnToken(t, user.row.id, { claims: { kind: undefined } })), /kind/);
  });

  it('keeps activation tokens to the activation route, and that route to activation tokens', async () => {
    const staff = await createStaff(t);
    const org = await createOrganization(t);
    const who = await newActivation(t, staff.auth, org.id);
    const activation = await activationToken(t, who);
    expect(decodeJwt(activation)).toMatchObject({ scope: 'account:activate', kind: 'activation', sub: who.userId });

    expectInvalidToken(
      await t.http.get('/api/v1/organizations').set('Authorization', `Bearer ${activation}`),
      /cannot be used here/,
    );
    expectInvalidToken(await me(activation), /cannot be used here/);

    const user = await createUser(t);
    const sa = await createServiceAccount(t, org.id);
    for (const auth of [user.auth, sa.auth, staff.auth]) {
      const res = await t.http
        .post('/api/v1/accounts/activate')
        .set(auth)
        .send({ password: 'a long enough password', accept_terms: true });
      expect(res.status).toBe(403);
      expect(res.headers['www-authenticate']).toMatch(/error="insufficient_scope"/);
      expect(res.body.error).toBe('insufficient_scope');
    }
  });

  it('does not take a service access token as a refresh token', async () => {
    const org = await createOrganization(t);
    const sa = await createServiceAccount(t, org.id);
    const inBody = await t.http.post('/api/v1/auth/refresh').send({ refresh_token: sa.token });
    expect([400, 401]).toContain(inBody.status);
    expect(inBody.body.access_token).toBeUndefined();
    expect(['validation_failed', 'invalid_refresh_token']).toContain(inBody.body.error);
    // As the bearer token of the call instead of a refresh token: still no token pair.
    const inHeader = await t.http.post('/api/v1/auth/refresh').set(sa.auth).send({ refresh_token: 'x' }).expect(401);
    expect(inHeader.body).toMatchObject({ error: 'invalid_refresh_token' });
    expect(inHeader.body.access_token).toBeUndefined();
  });

  it('refuses a still-valid token of a user who has since been deactivated', async () => {
    const user = await createUser(t);
    const staff = await createStaff(t);
    await me(user.token).expect(200);
    await t.http.patch(`/api/v1/users/${user.row.id}`).set(staff.auth).send({ is_active: false }).expect(200);
    expectInvalidToken(await me(user.token), /deactivated/);
  });

  it('publishes the active public key, and nothing private, at /.well-known/jwks.json', async () => {
    const user = await createUser(t);
    const res = await t.http.get('/.well-known/jwks.json').expect(200);
    const { kid } = decodeProtectedHeader(user.token);
    const keys = res.body.keys as Record<string, unknown>[];
    expect(keys.map((k) => k.kid)).toContain(kid);
    for (const k of keys) {
      expect(k).toMatchObject({
        kty: expect.any(String),
        kid: expect.any(String),
        alg: expect.stringMatching(/^(RS256|ES256)$/),
        use: 'sig',
      });
      for (const priv of ['d', 'p', 'q', 'dp', 'dq', 'qi']) expect(k).not.toHaveProperty(priv);
    }
  });

  it('serves OAuth authorization server metadata matching the tokens it issues', async () => {
    const user = await createUser(t);
    const res = await t.http.get('/.well-known/oauth-authorization-server').expect(200);
    const iss = decodeJwt(user.token).iss!;
    // Exactly what we support: no authorization endpoint, so no response types (the implicit grant's
    // "token" would advertise what RFC 9700 forbids); no JWT client authentication, so no signing algorithms.
    expect(res.body).toEqual({
      issuer: iss,
      token_endpoint: `${iss}/oauth/token`,
      jwks_uri: `${iss}/.well-known/jwks.json`,
      grant_types_supported: [
        'client_credentials',
        'urn:devops.uis.cam.ac.uk:params:oauth:grant-type:new-user-credentials',
        'urn:campus-access:params:oauth:grant-type:new-user-credentials',
      ],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
      response_types_supported: [],
      service_documentation: `${iss}/docs`,
    });
  });

  it('names in the metadata the configured grant types, and no documentation when the docs are off', async () => {
    const other = await createTestApp({
      settings: { DOCS_ENABLED: 'false', NEW_USER_GRANT_TYPES: 'urn:example:params:oauth:grant-type:activate', JWT_ISSUER: 'https://id.example.edu' },
    });
    try {
      const res = await other.http.get('/.well-known/oauth-authorization-server').expect(200);
      expect(res.body).toEqual({
        issuer: 'https://id.example.edu',
        token_endpoint: 'https://id.example.edu/oauth/token',
        jwks_uri: 'https://id.example.edu/.well-known/jwks.json',
        grant_types_supported: ['client_credentials', 'urn:example:params:oauth:grant-type:activate'],
        token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
        response_types_supported: [],
      });
      await other.http.get('/docs').expect(404);
    } finally {
      await other.close();
    }
  });
});

describe('Signing key rotation', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('publishes the retiring and the new key, and tokens signed before the rotation still verify', async () => {
    const before = await createUser(t);
    const oldKid = decodeProtectedHeader(before.token).kid;
    const jwksBefore = (await t.http.get('/.well-known/jwks.json').expect(200)).body.keys as { kid: string }[];
    expect(jwksBefore.map((k) => k.kid)).toEqual([oldKid]);

    const rotated = await t.app.get(SigningKeysService).rotate();
    expect(rotated).toEqual({ kid: expect.any(String), retiring: [oldKid] });
    expect(rotated.kid).not.toBe(oldKid);

    const jwksAfter = (await t.http.get('/.well-known/jwks.json').expect(200)).body.keys as { kid: string }[];
    expect(jwksAfter.map((k) => k.kid).sort()).toEqual([oldKid, rotated.kid].sort());

    const after = await createUser(t);
    expect(decodeProtectedHeader(after.token).kid).toBe(rotated.kid);
    await t.http.get(ME).set(after.auth).expect(200);
    await t.http.get(ME).set(before.auth).expect(200);
  });
});

describe('Two applications in one process', () => {
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    [a, b] = await Promise.all([createTestApp(), createTestApp()]);
  });
  afterAll(() => Promise.all([a?.close(), b?.close()]));

  it('each verify bearer tokens with their own keys and users, whichever started last', async () => {
    const [userA, userB] = await Promise.all([createUser(a), createUser(b)]);
    expect((await a.http.get(ME).set(userA.auth).expect(200)).body.id).toBe(userA.row.id);
    expect((await b.http.get(ME).set(userB.auth).expect(200)).body.id).toBe(userB.row.id);
    expectInvalidToken(await a.http.get(ME).set(userB.auth), /./);
    expectInvalidToken(await b.http.get(ME).set(userA.auth), /./);
    expect((await a.http.get(ME).expect(401)).body).toEqual({ error: 'unauthorized', message: 'Authentication required.' });
  });
});
