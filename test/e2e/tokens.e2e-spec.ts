import { randomUUID } from 'node:crypto';
import { CryptoKey, decodeJwt, decodeProtectedHeader, exportSPKI, importJWK, JWK, SignJWT, UnsecuredJWT } from 'jose';
import type { Response } from 'supertest';
import { DataSource } from 'typeorm';
import { SigningKeysService } from '../../src/accounts/keys/signing-keys.service';
import { createOrganization, createServiceAccount, createStaff, createUser } from '../factories/accounts';
import { activationToken, newActivation } from '../utils/activation';
import { activeSigningKey, signOwnToken, tamperPayload } from '../utils/own-tokens';
import { createTestApp, TestApp } from '../utils/test-app';

const ME = '/api/v1/auth/me';
const kidOf = (token: string) => decodeProtectedHeader(token).kid;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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

  it('refuses a token signed with our key whose lifetime is longer than its kind allows', async () => {
    const user = await createUser(t);
    const now = Math.floor(Date.now() / 1000);
    const lasting = (seconds: number, kind = 'user') =>
      signOwnToken(t, user.row.id, { claims: { iat: now, exp: now + seconds, kind } });
    // ACCESS_TOKEN_TTL_SECONDS is 900 and the skew 5 here.
    expectInvalidToken(await me(await lasting(30 * 86400)), /lifetime/);
    expectInvalidToken(await me(await lasting(906)), /lifetime/);
    await me(await lasting(905)).expect(200);
    // Service tokens live SERVICE_TOKEN_TTL_SECONDS (600): 700 s is too long for one.
    expectInvalidToken(await me(await lasting(700, 'service')), /lifetime/);
  });

  it('refuses a token signed with our key but dated in the future', async () => {
    const user = await createUser(t);
    const later = Math.floor(Date.now() / 1000) + 30 * 86400;
    expectInvalidToken(
      await me(await signOwnToken(t, user.row.id, { claims: { iat: later, exp: later + 300 } })),
      /iat/,
    );
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
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
      token_endpoint_auth_signing_alg_values_supported: ['RS256', 'ES256'],
      revocation_endpoint: `${iss}/oauth/revoke`,
      revocation_endpoint_auth_methods_supported: [
        'client_secret_basic',
        'client_secret_post',
        'private_key_jwt',
        'none',
      ],
      revocation_endpoint_auth_signing_alg_values_supported: ['RS256', 'ES256'],
      introspection_endpoint: `${iss}/oauth/introspect`,
      introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
      introspection_endpoint_auth_signing_alg_values_supported: ['RS256', 'ES256'],
      scopes_supported: ['account:activate', 'token:introspect'],
      response_types_supported: [],
      service_documentation: `${iss}/docs`,
      campus_access_token_endpoint_alias: `${iss}/token`,
    });
  });

  it('names in the metadata the configured grant types, and no documentation when the docs are off', async () => {
    const other = await createTestApp({
      settings: {
        DOCS_ENABLED: 'false',
        NEW_USER_GRANT_TYPES: 'urn:example:params:oauth:grant-type:activate',
        JWT_ISSUER: 'https://id.example.edu',
        PUBLIC_URL: 'https://api.example.edu',
      },
    });
    try {
      const res = await other.http.get('/.well-known/oauth-authorization-server').expect(200);
      // The endpoints are where the server is reached (PUBLIC_URL), whatever the issuer.
      expect(res.body).toEqual({
        issuer: 'https://id.example.edu',
        token_endpoint: 'https://api.example.edu/oauth/token',
        jwks_uri: 'https://api.example.edu/.well-known/jwks.json',
        grant_types_supported: ['client_credentials', 'urn:example:params:oauth:grant-type:activate'],
        token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
        token_endpoint_auth_signing_alg_values_supported: ['RS256', 'ES256'],
        revocation_endpoint: 'https://api.example.edu/oauth/revoke',
        revocation_endpoint_auth_methods_supported: [
          'client_secret_basic',
          'client_secret_post',
          'private_key_jwt',
          'none',
        ],
        revocation_endpoint_auth_signing_alg_values_supported: ['RS256', 'ES256'],
        introspection_endpoint: 'https://api.example.edu/oauth/introspect',
        introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
        introspection_endpoint_auth_signing_alg_values_supported: ['RS256', 'ES256'],
        scopes_supported: ['account:activate', 'token:introspect'],
        response_types_supported: [],
        campus_access_token_endpoint_alias: 'https://api.example.edu/token',
      });
      await other.http.get('/docs').expect(404);
    } finally {
      await other.close();
    }
  });
});

describe('An issuer with a path (RFC 8414 §3.1)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({
      settings: { JWT_ISSUER: 'https://example.edu/campus', PUBLIC_URL: 'https://api.example.edu' },
    });
  });
  afterAll(() => t.close());

  it('serves the metadata at /.well-known/oauth-authorization-server/<issuer path>, endpoints at PUBLIC_URL', async () => {
    const res = await t.http.get('/.well-known/oauth-authorization-server/campus').expect(200);
    expect(res.headers['cache-control']).toBe('public, max-age=300');
    expect(res.body).toMatchObject({
      issuer: 'https://example.edu/campus',
      token_endpoint: 'https://api.example.edu/oauth/token',
      jwks_uri: 'https://api.example.edu/.well-known/jwks.json',
    });
    // Nothing advertised under the issuer's path, where no route answers.
    expect(JSON.stringify(res.body)).not.toContain('example.edu/campus/');
  });

  it('answers 404 at another path, and the issuer of its tokens is the one with the path', async () => {
    for (const path of ['/other', '/campus/x', '/campusx'])
      await t.http.get(`/.well-known/oauth-authorization-server${path}`).expect(404);
    const user = await createUser(t);
    expect(decodeJwt(user.token).iss).toBe('https://example.edu/campus');
    await t.http.get('/api/v1/auth/me').set('Authorization', `Bearer ${user.token}`).expect(200);
  });

  it('answers 404 at a sub-path when the issuer has no path', async () => {
    const plain = await createTestApp({ settings: { JWT_ISSUER: 'https://id.example.edu' } });
    try {
      await plain.http.get('/.well-known/oauth-authorization-server/campus').expect(404);
    } finally {
      await plain.close();
    }
  });
});

describe('Signing key rotation', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  const db = () => t.app.get(DataSource);

  it('publishes the retiring and the new key, and tokens signed before the rotation still verify', async () => {
    const before = await createUser(t);
    const oldKid = decodeProtectedHeader(before.token).kid;
    const jwksBefore = (await t.http.get('/.well-known/jwks.json').expect(200)).body.keys as { kid: string }[];
    expect(jwksBefore.map((k) => k.kid)).toEqual([oldKid]);

    const rotated = await t.app.get(SigningKeysService).rotate();
    expect(rotated).toEqual({ kid: expect.any(String), retiring: [oldKid], retireAfter: expect.any(Date) });
    expect(rotated.kid).not.toBe(oldKid);

    const jwksAfter = (await t.http.get('/.well-known/jwks.json').expect(200)).body.keys as { kid: string }[];
    expect(jwksAfter.map((k) => k.kid).sort()).toEqual([oldKid, rotated.kid].sort());

    const after = await createUser(t);
    expect(decodeProtectedHeader(after.token).kid).toBe(rotated.kid);
    await t.http.get(ME).set(after.auth).expect(200);
    await t.http.get(ME).set(before.auth).expect(200);
  });

  it('keeps the previous key published until no server can sign with it and its last token has expired', async () => {
    const oldKid = kidOf((await createUser(t)).token);
    const rotatedAt = Date.now();
    await t.app.get(SigningKeysService).rotate();
    const [row] = await db().query<{ retire_after: Date }[]>('SELECT retire_after FROM signing_keys WHERE kid = $1', [
      oldKid,
    ]);
    const s = t.settings;
    const longestToken = Math.max(
      s.ACCESS_TOKEN_TTL_SECONDS,
      s.SERVICE_TOKEN_TTL_SECONDS,
      s.ACTIVATION_TOKEN_TTL_SECONDS,
      s.LTI_SESSION_TTL_SECONDS,
    );
    const seconds = s.SIGNING_KEYS_RELOAD_SECONDS + longestToken + s.JWT_CLOCK_SKEW_SECONDS;
    expect(row.retire_after.getTime()).toBeGreaterThanOrEqual(rotatedAt + seconds * 1000);
    expect(row.retire_after.getTime()).toBeLessThan(Date.now() + seconds * 1000 + 5_000);
  });

  it('records the rotation in the audit log', async () => {
    const oldKid = kidOf((await createUser(t)).token);
    const rotated = await t.app.get(SigningKeysService).rotate();
    const staff = await createStaff(t);
    const res = await t.http
      .get(`/api/v1/audit-events?action=signing_key.rotated&subject_id=${rotated.kid}`)
      .set(staff.auth)
      .expect(200);
    expect(res.body.results).toEqual([
      expect.objectContaining({
        action: 'signing_key.rotated',
        actor_type: 'system',
        actor_id: null,
        subject_type: 'SigningKey',
        subject_id: rotated.kid,
        data: { kid: rotated.kid, alg: 'RS256', retiring: [oldKid], retire_after: rotated.retireAfter.toISOString() },
      }),
    ]);
    const [row] = await db().query<{ retire_after: Date }[]>('SELECT retire_after FROM signing_keys WHERE kid = $1', [
      oldKid,
    ]);
    expect(row.retire_after.toISOString()).toBe(rotated.retireAfter.toISOString());
  });

  it('records the key created at first start in the audit log', async () => {
    const [first] = await db().query<{ kid: string }[]>(
      "SELECT kid FROM signing_keys WHERE purpose = 'access_token' ORDER BY created_at LIMIT 1",
    );
    const staff = await createStaff(t);
    const res = await t.http
      .get(`/api/v1/audit-events?action=signing_key.created&subject_id=${first.kid}`)
      .set(staff.auth)
      .expect(200);
    expect(res.body.results).toEqual([
      expect.objectContaining({
        actor_type: 'system',
        subject_type: 'SigningKey',
        data: { kid: first.kid, alg: 'RS256' },
      }),
    ]);
  });
});

describe('Signing key rotation on two servers', () => {
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    const settings = { SIGNING_KEYS_RELOAD_SECONDS: '1' };
    a = await createTestApp({ settings });
    b = await createTestApp({ settings, databaseUrl: a.database.url });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it('the other server signs with the new key within a couple of reload intervals, and both accept either key meanwhile', async () => {
    const beforeA = await createUser(a);
    const beforeB = await createUser(b);
    const oldKid = kidOf(beforeA.token);
    expect(kidOf(beforeB.token)).toBe(oldKid);

    // As the CLI does it: the rotation happens in another process, and B is not told.
    const { kid: newKid } = await a.app.get(SigningKeysService).rotate();
    const rotatedAt = Date.now();
    let afterB = await createUser(b);
    while (kidOf(afterB.token) !== newKid && Date.now() - rotatedAt < 2_500) {
      await sleep(100);
      afterB = await createUser(b);
    }
    expect(kidOf(afterB.token)).toBe(newKid);
    const afterA = await createUser(a);
    expect(kidOf(afterA.token)).toBe(newKid);

    for (const app of [a, b]) {
      for (const user of [beforeA, beforeB, afterA, afterB]) await app.http.get(ME).set(user.auth).expect(200);
      const jwks = (await app.http.get('/.well-known/jwks.json').expect(200)).body.keys as { kid: string }[];
      expect(jwks.map((k) => k.kid).sort()).toEqual([oldKid, newKid].sort());
    }
  });
});

describe('Retired signing keys', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  const me = (token: string) => t.http.get(ME).set('Authorization', `Bearer ${token}`);
  const db = () => t.app.get(DataSource);

  it('refuses a token it accepted before once its key is retired, from the next key reload on', async () => {
    const user = await createUser(t);
    const oldKey = await activeSigningKey(t);
    await me(user.token).expect(200);
    await t.app.get(SigningKeysService).rotate();
    await me(user.token).expect(200);

    // The key leaked: it is retired at once, without waiting for its tokens to expire. The active one
    // cannot be retired before a rotation replaces it.
    const keys = t.app.get(SigningKeysService);
    await expect(keys.retire((await activeSigningKey(t)).kid)).rejects.toThrow(/rotate first/);
    await keys.retire(oldKey.kid, { via: 'cli' });
    expectInvalidToken(await me(user.token), /unknown key/);
    expect(
      await db().query(
        "SELECT actor_type, data FROM audit_events WHERE action = 'signing_key.retired' AND subject_id = $1",
        [oldKey.kid],
      ),
    ).toEqual([{ actor_type: 'system', data: { kid: oldKey.kid, reason: 'manual', via: 'cli' } }]);
    // A new token made with the leaked key too.
    expectInvalidToken(await me(await signOwnToken(t, user.row.id, { key: oldKey })), /unknown key/);
    const jwks = (await t.http.get('/.well-known/jwks.json').expect(200)).body.keys as { kid: string }[];
    expect(jwks.map((k) => k.kid)).not.toContain(oldKey.kid);
    // Tokens of the new key are not affected.
    await me((await createUser(t)).token).expect(200);
  });

  it('refuses tokens of a retiring key as soon as its retire_after has passed, before any reload', async () => {
    const user = await createUser(t);
    const oldKid = kidOf(user.token);
    await me(user.token).expect(200);
    await t.app.get(SigningKeysService).rotate();
    await db().query("UPDATE signing_keys SET retire_after = now() + interval '2 seconds' WHERE kid = $1", [oldKid]);
    await t.app.get(SigningKeysService).reload();
    await me(user.token).expect(200);
    await sleep(2_200);
    // SIGNING_KEYS_RELOAD_SECONDS is 60 here: no reload has run since.
    expectInvalidToken(await me(user.token), /unknown key/);
    const jwks = (await t.http.get('/.well-known/jwks.json').expect(200)).body.keys as { kid: string }[];
    expect(jwks.map((k) => k.kid)).not.toContain(oldKid);
    // The next reload retires it in the table, and says so once.
    await t.app.get(SigningKeysService).reload();
    await t.app.get(SigningKeysService).reload();
    expect(await db().query('SELECT status FROM signing_keys WHERE kid = $1', [oldKid])).toEqual([
      { status: 'retired' },
    ]);
    expect(
      await db().query("SELECT data FROM audit_events WHERE action = 'signing_key.retired' AND subject_id = $1", [
        oldKid,
      ]),
    ).toEqual([{ data: { kid: oldKid, reason: 'expired' } }]);
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
    expect((await a.http.get(ME).expect(401)).body).toEqual({
      error: 'unauthorized',
      message: 'Authentication required.',
    });
  });
});
