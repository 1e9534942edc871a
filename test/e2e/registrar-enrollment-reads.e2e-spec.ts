import { DataSource } from 'typeorm';
import { createOrganization, createServiceAccount, createUser } from '../factories/accounts';
import { createProgram, createProgramCourse, enroll, enrollInCourse, programScope } from '../factories/registrar';
import { grantRole, orgScope } from '../permissions/grants';
import { RegistrarGrades } from '../../src/registrar/grades';
import { SignedUrls } from '../../src/registrar/signed-urls';
import { jobSettings, waitFor } from '../utils/jobs-helpers';
import { createTestApp, TestApp } from '../utils/test-app';

const PUBLIC_URL = 'https://registrar.example.edu';
const jwt = (auth: { Authorization: string }) => ({ Authorization: auth.Authorization.replace(/^Bearer /, 'JWT ') });
/** The path of an absolute URL of the application. */
const pathOf = (url: string) => url.slice(PUBLIC_URL.length);

describe('Registrar: enrollment reads and grades as jobs (Bull on Redis)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ settings: { ...jobSettings('bull'), PUBLIC_URL } });
  });
  afterAll(() => t?.close());

  async function world() {
    const org = await createOrganization(t);
    const program = await createProgram(t, org.id);
    const client = await createServiceAccount(t, org.id);
    await grantRole(t, client.principal, 'organization_read_enrollments', orgScope(org));
    return { org, program, client, auth: jwt(client.auth) };
  }

  /** Starts a read, follows its job to Succeeded and fetches the result without credentials. */
  async function readThroughJob(path: string, auth: Record<string, string>, query: Record<string, string> = {}) {
    const started = await t.http.get(path).query(query).set(auth);
    expect(started.status).toBe(202);
    expect(Object.keys(started.body).sort()).toEqual(['job_id', 'job_url']);
    expect(started.body.job_url).toBe(`${PUBLIC_URL}/registrar/api/v1/jobs/${started.body.job_id}`);
    const job = await waitFor(async () => {
      const res = await t.http.get(pathOf(started.body.job_url)).set(auth);
      return ['Succeeded', 'Failed'].includes(res.body.state) && res.body;
    });
    expect(job).toMatchObject({ job_id: started.body.job_id, state: 'Succeeded' });
    expect(Object.keys(job).sort()).toEqual(['created', 'job_id', 'name', 'result', 'state', 'text']);
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
    return { job, text: file.body as string };
  }

  it('lists program enrollments as JSON and as upstream CSV (header, True/False, CRLF, no BOM)', async () => {
    const w = await world();
    const learner = await createUser(t, { organizationId: w.org.id });
    await enroll(t, w.program.id, [
      ['abcd', 'enrolled', learner.row.id],
      ['efgh', 'pending'],
    ]);
    const path = `/registrar/api/v1/programs/${w.program.key}/enrollments`;
    const json = await readThroughJob(path, w.auth);
    expect(json.job.result).toContain(`/registrar/job-results/${json.job.job_id}.json?`);
    expect(json.job.text).toBeNull();
    expect(JSON.parse(json.text)).toEqual([
      { student_key: 'abcd', status: 'enrolled', account_exists: true },
      { student_key: 'efgh', status: 'pending', account_exists: false },
    ]);
    const csv = await readThroughJob(`${path}/`, w.auth, { fmt: 'csv' });
    expect(csv.job.result).toContain('.csv?');
    expect(csv.text).toBe('student_key,status,account_exists\r\nabcd,enrolled,True\r\nefgh,pending,False\r\n');
  });

  it('lists the course enrollments of every course, with the external key where a course has one', async () => {
    const w = await world();
    const english = await createProgramCourse(t, w.program.id, {
      courseId: 'course-v1:HUMx+English-550+Spring',
      externalCourseKey: 'ENG55-S19',
    });
    const french = await createProgramCourse(t, w.program.id, { courseId: 'course-v1:HUMx+French-9910+Spring' });
    const ids = await enroll(t, w.program.id, [
      ['learner-01', 'enrolled'],
      ['learner-02', 'enrolled'],
      ['learner-04', 'enrolled'],
    ]);
    await enrollInCourse(t, english.id, [
      [ids['learner-01'], 'active'],
      [ids['learner-02'], 'inactive'],
    ]);
    await enrollInCourse(t, french.id, [
      [ids['learner-01'], 'active'],
      [ids['learner-04'], 'inactive'],
    ]);
    const all = await readThroughJob(`/registrar/api/v1/programs/${w.program.key}/course_enrollments`, w.auth, {
      fmt: 'csv',
    });
    expect(all.text).toBe(
      'course_id,student_key,status,account_exists\r\n' +
        'ENG55-S19,learner-01,active,False\r\n' +
        'ENG55-S19,learner-02,inactive,False\r\n' +
        'course-v1:HUMx+French-9910+Spring,learner-01,active,False\r\n' +
        'course-v1:HUMx+French-9910+Spring,learner-04,inactive,False\r\n',
    );
    const one = await readThroughJob(
      `/registrar/api/v2/programs/${w.program.key}/courses/course-v1:HUMx+English-550+Spring/enrollments`,
      w.auth,
    );
    expect(JSON.parse(one.text)).toEqual([
      { course_id: 'ENG55-S19', student_key: 'learner-01', status: 'active', account_exists: false },
      { course_id: 'ENG55-S19', student_key: 'learner-02', status: 'inactive', account_exists: false },
    ]);
  });

  it('answers 404 for a bad fmt, an unknown program and a course outside the program', async () => {
    const w = await world();
    await createProgramCourse(t, w.program.id, { courseId: 'course-v1:HUMx+English-550+Spring' });
    const base = `/registrar/api/v1/programs/${w.program.key}`;
    expect((await t.http.get(`${base}/enrollments`).query({ fmt: 'invalidformat' }).set(w.auth)).status).toBe(404);
    expect((await t.http.get(`${base}/course_enrollments`).query({ fmt: 'xml' }).set(w.auth)).status).toBe(404);
    expect((await t.http.get('/registrar/api/v1/programs/masters-in-polysci/enrollments').set(w.auth)).status).toBe(
      404,
    );
    for (const course of ['course-v1:STEMx+Biology-440+Fall', 'not-a-course-key:a+b+c']) {
      expect((await t.http.get(`${base}/courses/${course}/enrollments`).set(w.auth)).status).toBe(404);
      expect((await t.http.get(`${base}/courses/${course}/grades`).set(w.auth)).status).toBe(404);
    }
  });

  it('needs read_enrollments: a metadata reader gets 403, another organization 404', async () => {
    const w = await world();
    const metadata = await createUser(t, { organizationId: w.org.id });
    await grantRole(t, metadata.principal, 'program_read_metadata', programScope(w.program));
    const outsider = await createServiceAccount(t, (await createOrganization(t)).id);
    const path = `/registrar/api/v1/programs/${w.program.key}/enrollments`;
    expect((await t.http.get(path).set(jwt(metadata.auth))).status).toBe(403);
    expect((await t.http.get(path).set(jwt(outsider.auth))).status).toBe(404);
  });

  it('reports grades from the grade source; learners without one get a row with error', async () => {
    const w = await world();
    const course = await createProgramCourse(t, w.program.id, { courseId: 'course-v1:HUMx+English-550+Spring' });
    const empty = await createProgramCourse(t, w.program.id);
    const ids = await enroll(t, w.program.id, [
      ['learner-01', 'enrolled'],
      ['learner-02', 'enrolled'],
      ['learner-03', 'enrolled'],
    ]);
    await enrollInCourse(
      t,
      course.id,
      Object.values(ids).map((id) => [id, 'active']),
    );
    const path = `/registrar/api/v1/programs/${w.program.key}/courses/${course.courseId}/grades`;

    // No grade source knows these learners (LTI has no results for the course): every learner has the error, and the job's text is 422.
    const none = await readThroughJob(path, w.auth, { fmt: 'csv' });
    expect(none.job.text).toBe('422');
    expect(none.text).toBe(
      'student_key,letter_grade,percent,passed,error\r\n' +
        'learner-01,,,,no grade recorded for this learner\r\n' +
        'learner-02,,,,no grade recorded for this learner\r\n' +
        'learner-03,,,,no grade recorded for this learner\r\n',
    );

    t.app.get(RegistrarGrades).use({
      gradesFor: async (c, learners) => {
        expect(c).toEqual({
          organizationId: w.program.organizationId,
          programId: w.program.id,
          programCourseId: course.id,
          courseId: course.courseId,
        });
        const known: Record<string, { letterGrade: string; percent: number; passed: boolean }> = {
          'learner-01': { letterGrade: 'A', percent: 0.95, passed: true },
          'learner-02': { letterGrade: 'F', percent: 0.4, passed: false },
        };
        return new Map(learners.filter((l) => known[l.studentKey]).map((l) => [l.studentKey, known[l.studentKey]]));
      },
    });
    const some = await readThroughJob(path, w.auth, { fmt: 'csv' });
    expect(some.job.text).toBe('207');
    expect(some.text).toBe(
      'student_key,letter_grade,percent,passed,error\r\n' +
        'learner-01,A,0.95,True,\r\n' +
        'learner-02,F,0.4,False,\r\n' +
        'learner-03,,,,no grade recorded for this learner\r\n',
    );
    const json = await readThroughJob(path, w.auth);
    expect(JSON.parse(json.text)[0]).toEqual({
      student_key: 'learner-01',
      letter_grade: 'A',
      percent: 0.95,
      passed: true,
      error: null,
    });
    const nobody = await readThroughJob(
      `/registrar/api/v1/programs/${w.program.key}/courses/${empty.courseId}/grades`,
      w.auth,
    );
    expect(nobody.job.text).toBe('204');
    expect(JSON.parse(nobody.text)).toEqual([]);
  });

  it('writes keys with quotes, backslashes, control characters and non-ASCII letters as valid JSON, in key order', async () => {
    const w = await world();
    const keys = ['say "hi"', 'back\\slash', 'tab\there', 'é-ü-日本', 'line\nbreak'];
    await enroll(
      t,
      w.program.id,
      keys.map((k) => [k, 'enrolled']),
    );
    const json = await readThroughJob(`/registrar/api/v1/programs/${w.program.key}/enrollments`, w.auth);
    const rows = JSON.parse(json.text) as { student_key: string }[];
    expect(rows.map((r) => r.student_key).sort()).toEqual([...keys].sort());
    expect(rows.map((r) => Object.keys(r))).toEqual(keys.map(() => ['student_key', 'status', 'account_exists']));
  });

  it('neutralizes spreadsheet formulas in CSV cells', async () => {
    const w = await world();
    await enroll(t, w.program.id, [
      ['=HYPERLINK("http://x")', 'enrolled'],
      ['@SUM(A1)', 'pending'],
    ]);
    const csv = await readThroughJob(`/registrar/api/v1/programs/${w.program.key}/enrollments`, w.auth, { fmt: 'csv' });
    expect(csv.text).toBe(
      'student_key,status,account_exists\r\n' +
        `"'=HYPERLINK(""http://x"")",enrolled,False\r\n` +
        `'@SUM(A1),pending,False\r\n`,
    );
  });

  describe('jobs', () => {
    async function insertJob(owner: { type: string; id: string }, state: string, error: string | null = null) {
      const [row] = await t.app
        .get(DataSource)
        .query(
          `INSERT INTO jobs (name, owner_type, owner_id, payload, state, error) VALUES ('users.export', $1, $2, '{}', $3, $4) RETURNING id, created_at`,
          [owner.type, owner.id, state, error],
        );
      return row as { id: string; created_at: Date };
    }

    it("lists only the caller's jobs still processing, as upstream", async () => {
      const user = await createUser(t);
      const other = await createUser(t);
      const pending = await insertJob(user.principal, 'Pending');
      const running = await insertJob(user.principal, 'In Progress');
      const retrying = await insertJob(user.principal, 'Retrying');
      await insertJob(user.principal, 'Succeeded');
      await insertJob(user.principal, 'Failed', 'boom');
      await insertJob(user.principal, 'Canceled');
      await insertJob(other.principal, 'Pending');
      const res = await t.http.get('/registrar/api/v1/jobs/').set(jwt(user.auth));
      expect(res.status).toBe(200);
      expect(res.body).toHaveLength(3);
      expect(new Set(res.body.map((j: { job_id: string }) => j.job_id))).toEqual(
        new Set([pending.id, running.id, retrying.id]),
      );
      expect(res.body.find((j: { job_id: string }) => j.job_id === pending.id)).toEqual({
        job_id: pending.id,
        name: 'users.export',
        created: new Date(pending.created_at).toISOString(),
        state: 'Pending',
        result: null,
        text: null,
      });
      expect((await t.http.get('/registrar/api/v1/jobs').set(jwt((await createUser(t)).auth))).body).toEqual([]);
    });

    it("answers 404 for another principal's job and for a malformed id; a failed job carries its error as text", async () => {
      const user = await createUser(t);
      const other = await createUser(t);
      const failed = await insertJob(user.principal, 'Failed', 'everything is broken');
      const mine = await t.http.get(`/registrar/api/v1/jobs/${failed.id}`).set(jwt(user.auth));
      expect(mine.body).toMatchObject({ state: 'Failed', result: null, text: 'everything is broken' });
      expect((await t.http.get(`/registrar/api/v1/jobs/${failed.id}`).set(jwt(other.auth))).status).toBe(404);
      expect((await t.http.get('/registrar/api/v1/jobs/not-a-uuid').set(jwt(user.auth))).status).toBe(404);
    });

    it('refuses a tampered or expired result URL, and one whose job owner lost the right (403)', async () => {
      const w = await world();
      await enroll(t, w.program.id, [['abcd', 'enrolled']]);
      const reader = await createUser(t, { organizationId: w.org.id });
      const group = await grantRole(t, reader.principal, 'program_read_enrollments', programScope(w.program));
      const { job } = await readThroughJob(`/registrar/api/v1/programs/${w.program.key}/enrollments`, jwt(reader.auth));
      const url = new URL(job.result);
      const tampered = `${url.pathname}?expires=${url.searchParams.get('expires')}&signature=${'A'.repeat(43)}`;
      expect((await t.http.get(tampered)).status).toBe(403);
      const later = `${url.pathname}?expires=${Number(url.searchParams.get('expires')) + 10}&signature=${url.searchParams.get('signature')}`;
      expect((await t.http.get(later)).status).toBe(403);
      const expired = new URL(t.app.get(SignedUrls).sign(url.pathname, Date.now() - 2 * 3600_000));
      expect((await t.http.get(`${expired.pathname}${expired.search}`)).status).toBe(403);
      expect((await t.http.get(`${url.pathname}${url.search}`)).status).toBe(200);

      await t.app.get(DataSource).query('DELETE FROM group_memberships WHERE group_id = $1', [group]);
      expect((await t.http.get(`${url.pathname}${url.search}`)).status).toBe(403);
    });
  });
});
