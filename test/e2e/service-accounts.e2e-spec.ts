import { createOrganization, createServiceAccount, createStaff, unique } from '../factories/accounts';
import { DataSource } from 'typeorm';
import { listeningUrl, lockWaitersReach, whileHeld } from '../utils/held-rows';
import { basicAuth, tokenRequest } from '../utils/oauth';
import { createTestApp, TestApp } from '../utils/test-app';

/** 200 when the secret gets a client_credentials token, otherwise the status of the refusal. */
async function tokenStatus(t: TestApp, clientId: string, secret: string): Promise<number> {
  const res = await tokenRequest(
    t,
    { grant_type: 'client_credentials' },
    { authorization: basicAuth(clientId, secret) },
  );
  if (res.status !== 200) expect(res.body.error).toBe('invalid_client');
  return res.status;
}

async function createThroughApi(t: TestApp, auth: { Authorization: string }, organization: string) {
  const res = await t.http
    .post('/api/v1/service-accounts')
    .set(auth)
    .send({ organization, name: unique('svc'), allowed_scopes: ['reports:read'] })
    .expect(201);
  return res.body as {
    id: string;
    client_id: string;
    client_secret: string;
    secrets: { id: string; prefix: string }[];
  };
}

async function rotate(t: TestApp, auth: { Authorization: string }, id: string): Promise<string> {
  const res = await t.http.post(`/api/v1/service-accounts/${id}/rotate-secret`).set(auth).expect(200);
  return res.body.client_secret as string;
}

describe('Service accounts', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ settings: { LOGIN_RATE_LIMIT: '10000', SECRET_ROTATION_OVERLAP_SECONDS: '86400' } });
  });
  afterAll(() => t.close());

  it('shows the client secret once, at creation; reads show only its prefix', async () => {
    const staff = await createStaff(t);
    const org = await createOrganization(t);
    const created = await createThroughApi(t, staff.auth, org.id);
    expect(created).toMatchObject({
      client_id: expect.any(String),
      client_secret: expect.any(String),
      organization: org.id,
      is_active: true,
    });
    expect(created.secrets).toHaveLength(1);
    expect(created.client_secret.startsWith(created.secrets[0].prefix)).toBe(true);

    const one = await t.http.get(`/api/v1/service-accounts/${created.id}`).set(staff.auth).expect(200);
    const list = await t.http.get(`/api/v1/service-accounts?organization=${org.id}`).set(staff.auth).expect(200);
    for (const body of [one.body, list.body]) {
      const text = JSON.stringify(body);
      expect(text).not.toContain(created.client_secret);
      expect(text).not.toContain('client_secret');
      expect(text).toContain(created.secrets[0].prefix);
    }
    expect(one.body.secrets).toEqual([
      { id: created.secrets[0].id, prefix: created.secrets[0].prefix, created: expect.any(String), expires_at: null },
    ]);
  });

  it('makes secrets of at least 128 random bits, of which the shown prefix gives little away', async () => {
    const staff = await createStaff(t);
    const org = await createOrganization(t);
    const a = await createThroughApi(t, staff.auth, org.id);
    const b = await createThroughApi(t, staff.auth, org.id);
    for (const s of [a, b]) {
      const m = /^cas_([A-Za-z0-9_-]+)$/.exec(s.client_secret);
      expect(m).not.toBeNull();
      // base64url: 6 bits a character.
      expect(m![1].length * 6).toBeGreaterThanOrEqual(128);
      const hidden = s.client_secret.length - s.secrets[0].prefix.length;
      expect(hidden * 6).toBeGreaterThanOrEqual(128);
    }
    expect(a.client_secret).not.toBe(b.client_secret);
    expect(a.client_id).not.toBe(b.client_id);
  });

  it('keeps both the old and the new secret working during a long rotation overlap', async () => {
    const staff = await createStaff(t);
    const org = await createOrganization(t);
    const created = await createThroughApi(t, staff.auth, org.id);
    const fresh = await rotate(t, staff.auth, created.id);
    expect(fresh).not.toBe(created.client_secret);
    expect(await tokenStatus(t, created.client_id, created.client_secret)).toBe(200);
    expect(await tokenStatus(t, created.client_id, fresh)).toBe(200);
    const view = await t.http.get(`/api/v1/service-accounts/${created.id}`).set(staff.auth).expect(200);
    expect(view.body.secrets).toHaveLength(2);
    const old = view.body.secrets.find((s: { prefix: string }) => created.client_secret.startsWith(s.prefix));
    expect(Date.parse(old.expires_at) - Date.now()).toBeGreaterThan(86000 * 1000);
  });

  it('stops the tokens and secrets of a deactivated service account', async () => {
    const staff = await createStaff(t);
    const org = await createOrganization(t);
    const created = await createThroughApi(t, staff.auth, org.id);
    const token = (
      await tokenRequest(
        t,
        { grant_type: 'client_credentials' },
        { authorization: basicAuth(created.client_id, created.client_secret) },
      ).expect(200)
    ).body.access_token;
    await t.http.get('/api/v1/auth/me').set('Authorization', `Bearer ${token}`).expect(200);

    const res = await t.http.post(`/api/v1/service-accounts/${created.id}/deactivate`).set(staff.auth).expect(200);
    expect(res.body).toMatchObject({ is_active: false, secrets: [] });

    const me = await t.http.get('/api/v1/auth/me').set('Authorization', `Bearer ${token}`).expect(401);
    expect(me.headers['www-authenticate']).toMatch(/error="invalid_token"/);
    expect(await tokenStatus(t, created.client_id, created.client_secret)).toBe(401);
    // A deactivated account cannot be given a fresh secret either.
    await t.http.post(`/api/v1/service-accounts/${created.id}/rotate-secret`).set(staff.auth).expect(409);
  });

  it('keeps only the latest previous secret through the overlap, however many rotations came before', async () => {
    const staff = await createStaff(t);
    const org = await createOrganization(t);
    const created = await createThroughApi(t, staff.auth, org.id);
    const secrets = [created.client_secret];
    for (let i = 0; i < 3; i++) secrets.push(await rotate(t, staff.auth, created.id));
    const statuses = [];
    for (const secret of secrets) statuses.push(await tokenStatus(t, created.client_id, secret));
    expect(statuses).toEqual([401, 401, 200, 200]);
    const view = await t.http.get(`/api/v1/service-accounts/${created.id}`).set(staff.auth).expect(200);
    expect(view.body.secrets).toHaveLength(2);
  });

  it('gives two rotations at the same moment one after the other: the newest secret and the one before it are left', async () => {
    const staff = await createStaff(t);
    const org = await createOrganization(t);
    const created = await createThroughApi(t, staff.auth, org.id);
    const url = `${await listeningUrl(t)}/api/v1/service-accounts/${created.id}/rotate-secret`;
    const rotations = await whileHeld(
      t,
      [
        ['SELECT 1 FROM service_accounts WHERE id = $1 FOR UPDATE', [created.id]],
        ['SELECT 1 FROM service_account_secrets WHERE service_account_id = $1 FOR UPDATE', [created.id]],
      ],
      2,
      () =>
        [1, 2].map(() =>
          fetch(url, { method: 'POST', headers: staff.auth }).then(async (r) => ({
            status: r.status,
            body: (await r.json()) as { client_secret: string },
          })),
        ),
    ).then((p) => Promise.all(p));
    expect(rotations.map((r) => r.status)).toEqual([200, 200]);
    const view = await t.http.get(`/api/v1/service-accounts/${created.id}`).set(staff.auth).expect(200);
    const open = view.body.secrets.filter((s: { expires_at: string | null }) => s.expires_at === null);
    expect(open).toHaveLength(1);
    // The one left open is the secret of the rotation that came last; the first rotation's overlaps
    // until it expires, and the original one, replaced twice, is revoked.
    expect(view.body.secrets).toHaveLength(2);
    const last = rotations.find((r) => r.body.client_secret.startsWith(open[0].prefix))!;
    const first = rotations.find((r) => r !== last)!;
    expect(await tokenStatus(t, created.client_id, created.client_secret)).toBe(401);
    expect(await tokenStatus(t, created.client_id, first.body.client_secret)).toBe(200);
    expect(await tokenStatus(t, created.client_id, last.body.client_secret)).toBe(200);
  });

  it('revokes the secret of a rotation that was under way when the account was deactivated', async () => {
    const staff = await createStaff(t);
    const org = await createOrganization(t);
    const created = await createThroughApi(t, staff.auth, org.id);
    const base = `${await listeningUrl(t)}/api/v1/service-accounts/${created.id}`;
    const post = (path: string) =>
      fetch(`${base}/${path}`, { method: 'POST', headers: staff.auth }).then((r) => r.status);
    // The rotation is under way (waiting on the current secret) when the deactivation comes.
    const statuses = await whileHeld(
      t,
      [['SELECT 1 FROM service_account_secrets WHERE service_account_id = $1 FOR UPDATE', [created.id]]],
      2,
      async () => {
        const rotation = post('rotate-secret');
        await lockWaitersReach(t, 1);
        return [rotation, post('deactivate')];
      },
    ).then((p) => Promise.all(p));
    expect(statuses).toEqual([200, 200]);
    const [{ n }] = await t.app
      .get(DataSource)
      .query(
        `SELECT count(*)::int AS n FROM service_account_secrets WHERE service_account_id = $1 AND revoked_at IS NULL`,
        [created.id],
      );
    expect(n).toBe(0);
    await t.http.post(`/api/v1/service-accounts/${created.id}/rotate-secret`).set(staff.auth).expect(409);
  });

  it('deactivates once when asked twice at the same moment: both 200, one audit event', async () => {
    const staff = await createStaff(t);
    const org = await createOrganization(t);
    const created = await createThroughApi(t, staff.auth, org.id);
    const url = `${await listeningUrl(t)}/api/v1/service-accounts/${created.id}/deactivate`;
    const statuses = await whileHeld(
      t,
      [['SELECT 1 FROM service_accounts WHERE id = $1 FOR UPDATE', [created.id]]],
      2,
      () => [1, 2].map(() => fetch(url, { method: 'POST', headers: staff.auth }).then((r) => r.status)),
    ).then((p) => Promise.all(p));
    expect(statuses).toEqual([200, 200]);
    const [{ n }] = await t.app
      .get(DataSource)
      .query(
        `SELECT count(*)::int AS n FROM audit_events WHERE action = 'service_account.deactivated' AND subject_id = $1`,
        [created.id],
      );
    expect(n).toBe(1);
  });

  it("does not show one organization's service account to another organization's service account", async () => {
    const orgA = await createOrganization(t);
    const orgB = await createOrganization(t);
    const a = await createServiceAccount(t, orgA.id);
    const b = await createServiceAccount(t, orgB.id);
    const res = await t.http.get(`/api/v1/service-accounts/${b.row.id}`).set(a.auth).expect(404);
    expect(res.body.error).toBe('not_found');
    await t.http.get(`/api/v1/service-accounts/${a.row.id}`).set(a.auth).expect(200);
    const list = await t.http.get('/api/v1/service-accounts').set(a.auth).expect(200);
    expect(list.body.results.map((r: { id: string }) => r.id)).toEqual([a.row.id]);
    const filtered = await t.http.get(`/api/v1/service-accounts?organization=${orgB.id}`).set(a.auth).expect(200);
    expect(filtered.body.count).toBe(0);
    await t.http.post(`/api/v1/service-accounts/${b.row.id}/rotate-secret`).set(a.auth).expect(404);
    await t.http.post(`/api/v1/service-accounts/${b.row.id}/deactivate`).set(a.auth).expect(404);
  });
});

describe('Service account secret rotation without overlap', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ settings: { LOGIN_RATE_LIMIT: '10000', SECRET_ROTATION_OVERLAP_SECONDS: '0' } });
  });
  afterAll(() => t.close());

  it('invalidates the old secret at once', async () => {
    const staff = await createStaff(t);
    const org = await createOrganization(t);
    const created = await createThroughApi(t, staff.auth, org.id);
    expect(await tokenStatus(t, created.client_id, created.client_secret)).toBe(200);
    const fresh = await rotate(t, staff.auth, created.id);
    expect(await tokenStatus(t, created.client_id, created.client_secret)).toBe(401);
    expect(await tokenStatus(t, created.client_id, fresh)).toBe(200);
    const view = await t.http.get(`/api/v1/service-accounts/${created.id}`).set(staff.auth).expect(200);
    expect(view.body.secrets).toHaveLength(1);
    expect(fresh.startsWith(view.body.secrets[0].prefix)).toBe(true);
  });
});

describe('Service account secret rotation with a short overlap', () => {
  const OVERLAP_S = 2;
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({
      settings: { LOGIN_RATE_LIMIT: '10000', SECRET_ROTATION_OVERLAP_SECONDS: String(OVERLAP_S) },
    });
  });
  afterAll(() => t.close());

  it('accepts the old secret during the overlap and refuses it once the overlap has passed', async () => {
    const staff = await createStaff(t);
    const org = await createOrganization(t);
    const created = await createThroughApi(t, staff.auth, org.id);
    const rotatedAt = Date.now();
    const fresh = await rotate(t, staff.auth, created.id);
    expect(await tokenStatus(t, created.client_id, created.client_secret)).toBe(200);

    let refusedAfterMs: number | undefined;
    while (Date.now() - rotatedAt < (OVERLAP_S + 5) * 1000) {
      if ((await tokenStatus(t, created.client_id, created.client_secret)) === 401) {
        refusedAfterMs = Date.now() - rotatedAt;
        break;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(refusedAfterMs).toBeDefined();
    // Refused no earlier than the overlap allows (the server's clock starts at the rotation, after rotatedAt).
    expect(refusedAfterMs!).toBeGreaterThanOrEqual(OVERLAP_S * 1000);
    expect(await tokenStatus(t, created.client_id, fresh)).toBe(200);
  });
});

describe('Client authentication cache across replicas', () => {
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    const settings = { LOGIN_RATE_LIMIT: '10000', SECRET_ROTATION_OVERLAP_SECONDS: '0', CLIENT_CACHE_SECONDS: '2' };
    a = await createTestApp({ settings });
    b = await createTestApp({ settings, databaseUrl: a.database.url });
  });
  afterAll(async () => {
    await b.close();
    await a.close();
  });

  it('drops the entry at once on the replica that made the change, on the others within CLIENT_CACHE_SECONDS, and takes a new secret everywhere at once', async () => {
    const staff = await createStaff(a);
    const org = await createOrganization(a);
    const created = await createThroughApi(a, staff.auth, org.id);
    const old = created.client_secret;
    // Both replicas have now authenticated (and cached) the client with its first secret.
    expect(await tokenStatus(a, created.client_id, old)).toBe(200);
    expect(await tokenStatus(b, created.client_id, old)).toBe(200);

    const fresh = await rotate(b, staff.auth, created.id);
    // The replica that rotated refuses the old secret at once; both take the new one at once.
    expect(await tokenStatus(b, created.client_id, old)).toBe(401);
    expect(await tokenStatus(b, created.client_id, fresh)).toBe(200);
    expect(await tokenStatus(a, created.client_id, fresh)).toBe(200);
    // The other replica refuses the old one at the latest CLIENT_CACHE_SECONDS after the rotation.
    await new Promise((r) => setTimeout(r, 2_100));
    expect(await tokenStatus(a, created.client_id, old)).toBe(401);
    expect(await tokenStatus(a, created.client_id, fresh)).toBe(200);
  });

  it("refuses a deactivated client's tokens on every replica at once, whatever either has cached", async () => {
    const staff = await createStaff(a);
    const org = await createOrganization(a);
    const created = await createThroughApi(a, staff.auth, org.id);
    const token = async (t: TestApp) =>
      (
        await tokenRequest(
          t,
          { grant_type: 'client_credentials' },
          { authorization: basicAuth(created.client_id, created.client_secret) },
        ).expect(200)
      ).body.access_token as string;
    await token(a);
    const fromB = await token(b);
    await b.http.post(`/api/v1/service-accounts/${created.id}/deactivate`).set(staff.auth).expect(200);
    // Whatever replica A may still issue from its cache for a moment, no token of the client is accepted.
    const mayBeIssued = await tokenRequest(
      a,
      { grant_type: 'client_credentials' },
      { authorization: basicAuth(created.client_id, created.client_secret) },
    );
    const tokens = [fromB, ...(mayBeIssued.status === 200 ? [mayBeIssued.body.access_token as string] : [])];
    for (const t of [a, b])
      for (const tok of tokens) await t.http.get('/api/v1/auth/me').set('Authorization', `Bearer ${tok}`).expect(401);
    expect(await tokenStatus(b, created.client_id, created.client_secret)).toBe(401);
  });
});
