import { DataSource } from 'typeorm';
import { sha256Hex } from '../../src/common/crypto/secrets';
import { createUser } from '../factories/accounts';
import { createTestApp, TestApp } from '../utils/test-app';

const ORIGIN = 'https://campus.example.edu';
const PASSWORD = 'correct horse battery';
const BROWSER = { Origin: ORIGIN, 'X-Requested-With': 'campus-access-console' };

/** The session cookie a response set: its value and attributes. */
function sessionCookie(res: { headers: Record<string, unknown> }): { value: string; attributes: string } | undefined {
  const header = res.headers['set-cookie'];
  const cookies = Array.isArray(header) ? (header as string[]) : typeof header === 'string' ? [header] : [];
  const cookie = cookies.find((c) => c.startsWith('campus_access_session='));
  if (!cookie) return undefined;
  const [pair, ...attributes] = cookie.split(';');
  return { value: decodeURIComponent(pair.slice(pair.indexOf('=') + 1)), attributes: attributes.join(';').trim() };
}

describe('Browser sessions: the refresh token in an HttpOnly cookie of the session routes', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ settings: { PUBLIC_URL: `${ORIGIN}/`, LOGIN_RATE_LIMIT: '1000' } });
  });
  afterAll(() => t.close());

  const login = (username: string, headers: Record<string, string> = BROWSER) =>
    t.http.post('/api/v1/auth/session/login').set(headers).send({ username, password: PASSWORD });
  const db = () => t.app.get(DataSource);

  it('signs in: the access token in the body, the refresh token only in a strict cookie of the session routes', async () => {
    const { row } = await createUser(t, { password: PASSWORD });
    const res = await login(row.username).expect(200);
    expect(res.body).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 900 });
    expect(res.headers['cache-control']).toBe('no-store');
    const cookie = sessionCookie(res);
    expect(cookie).toBeDefined();
    expect(cookie!.attributes).toMatch(/(^|; )HttpOnly(;|$)/);
    expect(cookie!.attributes).toMatch(/(^|; )Secure(;|$)/);
    expect(cookie!.attributes).toMatch(/(^|; )SameSite=Strict(;|$)/);
    expect(cookie!.attributes).toMatch(/(^|; )Path=\/api\/v1\/auth\/session(;|$)/);
    // The cookie holds a live refresh token of this user.
    const [stored] = await db().query('SELECT user_id, revoked_at FROM refresh_tokens WHERE token_hash = $1', [
      sha256Hex(cookie!.value),
    ]);
    expect(stored).toEqual({ user_id: row.id, revoked_at: null });
    await t.http.get('/api/v1/auth/me').set('Authorization', `Bearer ${res.body.access_token}`).expect(200);
  });

  it('answers a wrong password as /auth/login does, and sets no cookie', async () => {
    const { row } = await createUser(t, { password: PASSWORD });
    const res = await t.http
      .post('/api/v1/auth/session/login')
      .set(BROWSER)
      .send({ username: row.username, password: 'wrong wrong wrong' })
      .expect(401);
    expect(res.body.error).toBe('invalid_credentials');
    expect(sessionCookie(res)).toBeUndefined();
  });

  it('refreshes from the cookie, rotating the refresh token; a reused cookie ends the session', async () => {
    const { row } = await createUser(t, { password: PASSWORD });
    const first = sessionCookie(await login(row.username).expect(200))!;
    const refreshed = await t.http
      .post('/api/v1/auth/session/refresh')
      .set(BROWSER)
      .set('Cookie', `campus_access_session=${encodeURIComponent(first.value)}`)
      .expect(200);
    expect(refreshed.body).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 900 });
    const second = sessionCookie(refreshed)!;
    expect(second.value).not.toBe(first.value);
    await t.http.get('/api/v1/auth/me').set('Authorization', `Bearer ${refreshed.body.access_token}`).expect(200);
    // The first token was rotated out; presenting it after the grace period revokes the family.
    await db().query(`UPDATE refresh_tokens SET rotated_at = now() - interval '1 hour' WHERE token_hash = $1`, [
      sha256Hex(first.value),
    ]);
    const reused = await t.http
      .post('/api/v1/auth/session/refresh')
      .set(BROWSER)
      .set('Cookie', `campus_access_session=${encodeURIComponent(first.value)}`)
      .expect(401);
    expect(reused.body.error).toBe('invalid_refresh_token');
    expect(sessionCookie(reused)?.attributes).toMatch(/Expires=Thu, 01 Jan 1970/);
    await t.http
      .post('/api/v1/auth/session/refresh')
      .set(BROWSER)
      .set('Cookie', `campus_access_session=${encodeURIComponent(second.value)}`)
      .expect(401);
  });

  it('answers 401 to a refresh without a cookie', async () => {
    const res = await t.http.post('/api/v1/auth/session/refresh').set(BROWSER).expect(401);
    expect(res.body.error).toBe('invalid_refresh_token');
  });

  it('signs out: the session is revoked and the cookie cleared', async () => {
    const { row } = await createUser(t, { password: PASSWORD });
    const cookie = sessionCookie(await login(row.username).expect(200))!;
    const res = await t.http
      .post('/api/v1/auth/session/logout')
      .set(BROWSER)
      .set('Cookie', `campus_access_session=${encodeURIComponent(cookie.value)}`)
      .expect(204);
    expect(sessionCookie(res)?.value).toBe('');
    expect(sessionCookie(res)?.attributes).toMatch(/Path=\/api\/v1\/auth\/session/);
    const [stored] = await db().query('SELECT revoked_at FROM refresh_tokens WHERE token_hash = $1', [
      sha256Hex(cookie.value),
    ]);
    expect(stored.revoked_at).not.toBeNull();
    await t.http
      .post('/api/v1/auth/session/refresh')
      .set(BROWSER)
      .set('Cookie', `campus_access_session=${encodeURIComponent(cookie.value)}`)
      .expect(401);
    // Without a cookie there is nothing to revoke: still 204.
    await t.http.post('/api/v1/auth/session/logout').set(BROWSER).expect(204);
  });

  it.each([
    ['no X-Requested-With header', { Origin: ORIGIN }],
    ['an empty X-Requested-With header', { Origin: ORIGIN, 'X-Requested-With': ' ' }],
    ['no Origin', { 'X-Requested-With': 'campus-access-console' }],
    ['a foreign Origin', { Origin: 'https://evil.example', 'X-Requested-With': 'campus-access-console' }],
    ['an Origin of another port', { Origin: `${ORIGIN}:8443`, 'X-Requested-With': 'campus-access-console' }],
  ])('refuses a cross-site request (%s) on every session route with 403 csrf_check_failed', async (_, headers) => {
    const { row } = await createUser(t, { password: PASSWORD });
    const refused = await login(row.username, headers as Record<string, string>).expect(403);
    expect(refused.body.error).toBe('csrf_check_failed');
    expect(sessionCookie(refused)).toBeUndefined();
    const cookie = sessionCookie(await login(row.username).expect(200))!;
    for (const route of ['refresh', 'logout']) {
      const res = await t.http
        .post(`/api/v1/auth/session/${route}`)
        .set(headers as Record<string, string>)
        .set('Cookie', `campus_access_session=${encodeURIComponent(cookie.value)}`)
        .expect(403);
      expect(res.body.error).toBe('csrf_check_failed');
    }
    // Neither refused request touched the session.
    const [stored] = await db().query('SELECT rotated_at, revoked_at FROM refresh_tokens WHERE token_hash = $1', [
      sha256Hex(cookie.value),
    ]);
    expect(stored).toEqual({ rotated_at: null, revoked_at: null });
  });
});

describe('Browser sessions without PUBLIC_URL: the Origin must be the one the request was sent to', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ settings: { LOGIN_RATE_LIMIT: '1000' } });
  });
  afterAll(() => t.close());

  it('accepts its own origin and refuses another', async () => {
    const { row } = await createUser(t, { password: PASSWORD });
    const send = (origin: string) =>
      t.http
        .post('/api/v1/auth/session/login')
        .set('Host', 'campus.localhost:4000')
        .set({ Origin: origin, 'X-Requested-With': 'x' })
        .send({ username: row.username, password: PASSWORD });
    await send('http://campus.localhost:4000').expect(200);
    expect((await send('http://localhost:4000').expect(403)).body.error).toBe('csrf_check_failed');
  });
});
