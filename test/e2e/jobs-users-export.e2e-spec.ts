import { getDataSourceToken } from '@nestjs/typeorm';
import { parse } from 'csv-parse/sync';
import { pbkdf2, randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { DataSource } from 'typeorm';
import { Job } from '../../src/jobs/job.entity';
import { USERS_EXPORT_COLUMNS } from '../../src/jobs/exports/users-export.job';
import { createOrganization, createStaff, createUser } from '../factories/accounts';
import { grantRole, orgScope } from '../permissions/grants';
import { jobSettings, waitFor } from '../utils/jobs-helpers';
import { createTestApp, TestApp } from '../utils/test-app';

jest.setTimeout(60_000);

describe.each([['in-process' as const], ['bull' as const]])('users.export with the %s queue', (adapter) => {
  let t: TestApp;
  let db: DataSource;

  beforeAll(async () => {
    t = await createTestApp({ settings: jobSettings(adapter) });
    db = t.app.get<DataSource>(getDataSourceToken());
  });
  afterAll(() => t?.close());

  const settled = (id: string) =>
    waitFor(async () => {
      const job = await db.getRepository(Job).findOneByOrFail({ id });
      return ['Succeeded', 'Failed', 'Canceled'].includes(job.state) && job;
    }, 30_000, `job ${id}`);

  async function addUsers(organizationId: string, count: number): Promise<void> {
    await db.query(
      `INSERT INTO users (username, email, first_name, last_name, organization_id)
       SELECT 'u' || $2 || '-' || g, 'u' || g || '@example.edu', 'First, "quoted"', 'Last ' || g, $1
         FROM generate_series(1, $3) AS g`,
      [organizationId, randomUUID().slice(0, 8), count],
    );
  }

  it("exports an organization's users as CSV to the staff member who asked, with progress and a summary", async () => {
    const staff = await createStaff(t);
    const org = await createOrganization(t);
    const other = await createOrganization(t);
    await addUsers(org.id, 2500);
    await addUsers(other.id, 3);

    const res = await t.http.post(`/api/v1/organizations/${org.id}/users/export`).set(staff.auth).expect(202);
    expect(res.body).toMatchObject({ name: 'users.export', state: expect.stringMatching(/Pending|In Progress|Succeeded/) });
    const job = await settled(res.body.job_id);
    expect(job).toMatchObject({ state: 'Succeeded', completedSteps: 2500, totalSteps: 2500, organizationId: org.id, ownerId: staff.row.id });

    const status = await t.http.get(`/api/v1/jobs/${job.id}`).set(staff.auth).expect(200);
    expect(status.body.text).toBe('Exported 2500 users.');
    const csvArtifact = status.body.artifacts.find((a: { name: string }) => a.name === 'users.csv');
    expect(csvArtifact.content_type).toBe('text/csv; charset=utf-8');
    const download = await t.http.get(`/api/v1/jobs/${job.id}/artifacts/users.csv`).set(staff.auth).buffer(true).expect(200);
    expect(Number(download.headers['content-length'])).toBe(csvArtifact.size);
    const rows: Record<string, string>[] = parse(download.text, { columns: true });
    expect(Object.keys(rows[0])).toEqual([...USERS_EXPORT_COLUMNS]);
    expect(rows).toHaveLength(2500);
    expect(new Set(rows.map((r) => r.id)).size).toBe(2500);
    expect(rows[0].first_name).toBe('First, "quoted"');
    const [{ n }] = await db.query(`SELECT count(*)::int AS n FROM users WHERE organization_id = $1 AND id = ANY($2::uuid[])`, [
      org.id,
      rows.map((r) => r.id),
    ]);
    expect(n).toBe(2500);
  });

  it('ends Canceled, and the API keeps serving, when the cancel comes before the CSV reaches the artifact storage', async () => {
    const staff = await createStaff(t);
    const org = await createOrganization(t);
    await addUsers(org.id, 3);
    // The progress report after the first page sees a cancel...
    const name = `cancel_export_${org.id.replace(/-/g, '')}`;
    await db.query(`CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.cancel_requested_at := now(); RETURN NEW; END $$`);
    await db.query(
      `CREATE TRIGGER ${name} BEFORE UPDATE OF completed_steps ON jobs FOR EACH ROW
        WHEN (NEW.completed_steps > 0 AND NEW.organization_id = '${org.id}') EXECUTE FUNCTION ${name}()`,
    );
    // ...while the artifact storage, as under load, still waits for the thread pool, so nothing reads the CSV yet.
    const busy = Array.from({ length: 8 }, () => promisify(pbkdf2)('busy', 'pool', 300_000, 32, 'sha512'));
    try {
      const res = await t.http.post(`/api/v1/organizations/${org.id}/users/export`).set(staff.auth).expect(202);
      expect((await settled(res.body.job_id)).state).toBe('Canceled');
    } finally {
      await Promise.all(busy);
      await db.query(`DROP TRIGGER ${name} ON jobs; DROP FUNCTION ${name}()`);
    }
    await t.http.get('/api/v1/auth/me').set(staff.auth).expect(200);
  });

  it('lets an organization admin export their organization, and hides other organizations as 404', async () => {
    const org = await createOrganization(t);
    const other = await createOrganization(t);
    await addUsers(org.id, 5);
    const admin = await createUser(t, { organizationId: org.id });
    await grantRole(t, admin.principal, 'organization_admin', orgScope(org));

    const res = await t.http.post(`/api/v1/organizations/${org.id}/users/export`).set(admin.auth).expect(202);
    const job = await settled(res.body.job_id);
    expect(job.state).toBe('Succeeded');
    await t.http.get(`/api/v1/jobs/${job.id}/artifacts/users.csv`).set(admin.auth).expect(200);

    const hidden = await t.http.post(`/api/v1/organizations/${other.id}/users/export`).set(admin.auth).expect(404);
    expect(hidden.body.error).toBe('not_found');
    await t.http.post(`/api/v1/organizations/${randomUUID()}/users/export`).set(admin.auth).expect(404);
  });

  it('answers an organization it hides exactly like one that does not exist', async () => {
    const org = await createOrganization(t);
    const other = await createOrganization(t);
    const admin = await createUser(t, { organizationId: org.id });
    await grantRole(t, admin.principal, 'organization_admin', orgScope(org));
    const plain = await createUser(t, { organizationId: org.id });

    for (const caller of [admin, plain]) {
      const hidden = await t.http.post(`/api/v1/organizations/${other.id}/users/export`).set(caller.auth).expect(404);
      const unknown = await t.http.post(`/api/v1/organizations/${randomUUID()}/users/export`).set(caller.auth).expect(404);
      expect(hidden.body).toEqual(unknown.body);
      expect(hidden.body).toEqual({ error: 'not_found', message: 'Organization not found.' });
    }
    const plainOwn = await t.http.post(`/api/v1/organizations/${org.id}/users/export`).set(plain.auth).expect(404);
    expect(plainOwn.body).toEqual({ error: 'not_found', message: 'Organization not found.' });
  });

  it("hides the organization's users from a member without the export permission", async () => {
    const org = await createOrganization(t);
    const plain = await createUser(t, { organizationId: org.id });
    const res = await t.http.post(`/api/v1/organizations/${org.id}/users/export`).set(plain.auth).expect(404);
    expect(res.body.error).toBe('not_found');
    await t.http.post(`/api/v1/organizations/${org.id}/users/export`).expect(401);
  });
});
