import { DataSource } from 'typeorm';
import { createOrganization, createServiceAccount, createUser } from '../factories/accounts';
import { createProgram, createProgramCourse, enroll, enrollInCourse } from '../factories/registrar';
import { grantRole, orgScope } from '../permissions/grants';
import { jobSettings, waitFor } from '../utils/jobs-helpers';
import { createTestApp, TestApp } from '../utils/test-app';

const PUBLIC_URL = 'https://registrar.example.edu';
const jwt = (auth: { Authorization: string }) => ({ Authorization: auth.Authorization.replace(/^Bearer /, 'JWT ') });
const pathOf = (url: string) => url.slice(PUBLIC_URL.length);

describe('Registrar: CSV enrollment uploads (Bull on Redis)', () => {
  let t: TestApp;
  let db: DataSource;

  beforeAll(async () => {
    t = await createTestApp({ settings: { ...jobSettings('bull'), PUBLIC_URL } });
    db = t.app.get(DataSource);
  });
  afterAll(() => t?.close());

  async function world() {
    const org = await createOrganization(t);
    const program = await createProgram(t, org.id);
    const client = await createServiceAccount(t, org.id);
    await grantRole(t, client.principal, 'organization_read_write_enrollments', orgScope(org));
    const statuses = async () =>
      Object.fromEntries(
        (
          (await db.query(
            'SELECT student_key, status FROM program_enrollments WHERE program_id = $1 ORDER BY student_key',
            [program.id],
          )) as { student_key: string; status: string }[]
        ).map((r) => [r.student_key, r.status]),
      );
    return { org, program, client, auth: jwt(client.auth), statuses };
  }

  const upload = (path: string, auth: Record<string, string>, csv: string | Buffer, field = 'file') =>
    t.http
      .post(path)
      .set(auth)
      .attach(field, Buffer.isBuffer(csv) ? csv : Buffer.from(csv, 'utf8'), 'enrollments.csv');

  /** Follows the job of a 202 to its end and reads its outcome file. */
  async function outcome(res: { status: number; body: { job_url: string } }, auth: Record<string, string>) {
    expect(res.status).toBe(202);
    const job = await waitFor(async () => {
      const r = await t.http.get(pathOf(res.body.job_url)).set(auth);
      return ['Succeeded', 'Failed'].includes(r.body.state) && r.body;
    });
    expect(job.state).toBe('Succeeded');
    const file = await t.http.get(pathOf(job.result));
    expect(file.status).toBe(200);
    return { text: job.text as string, rows: JSON.parse(file.text) as Record<string, unknown>[] };
  }

  describe('program enrollments', () => {
    it('creates or updates every row of a file with a BOM, CRLF and quoted fields; reports each row', async () => {
      const w = await world();
      await enroll(t, w.program.id, [
        ['002', 'pending'],
        ['005', 'ended'],
      ]);
      const csv =
        '\ufeffstudent_key,status\r\n' +
        '001,enrolled\r\n' +
        '"002",enrolled\r\n' +
        '"0,3",not_a_valid_value\r\n' +
        '004,enrolled\r\n' +
        '004,pending\r\n' +
        '005,enrolled\r\n' +
        '"say ""hi""",suspended\r\n';
      const res = await upload(`/registrar/api/v1/programs/${w.program.key}/enrollments/upload/`, w.auth, csv);
      expect(res.body).toEqual({ job_id: expect.any(String), job_url: expect.any(String) });
      const { text, rows } = await outcome(res, w.auth);
      expect(text).toBe('207');
      expect(rows).toEqual([
        { line: 2, student_key: '001', status: 'enrolled' },
        { line: 3, student_key: '002', status: 'enrolled' },
        { line: 4, student_key: '0,3', status: 'invalid-status' },
        { line: 5, student_key: '004', status: 'duplicated' },
        { line: 6, student_key: '004', status: 'duplicated' },
        { line: 7, student_key: '005', status: 'illegal-operation' },
        { line: 8, student_key: 'say "hi"', status: 'suspended' },
      ]);
      expect(await w.statuses()).toEqual({
        '001': 'enrolled',
        '002': 'enrolled',
        '005': 'ended',
        'say "hi"': 'suspended',
      });
      // The staged rows are gone once the job is done.
      expect(
        await db.query(
          'SELECT count(*)::int AS n FROM program_upload_rows r JOIN program_uploads u ON u.id = r.upload_id WHERE u.program_id = $1',
          [w.program.id],
        ),
      ).toEqual([{ n: 0 }]);
    });

    it('answers 200 when every row is written, 422 when none is, 204 for a header alone; extra columns are ignored', async () => {
      const w = await world();
      const path = `/registrar/api/v1/programs/${w.program.key}/enrollments/upload`;
      const all = await outcome(
        await upload(path, w.auth, 'student_key,status,blood_type\n001,enrolled,AB-\n002,pending,O\n'),
        w.auth,
      );
      expect(all.text).toBe('200');
      const none = await outcome(await upload(path, w.auth, 'status,student_key\nbogus,003\n'), w.auth);
      expect(none).toEqual({ text: '422', rows: [{ line: 2, student_key: '003', status: 'invalid-status' }] });
      const empty = await outcome(await upload(path, w.auth, 'student_key,status\r\n'), w.auth);
      expect(empty).toEqual({ text: '204', rows: [] });
      expect(await w.statuses()).toEqual({ '001': 'enrolled', '002': 'pending' });
    });
  });

  describe('course enrollments', () => {
    it('creates or updates course enrollments by run key or external key, reporting each row', async () => {
      const w = await world();
      const course = await createProgramCourse(t, w.program.id, {
        courseId: 'course-v1:STEMx+CS111+F19',
        externalCourseKey: 'CompSci1_Fall',
      });
      const ids = await enroll(t, w.program.id, [
        ['001', 'enrolled'],
        ['002', 'enrolled'],
        ['003', 'canceled'],
        ['004', 'enrolled'],
        ['005', 'enrolled'],
      ]);
      await enrollInCourse(t, course.id, [
        [ids['002'], 'active'],
        [ids['005'], 'active'],
      ]);
      const csv =
        'student_key,course_id,status\n' +
        '001,course-v1:STEMx+CS111+F19,active\n' +
        '002,CompSci1_Fall,inactive\n' +
        '003,CompSci1_Fall,active\n' +
        '999,CompSci1_Fall,active\n' +
        '001,course-v1:Nowhere+X+Y,active\n' +
        '004,course-v1:STEMx+CS111+F19,enrolled\n' +
        // The same learner and course twice, once by each key: both rows are duplicated.
        '005,CompSci1_Fall,inactive\n' +
        '005,course-v1:STEMx+CS111+F19,inactive\n';
      const res = await upload(`/registrar/api/v2/programs/${w.program.key}/course_enrollments/upload`, w.auth, csv);
      const { text, rows } = await outcome(res, w.auth);
      expect(text).toBe('207');
      expect(rows).toEqual([
        { line: 2, student_key: '001', course_id: 'course-v1:STEMx+CS111+F19', status: 'active' },
        { line: 3, student_key: '002', course_id: 'CompSci1_Fall', status: 'inactive' },
        { line: 4, student_key: '003', course_id: 'CompSci1_Fall', status: 'illegal-operation' },
        { line: 5, student_key: '999', course_id: 'CompSci1_Fall', status: 'not-in-program' },
        { line: 6, student_key: '001', course_id: 'course-v1:Nowhere+X+Y', status: 'course-not-found' },
        { line: 7, student_key: '004', course_id: 'course-v1:STEMx+CS111+F19', status: 'invalid-status' },
        { line: 8, student_key: '005', course_id: 'CompSci1_Fall', status: 'duplicated' },
        { line: 9, student_key: '005', course_id: 'course-v1:STEMx+CS111+F19', status: 'duplicated' },
      ]);
      const stored = await db.query(
        `SELECT pe.student_key, ce.status FROM course_enrollments ce JOIN program_enrollments pe ON pe.id = ce.program_enrollment_id
          WHERE ce.program_course_id = $1 ORDER BY 1`,
        [course.id],
      );
      expect(stored).toEqual([
        { student_key: '001', status: 'active' },
        { student_key: '002', status: 'inactive' },
        { student_key: '005', status: 'active' },
      ]);
    });
  });

  describe('structure errors: 400 at once, nothing written, no job', () => {
    it.each([
      ['a missing header column', 'student_key,course\n001,enrolled\n'],
      ['a short row', 'student_key,status\n001,enrolled\n002\n'],
      ['a row longer than the header', 'student_key,status\n001,enrolled,foo,bar\n'],
      ['an empty file', ''],
      ['an empty student_key', 'student_key,status\n,enrolled\n'],
      [
        'text that is not UTF-8',
        Buffer.concat([Buffer.from('student_key,status\n00'), Buffer.from([0xff, 0xfe]), Buffer.from('1,enrolled\n')]),
      ],
      ['an unterminated quote', 'student_key,status\n"001,enrolled\n'],
    ])('refuses %s', async (_what, csv) => {
      const w = await world();
      const res = await upload(`/registrar/api/v1/programs/${w.program.key}/enrollments/upload`, w.auth, csv);
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('invalid_upload');
      expect(await w.statuses()).toEqual({});
      expect(
        await db.query('SELECT count(*)::int AS n FROM program_uploads WHERE program_id = $1', [w.program.id]),
      ).toEqual([{ n: 0 }]);
      expect(await db.query('SELECT count(*)::int AS n FROM jobs WHERE owner_id = $1', [w.client.row.id])).toEqual([
        { n: 0 },
      ]);
    });

    it('refuses a request without a file part, and one that is not multipart', async () => {
      const w = await world();
      const path = `/registrar/api/v1/programs/${w.program.key}/enrollments/upload`;
      const noFile = await upload(path, w.auth, 'student_key,status\n001,enrolled\n', 'other');
      expect(noFile.status).toBe(400);
      const fieldOnly = await t.http.post(path).set(w.auth).field('note', 'no file here');
      expect(fieldOnly.status).toBe(400);
      const json = await t.http
        .post(path)
        .set(w.auth)
        .send([{ student_key: '001', status: 'enrolled' }]);
      expect(json.status).toBe(400);
      expect(json.body.error).toBe('invalid_upload');
    });

    it('answers 413 for a file over REGISTRAR_UPLOAD_MAX_BYTES', async () => {
      const w = await world();
      const big = 'student_key,status\n' + 'x'.repeat(70).concat(',enrolled\n').repeat(80_000);
      expect(big.length).toBeGreaterThan(5 * 1024 * 1024);
      const res = await upload(`/registrar/api/v1/programs/${w.program.key}/enrollments/upload`, w.auth, big);
      expect(res.status).toBe(413);
      expect(res.body).toMatchObject({ error: 'upload_too_large', details: { limit_bytes: 5242880 } });
      expect(
        await db.query('SELECT count(*)::int AS n FROM program_uploads WHERE program_id = $1', [w.program.id]),
      ).toEqual([{ n: 0 }]);
    });
  });

  describe('one upload of a program at a time', () => {
    it('answers 409 to both kinds of upload while an upload job of the program is unfinished; JSON writes go on', async () => {
      const w = await world();
      const [job] = await db.query(
        `INSERT INTO jobs (name, owner_type, owner_id, organization_id, payload) VALUES ('registrar.enrollments.upload', 'user', $1, $2, '{}') RETURNING id`,
        [w.client.row.id, w.org.id],
      );
      await db.query(`INSERT INTO program_uploads (program_id, job_id, kind) VALUES ($1, $2, 'program')`, [
        w.program.id,
        job.id,
      ]);
      const base = `/registrar/api/v1/programs/${w.program.key}`;
      const program = await upload(`${base}/enrollments/upload`, w.auth, 'student_key,status\n001,enrolled\n');
      expect(program.status).toBe(409);
      expect(program.body.error).toBe('upload_in_progress');
      expect((await upload(`${base}/course_enrollments/upload`, w.auth, 'student_key,course_id,status\n')).status).toBe(
        409,
      );
      const json = await t.http
        .post(`${base}/enrollments`)
        .set(w.auth)
        .send([{ student_key: '001', status: 'enrolled' }]);
      expect(json.status).toBe(200);

      await db.query(`UPDATE jobs SET state = 'Canceled', finished_at = now() WHERE id = $1`, [job.id]);
      const after = await upload(`${base}/enrollments/upload`, w.auth, 'student_key,status\n001,suspended\n');
      expect((await outcome(after, w.auth)).text).toBe('200');
    });

    it('answers 409 while another request is receiving an upload of the program', async () => {
      const w = await world();
      const holder = db.createQueryRunner();
      await holder.connect();
      try {
        await holder.query(
          `SELECT pg_advisory_lock(hashtextextended('campus-access registrar upload ' || $1::text, 0))`,
          [w.program.id],
        );
        const res = await upload(
          `/registrar/api/v1/programs/${w.program.key}/enrollments/upload`,
          w.auth,
          'student_key,status\n001,enrolled\n',
        );
        expect(res.status).toBe(409);
      } finally {
        await holder.release();
      }
      const res = await upload(
        `/registrar/api/v1/programs/${w.program.key}/enrollments/upload`,
        w.auth,
        'student_key,status\n001,enrolled\n',
      );
      expect(res.status).toBe(202);
    });
  });

  it('needs write_enrollments: a reader gets 403, another organization 404', async () => {
    const w = await world();
    const reader = await createUser(t, { organizationId: w.org.id });
    await grantRole(t, reader.principal, 'organization_read_enrollments', orgScope(w.org));
    const stranger = await createServiceAccount(t, (await createOrganization(t)).id);
    const path = `/registrar/api/v1/programs/${w.program.key}/enrollments/upload`;
    expect((await upload(path, jwt(reader.auth), 'student_key,status\n001,enrolled\n')).status).toBe(403);
    expect((await upload(path, jwt(stranger.auth), 'student_key,status\n001,enrolled\n')).status).toBe(404);
    expect(await w.statuses()).toEqual({});
  });
});
