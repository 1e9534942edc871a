import { createHash, randomBytes } from 'node:crypto';
import { decodeJwt } from 'jose';
import type { Response } from 'supertest';
import { DataSource } from 'typeorm';
import { createOrganization, createStaff, createUser } from '../factories/accounts';
import { grantRole, orgScope } from '../permissions/grants';
import {
  activationGrant,
  ActivationIdentity,
  activationRow,
  activationToken,
  newActivation,
  postActivationRecords,
} from '../utils/activation';
import { NEW_USER_GRANT, tokenRequest, UIS_NEW_USER_GRANT } from '../utils/oauth';
import { createTestApp, TestApp } from '../utils/test-app';

const MAX_ATTEMPTS = 3;
const LOCK_S = 2;

function expectOAuthError(res: Response, status: number, error: string): void {
  expect({ status: res.status, body: res.body }).toEqual({
    status,
    body: { error, error_description: expect.any(String) },
  });
}

describe('Activation', () => {
  let t: TestApp;
  let staff: { Authorization: string };
  beforeAll(async () => {
    t = await createTestApp({
      settings: {
        LOGIN_RATE_LIMIT: '10000',
        ACTIVATION_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
        ACTIVATION_LOCK_SECONDS: String(LOCK_S),
      },
    });
    staff = (await createStaff(t)).auth;
  });
  afterAll(() => t.close());

  const byCrsid = (who: ActivationIdentity, changes: Record<string, string | undefined> = {}) => {
    const params: Record<string, string | undefined> = {
      crsid: who.crsid,
      date_of_birth: who.dateOfBirth,
      code: who.code,
      ...changes,
    };
    return Object.fromEntries(Object.entries(params).filter(([, v]) => v !== undefined)) as Record<string, string>;
  };

  describe('POST /api/v1/activation-records', () => {
    it('creates each row with a code shown once and keeps only its hash', async () => {
      const org = await createOrganization(t);
      const rows = [activationRow(), activationRow({ email: 'new.student@example.edu' }), activationRow()];
      const res = await postActivationRecords(t, staff, org.id, rows).expect(201);
      expect(res.body.results).toEqual(
        rows.map((_, row) => ({
          row,
          status: 'created',
          id: expect.any(String),
          user: expect.any(String),
          code: expect.stringMatching(/^[A-Z2-9]{12}$/),
        })),
      );
      const codes = res.body.results.map((r: { code: string }) => r.code);
      expect(new Set(codes).size).toBe(3);

      const stored = await t.app
        .get(DataSource)
        .query('SELECT * FROM activation_records WHERE organization_id = $1', [org.id]);
      expect(stored).toHaveLength(3);
      for (const r of res.body.results) {
        const row = stored.find((s: { id: string }) => s.id === r.id);
        expect(JSON.stringify(row)).not.toContain(r.code);
        expect(row.code_hash).toBe(createHash('sha256').update(r.code).digest('hex'));
      }
      // The users exist, inactive, until they activate.
      const user = await t.http.get(`/api/v1/users/${res.body.results[0].user}`).set(staff).expect(200);
      expect(user.body).toMatchObject({ username: rows[0].crsid, is_active: false, organization: org.id });
    });

    it('reports a bad row without blocking the others', async () => {
      const orgA = await createOrganization(t);
      const orgB = await createOrganization(t);
      const taken = await createUser(t, { organizationId: orgB.id });
      const rows = [activationRow(), activationRow({ crsid: taken.row.username }), activationRow()];
      const res = await postActivationRecords(t, staff, orgA.id, rows).expect(201);
      expect(res.body.results.map((r: { status: string }) => r.status)).toEqual(['created', 'error', 'created']);
      expect(res.body.results[1]).toEqual({
        row: 1,
        status: 'error',
        error: 'duplicate_username',
        message: expect.any(String),
      });
      expect(res.body.results[1].code).toBeUndefined();
    });

    it('refuses the whole body when a row has invalid fields', async () => {
      const org = await createOrganization(t);
      for (const bad of [
        { date_of_birth: '1996-02-30' },
        { date_of_birth: '1996-12-19T00:00:00Z' },
        { crsid: 'no spaces' },
        { last_name: '' },
      ]) {
        const rows = [activationRow(), activationRow(bad)];
        const res = await postActivationRecords(t, staff, org.id, rows).expect(400);
        expect(res.body.error).toBe('validation_failed');
        expect(res.body.details.fields.map((f: { field: string }) => f.field).join(' ')).toMatch(/^records\.1\./);
      }
      const count = await t.app
        .get(DataSource)
        .query('SELECT count(*)::int AS n FROM activation_records WHERE organization_id = $1', [org.id]);
      expect(count[0].n).toBe(0);
    });

    it('refuses a row that is an array instead of an object with 400 validation_failed, never a 500', async () => {
      const org = await createOrganization(t);
      for (const bad of [[], [activationRow()]]) {
        const res = await postActivationRecords(t, staff, org.id, [activationRow(), bad]);
        expect({
          status: res.status,
          error: res.body.error,
          fields: res.body.details?.fields?.map((f: { field: string }) => f.field),
        }).toEqual({
          status: 400,
          error: 'validation_failed',
          fields: ['records'],
        });
      }
      const [{ n }] = await t.app
        .get(DataSource)
        .query('SELECT count(*)::int AS n FROM activation_records WHERE organization_id = $1', [org.id]);
      expect(n).toBe(0);
    });

    it('gives rows naming the same person one user, and reuses a user already in the organization', async () => {
      const org = await createOrganization(t);
      const existing = await createUser(t, { organizationId: org.id });
      const twin = activationRow();
      const rows = [
        twin,
        activationRow({ crsid: twin.crsid.toUpperCase() }),
        activationRow({ crsid: existing.row.username }),
      ];
      const res = await postActivationRecords(t, staff, org.id, rows).expect(201);
      const [a, b, c] = res.body.results as { status: string; user: string; code: string }[];
      expect([a.status, b.status, c.status]).toEqual(['created', 'created', 'created']);
      expect(b.user).toBe(a.user);
      expect(c.user).toBe(existing.row.id);
      expect(new Set([a.code, b.code, c.code]).size).toBe(3);
      const users = await t.app
        .get(DataSource)
        .query('SELECT count(*)::int AS n FROM users WHERE lower(username) = $1', [twin.crsid.toLowerCase()]);
      expect(users[0].n).toBe(1);
    });

    it('creates every row when concurrent requests add the same new people', async () => {
      const org = await createOrganization(t);
      const people = Array.from({ length: 40 }, () => activationRow());
      const responses = await Promise.all(
        Array.from({ length: 6 }, () => postActivationRecords(t, staff, org.id, people)),
      );
      expect(responses.map((r) => r.status)).toEqual([201, 201, 201, 201, 201, 201]);
      for (const r of responses)
        expect(r.body.results.every((x: { status: string }) => x.status === 'created')).toBe(true);
      const [counts] = await t.app.get(DataSource).query(
        `SELECT (SELECT count(*)::int FROM users WHERE organization_id = $1) AS users,
                (SELECT count(*)::int FROM activation_records WHERE organization_id = $1) AS records`,
        [org.id],
      );
      expect(counts).toEqual({ users: 40, records: 240 });
    });

    it('accepts 1000 rows in one request and refuses 1001', async () => {
      const org = await createOrganization(t);
      const rows = Array.from({ length: 1000 }, () => activationRow());
      const ok = await postActivationRecords(t, staff, org.id, rows).expect(201);
      expect(ok.body.results).toHaveLength(1000);
      expect(ok.body.results.every((r: { status: string }) => r.status === 'created')).toBe(true);
      const tooMany = await postActivationRecords(t, staff, org.id, [...rows, activationRow()]).expect(400);
      expect(tooMany.body.error).toBe('validation_failed');
    }, 120_000);

    it("answers an organization admin's row naming another organization's user as it answers a refused user of its own", async () => {
      const org = await createOrganization(t);
      const other = await createOrganization(t);
      const admin = await createUser(t, { organizationId: org.id });
      await grantRole(t, admin.principal, 'organization_admin', orgScope(org));
      const theirs = await createUser(t, { organizationId: other.id });
      const ownStaff = await createUser(t, { organizationId: org.id, isStaff: true });
      const rows = [theirs, ownStaff].map((u) => activationRow({ crsid: u.row.username }));

      const res = await postActivationRecords(t, admin.auth, org.id, rows).expect(201);
      const [forTheirs, forStaff] = res.body.results as { status: string; error: string; message: string }[];
      expect(forTheirs).toEqual({ ...forStaff, row: 0 });
      expect(forTheirs).toMatchObject({ status: 'error', error: 'forbidden' });
      expect(JSON.stringify(res.body)).not.toMatch(/another organization|belongs/);
      // Staff still hear why.
      const byStaff = await postActivationRecords(t, staff, org.id, rows.slice(0, 1)).expect(201);
      expect(byStaff.body.results[0]).toMatchObject({ error: 'duplicate_username' });
    });

    it("refuses an organization admin's row naming a staff or support user of the organization", async () => {
      const org = await createOrganization(t);
      const admin = await createUser(t, { organizationId: org.id });
      await grantRole(t, admin.principal, 'organization_admin', orgScope(org));
      const staffMember = await createUser(t, {
        organizationId: org.id,
        isStaff: true,
        password: 'the staff password',
      });
      const supportMember = await createUser(t, { organizationId: org.id, isSupport: true });
      const plain = await createUser(t, { organizationId: org.id });
      const rows = [staffMember, supportMember, plain].map((u) => activationRow({ crsid: u.row.username }));

      const res = await postActivationRecords(t, admin.auth, org.id, rows).expect(201);
      const [forStaff, forSupport, forPlain] = res.body.results as { status: string; error?: string; code?: string }[];
      expect([forStaff, forSupport].map((r) => ({ status: r.status, error: r.error, code: r.code }))).toEqual([
        { status: 'error', error: 'forbidden', code: undefined },
        { status: 'error', error: 'forbidden', code: undefined },
      ]);
      expect(forPlain.status).toBe('created');
      const [{ n }] = await t.app
        .get(DataSource)
        .query('SELECT count(*)::int AS n FROM activation_records WHERE user_id = ANY($1::uuid[])', [
          [staffMember.row.id, supportMember.row.id],
        ]);
      expect(n).toBe(0);
      await t.http
        .post('/api/v1/auth/login')
        .send({ username: staffMember.row.username, password: 'the staff password' })
        .expect(200);

      // Staff may still issue them.
      const byStaff = await postActivationRecords(t, staff, org.id, rows.slice(0, 2)).expect(201);
      expect(byStaff.body.results.map((r: { status: string }) => r.status)).toEqual(['created', 'created']);
    });

    it("refuses an organization admin's row that would take over an account: one already activated, one with roles in another organization, one that signs in another way", async () => {
      const org = await createOrganization(t);
      const elsewhere = await createOrganization(t);
      const admin = await createUser(t, { organizationId: org.id });
      await grantRole(t, admin.principal, 'organization_admin', orgScope(org));
      const activated = await createUser(t, { organizationId: org.id, password: 'the chosen password' });
      const adminElsewhere = await createUser(t, { organizationId: org.id });
      await grantRole(t, adminElsewhere.principal, 'organization_admin', orgScope(elsewhere));
      const external = await createUser(t, { organizationId: org.id });
      await t.app.get(DataSource).query(`UPDATE users SET kind = 'external' WHERE id = $1`, [external.row.id]);
      const newcomer = await createUser(t, { organizationId: org.id, isActive: false });
      const rows = [activated, adminElsewhere, external, newcomer].map((u) => activationRow({ crsid: u.row.username }));

      const res = await postActivationRecords(t, admin.auth, org.id, rows).expect(201);
      expect(
        res.body.results.map((r: { status: string; error?: string; code?: string }) => ({
          status: r.status,
          error: r.error,
          code: r.code !== undefined,
        })),
      ).toEqual([
        { status: 'error', error: 'already_activated', code: false },
        { status: 'error', error: 'forbidden', code: false },
        { status: 'error', error: 'forbidden', code: false },
        { status: 'created', error: undefined, code: true },
      ]);
      const [{ n }] = await t.app
        .get(DataSource)
        .query('SELECT count(*)::int AS n FROM activation_records WHERE user_id = ANY($1::uuid[])', [
          [activated.row.id, adminElsewhere.row.id, external.row.id],
        ]);
      expect(n).toBe(0);
      await t.http
        .post('/api/v1/auth/login')
        .send({ username: activated.row.username, password: 'the chosen password' })
        .expect(200);

      // Staff may still issue them (a staff-issued code is how a forgotten password is reset).
      const byStaff = await postActivationRecords(t, staff, org.id, rows.slice(0, 3)).expect(201);
      expect(byStaff.body.results.map((r: { status: string }) => r.status)).toEqual(['created', 'created', 'created']);
    });

    it('is for staff only', async () => {
      const org = await createOrganization(t);
      const user = await createUser(t, { organizationId: org.id });
      const res = await postActivationRecords(t, user.auth, org.id, [activationRow()]);
      expect([403, 404]).toContain(res.status);
      await postActivationRecords(t, {} as { Authorization: string }, org.id, [activationRow()]).expect(401);
    });
  });

  describe('the new-user-credentials grant', () => {
    it('issues an activation token for crsid or last name, date of birth and code, under either grant type URN', async () => {
      const org = await createOrganization(t);
      for (const grantType of [NEW_USER_GRANT, UIS_NEW_USER_GRANT]) {
        for (const by of ['crsid', 'last_name'] as const) {
          const who = await newActivation(t, staff, org.id);
          const params =
            by === 'crsid' ? byCrsid(who) : { last_name: who.lastName, date_of_birth: who.dateOfBirth, code: who.code };
          const res = await activationGrant(t, params, grantType).expect(200);
          expect(res.headers['cache-control']).toBe('no-store');
          expect(res.body).toEqual({
            access_token: expect.any(String),
            token_type: 'bearer',
            expires_in: 900,
            scope: 'account:activate',
          });
          expect(decodeJwt(res.body.access_token)).toMatchObject({
            sub: who.userId,
            scope: 'account:activate',
            kind: 'activation',
            act: who.recordId,
          });
        }
      }
    });

    it('matches crsid and last name case-insensitively and the code without case or separators', async () => {
      const org = await createOrganization(t);
      const a = await newActivation(t, staff, org.id);
      await activationGrant(
        t,
        byCrsid(a, {
          crsid: a.crsid.toUpperCase(),
          code: `${a.code.slice(0, 4)}-${a.code.slice(4, 8)} ${a.code.slice(8)}`.toLowerCase(),
        }),
      ).expect(200);
      const b = await newActivation(t, staff, org.id);
      await activationGrant(t, {
        last_name: b.lastName.toUpperCase(),
        date_of_birth: b.dateOfBirth,
        code: b.code,
      }).expect(200);
    });

    it("matches a last name as the database's lower() folds it, for letters JavaScript folds differently", async () => {
      const org = await createOrganization(t);
      // lower('İ') is 'i' in PostgreSQL; JavaScript's toLowerCase() makes it 'i' + U+0307.
      const suffix = randomBytes(4).toString('hex');
      const who = await newActivation(t, staff, org.id, { last_name: `İnan-${suffix}` });
      await activationGrant(t, { last_name: `inan-${suffix}`, date_of_birth: who.dateOfBirth, code: who.code }).expect(
        200,
      );
    });

    it('refuses malformed requests with invalid_request', async () => {
      const org = await createOrganization(t);
      const who = await newActivation(t, staff, org.id);
      const cases: Record<string, string>[] = [
        { ...byCrsid(who), last_name: who.lastName },
        { date_of_birth: who.dateOfBirth, code: who.code },
        byCrsid(who, { date_of_birth: `${who.dateOfBirth}T00:00:00Z` }),
        byCrsid(who, { date_of_birth: '1996-02-30' }),
        byCrsid(who, { date_of_birth: '19961219' }),
        byCrsid(who, { date_of_birth: undefined }),
        byCrsid(who, { code: undefined }),
        byCrsid(who, { code: '' }),
      ];
      for (const params of cases) expectOAuthError(await activationGrant(t, params), 400, 'invalid_request');
      // None of them counted as a failed attempt: the right details still work.
      await activationGrant(t, byCrsid(who)).expect(200);
    });

    it('treats parameters sent without a value as omitted (RFC 6749 §3.2)', async () => {
      const org = await createOrganization(t);
      const byName = await newActivation(t, staff, org.id);
      await activationGrant(t, {
        crsid: '',
        last_name: byName.lastName,
        date_of_birth: byName.dateOfBirth,
        code: byName.code,
      }).expect(200);
      const byCrsidOnly = await newActivation(t, staff, org.id);
      await activationGrant(t, byCrsid(byCrsidOnly, { last_name: '', client_id: '' })).expect(200);
      // Both empty is neither given.
      const neither = await newActivation(t, staff, org.id);
      expectOAuthError(
        await activationGrant(t, byCrsid(neither, { crsid: '', last_name: '' })),
        400,
        'invalid_request',
      );
    });

    it('answers a wrong code, date of birth or crsid with the same invalid_grant', async () => {
      const org = await createOrganization(t);
      const who = await newActivation(t, staff, org.id);
      const wrongCode = await activationGrant(t, byCrsid(who, { code: 'ABCDEFGHJKMN' }));
      const wrongDob = await activationGrant(
        t,
        byCrsid(who, { date_of_birth: who.dateOfBirth === '1990-01-01' ? '1990-01-02' : '1990-01-01' }),
      );
      const wrongCrsid = await activationGrant(t, byCrsid(who, { crsid: `${who.crsid}x` }));
      const wrongName = await activationGrant(t, {
        last_name: `${who.lastName}x`,
        date_of_birth: who.dateOfBirth,
        code: who.code,
      });
      expectOAuthError(wrongCode, 400, 'invalid_grant');
      for (const res of [wrongDob, wrongCrsid, wrongName]) {
        expect(res.status).toBe(400);
        expect(res.body).toEqual(wrongCode.body);
      }
    });

    it('locks a record after too many wrong codes, refusing even the right one until the lock expires', async () => {
      const org = await createOrganization(t);
      const who = await newActivation(t, staff, org.id);
      for (let i = 0; i < MAX_ATTEMPTS; i++)
        expectOAuthError(await activationGrant(t, byCrsid(who, { code: 'ABCDEFGHJKMN' })), 400, 'invalid_grant');
      const lockedAt = Date.now();
      const refused = await activationGrant(t, byCrsid(who));
      expectOAuthError(refused, 400, 'invalid_grant');

      let acceptedAfterMs: number | undefined;
      while (Date.now() - lockedAt < (LOCK_S + 5) * 1000) {
        await new Promise((r) => setTimeout(r, 250));
        const res = await activationGrant(t, byCrsid(who));
        if (res.status === 200) {
          acceptedAfterMs = Date.now() - lockedAt;
          break;
        }
        expectOAuthError(res, 400, 'invalid_grant');
      }
      expect(acceptedAfterMs).toBeDefined();
      expect(acceptedAfterMs!).toBeGreaterThanOrEqual(LOCK_S * 1000 - 500);
    });

    it('refuses an expired code', async () => {
      const org = await createOrganization(t);
      const who = await newActivation(t, staff, org.id);
      await t.app
        .get(DataSource)
        .query("UPDATE activation_records SET expires_at = now() - interval '1 second' WHERE id = $1", [who.recordId]);
      expectOAuthError(await activationGrant(t, byCrsid(who)), 400, 'invalid_grant');
    });

    it('counts wrong codes only against the record they were aimed at', async () => {
      const org = await createOrganization(t);
      const target = await newActivation(t, staff, org.id);
      const bystander = await newActivation(t, staff, org.id);
      for (let i = 0; i < MAX_ATTEMPTS; i++)
        await activationGrant(t, byCrsid(target, { code: 'ABCDEFGHJKMN' })).expect(400);
      await activationGrant(t, byCrsid(bystander)).expect(200);
    });

    it('counts a failure against a record only when its identity and date of birth match: a stranger knowing a crsid or a last name cannot lock its owner out', async () => {
      const org = await createOrganization(t);
      const owner = await newActivation(t, staff, org.id);
      const otherDob = owner.dateOfBirth === '1990-01-01' ? '1990-01-02' : '1990-01-01';
      const attempts = async () =>
        (
          await t.app
            .get(DataSource)
            .query('SELECT failed_attempts, locked_until FROM activation_records WHERE id = $1', [owner.recordId])
        )[0] as { failed_attempts: number; locked_until: Date | null };
      // Wrong date of birth, with a wrong code or the right one, by crsid and by last name.
      for (let i = 0; i < MAX_ATTEMPTS + 2; i++) {
        expectOAuthError(
          await activationGrant(t, byCrsid(owner, { date_of_birth: otherDob, code: 'ABCDEFGHJKMN' })),
          400,
          'invalid_grant',
        );
        expectOAuthError(await activationGrant(t, byCrsid(owner, { date_of_birth: otherDob })), 400, 'invalid_grant');
        expectOAuthError(
          await activationGrant(t, { last_name: owner.lastName, date_of_birth: otherDob, code: 'ABCDEFGHJKMN' }),
          400,
          'invalid_grant',
        );
      }
      expect(await attempts()).toEqual({ failed_attempts: 0, locked_until: null });
      // The identity and date of birth matching with a wrong code is what counts.
      expectOAuthError(await activationGrant(t, byCrsid(owner, { code: 'ABCDEFGHJKMN' })), 400, 'invalid_grant');
      expect((await attempts()).failed_attempts).toBe(1);
      // The owner's right code resets the count.
      await activationGrant(t, byCrsid(owner)).expect(200);
      expect((await attempts()).failed_attempts).toBe(0);
    });
  });

  describe('POST /api/v1/accounts/activate', () => {
    it('sets the password and activates the account, spending the code', async () => {
      const org = await createOrganization(t);
      const who = await newActivation(t, staff, org.id);
      const token = await activationToken(t, who);
      const auth = { Authorization: `Bearer ${token}` };
      await t.http
        .post('/api/v1/auth/login')
        .send({ username: who.crsid, password: 'a fine long password' })
        .expect(401);

      await t.http
        .post('/api/v1/accounts/activate')
        .set(auth)
        .send({ password: 'a fine long password', accept_terms: true })
        .expect(204);

      const login = await t.http
        .post('/api/v1/auth/login')
        .send({ username: who.crsid, password: 'a fine long password' })
        .expect(200);
      const me = await t.http
        .get('/api/v1/auth/me')
        .set('Authorization', `Bearer ${login.body.access_token}`)
        .expect(200);
      expect(me.body).toMatchObject({ id: who.userId, token_kind: 'user' });

      expectOAuthError(await activationGrant(t, byCrsid(who)), 400, 'invalid_grant');
      const again = await t.http
        .post('/api/v1/accounts/activate')
        .set(auth)
        .send({ password: 'another long password', accept_terms: true })
        .expect(409);
      expect(again.body.error).toBe('activation_used');
      // The second attempt did not change the password.
      await t.http
        .post('/api/v1/auth/login')
        .send({ username: who.crsid, password: 'a fine long password' })
        .expect(200);
      await t.http
        .post('/api/v1/auth/login')
        .send({ username: who.crsid, password: 'another long password' })
        .expect(401);

      const audit = await t.http
        .get(`/api/v1/audit-events?action=user.activated&subject_id=${who.userId}`)
        .set(staff)
        .expect(200);
      expect(audit.body.count).toBe(1);
    });

    it("voids the person's other outstanding codes once the account is activated", async () => {
      const org = await createOrganization(t);
      const first = await newActivation(t, staff, org.id);
      // A second letter for the same person (say the first was thought lost).
      const second = await newActivation(t, staff, org.id, {
        crsid: first.crsid,
        last_name: first.lastName,
        date_of_birth: first.dateOfBirth,
      });
      expect(second.userId).toBe(first.userId);
      const pendingToken = await activationToken(t, first);

      const auth = { Authorization: `Bearer ${await activationToken(t, second)}` };
      await t.http
        .post('/api/v1/accounts/activate')
        .set(auth)
        .send({ password: 'the chosen password', accept_terms: true })
        .expect(204);

      // Whoever holds the other letter can no longer set the password of the active account.
      expectOAuthError(await activationGrant(t, byCrsid(first)), 400, 'invalid_grant');
      const late = await t.http
        .post('/api/v1/accounts/activate')
        .set('Authorization', `Bearer ${pendingToken}`)
        .send({ password: 'an intruder password', accept_terms: true })
        .expect(409);
      expect(late.body.error).toBe('activation_used');
      await t.http
        .post('/api/v1/auth/login')
        .send({ username: first.crsid, password: 'the chosen password' })
        .expect(200);
    });

    it('leaves an account that an administrator deactivated after its activation deactivated', async () => {
      const org = await createOrganization(t);
      const first = await newActivation(t, staff, org.id);
      await t.http
        .post('/api/v1/accounts/activate')
        .set({ Authorization: `Bearer ${await activationToken(t, first)}` })
        .send({ password: 'the chosen password', accept_terms: true })
        .expect(204);
      await t.http.patch(`/api/v1/users/${first.userId}`).set(staff).send({ is_active: false }).expect(200);
      // A new letter issued by mistake must not switch the account back on.
      const again = await newActivation(t, staff, org.id, {
        crsid: first.crsid,
        last_name: first.lastName,
        date_of_birth: first.dateOfBirth,
      });
      const res = await t.http
        .post('/api/v1/accounts/activate')
        .set({ Authorization: `Bearer ${await activationToken(t, again)}` })
        .send({ password: 'another password!', accept_terms: true })
        .expect(409);
      expect(res.body.error).toBe('inactive');
      await t.http
        .post('/api/v1/auth/login')
        .send({ username: first.crsid, password: 'another password!' })
        .expect(401);
    });

    it('requires accepting the terms and a long enough password', async () => {
      const org = await createOrganization(t);
      const who = await newActivation(t, staff, org.id);
      const auth = { Authorization: `Bearer ${await activationToken(t, who)}` };
      for (const body of [
        { password: 'a fine long password', accept_terms: false },
        { password: 'a fine long password' },
        { password: 'short', accept_terms: true },
      ]) {
        const res = await t.http.post('/api/v1/accounts/activate').set(auth).send(body).expect(400);
        expect(res.body.error).toBe('validation_failed');
      }
      // Nothing was spent by the refused requests.
      await t.http
        .post('/api/v1/accounts/activate')
        .set(auth)
        .send({ password: 'a fine long password', accept_terms: true })
        .expect(204);
    });
  });
});

describe('the new-user-credentials grant, per-address attempt limit', () => {
  const LIMIT = 3;
  let t: TestApp;
  let staff: { Authorization: string };
  beforeAll(async () => {
    t = await createTestApp({
      settings: { LOGIN_RATE_LIMIT: String(LIMIT), LOGIN_RATE_WINDOW_SECONDS: '60', TRUST_PROXY: '1' },
    });
    staff = (await createStaff(t)).auth;
  });
  afterAll(() => t.close());

  const attempt = (who: ActivationIdentity, ip: string, changes: Record<string, string> = {}) =>
    tokenRequest(
      t,
      { grant_type: NEW_USER_GRANT, crsid: who.crsid, date_of_birth: who.dateOfBirth, code: who.code, ...changes },
      { 'x-forwarded-for': ip },
    );

  it('answers 429 with Retry-After once an address has made LOGIN_RATE_LIMIT attempts, right details or not; other addresses go on', async () => {
    const org = await createOrganization(t);
    const people = await Promise.all(Array.from({ length: LIMIT + 1 }, () => newActivation(t, staff, org.id)));
    const ip = '10.5.0.1';
    // Wrong codes for different people: no record comes near its own lock.
    for (const who of people.slice(0, LIMIT))
      expectOAuthError(await attempt(who, ip, { code: 'ABCDEFGHJKMN' }), 400, 'invalid_grant');
    const limited = await attempt(people[LIMIT], ip);
    expectOAuthError(limited, 429, 'invalid_request');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.headers['cache-control']).toBe('no-store');
    // The same person from another address is fine.
    await attempt(people[LIMIT], '10.5.0.2').expect(200);
  });

  it('counts successful attempts too, and not malformed requests', async () => {
    const org = await createOrganization(t);
    const ip = '10.5.1.1';
    // Malformed requests are refused before the limit counts them.
    const who = await newActivation(t, staff, org.id);
    for (let i = 0; i < LIMIT + 2; i++)
      expectOAuthError(await attempt(who, ip, { date_of_birth: 'not-a-date' }), 400, 'invalid_request');
    for (let i = 0; i < LIMIT; i++) await attempt(await newActivation(t, staff, org.id), ip).expect(200);
    expectOAuthError(await attempt(await newActivation(t, staff, org.id), ip), 429, 'invalid_request');
  });
});
