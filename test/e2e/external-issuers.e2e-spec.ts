import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { Client } from 'pg';
import type { Response } from 'supertest';
import { createStaff, createUser, unique } from '../factories/accounts';
import { IssuerKey, JwksServer, newIssuerKey, startJwksServer } from '../utils/jwks-server';
import { createTestApp, TestApp } from '../utils/test-app';

const AUDIENCE = 'campus-access-api';
const REFETCH_INTERVAL_S = 2;
const STATIC_ISSUER = 'https://static-idp.example.edu';

function expectInvalidToken(res: Response, reason: RegExp): void {
  expect(res.status).toBe(401);
  expect(res.headers['www-authenticate']).toMatch(/error="invalid_token"/);
  expect(res.body).toEqual({ error: 'invalid_token', message: expect.stringMatching(reason) });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Trusted external issuers', () => {
  let idp: JwksServer;
  let staticKey: IssuerKey;
  let t: TestApp;
  let staff: { Authorization: string };
  /** When the issuer's JWKS was last fetched, as far as the tests can tell. */
  let lastFetchAt = 0;

  beforeAll(async () => {
    idp = await startJwksServer();
    staticKey = await newIssuerKey('RS256');
    t = await createTestApp({
      settings: {
        JWT_CLOCK_SKEW_SECONDS: '5',
        JWKS_REFETCH_INTERVAL_SECONDS: String(REFETCH_INTERVAL_S),
        TRUSTED_ISSUERS: JSON.stringify([
          {
            issuer: idp.issuer,
            jwks_uri: idp.jwksUri,
            audience: AUDIENCE,
            claims: { username: 'upn', email: 'mail', first_name: 'given', last_name: 'family' },
          },
          { issuer: STATIC_ISSUER, public_key_pem: staticKey.publicKeyPem, audience: [AUDIENCE, 'other-api'] },
        ]),
      },
    });
    staff = (await createStaff(t)).auth;
  });
  afterAll(async () => {
    await t?.close();
    await idp?.close();
  });

  /** GET /auth/me with `token`, noting when it made the app fetch the issuer's keys. */
  async function me(token: string): Promise<Response> {
    const before = idp.fetches();
    const res = await t.http.get('/api/v1/auth/me').set('Authorization', `Bearer ${token}`);
    if (idp.fetches() > before) lastFetchAt = Date.now();
    return res;
  }

  const person = (changes: Record<string, unknown> = {}) => {
    const id = unique('jd');
    return { upn: id, mail: `${id}@idp.example.edu`, given: 'Jane', family: 'Doe', ...changes };
  };

  it('provisions a user of kind external on the first valid token, once', async () => {
    const sub = randomUUID();
    const claims = person();
    const res = await me(await idp.sign(sub, AUDIENCE, { claims }));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      type: 'user',
      token_kind: 'external',
      is_staff: false,
      is_support: false,
      name: claims.upn,
    });

    const user = await t.http.get(`/api/v1/users/${res.body.id}`).set(staff).expect(200);
    expect(user.body).toMatchObject({
      username: claims.upn,
      email: claims.mail,
      first_name: 'Jane',
      last_name: 'Doe',
      kind: 'external',
      is_staff: false,
      is_active: true,
    });

    const again = await me(await idp.sign(sub, AUDIENCE, { claims }));
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(res.body.id);
    const listed = await t.http.get(`/api/v1/users?kind=external&search=${claims.upn}`).set(staff).expect(200);
    expect(listed.body.count).toBe(1);
  });

  it('gives a newcomer another username when someone takes the preferred one at the same moment', async () => {
    const claims = person();
    // Another request is creating an account with that username and has not committed yet.
    const other = new Client({ connectionString: t.database.url });
    await other.connect();
    try {
      await other.query('BEGIN');
      await other.query(`INSERT INTO users (username, kind) VALUES ($1, 'external')`, [claims.upn]);
      const pending = me(await idp.sign(randomUUID(), AUDIENCE, { claims })).then((r) => r);
      // The newcomer's insert now waits on that row's unique index entry.
      await new Promise((r) => setTimeout(r, 500));
      await other.query('COMMIT');
      const res = await pending;
      expect(res.status).toBe(200);
      expect(res.body.name).not.toBe(claims.upn);
      expect(res.body.name.startsWith(`${claims.upn}-`)).toBe(true);
    } finally {
      await other.end();
    }
  });

  it('keeps the e-mail and names current from later tokens', async () => {
    const sub = randomUUID();
    const first = await me(await idp.sign(sub, AUDIENCE, { claims: person() }));
    expect(first.status).toBe(200);
    const changed = person({ mail: `${unique('new')}@idp.example.edu`, given: 'Janet', family: 'Doe-Smith' });
    expect((await me(await idp.sign(sub, AUDIENCE, { claims: changed }))).status).toBe(200);
    const user = await t.http.get(`/api/v1/users/${first.body.id}`).set(staff).expect(200);
    expect(user.body).toMatchObject({
      email: changed.mail,
      first_name: 'Janet',
      last_name: 'Doe-Smith',
      kind: 'external',
    });
  });

  it('leaves the stored e-mail and names alone when a later token does not carry those claims', async () => {
    const sub = randomUUID();
    const claims = person();
    const first = await me(await idp.sign(sub, AUDIENCE, { claims }));
    expect(first.status).toBe(200);
    const bare = await me(await idp.sign(sub, AUDIENCE, { claims: { upn: claims.upn } }));
    expect(bare.status).toBe(200);
    expect(bare.body.id).toBe(first.body.id);
    const blank = await me(
      await idp.sign(sub, AUDIENCE, { claims: { upn: claims.upn, given: '  ', family: '', mail: '' } }),
    );
    expect(blank.status).toBe(200);
    const user = await t.http.get(`/api/v1/users/${first.body.id}`).set(staff).expect(200);
    expect(user.body).toMatchObject({ email: claims.mail, first_name: 'Jane', last_name: 'Doe' });
    // Only the claims a token carries change the user.
    expect((await me(await idp.sign(sub, AUDIENCE, { claims: { family: 'Doe-Smith' } }))).status).toBe(200);
    const after = await t.http.get(`/api/v1/users/${first.body.id}`).set(staff).expect(200);
    expect(after.body).toMatchObject({ email: claims.mail, first_name: 'Jane', last_name: 'Doe-Smith' });
  });

  it('audits changes that tokens make to the e-mail and names as user.updated, naming the changed fields', async () => {
    const sub = randomUUID();
    const claims = person();
    const first = await me(await idp.sign(sub, AUDIENCE, { claims }));
    expect(first.status).toBe(200);
    const events = async () =>
      (await t.http.get(`/api/v1/audit-events?action=user.updated&subject_id=${first.body.id}`).set(staff).expect(200))
        .body;
    // The same claims again change nothing and record nothing.
    expect((await me(await idp.sign(sub, AUDIENCE, { claims }))).status).toBe(200);
    expect((await events()).count).toBe(0);
    const mail = `${unique('new')}@idp.example.edu`;
    expect((await me(await idp.sign(sub, AUDIENCE, { claims: { ...claims, mail, given: 'Janet' } }))).status).toBe(200);
    const audited = await events();
    expect(audited.count).toBe(1);
    expect(audited.results[0]).toMatchObject({
      action: 'user.updated',
      actor_type: 'user',
      actor_id: first.body.id,
      subject_type: 'User',
      subject_id: first.body.id,
      data: { fields: ['email', 'first_name'], issuer: idp.issuer },
    });
    // Field names only: the values stay in the users table.
    expect(JSON.stringify(audited.results[0].data)).not.toContain(mail);
  });

  it('refuses a token whose sub is longer than 255 characters or holds a NUL, with 401 invalid_token', async () => {
    const long = `${randomUUID()}${'x'.repeat(255)}`;
    expectInvalidToken(await me(await idp.sign(long, AUDIENCE, { claims: person() })), /sub/);
    expectInvalidToken(await me(await idp.sign(`${randomUUID()}\u0000`, AUDIENCE, { claims: person() })), /sub/);
    // 255 characters, some outside the Basic Multilingual Plane, still fit.
    const longest = `${randomUUID()}${'\u{1F600}'.repeat(255 - 36)}`;
    expect([...longest]).toHaveLength(255);
    expect((await me(await idp.sign(longest, AUDIENCE, { claims: person() }))).status).toBe(200);
  });

  it('ignores e-mail and name claims too long for the account, or holding a NUL, and accepts the token', async () => {
    const sub = randomUUID();
    const claims = person();
    const tooLong = { mail: `${'m'.repeat(250)}@idp.example.edu`, given: 'G'.repeat(151), family: 'F'.repeat(151) };
    // First sight: the user is created without them.
    const first = await me(await idp.sign(sub, AUDIENCE, { claims: { ...claims, ...tooLong } }));
    expect(first.status).toBe(200);
    const created = await t.http.get(`/api/v1/users/${first.body.id}`).set(staff).expect(200);
    expect(created.body).toMatchObject({ username: claims.upn, email: null, first_name: '', last_name: '' });
    // Later: the stored values stay.
    expect((await me(await idp.sign(sub, AUDIENCE, { claims }))).status).toBe(200);
    for (const bad of [tooLong, { mail: 'a\u0000@idp.example.edu', given: 'Ja\u0000ne', family: 'D\u0000oe' }]) {
      expect((await me(await idp.sign(sub, AUDIENCE, { claims: { ...claims, ...bad } }))).status).toBe(200);
      const user = await t.http.get(`/api/v1/users/${first.body.id}`).set(staff).expect(200);
      expect(user.body).toMatchObject({ email: claims.mail, first_name: 'Jane', last_name: 'Doe' });
    }
    // 150 characters is the longest name kept.
    expect((await me(await idp.sign(sub, AUDIENCE, { claims: { ...claims, given: 'G'.repeat(150) } }))).status).toBe(
      200,
    );
    expect((await t.http.get(`/api/v1/users/${first.body.id}`).set(staff).expect(200)).body.first_name).toBe(
      'G'.repeat(150),
    );
  });

  it('never makes a staff or support user from token claims, nor takes over an existing account', async () => {
    const admin = await createUser(t, { isStaff: true });
    const res = await me(
      await idp.sign(randomUUID(), AUDIENCE, {
        claims: {
          ...person({ upn: admin.row.username }),
          is_staff: true,
          is_support: true,
          is_superuser: true,
          roles: ['staff'],
          groups: ['admins'],
        },
      }),
    );
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ token_kind: 'external', is_staff: false, is_support: false });
    expect(res.body.id).not.toBe(admin.row.id);
    const user = await t.http.get(`/api/v1/users/${res.body.id}`).set(staff).expect(200);
    expect(user.body).toMatchObject({ is_staff: false, is_support: false, kind: 'external' });
    expect(user.body.username).not.toBe(admin.row.username);
    // And the external user cannot do staff things.
    const orgs = await t.http
      .get('/api/v1/organizations')
      .set('Authorization', `Bearer ${await idp.sign(randomUUID(), AUDIENCE, { claims: { is_staff: true } })}`);
    // With no group membership it holds no organization permission at all.
    expect(orgs.status).toBe(403);
    expect(orgs.body.error).toBe('forbidden');
  });

  it('keeps a deactivated external user deactivated and unchanged when a new token arrives', async () => {
    const sub = randomUUID();
    const first = await me(await idp.sign(sub, AUDIENCE, { claims: person() }));
    expect(first.status).toBe(200);
    await t.http.patch(`/api/v1/users/${first.body.id}`).set(staff).send({ is_active: false }).expect(200);
    expectInvalidToken(
      await me(await idp.sign(sub, AUDIENCE, { claims: person({ given: 'Changed' }) })),
      /deactivated/,
    );
    const user = await t.http.get(`/api/v1/users/${first.body.id}`).set(staff).expect(200);
    expect(user.body).toMatchObject({ is_active: false, first_name: 'Jane' });
  });

  it('keeps the same subject at two issuers apart', async () => {
    const sub = randomUUID();
    const a = await me(await idp.sign(sub, AUDIENCE, { claims: person() }));
    const b = await me(await signStatic(sub));
    expect(a.status).toBe(200);
    expect(b.status).toBe(200);
    expect(a.body.id).not.toBe(b.body.id);
  });

  it('refuses a token for another audience, without audience, from an unknown issuer, or expired', async () => {
    const sub = randomUUID();
    expectInvalidToken(await me(await idp.sign(sub, 'some-other-api')), /aud/);
    expectInvalidToken(await me(await idp.sign(sub, AUDIENCE, { claims: { aud: undefined } })), /aud/);
    expectInvalidToken(
      await me(await idp.sign(sub, AUDIENCE, { claims: { iss: 'https://unknown-idp.example.edu' } })),
      /issuer is not trusted/,
    );
    const now = Math.floor(Date.now() / 1000);
    expectInvalidToken(
      await me(await idp.sign(sub, AUDIENCE, { claims: { iat: now - 3600, exp: now - 60 } })),
      /expired/,
    );
    expectInvalidToken(await me(await idp.sign(sub, AUDIENCE, { claims: { sub: undefined } })), /sub/);
    // None of them created a user.
    const listed = await t.http.get(`/api/v1/users?kind=external&search=ext-${sub}`).set(staff).expect(200);
    expect(listed.body.count).toBe(0);
  });

  it('refuses a token signed with a key the issuer does not publish, and symmetric algorithms', async () => {
    const stranger = await newIssuerKey('RS256');
    // A stranger's key under the issuer's published kid: the signature does not verify.
    expectInvalidToken(
      await me(await idp.sign(randomUUID(), AUDIENCE, { key: stranger, header: { kid: idp.current().kid } })),
      /signature/,
    );
    const hmac = await new SignJWT({
      iss: idp.issuer,
      aud: AUDIENCE,
      sub: randomUUID(),
      exp: Math.floor(Date.now() / 1000) + 300,
    })
      .setProtectedHeader({ alg: 'HS256', kid: idp.current().kid })
      .sign(new TextEncoder().encode(JSON.stringify(idp.current().publicJwk)));
    expectInvalidToken(await me(hmac), /algorithm/);
  });

  it('follows a key rollover with a single JWKS refetch', async () => {
    // A first token makes sure the keys have been fetched; then the refetch interval passes.
    expect((await me(await idp.sign(randomUUID(), AUDIENCE, { claims: person() }))).status).toBe(200);
    await sleep(Math.max(0, lastFetchAt + REFETCH_INTERVAL_S * 1000 + 300 - Date.now()));

    const old = idp.current();
    const next = await idp.rollover({ dropOld: true });
    const before = idp.fetches();
    const res = await me(await idp.sign(randomUUID(), AUDIENCE, { claims: person() }));
    expect(res.status).toBe(200);
    expect(idp.fetches() - before).toBe(1);
    // Further tokens with the new key need no fetch; the dropped key no longer works.
    expect((await me(await idp.sign(randomUUID(), AUDIENCE, { key: next, claims: person() }))).status).toBe(200);
    expectInvalidToken(await me(await idp.sign(randomUUID(), AUDIENCE, { key: old, claims: person() })), /unknown key/);
    expect(idp.fetches() - before).toBe(1);
  });

  it('does not let tokens with unknown key ids cause a storm of JWKS fetches', async () => {
    expect((await me(await idp.sign(randomUUID(), AUDIENCE, { claims: person() }))).status).toBe(200);
    await sleep(Math.max(0, lastFetchAt + REFETCH_INTERVAL_S * 1000 + 300 - Date.now()));
    const before = idp.fetches();
    const started = Date.now();
    const tokens = await Promise.all(
      Array.from({ length: 10 }, () => idp.sign(randomUUID(), AUDIENCE, { header: { kid: randomUUID() } })),
    );
    // Five at once, then five one after another.
    const parallel = await Promise.all(
      tokens.slice(0, 5).map((tk) => t.http.get('/api/v1/auth/me').set('Authorization', `Bearer ${tk}`)),
    );
    const sequential: Response[] = [];
    for (const tk of tokens.slice(5))
      sequential.push(await t.http.get('/api/v1/auth/me').set('Authorization', `Bearer ${tk}`));
    for (const res of [...parallel, ...sequential]) expectInvalidToken(res, /unknown key/);
    const elapsed = Date.now() - started;
    const extra = idp.fetches() - before;
    expect(extra).toBeGreaterThanOrEqual(1);
    // One refetch per interval at most.
    expect(extra).toBeLessThanOrEqual(1 + Math.floor(elapsed / (REFETCH_INTERVAL_S * 1000)));
    expect(extra).toBeLessThanOrEqual(2);
    // Valid tokens are unaffected.
    expect((await me(await idp.sign(randomUUID(), AUDIENCE, { claims: person() }))).status).toBe(200);
  });

  const signStatic = (sub: string, claims: Record<string, unknown> = {}, key: IssuerKey = staticKey) =>
    new SignJWT({
      iss: STATIC_ISSUER,
      aud: AUDIENCE,
      sub,
      preferred_username: unique('st'),
      email: `${unique('st')}@static.example.edu`,
      ...claims,
    })
      .setProtectedHeader({ alg: 'RS256' })
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(key.privateKey);

  it('accepts tokens of an issuer configured with a static public key (public_key_pem)', async () => {
    const username = unique('st');
    const res = await me(
      await signStatic(randomUUID(), { preferred_username: username, given_name: 'Sam', family_name: 'Static' }),
    );
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ token_kind: 'external', name: username });
    const user = await t.http.get(`/api/v1/users/${res.body.id}`).set(staff).expect(200);
    expect(user.body).toMatchObject({ username, first_name: 'Sam', last_name: 'Static', kind: 'external' });
    // Any of its listed audiences.
    expect((await me(await signStatic(randomUUID(), { aud: 'other-api' }))).status).toBe(200);
    expectInvalidToken(await me(await signStatic(randomUUID(), {}, await newIssuerKey('RS256'))), /signature/);
    expectInvalidToken(await me(await signStatic(randomUUID(), { aud: 'third-api' })), /aud/);
  });
});

describe('A trusted issuer with a static EC public key', () => {
  const ISSUER = 'https://ec-idp.example.edu';
  let key: IssuerKey;
  let t: TestApp;
  beforeAll(async () => {
    key = await newIssuerKey('ES256');
    t = await createTestApp({
      settings: {
        TRUSTED_ISSUERS: JSON.stringify([{ issuer: ISSUER, public_key_pem: key.publicKeyPem, audience: AUDIENCE }]),
      },
    });
  });
  afterAll(() => t?.close());

  it('verifies its ES256 tokens with the default algorithm list', async () => {
    const token = await new SignJWT({ iss: ISSUER, aud: AUDIENCE, sub: randomUUID() })
      .setProtectedHeader({ alg: 'ES256' })
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(key.privateKey);
    const res = await t.http.get('/api/v1/auth/me').set('Authorization', `Bearer ${token}`);
    expect(res.status).toBe(200);
    expect(res.body.token_kind).toBe('external');
  });

  it('refuses an RS256 token claiming that issuer with 401, not an error', async () => {
    const rsa = await newIssuerKey('RS256');
    const token = await new SignJWT({ iss: ISSUER, aud: AUDIENCE, sub: randomUUID() })
      .setProtectedHeader({ alg: 'RS256' })
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(rsa.privateKey);
    expectInvalidToken(await t.http.get('/api/v1/auth/me').set('Authorization', `Bearer ${token}`), /not valid/);
  });
});
