import { DataSource } from 'typeorm';
import { sha256Hex } from '../../src/common/crypto/secrets';
import { createOrganization, createServiceAccount, createStaff, createUser } from '../factories/accounts';
import { activationToken, newActivation } from '../utils/activation';
import { listeningUrl, lockWaitersReach, whileHeld } from '../utils/held-rows';
import { createTestApp, TestApp } from '../utils/test-app';

const OLD = 'the old long password';
const NEW = 'a brand new long password';

describe('Changing your own password', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ settings: { LOGIN_RATE_LIMIT: '1000' } });
  });
  afterAll(() => t?.close());

  const login = (username: string, password: string) => t.http.post('/api/v1/auth/login').send({ username, password });
  const refresh = (token: string) => t.http.post('/api/v1/auth/refresh').send({ refresh_token: token });
  const auditOf = async (action: string, subject: string) => {
    const staff = await createStaff(t);
    return (await t.http.get(`/api/v1/audit-events?action=${action}&subject_id=${subject}`).set(staff.auth).expect(200))
      .body.results;
  };

  it('sets the new password, ends every other session and answers a new token pair', async () => {
    const { row } = await createUser(t, { password: OLD });
    const laptop = (await login(row.username, OLD).expect(200)).body;
    const phone = (await login(row.username, OLD).expect(200)).body;

    const res = await t.http
      .post('/api/v1/auth/password')
      .set({ Authorization: `Bearer ${laptop.access_token}` })
      .send({ current_password: OLD, new_password: NEW })
      .expect(200);
    expect(res.body).toEqual({
      access_token: expect.any(String),
      token_type: 'Bearer',
      expires_in: 900,
      refresh_token: expect.any(String),
    });
    expect(res.headers['cache-control']).toBe('no-store');

    for (const session of [laptop, phone])
      expect((await refresh(session.refresh_token).expect(401)).body.error).toBe('invalid_refresh_token');
    await refresh(res.body.refresh_token).expect(200);
    await t.http
      .get('/api/v1/auth/me')
      .set({ Authorization: `Bearer ${res.body.access_token}` })
      .expect(200);
    expect((await login(row.username, OLD).expect(401)).body.error).toBe('invalid_credentials');
    await login(row.username, NEW).expect(200);
    const [event] = await auditOf('user.password_changed', row.id);
    expect(event).toMatchObject({ action: 'user.password_changed', data: { sessions_revoked: 2 } });
    expect(JSON.stringify(event)).not.toContain(NEW);
  });

  it('refuses a wrong current password, the same password and a short one, changing nothing', async () => {
    const user = await createUser(t, { password: OLD });
    const change = (body: object) => t.http.post('/api/v1/auth/password').set(user.auth).send(body);

    const wrong = await change({ current_password: 'not the password at all', new_password: NEW }).expect(400);
    expect(wrong.body).toEqual({ error: 'wrong_current_password', message: 'The current password is not right.' });
    const same = await change({ current_password: OLD, new_password: OLD }).expect(400);
    expect(same.body.error).toBe('password_unchanged');
    const short = await change({ current_password: OLD, new_password: 'too short' }).expect(400);
    expect(short.body).toMatchObject({
      error: 'validation_failed',
      details: { fields: [{ field: 'new_password', problems: expect.any(Array) }] },
    });
    await change({ new_password: NEW }).expect(400);

    await login(user.row.username, OLD).expect(200);
    expect(await auditOf('auth.password_change_failed', user.row.id)).toHaveLength(1);
    expect(await auditOf('user.password_changed', user.row.id)).toHaveLength(0);
  });

  it('is for users who log in with a password: a service account gets 403, no token 401, an account without a password 400', async () => {
    const org = await createOrganization(t);
    const service = await createServiceAccount(t, org.id);
    const refused = await t.http
      .post('/api/v1/auth/password')
      .set(service.auth)
      .send({ current_password: OLD, new_password: NEW })
      .expect(403);
    expect(refused.body.error).toBe('forbidden');
    await t.http.post('/api/v1/auth/password').send({ current_password: OLD, new_password: NEW }).expect(401);
    const passwordless = await createUser(t);
    const none = await t.http
      .post('/api/v1/auth/password')
      .set(passwordless.auth)
      .send({ current_password: '', new_password: NEW })
      .expect(400);
    expect(none.body.error).toBe('validation_failed');
    const guessed = await t.http
      .post('/api/v1/auth/password')
      .set(passwordless.auth)
      .send({ current_password: OLD, new_password: NEW })
      .expect(400);
    expect(guessed.body.error).toBe('wrong_current_password');
  });

  it('revokes the token a refresh under way at the same moment hands out', async () => {
    const user = await createUser(t, { password: OLD });
    const session = (await login(user.row.username, OLD).expect(200)).body;
    const url = await listeningUrl(t);
    const post = (path: string, body: object, auth: Record<string, string> = {}) =>
      fetch(`${url}/api/v1/auth/${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...auth },
        body: JSON.stringify(body),
      }).then(async (r) => ({
        status: r.status,
        body: (await r.json()) as { refresh_token: string },
      }));
    // The refresh holds its family's lock and waits on its token when the password change comes.
    const [refreshed, changed] = await whileHeld(
      t,
      [['SELECT 1 FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE', [sha256Hex(session.refresh_token)]]],
      2,
      async () => {
        const rotation = post('refresh', { refresh_token: session.refresh_token });
        await lockWaitersReach(t, 1);
        return [rotation, post('password', { current_password: OLD, new_password: NEW }, user.auth)];
      },
    ).then((p) => Promise.all(p));
    expect([refreshed.status, changed.status]).toEqual([200, 200]);
    expect((await refresh(refreshed.body.refresh_token).expect(401)).body.error).toBe('invalid_refresh_token');
    await refresh(changed.body.refresh_token).expect(200);
  });

  it('ends the sessions of the old password when a staff-issued code resets it', async () => {
    const staff = await createStaff(t);
    const org = await createOrganization(t);
    const first = await newActivation(t, staff.auth, org.id);
    const activate = async (token: string, password: string) =>
      t.http
        .post('/api/v1/accounts/activate')
        .set({ Authorization: `Bearer ${token}` })
        .send({ password, accept_terms: true })
        .expect(204);
    await activate(await activationToken(t, first), OLD);
    const session = (await login(first.crsid, OLD).expect(200)).body;

    const reset = await newActivation(t, staff.auth, org.id, {
      crsid: first.crsid,
      last_name: first.lastName,
      date_of_birth: first.dateOfBirth,
    });
    await activate(await activationToken(t, reset), NEW);
    expect((await refresh(session.refresh_token).expect(401)).body.error).toBe('invalid_refresh_token');
    await login(first.crsid, NEW).expect(200);
    const [{ n }] = await t.app
      .get(DataSource)
      .query('SELECT count(*)::int AS n FROM refresh_tokens WHERE user_id = $1 AND revoked_at IS NULL', [first.userId]);
    expect(n).toBe(1);
  });
});

describe('Changing your own password, limited', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ settings: { LOGIN_RATE_LIMIT: '3' } });
  });
  afterAll(() => t?.close());

  it('counts attempts against the login limits of the account', async () => {
    const user = await createUser(t, { password: OLD });
    for (let i = 0; i < 3; i++) {
      await t.http
        .post('/api/v1/auth/password')
        .set(user.auth)
        .send({ current_password: `guess number ${i}`, new_password: NEW })
        .expect(400);
    }
    const limited = await t.http
      .post('/api/v1/auth/password')
      .set(user.auth)
      .send({ current_password: OLD, new_password: NEW })
      .expect(429);
    expect(limited.body.error).toBe('too_many_requests');
    expect(Number(limited.headers['retry-after'])).toBe(limited.body.details.retry_after_seconds);
  });
});
