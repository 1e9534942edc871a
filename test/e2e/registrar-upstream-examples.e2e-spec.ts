/**
 * Open edX Registrar's own API test expectations (registrar/apps/api/v1/tests/test_views.py),
 * replayed through `/registrar` with its fixture: the STEM Institute (masters-in-cs, masters-in-me)
 * and the Humanities College (masters-in-philosophy, masters-in-english), their admins, ops and
 * users groups, and program-scope groups. The client sends `Authorization: JWT …` as Registrar's
 * clients do. Where an answer differs from upstream on purpose it says so (README, "Registrar
 * compatibility"): 404 instead of 403 for a program the caller may not see.
 */
import { DataSource } from 'typeorm';
import { createOrganization, createStaff, createUser } from '../factories/accounts';
import { createProgram, createProgramCourse, enroll, enrollInCourse } from '../factories/registrar';
import { jobSettings, waitFor } from '../utils/jobs-helpers';
import { createTestApp, TestApp } from '../utils/test-app';

const PUBLIC_URL = 'https://registrar.example.edu';
const pathOf = (url: string) => url.slice(PUBLIC_URL.length);
type Auth = Record<string, string>;

describe('Registrar: upstream API test expectations', () => {
  let t: TestApp;
  let db: DataSource;
  const groups: Record<string, string> = {};
  const programs: Record<string, { id: string; key: string; organizationId: string }> = {};
  const users: Record<string, Auth> = {};

  /** A user in the named groups of the fixture, with a token sent as `JWT`. */
  async function userIn(...names: string[]): Promise<Auth> {
    const user = await createUser(t);
    for (const name of names) {
      await db.query(`INSERT INTO group_memberships (group_id, principal_type, principal_id) VALUES ($1, 'user', $2)`, [
        groups[name],
        user.row.id,
      ]);
    }
    return { Authorization: `JWT ${user.token}` };
  }

  beforeAll(async () => {
    t = await createTestApp({ settings: { ...jobSettings('in-process'), PUBLIC_URL } });
    db = t.app.get(DataSource);
    const stem = await createOrganization(t, { key: 'stem-institute', name: 'STEM Institute' });
    const hum = await createOrganization(t, { key: 'humanities-college', name: 'Humanities College' });
    for (const [org, key] of [
      [stem, 'masters-in-cs'],
      [stem, 'masters-in-me'],
      [hum, 'masters-in-philosophy'],
      [hum, 'masters-in-english'],
    ] as const) {
      programs[key] = await createProgram(t, org.id, {
        key,
        title: key.replace(/-/g, ' '),
        url: `http://registrar-test-data.edx.org/${key}/`,
      });
    }
    const group = async (name: string, role: string, scope: { type: string; id: string; organizationId: string }) => {
      const [row] = await db.query(
        'INSERT INTO groups (organization_id, name, scope_type, scope_id, role) VALUES ($1, $2, $3, $4, $5) RETURNING id',
        [scope.organizationId, name, scope.type, scope.id, role],
      );
      groups[name] = row.id;
    };
    const orgScope = (o: { id: string }) => ({ type: 'organization', id: o.id, organizationId: o.id });
    const programScope = (key: string) => ({
      type: 'program',
      id: programs[key].id,
      organizationId: programs[key].organizationId,
    });
    await group('stem-admins', 'organization_read_write_enrollments', orgScope(stem));
    await group('stem-ops', 'organization_read_enrollments', orgScope(stem));
    await group('stem-users', 'organization_read_metadata', orgScope(stem));
    await group('hum-admins', 'organization_read_write_enrollments', orgScope(hum));
    await group('hum-ops', 'organization_read_enrollments', orgScope(hum));
    await group('hum-users', 'organization_read_metadata', orgScope(hum));
    await group('hum-data-ops', 'organization_read_reports', orgScope(hum));
    await group('english-program-users', 'program_read_metadata', programScope('masters-in-english'));
    await group('cs-program-admins', 'program_read_write_enrollments', programScope('masters-in-cs'));
    users.stemAdmin = await userIn('stem-admins');
    users.stemUser = await userIn('stem-users');
    users.humAdmin = await userIn('hum-admins', 'hum-data-ops');
    users.programUser = await userIn('english-program-users');
    users.csProgramAdmin = await userIn('cs-program-admins');
  });
  afterAll(() => t?.close());

  const get = (path: string, auth: Auth) => t.http.get(`/registrar/api/v1/${path}`).set(auth);
  const keys = (body: { program_key: string }[]) => body.map((p) => p.program_key).sort();
  const program = (key: string, permissions: string[]) => ({
    program_key: key,
    program_title: key.replace(/-/g, ' '),
    program_url: `http://registrar-test-data.edx.org/${key}/`,
    program_type: 'Masters',
    permissions,
  });

  describe('ProgramListViewTests', () => {
    it('test_partial_programs_200: a program-scope reader lists its one program', async () => {
      const res = await get('programs', users.programUser);
      expect(res.status).toBe(200);
      expect(res.body).toEqual([program('masters-in-english', ['read_metadata'])]);
    });

    it('test_program_title_filter, test_title_filter_empty, test_title_filter_invalid', async () => {
      const reader = await userIn('stem-users', 'hum-users');
      const all = ['masters-in-cs', 'masters-in-english', 'masters-in-me', 'masters-in-philosophy'];
      const byTitle = await get('programs?program_title=philosophy', reader);
      expect(byTitle.body).toEqual([program('masters-in-philosophy', ['read_metadata'])]);
      const empty = await get('programs?program_title=', reader);
      expect(empty.status).toBe(200);
      expect(empty.body).toEqual(all.map((k) => program(k, ['read_metadata'])));
      const invalid = await get('programs?program_title=invalidtitle', reader);
      expect(invalid.status).toBe(200);
      expect(invalid.body).toEqual([]);
    });

    const STEM = ['masters-in-cs', 'masters-in-me'];
    const HUM = ['masters-in-english', 'masters-in-philosophy'];
    it.each([
      [['stem-users'], undefined, 'stem-institute', STEM],
      [['stem-admins', 'stem-users'], undefined, 'stem-institute', STEM],
      [['stem-ops', 'hum-admins'], undefined, 'stem-institute', STEM],
      [['english-program-users'], undefined, 'humanities-college', ['masters-in-english']],
      [[], 'read_metadata', undefined, []],
      [[], 'read_enrollments', undefined, []],
      [[], 'write_enrollments', undefined, []],
      [['stem-users', 'hum-ops'], 'write_enrollments', undefined, []],
      [['stem-admins', 'hum-ops'], 'write_enrollments', undefined, STEM],
      [['stem-admins', 'hum-ops'], 'read_enrollments', undefined, [...STEM, ...HUM]],
      [['hum-admins', 'hum-users'], 'write_enrollments', undefined, HUM],
      [['hum-admins', 'hum-users'], 'read_metadata', undefined, HUM],
      [['stem-admins', 'hum-ops'], 'read_enrollments', 'humanities-college', HUM],
      [['stem-admins', 'hum-ops'], 'write_enrollments', 'stem-institute', STEM],
      [['stem-admins', 'hum-ops'], 'write_enrollments', 'humanities-college', []],
    ])('test_program_filters: groups %j, user_has_perm %s, org %s', async (names, perm, org, expected) => {
      const auth = await userIn(...names);
      const query = new URLSearchParams({ ...(org ? { org } : {}), ...(perm ? { user_has_perm: perm } : {}) });
      const res = await get(`programs?${query}`, auth);
      expect(res.status).toBe(200);
      expect(keys(res.body)).toEqual([...expected].sort());
    });

    it('test_program_filters (global read and write): staff list every program for write_enrollments', async () => {
      const staff = await createStaff(t);
      const res = await get('programs?user_has_perm=write_enrollments', { Authorization: `JWT ${staff.token}` });
      expect(keys(res.body)).toEqual(['masters-in-cs', 'masters-in-english', 'masters-in-me', 'masters-in-philosophy']);
    });

    it.each([
      ['intergalactic-univ', undefined],
      ['intergalactic-univ', 'write_enrollments'],
      [undefined, 'right'],
      ['stem-institute', 'right'],
      ['intergalactic-univ', 'right'],
    ])('test_404: org %s, user_has_perm %s', async (org, perm) => {
      const query = new URLSearchParams({ ...(org ? { org } : {}), ...(perm ? { user_has_perm: perm } : {}) });
      expect((await get(`programs?${query}`, users.stemAdmin)).status).toBe(404);
    });
  });

  describe('ProgramRetrieveViewTests', () => {
    it.each([
      ['programUser', ['read_metadata']],
      ['humAdmin', ['read_enrollments', 'read_metadata', 'read_reports', 'write_enrollments']],
    ])('test_get_program as %s', async (who, permissions) => {
      const res = await get('programs/masters-in-english', users[who]);
      expect(res.status).toBe(200);
      expect({ ...res.body, permissions: [...res.body.permissions].sort() }).toEqual(
        program('masters-in-english', permissions),
      );
    });

    it('test_get_program_unauthorized (upstream 403, here 404: the program is not revealed) and test_program_not_found', async () => {
      const hidden = await get('programs/masters-in-english', users.stemAdmin);
      const missing = await get('programs/masters-in-polysci', users.stemAdmin);
      expect(hidden.status).toBe(404);
      expect(missing.status).toBe(404);
      expect(hidden.body).toEqual(missing.body);
      expect((await get('programs/masters-in-polysci/courses', users.stemAdmin)).status).toBe(404);
    });
  });

  describe('ProgramCourseListViewTests', () => {
    it('test_get_program_with_multiple_courses and test_get_program_with_no_course_runs', async () => {
      const me = programs['masters-in-me'];
      for (const [courseId, externalCourseKey, title, n] of [
        ['0001', 'extkey1', 'Test Course 1', '1'],
        ['0002a', 'extkey2a', 'Test Course 2', '2a'],
        ['0002b', 'extkey2b', 'Test Course 2', '2b'],
      ]) {
        await createProgramCourse(t, me.id, {
          courseId,
          externalCourseKey,
          title,
          url: `https://stem-institute.edx.org/masters-in-cs/test-course-${n}`,
        });
      }
      const res = await get('programs/masters-in-me/courses', users.stemAdmin);
      expect(res.status).toBe(200);
      expect(res.body).toEqual([
        {
          course_id: '0001',
          external_course_key: 'extkey1',
          course_title: 'Test Course 1',
          course_url: 'https://stem-institute.edx.org/masters-in-cs/test-course-1',
        },
        {
          course_id: '0002a',
          external_course_key: 'extkey2a',
          course_title: 'Test Course 2',
          course_url: 'https://stem-institute.edx.org/masters-in-cs/test-course-2a',
        },
        {
          course_id: '0002b',
          external_course_key: 'extkey2b',
          course_title: 'Test Course 2',
          course_url: 'https://stem-institute.edx.org/masters-in-cs/test-course-2b',
        },
      ]);
      expect((await get('programs/masters-in-philosophy/courses', users.humAdmin)).body).toEqual([]);
    });
  });

  describe('ProgramEnrollmentPostTests / ProgramEnrollmentPatchTests', () => {
    const body = (...rows: [string, string][]) => rows.map(([student_key, status]) => ({ status, student_key }));
    const write = (method: 'post' | 'patch', key: string, auth: Auth, rows: object[]) =>
      t.http[method](`/registrar/api/v1/programs/${key}/enrollments/`).set(auth).send(rows);

    it('test_successful_program_enrollment_write, test_backend_multi_status_response, test_backend_unprocessable_response', async () => {
      const ok = await write(
        'post',
        'masters-in-cs',
        users.stemAdmin,
        body(['001', 'enrolled'], ['002', 'enrolled'], ['003', 'pending']),
      );
      expect(ok.status).toBe(200);
      expect(ok.body).toEqual({ '001': 'enrolled', '002': 'enrolled', '003': 'pending' });
      const multi = await write(
        'patch',
        'masters-in-cs',
        users.stemAdmin,
        body(['001', 'enrolled'], ['002', 'enrolled'], ['003', 'not_a_valid_value']),
      );
      expect(multi.status).toBe(207);
      expect(multi.body).toEqual({ '001': 'enrolled', '002': 'enrolled', '003': 'invalid-status' });
      const conflict = await write(
        'post',
        'masters-in-cs',
        users.stemAdmin,
        body(['001', 'enrolled'], ['002', 'enrolled'], ['003', 'pending']),
      );
      expect(conflict.status).toBe(422);
      expect(conflict.body).toEqual({ '001': 'conflict', '002': 'conflict', '003': 'conflict' });
    });

    it.each(['post', 'patch'] as const)(
      '%s: test_program_insufficient_permissions 403, test_program_unauthorized_at_organization 404 (upstream 403), test_program_not_found 404, test_write_enrollment_payload_limit 413',
      async (method) => {
        const one = body(['004', 'enrolled']);
        expect((await write(method, 'masters-in-cs', users.stemUser, one)).status).toBe(403);
        expect((await write(method, 'masters-in-cs', users.humAdmin, one)).status).toBe(404);
        expect((await write(method, 'uan-salsa-dancing-with-sharks', users.stemAdmin, one)).status).toBe(404);
        const tooMany = Array.from({ length: 26 }, () => ({ status: 'enrolled', student_key: '005' }));
        expect((await write(method, 'masters-in-cs', users.stemAdmin, tooMany)).status).toBe(413);
      },
    );
  });

  describe('ProgramCourseEnrollmentPostTests', () => {
    it('test_successful_program_course_enrollment_write by run key and by external key; test_course_not_found', async () => {
      const cs = programs['masters-in-cs'];
      for (const [courseId, externalCourseKey] of [
        ['course-v1:STEMx+CS111+F19', 'CompSci1_Fall'],
        ['course-v1:STEMx+CS222+JF19', 'CompSci2_Fall'],
        ['course-v1:STEMx+CS333+F19', 'CompSci3_Fall'],
        ['course-v1:STEMx+CS444+F19', 'CompSci4_Fall'],
      ]) {
        await createProgramCourse(t, cs.id, { courseId, externalCourseKey });
      }
      await enroll(t, cs.id, [
        ['c-001', 'enrolled'],
        ['c-002', 'enrolled'],
        ['c-003', 'enrolled'],
      ]);
      const rows = [
        { status: 'active', student_key: 'c-001', course_staff: null },
        { status: 'active', student_key: 'c-002', course_staff: null },
        { status: 'inactive', student_key: 'c-003', course_staff: null },
      ];
      const expected = { 'c-001': 'active', 'c-002': 'active', 'c-003': 'inactive' };
      const byRunKey = await t.http
        .post('/registrar/api/v1/programs/masters-in-cs/courses/course-v1:STEMx+CS333+F19/enrollments/')
        .set(users.stemAdmin)
        .send(rows);
      expect(byRunKey.status).toBe(200);
      expect(byRunKey.body).toEqual(expected);
      const byExternalKey = await t.http
        .patch('/registrar/api/v1/programs/masters-in-cs/courses/CompSci3_Fall/enrollments/')
        .set(users.csProgramAdmin)
        .send(rows);
      expect(byExternalKey.status).toBe(200);
      expect(byExternalKey.body).toEqual(expected);
      const missing = await t.http
        .post('/registrar/api/v1/programs/masters-in-cs/courses/course-v1:edX+DemoX+Demo_Course/enrollments/')
        .set(users.stemAdmin)
        .send(rows);
      expect(missing.status).toBe(404);
      const reader = await t.http
        .post('/registrar/api/v1/programs/masters-in-cs/courses/course-v1:STEMx+CS333+F19/enrollments/')
        .set(users.stemUser)
        .send(rows);
      expect(reader.status).toBe(403);
    });
  });

  /** Starts a read, follows the job to Succeeded and fetches the result file without credentials. */
  async function result(path: string, auth: Auth, fmt?: string) {
    const started = await get(`${path}${fmt ? `?fmt=${fmt}` : ''}`, auth);
    expect(started.status).toBe(202);
    const job = await waitFor(async () => {
      const res = await t.http.get(pathOf(started.body.job_url)).set(auth);
      return res.body.state === 'Succeeded' && res.body;
    });
    expect(job.result).toContain(`/job-results/${started.body.job_id}.${fmt ?? 'json'}?`);
    expect(job.text).toBeNull();
    const file = await t.http
      .get(pathOf(job.result))
      .buffer(true)
      .parse((res, done) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => done(null, text));
      });
    expect(file.status).toBe(200);
    return file.body as string;
  }

  describe('ProgramEnrollmentGetTests', () => {
    it('test_ok: the JSON result (the same values; compact) and the CSV text', async () => {
      const learner = await createUser(t);
      await enroll(t, programs['masters-in-english'].id, [
        ['abcd', 'enrolled', learner.row.id],
        ['efgh', 'pending'],
      ]);
      const enrollments = [
        { student_key: 'abcd', status: 'enrolled', account_exists: true },
        { student_key: 'efgh', status: 'pending', account_exists: false },
      ];
      expect(JSON.parse(await result('programs/masters-in-english/enrollments', users.humAdmin))).toEqual(enrollments);
      expect(JSON.parse(await result('programs/masters-in-english/enrollments', users.humAdmin, 'json'))).toEqual(
        enrollments,
      );
      expect(await result('programs/masters-in-english/enrollments', users.humAdmin, 'csv')).toBe(
        'student_key,status,account_exists\r\nabcd,enrolled,True\r\nefgh,pending,False\r\n',
      );
    });

    it('test_permission_denied (upstream 403, here 404), test_program_not_found, test_invalid_format_404', async () => {
      expect((await get('programs/masters-in-english/enrollments', users.stemAdmin)).status).toBe(404);
      expect((await get('programs/masters-in-polysci/enrollments', users.humAdmin)).status).toBe(404);
      expect((await get('programs/masters-in-english/enrollments?fmt=invalidformat', users.humAdmin)).status).toBe(404);
      expect(
        (await get('programs/masters-in-english/course_enrollments?fmt=invalidformat', users.humAdmin)).status,
      ).toBe(404);
      expect((await get('programs/masters-in-polysci/course_enrollments', users.humAdmin)).status).toBe(404);
    });
  });

  describe('ProgramCourseEnrollmentGetTests / CourseEnrollmentDownloadTest', () => {
    it('test_ok: one course by run key, and every course (external key where the course has one)', async () => {
      const phil = programs['masters-in-philosophy'];
      const course = async (courseId: string, externalCourseKey: string | null, title: string) =>
        createProgramCourse(t, phil.id, { courseId, externalCourseKey, title });
      const english = await course('HUMx+English-550+Spring', 'ENG55-S19', 'English 550');
      const spanish = await course('HUMx+Spanish-1000+Spring', 'SPAN101-S19', 'Spanish 101');
      await course('HUMx+Russian-440+Spring', 'RUS44-S19', 'Russian 440');
      const french = await course('HUMx+French-9910+Spring', null, 'French 9910');
      const learner = await createUser(t);
      const ids = await enroll(t, phil.id, [
        ['learner-01', 'enrolled', learner.row.id],
        ['learner-02', 'enrolled'],
        ['learner-03', 'enrolled'],
        ['learner-04', 'enrolled'],
      ]);
      await enrollInCourse(t, english.id, [
        [ids['learner-01'], 'active'],
        [ids['learner-02'], 'inactive'],
      ]);
      await enrollInCourse(t, spanish.id, [
        [ids['learner-01'], 'active'],
        [ids['learner-03'], 'inactive'],
      ]);
      await enrollInCourse(t, french.id, [
        [ids['learner-01'], 'active'],
        [ids['learner-04'], 'inactive'],
      ]);
      expect(
        await result(
          'programs/masters-in-philosophy/courses/HUMx+English-550+Spring/enrollments',
          users.humAdmin,
          'csv',
        ),
      ).toBe(
        'course_id,student_key,status,account_exists\r\n' +
          'ENG55-S19,learner-01,active,True\r\n' +
          'ENG55-S19,learner-02,inactive,False\r\n',
      );
      // Courses in the order of their run keys (upstream: the order of the Discovery curriculum).
      expect(await result('programs/masters-in-philosophy/course_enrollments', users.humAdmin, 'csv')).toBe(
        'course_id,student_key,status,account_exists\r\n' +
          'ENG55-S19,learner-01,active,True\r\n' +
          'ENG55-S19,learner-02,inactive,False\r\n' +
          'HUMx+French-9910+Spring,learner-01,active,True\r\n' +
          'HUMx+French-9910+Spring,learner-04,inactive,False\r\n' +
          'SPAN101-S19,learner-01,active,True\r\n' +
          'SPAN101-S19,learner-03,inactive,False\r\n',
      );
      for (const courseId of ['course-v1:STEMx+Biology-440+Fall', 'not-a-course-key:a+b+c']) {
        expect(
          (await get(`programs/masters-in-philosophy/courses/${courseId}/enrollments`, users.humAdmin)).status,
        ).toBe(404);
      }
    });
  });

  describe('ViewMethodNotSupportedTests', () => {
    it.each([
      'programs',
      'programs/masters-in-english',
      'programs/masters-in-english/enrollments',
      'programs/masters-in-english/courses',
      'programs/masters-in-english/courses/HUMx+English-550+Spring/enrollments',
      'jobs/',
    ])('DELETE %s is 405', async (path) => {
      const res = await t.http.delete(`/registrar/api/v1/${path}`).set(users.humAdmin);
      expect(res.status).toBe(405);
      expect(res.headers.allow).toBeTruthy();
    });
  });

  describe('every route with and without a trailing slash, v2 the same as v1', () => {
    it.each([
      'programs',
      'programs/masters-in-english',
      'programs/masters-in-english/courses',
      'programs/masters-in-english/reports',
      'jobs',
    ])('GET %s', async (path) => {
      const answers = [];
      for (const base of ['/registrar/api/v1', '/registrar/api/v2']) {
        for (const slash of ['', '/']) {
          const res = await t.http.get(`${base}/${path}${slash}`).set(users.humAdmin);
          answers.push({ status: res.status, body: res.body });
        }
      }
      expect(answers[0].status).toBe(200);
      for (const answer of answers) expect(answer).toEqual(answers[0]);
    });

    it.each([
      'programs/masters-in-english/enrollments',
      'programs/masters-in-english/course_enrollments',
      'programs/masters-in-english/courses/HUMx+English-550+Spring/enrollments',
      'programs/masters-in-english/courses/HUMx+English-550+Spring/grades',
    ])('GET %s: 202 on v1 and v2, with and without the slash (404 for a course not in the program)', async (path) => {
      const english = programs['masters-in-english'];
      const [{ n }] = await db.query('SELECT count(*)::int AS n FROM program_courses WHERE program_id = $1', [
        english.id,
      ]);
      if (n === 0) await createProgramCourse(t, english.id, { courseId: 'HUMx+English-550+Spring' });
      for (const base of ['/registrar/api/v1', '/registrar/api/v2']) {
        for (const slash of ['', '/']) {
          const res = await t.http.get(`${base}/${path}${slash}`).set(users.humAdmin);
          expect(res.status).toBe(202);
          expect(res.body.job_url).toBe(`${PUBLIC_URL}/registrar/api/v1/jobs/${res.body.job_id}`);
        }
      }
    });

    it('GET /registrar/api/v3/programs and /registrar/api/v3/programs/ page alike', async () => {
      const a = await t.http.get('/registrar/api/v3/programs?page_size=1').set(users.humAdmin);
      const b = await t.http.get('/registrar/api/v3/programs/?page_size=1').set(users.humAdmin);
      expect(a.status).toBe(200);
      expect(a.body).toMatchObject({
        count: 2,
        previous: null,
        results: [program('masters-in-english', expect.any(Array))],
      });
      expect(b.body.results).toEqual(a.body.results);
      expect(b.body.count).toBe(2);
    });
  });
});
