import { randomUUID } from 'node:crypto';
import { createOrganization, createServiceAccount, createUser, unique } from '../factories/accounts';
import { createProgram, createProgramCourse, enroll, programScope } from '../factories/registrar';
import { grantRole, orgScope } from '../permissions/grants';
import { createTestApp, TestApp } from '../utils/test-app';

/** `Authorization: JWT …`, as Registrar's clients send their tokens. */
const jwt = (auth: { Authorization: string }) => ({ Authorization: auth.Authorization.replace(/^Bearer /, 'JWT ') });

describe('Registrar: programs and program courses', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t?.close());

  async function orgAdmin() {
    const org = await createOrganization(t);
    const admin = await createUser(t, { organizationId: org.id });
    await grantRole(t, admin.principal, 'organization_admin', orgScope(org));
    return { org, admin };
  }

  describe('native admin API', () => {
    it('lets an organization admin create, read, change and delete a program, audited', async () => {
      const { org, admin } = await orgAdmin();
      const key = unique('masters-in-english');
      const created = await t.http
        .post('/api/v1/programs')
        .set(admin.auth)
        .send({ organization: org.id, key, title: 'Master of Arts in English', url: 'https://example.edu/english' });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({
        organization: org.id,
        key,
        title: 'Master of Arts in English',
        type: 'Masters',
        url: 'https://example.edu/english',
        status: 'active',
      });
      expect(created.body.uuid).toMatch(/^[0-9a-f-]{36}$/);
      const id = created.body.id as string;

      const listed = await t.http.get('/api/v1/programs').query({ organization: org.id }).set(admin.auth);
      expect(listed.status).toBe(200);
      expect(listed.body).toMatchObject({ count: 1, next: null, previous: null });
      expect(listed.body.results.map((p: { id: string }) => p.id)).toEqual([id]);

      const patched = await t.http.patch(`/api/v1/programs/${id}`).set(admin.auth).send({ status: 'retired' });
      expect(patched.status).toBe(200);
      expect(patched.body.status).toBe('retired');

      expect((await t.http.delete(`/api/v1/programs/${id}`).set(admin.auth)).status).toBe(204);
      expect((await t.http.get(`/api/v1/programs/${id}`).set(admin.auth)).status).toBe(404);

      const audit = await t.http
        .get('/api/v1/audit-events')
        .query({ organization: org.id })
        .set((await createUser(t, { isStaff: true })).auth);
      const actions = (audit.body.results as { action: string }[]).map((e) => e.action);
      expect(actions).toEqual(expect.arrayContaining(['program.created', 'program.updated', 'program.deleted']));
    });

    it('refuses a second program with the same key in any organization (409 duplicate_key)', async () => {
      const { admin } = await orgAdmin();
      const other = await orgAdmin();
      const key = unique('dup');
      await createProgram(t, other.org.id, { key });
      const res = await t.http
        .post('/api/v1/programs')
        .set(admin.auth)
        .send({ organization: (await createOrganization(t)).id, key, title: 'x' });
      // An organization the admin cannot see is 404 before any key check.
      expect(res.status).toBe(404);
      const mine = await t.http
        .post('/api/v1/programs')
        .set(other.admin.auth)
        .send({ organization: other.org.id, key, title: 'x' });
      expect(mine.status).toBe(409);
      expect(mine.body.error).toBe('duplicate_key');
    });

    it('answers 400 for a bad key, url or id, never 500', async () => {
      const { org, admin } = await orgAdmin();
      const bad = await t.http
        .post('/api/v1/programs')
        .set(admin.auth)
        .send({ organization: org.id, key: 'has/slash', title: 'x', url: 'javascript:alert(1)' });
      expect(bad.status).toBe(400);
      expect(bad.body.error).toBe('validation_failed');
      expect((await t.http.get('/api/v1/programs/not-a-uuid').set(admin.auth)).status).toBe(400);
    });

    it('keeps program roles and other organizations out: 403 to change, 404 when invisible', async () => {
      const { org, admin } = await orgAdmin();
      const program = await createProgram(t, org.id);
      const reader = await createUser(t, { organizationId: org.id });
      await grantRole(t, reader.principal, 'program_read_write_enrollments', programScope(program));
      const outsider = (await orgAdmin()).admin;

      expect((await t.http.get(`/api/v1/programs/${program.id}`).set(reader.auth)).status).toBe(200);
      const patch = await t.http.patch(`/api/v1/programs/${program.id}`).set(reader.auth).send({ title: 'x' });
      expect(patch.status).toBe(403);
      expect(
        (await t.http.patch(`/api/v1/programs/${program.id}`).set(outsider.auth).send({ title: 'x' })).status,
      ).toBe(404);
      const create = await t.http
        .post('/api/v1/programs')
        .set(reader.auth)
        .send({ organization: org.id, key: unique('k'), title: 'x' });
      expect(create.status).toBe(403);
      expect((await t.http.get(`/api/v1/programs/${program.id}`).set(admin.auth)).status).toBe(200);
    });

    it('manages program courses; a run key and an external key are unique in the program', async () => {
      const { org, admin } = await orgAdmin();
      const program = await createProgram(t, org.id);
      const add = (body: object) => t.http.post(`/api/v1/programs/${program.id}/courses`).set(admin.auth).send(body);
      const first = await add({
        course_id: 'course-v1:HUMx+English-550+Spring',
        external_course_key: 'ENG55-S19',
        title: 'English 550',
      });
      expect(first.status).toBe(201);
      expect(first.body).toMatchObject({
        program: program.id,
        course_id: 'course-v1:HUMx+English-550+Spring',
        external_course_key: 'ENG55-S19',
      });
      expect((await add({ course_id: 'course-v1:HUMx+English-550+Spring', title: 'again' })).body.error).toBe(
        'duplicate_key',
      );
      expect(
        (await add({ course_id: 'course-v1:HUMx+Other+Spring', external_course_key: 'ENG55-S19', title: 'x' })).status,
      ).toBe(409);

      const list = await t.http.get(`/api/v1/programs/${program.id}/courses`).set(admin.auth);
      expect(list.body.count).toBe(1);
      const changed = await t.http
        .patch(`/api/v1/programs/${program.id}/courses/${first.body.id}`)
        .set(admin.auth)
        .send({ title: 'English 551', external_course_key: null });
      expect(changed.body).toMatchObject({ title: 'English 551', external_course_key: null });
      expect(
        (await t.http.delete(`/api/v1/programs/${program.id}/courses/${first.body.id}`).set(admin.auth)).status,
      ).toBe(204);
      expect(
        (await t.http.delete(`/api/v1/programs/${program.id}/courses/${first.body.id}`).set(admin.auth)).status,
      ).toBe(404);
    });

    it('refuses to delete a program that has learners (409 program_has_enrollments)', async () => {
      const { org, admin } = await orgAdmin();
      const program = await createProgram(t, org.id);
      await enroll(t, program.id, [['learner-1', 'enrolled']]);
      const res = await t.http.delete(`/api/v1/programs/${program.id}`).set(admin.auth);
      expect(res.status).toBe(409);
      expect(res.body.error).toBe('program_has_enrollments');
    });

    it('makes program-scope groups usable: an admin grants a program role through the groups API', async () => {
      const { org, admin } = await orgAdmin();
      const program = await createProgram(t, org.id);
      const member = await createUser(t, { organizationId: org.id });
      const group = await t.http
        .post('/api/v1/groups')
        .set(admin.auth)
        .send({
          name: unique('readers'),
          scope_type: 'program',
          scope_id: program.id,
          role: 'program_read_enrollments',
        });
      expect(group.status).toBe(201);
      const added = await t.http
        .post(`/api/v1/groups/${group.body.id}/members`)
        .set(admin.auth)
        .send({ principal_type: 'user', principal_id: member.row.id });
      expect(added.status).toBe(201);
      const detail = await t.http.get(`/registrar/api/v1/programs/${program.key}`).set(member.auth);
      expect(detail.status).toBe(200);
      expect(detail.body.permissions).toEqual(['read_metadata', 'read_enrollments']);
    });
  });

  describe('a Registrar client', () => {
    it('gets a token with token_type=jwt and sends it as Authorization: JWT', async () => {
      const org = await createOrganization(t);
      const program = await createProgram(t, org.id);
      const client = await createServiceAccount(t, org.id);
      await grantRole(t, client.principal, 'organization_read_metadata', orgScope(org));
      const token = await t.http.post('/oauth/token').type('form').send({
        grant_type: 'client_credentials',
        client_id: client.row.clientId,
        client_secret: client.clientSecret,
        token_type: 'jwt',
      });
      expect(token.status).toBe(200);
      expect(token.body).toMatchObject({ token_type: 'JWT', expires_in: expect.any(Number) });
      const res = await t.http
        .get(`/registrar/api/v1/programs/${program.key}`)
        .set('Authorization', `JWT ${token.body.access_token}`);
      expect(res.status).toBe(200);
      expect(res.body.program_key).toBe(program.key);
      const bad = await t.http.post('/oauth/token').type('form').send({
        grant_type: 'client_credentials',
        client_id: client.row.clientId,
        client_secret: client.clientSecret,
        token_type: 'mac',
      });
      expect(bad.status).toBe(400);
      expect(bad.body.error).toBe('invalid_request');
    });
  });

  describe('Registrar API reads', () => {
    it('lists programs with the caller’s permissions on each, as upstream', async () => {
      const org = await createOrganization(t);
      const english = await createProgram(t, org.id, {
        key: unique('masters-in-english'),
        title: 'masters in english',
      });
      const phil = await createProgram(t, org.id, {
        key: unique('masters-in-philosophy'),
        title: 'masters in philosophy',
      });
      const other = await createProgram(t, (await createOrganization(t)).id);
      const hum = await createServiceAccount(t, org.id);
      await grantRole(t, hum.principal, 'organization_read_write_enrollments', orgScope(org));
      await grantRole(t, hum.principal, 'organization_read_reports', orgScope(org));
      const programUser = await createUser(t, { organizationId: org.id });
      await grantRole(t, programUser.principal, 'program_read_metadata', programScope(english));

      const all = await t.http.get('/registrar/api/v1/programs').set(jwt(hum.auth));
      expect(all.status).toBe(200);
      const mine = (all.body as { program_key: string }[]).filter((p) =>
        [english.key, phil.key].includes(p.program_key),
      );
      expect(all.body.map((p: { program_key: string }) => p.program_key)).not.toContain(other.key);
      expect(mine).toEqual(
        [english, phil]
          .sort((a, b) => a.key.localeCompare(b.key))
          .map((p) => ({
            program_key: p.key,
            program_title: p.title,
            program_url: p.url,
            program_type: 'Masters',
            permissions: ['read_metadata', 'read_enrollments', 'write_enrollments', 'read_reports'],
          })),
      );

      const partial = await t.http.get('/registrar/api/v1/programs').set(jwt(programUser.auth));
      expect(partial.body).toEqual([
        {
          program_key: english.key,
          program_title: 'masters in english',
          program_url: english.url,
          program_type: 'Masters',
          permissions: ['read_metadata'],
        },
      ]);
      const writable = await t.http
        .get('/registrar/api/v1/programs')
        .query({ user_has_perm: 'write_enrollments' })
        .set(jwt(programUser.auth));
      expect(writable.body).toEqual([]);
    });

    it('filters by title and organization; unknown org or permission is 404, an unseen org []', async () => {
      const org = await createOrganization(t);
      const mine = await createProgram(t, org.id, { title: 'masters in philosophy' });
      await createProgram(t, org.id, { title: 'masters in cs' });
      const reader = await createUser(t, { organizationId: org.id });
      await grantRole(t, reader.principal, 'organization_read_metadata', orgScope(org));
      const get = (query: Record<string, string>) =>
        t.http.get('/registrar/api/v1/programs').query(query).set(jwt(reader.auth));

      const byTitle = await get({ program_title: 'PHILO' });
      expect(byTitle.body.map((p: { program_key: string }) => p.program_key)).toEqual([mine.key]);
      expect((await get({ program_title: 'invalidtitle' })).body).toEqual([]);
      expect((await get({ org: org.key })).body).toHaveLength(2);
      expect((await get({ org: 'intergalactic-univ' })).status).toBe(404);
      expect((await get({ user_has_perm: 'right' })).status).toBe(404);
      expect((await get({ org: org.key, user_has_perm: 'right' })).status).toBe(404);
      const unseen = await createOrganization(t);
      await createProgram(t, unseen.id);
      const none = await get({ org: unseen.key });
      expect(none.status).toBe(200);
      expect(none.body).toEqual([]);
    });

    it('answers a program and its courses, with and without a trailing slash, on v1 and v2', async () => {
      const org = await createOrganization(t);
      const program = await createProgram(t, org.id);
      await createProgramCourse(t, program.id, {
        courseId: 'course-v1:HUMx+English-550+Spring',
        externalCourseKey: 'ENG55-S19',
        title: 'English 550',
        url: 'https://example.com/english-550',
      });
      await createProgramCourse(t, program.id, { courseId: 'course-v1:HUMx+French-9910+Spring', title: 'French 9910' });
      const reader = await createUser(t, { organizationId: org.id });
      await grantRole(t, reader.principal, 'program_read_metadata', programScope(program));

      for (const base of ['/registrar/api/v1', '/registrar/api/v2']) {
        for (const slash of ['', '/']) {
          const detail = await t.http.get(`${base}/programs/${program.key}${slash}`).set(jwt(reader.auth));
          expect(detail.status).toBe(200);
          expect(detail.body).toEqual({
            program_key: program.key,
            program_title: program.title,
            program_url: program.url,
            program_type: 'Masters',
            permissions: ['read_metadata'],
          });
          const courses = await t.http.get(`${base}/programs/${program.key}/courses${slash}`).set(jwt(reader.auth));
          expect(courses.body).toEqual([
            {
              course_id: 'course-v1:HUMx+English-550+Spring',
              external_course_key: 'ENG55-S19',
              course_title: 'English 550',
              course_url: 'https://example.com/english-550',
            },
            {
              course_id: 'course-v1:HUMx+French-9910+Spring',
              external_course_key: null,
              course_title: 'French 9910',
              course_url: null,
            },
          ]);
        }
      }
      const list = await t.http.get('/registrar/api/v1/programs/').set(jwt(reader.auth));
      expect(list.status).toBe(200);
    });

    it('answers 404 for a program the caller may not see, exactly as for one that does not exist', async () => {
      const org = await createOrganization(t);
      const program = await createProgram(t, org.id);
      const otherOrg = await createOrganization(t);
      const stranger = await createUser(t, { organizationId: otherOrg.id });
      await grantRole(t, stranger.principal, 'organization_read_write_enrollments', orgScope(otherOrg));
      const hidden = await t.http.get(`/registrar/api/v1/programs/${program.key}`).set(jwt(stranger.auth));
      const missing = await t.http
        .get(`/registrar/api/v1/programs/masters-in-polysci-${randomUUID()}`)
        .set(jwt(stranger.auth));
      expect(hidden.status).toBe(404);
      expect(missing.status).toBe(404);
      expect(hidden.body).toEqual(missing.body);
      expect(
        (await t.http.get(`/registrar/api/v1/programs/${program.key}/courses`).set(jwt(stranger.auth))).status,
      ).toBe(404);
    });

    it('pages /registrar/api/v3/programs by 100 unless page_size says otherwise', async () => {
      const org = await createOrganization(t);
      for (let i = 0; i < 3; i++) await createProgram(t, org.id);
      const reader = await createUser(t, { organizationId: org.id });
      await grantRole(t, reader.principal, 'organization_read_metadata', orgScope(org));
      const page = await t.http
        .get('/registrar/api/v3/programs')
        .query({ org: org.key, page_size: '2' })
        .set(jwt(reader.auth));
      expect(page.status).toBe(200);
      expect(page.body.count).toBe(3);
      expect(page.body.results).toHaveLength(2);
      expect(page.body.next).toContain('page=2');
      const whole = await t.http.get('/registrar/api/v3/programs').query({ org: org.key }).set(jwt(reader.auth));
      expect(whole.body).toMatchObject({ count: 3, next: null, previous: null });
    });
  });

  describe('reports', () => {
    it('lists placed reports with signed links, filtered by min_created_date; read_reports only', async () => {
      const { org, admin } = await orgAdmin();
      const program = await createProgram(t, org.id);
      const place = (name: string, created_date: string, content = 'data') =>
        t.http.post(`/api/v1/programs/${program.id}/reports`).set(admin.auth).send({ name, created_date, content });
      const placed = await place('individual_report__2019-12-18.csv', '2019-12-18', 'student_key,grade\r\nabc,A\r\n');
      expect(placed.status).toBe(201);
      expect(placed.body).toMatchObject({
        name: 'individual_report__2019-12-18.csv',
        created_date: '2019-12-18',
        size: 26,
      });
      await place('aggregate_report__2019-12-17', '2019-12-17');
      await place('aggregate_report__2019-12-18', '2019-12-18');

      const reader = await createServiceAccount(t, org.id);
      await grantRole(t, reader.principal, 'organization_read_reports', orgScope(org));
      const all = await t.http.get(`/registrar/api/v1/programs/${program.key}/reports`).set(jwt(reader.auth));
      expect(all.status).toBe(200);
      expect(all.body.map((r: { name: string; created_date: string }) => [r.name, r.created_date])).toEqual([
        ['aggregate_report__2019-12-17', '2019-12-17'],
        ['aggregate_report__2019-12-18', '2019-12-18'],
        ['individual_report__2019-12-18.csv', '2019-12-18'],
      ]);
      const recent = await t.http
        .get(`/registrar/api/v1/programs/${program.key}/reports`)
        .query({ min_created_date: '2019-12-18' })
        .set(jwt(reader.auth));
      expect(recent.body.map((r: { name: string }) => r.name)).toEqual([
        'aggregate_report__2019-12-18',
        'individual_report__2019-12-18.csv',
      ]);
      // The link works without credentials; a tampered one does not.
      const link = new URL(recent.body[1].download_url);
      const file = await t.http.get(`${link.pathname}${link.search}`);
      expect(file.status).toBe(200);
      expect(file.text).toBe('student_key,grade\r\nabc,A\r\n');
      expect(
        (await t.http.get(`${link.pathname}?expires=${link.searchParams.get('expires')}&signature=x`)).status,
      ).toBe(403);

      const bad = await t.http
        .get(`/registrar/api/v1/programs/${program.key}/reports`)
        .query({ min_created_date: '2019-25-25' })
        .set(jwt(reader.auth));
      expect(bad.status).toBe(400);
      const enrollmentsOnly = await createServiceAccount(t, org.id);
      await grantRole(t, enrollmentsOnly.principal, 'organization_read_write_enrollments', orgScope(org));
      expect(
        (await t.http.get(`/registrar/api/v1/programs/${program.key}/reports`).set(jwt(enrollmentsOnly.auth))).status,
      ).toBe(403);
      const placeByReader = await t.http
        .post(`/api/v1/programs/${program.id}/reports`)
        .set(reader.auth)
        .send({ name: 'x', content: 'y' });
      expect(placeByReader.status).toBe(403);
    });
  });
});
