import { PostgresQueryRunner } from 'typeorm/driver/postgres/PostgresQueryRunner';
import { DataSource } from 'typeorm';
import { createOrganization, createStaff, createUser } from '../factories/accounts';
import { grantRole, projectScope } from '../permissions/grants';
import { LtiRosterRepository } from '../../src/lti/services/nrps/lti-roster.repository';
import { RosterSync } from '../../src/lti/services/nrps/roster-sync';
import { jobSettings, waitFor } from '../utils/jobs-helpers';
import { launchAndExchange, TOOL_URL } from '../utils/lti-launch';
import { LtiPlatformSimulator, ROLE, startLtiPlatform } from '../utils/lti-platform';
import { LtiServicesPlatform, NRPS_CLAIM, SimMember, startLtiServicesPlatform } from '../utils/lti-services-platform';
import { createTestApp, TestApp } from '../utils/test-app';

/** Marks a transaction the count saw only the end of. */
const BEGUN_BEFORE = '-- begun before the count';
const BACKGROUND =
  /\b(jobs|job_artifacts|signing_keys|lti_logins|course_accounts|participant_emails|mail_templates|webhook_\w+)\b|pg_try_advisory_xact_lock|DELETE FROM outbox_events|^-- begun before the count$/;

interface Session {
  access_token: string;
  user: { id: string };
  context: string;
  project: { id: string; organization: string };
}

describe('LTI NRPS: course rosters in line with the LMS', () => {
  let t: TestApp;
  let lms: LtiPlatformSimulator;
  let services: LtiServicesPlatform;
  let db: DataSource;

  beforeAll(async () => {
    t = await createTestApp({ settings: { PUBLIC_URL: TOOL_URL, ...jobSettings('in-process') } });
    db = t.app.get(DataSource);
    lms = await startLtiPlatform();
    services = await startLtiServicesPlatform({
      clientId: lms.clientId,
      toolJwks: async () => (await t.http.get('/lti/jwks.json')).body,
      pageSize: 2,
    });
    const staff = await createStaff(t);
    const org = await createOrganization(t);
    const res = await t.http
      .post('/api/v1/lti/platforms')
      .set(staff.auth)
      .send(lms.registration(org.id, { auth_token_url: services.tokenUrl }));
    expect(res.status).toBe(201);
  });
  afterAll(async () => {
    await services?.close();
    await lms?.close();
    await t?.close();
  });

  const launch = async (context: string, sub: string, roles: string[]) =>
    (
      await launchAndExchange(t, lms, {
        sub,
        roles,
        context: { id: context, title: `Course ${context}` },
        claims: { [NRPS_CLAIM]: services.nrpsClaim(context) },
      })
    ).session as unknown as Session;

  /** The user's project roles through the project's groups. */
  async function rolesIn(projectId: string, userId: string): Promise<string[]> {
    const rows: { role: string }[] = await db.query(
      `SELECT g.role FROM group_memberships m JOIN groups g ON g.id = m.group_id
       WHERE g.scope_type = 'project' AND g.scope_id = $1 AND m.principal_type = 'user' AND m.principal_id = $2
       ORDER BY g.role`,
      [projectId, userId],
    );
    return rows.map((r) => r.role);
  }

  async function userOf(sub: string): Promise<string | undefined> {
    const [row] = await db.query('SELECT user_id FROM lti_identities WHERE subject = $1', [sub]);
    return row?.user_id;
  }

  async function runSync(auth: Record<string, string>, contextRef: string, body: object = {}) {
    const res = await t.http.post(`/api/v1/lti/contexts/${contextRef}/sync`).set(auth).send(body);
    expect(res.status).toBe(202);
    const job = await waitFor(async () => {
      const j = await t.http.get(`/api/v1/jobs/${res.body.job}`).set(auth);
      return ['Succeeded', 'Failed'].includes(j.body.state) ? j.body : null;
    });
    expect(job).toMatchObject({ state: 'Succeeded' });
    return JSON.parse(job.text) as Record<string, number>;
  }

  it('adds newcomers, drops the unlisted and the inactive, and touches nobody else', async () => {
    const instructor = await launch('ctx-roster', 'teacher-1', [ROLE.instructor]);
    const dropped = await launch('ctx-roster', 'student-dropped', [ROLE.learner]);
    const inactive = await launch('ctx-roster', 'student-inactive', [ROLE.learner]);
    const projectId = instructor.project.id;
    // Someone the project's managers added by hand, outside the LMS groups.
    const local = await createUser(t, { organizationId: instructor.project.organization });
    await grantRole(
      t,
      local.principal,
      'project_member',
      projectScope({ id: projectId, organizationId: instructor.project.organization }),
    );
    const roster: SimMember[] = [
      { user_id: 'teacher-1', roles: [ROLE.instructor], name: 'Grace Hopper' },
      { user_id: 'student-inactive', roles: [ROLE.learner], status: 'Inactive' },
      {
        user_id: 'student-new',
        roles: [ROLE.learner],
        given_name: 'Ada',
        family_name: 'Lovelace',
        email: 'ada@example.edu',
      },
      { user_id: 'ta-new', roles: [ROLE.teachingAssistant], name: 'Alan Turing' },
    ];
    services.setRoster('ctx-roster', roster);
    const auth = { Authorization: `Bearer ${instructor.access_token}` };
    expect(await runSync(auth, instructor.context)).toEqual({ added: 2, updated: 1, removed: 2, unchanged: 0 });

    expect(await rolesIn(projectId, dropped.user.id)).toEqual([]);
    expect(await rolesIn(projectId, inactive.user.id)).toEqual([]);
    expect(await rolesIn(projectId, instructor.user.id)).toEqual(['project_manager']);
    const newcomer = await userOf('student-new');
    const ta = await userOf('ta-new');
    expect(await rolesIn(projectId, newcomer!)).toEqual(['project_member']);
    expect(await rolesIn(projectId, ta!)).toEqual(['project_contributor']);
    expect(await rolesIn(projectId, local.row.id)).toEqual(['project_member']);
    const [ada] = await db.query('SELECT username, first_name, last_name, email, kind FROM users WHERE id = $1', [
      newcomer,
    ]);
    expect(ada).toMatchObject({
      username: 'ada.lovelace',
      first_name: 'Ada',
      last_name: 'Lovelace',
      email: 'ada@example.edu',
      kind: 'lti',
    });
    // The roster sent a name the launches did not: the instructor's profile was updated.
    const [grace] = await db.query('SELECT first_name, last_name FROM users WHERE id = $1', [instructor.user.id]);
    expect(grace).toEqual({ first_name: 'Grace', last_name: 'Hopper' });
    // Paged by the platform (2 a page): every page fetched, through Link rel="next".
    const pages = services.calls.filter((c) => c.path === '/contexts/ctx-roster/memberships');
    expect(pages.map((c) => c.status)).toEqual([200, 200]);

    // Nothing changed at the LMS: nothing changes here.
    expect(await runSync(auth, instructor.context)).toEqual({ added: 0, updated: 0, removed: 0, unchanged: 4 });
    // The dropped student launches again: they are back, and the next sync (they are still unlisted) drops them again.
    await launch('ctx-roster', 'student-dropped', [ROLE.learner]);
    expect(await rolesIn(projectId, dropped.user.id)).toEqual(['project_member']);
    expect(await runSync(auth, instructor.context)).toMatchObject({ removed: 1 });
    expect(await rolesIn(projectId, dropped.user.id)).toEqual([]);
  });

  it('a filtered sync (role, rlid) sends the filters and removes nobody', async () => {
    const instructor = await launch('ctx-filter', 'teacher-2', [ROLE.instructor]);
    const learner = await launch('ctx-filter', 'student-kept', [ROLE.learner]);
    services.setRoster('ctx-filter', [
      { user_id: 'teacher-2', roles: [ROLE.instructor] },
      { user_id: 'student-late', roles: [ROLE.learner], links: ['rl-a'] },
    ]);
    const auth = { Authorization: `Bearer ${instructor.access_token}` };
    const summary = await runSync(auth, instructor.context, { role: 'Learner', rlid: 'rl-a' });
    expect(summary).toEqual({ added: 1, updated: 0, removed: 0, unchanged: 0 });
    expect(await rolesIn(instructor.project.id, learner.user.id)).toEqual(['project_member']);
    const call = services.calls.filter((c) => c.path === '/contexts/ctx-filter/memberships');
    expect(call).toHaveLength(1);
  });

  it('only project managers and organization admins start a sync', async () => {
    const instructor = await launch('ctx-perm', 'teacher-3', [ROLE.instructor]);
    const learner = await launch('ctx-perm', 'student-3', [ROLE.learner]);
    services.setRoster('ctx-perm', []);
    const res = await t.http
      .post(`/api/v1/lti/contexts/${instructor.context}/sync`)
      .set('Authorization', `Bearer ${learner.access_token}`)
      .send({});
    expect(res.status).toBe(404);
    const bad = await t.http
      .post('/api/v1/lti/contexts/not-a-uuid/sync')
      .set('Authorization', `Bearer ${instructor.access_token}`)
      .send({});
    expect(bad.status).toBe(400);
    const plain = (await launchAndExchange(t, lms, { roles: [ROLE.instructor], context: { id: 'ctx-no-nrps' } }))
      .session as unknown as Session;
    const none = await t.http
      .post(`/api/v1/lti/contexts/${plain.context}/sync`)
      .set('Authorization', `Bearer ${plain.access_token}`)
      .send({});
    expect(none.status).toBe(422);
    expect(none.body.error).toBe('no_roster_service');
  });

  it('issues a constant number of SQL statements per member', async () => {
    const roster = t.app.get(RosterSync);
    const repo = t.app.get(LtiRosterRepository);
    async function statementsFor(size: number): Promise<{ first: number; again: number }> {
      const context = `ctx-count-${size}`;
      const instructor = await launch(context, `teacher-count-${size}`, [ROLE.instructor]);
      services.setRoster(
        context,
        Array.from({ length: size }, (_, i) => ({
          user_id: `count-${size}-${i}`,
          roles: [ROLE.learner],
          name: `Student ${i}`,
        })),
      );
      const found = (await repo.findContext(instructor.context))!;
      const url = (await repo.membershipsUrl(found.id, found.platformId))!;
      const count = async () => {
        const original = PostgresQueryRunner.prototype.query;
        let n = 0;
        // Statements of an open transaction, per query runner: a transaction of the application's timers
        // (job sweeper, key reloads, login purge, the outbox relay) is left out whole.
        const open = new Map<PostgresQueryRunner, string[]>();
        const settle = (block: string[]) => {
          if (!block.some((q) => BACKGROUND.test(q))) n += block.length;
        };
        const spy = jest.spyOn(PostgresQueryRunner.prototype, 'query').mockImplementation(function (
          this: PostgresQueryRunner,
          ...args
        ) {
          const text = String(args[0]);
          const block = open.get(this);
          if (/^\s*(START TRANSACTION|BEGIN)\b/i.test(text)) open.set(this, [text]);
          else if (block) {
            block.push(text);
            if (/^\s*(COMMIT|ROLLBACK)\b/i.test(text)) {
              open.delete(this);
              settle(block);
            }
          } else if (this.isTransactionActive) {
            // A transaction begun before the count (a timer's): not the sync's, left out with its COMMIT.
            open.set(this, [BEGUN_BEFORE, text]);
          } else settle([text]);
          return original.apply(this, args);
        });
        try {
          await roster.sync(found, url);
        } finally {
          spy.mockRestore();
        }
        return n;
      };
      return { first: await count(), again: await count() };
    }
    const small = await statementsFor(6);
    const medium = await statementsFor(12);
    const large = await statementsFor(24);
    const perMember = (a: number, b: number, members: number) => (b - a) / members;
    expect(perMember(small.first, medium.first, 6)).toBe(perMember(medium.first, large.first, 12));
    expect(perMember(small.again, medium.again, 6)).toBe(perMember(medium.again, large.again, 12));
    // Bounded: a newcomer costs a handful of statements (its membership's outbox event among them), a known member fewer.
    expect(perMember(small.first, medium.first, 6)).toBeLessThanOrEqual(15);
    expect(perMember(small.again, medium.again, 6)).toBeLessThanOrEqual(4);
  });
});
