import { DataSource, Logger, QueryRunner } from 'typeorm';
import { createOrganization, createServiceAccount, createUser } from '../factories/accounts';
import { createProgram, createProgramCourse, enroll, enrollInCourse, programScope } from '../factories/registrar';
import { grantRole, orgScope } from '../permissions/grants';
import { createTestApp, TestApp } from '../utils/test-app';

const jwt = (auth: { Authorization: string }) => ({ Authorization: auth.Authorization.replace(/^Bearer /, 'JWT ') });

/** Records the statements of every transaction the app's data source runs. */
class TransactionLog implements Logger {
  readonly transactions: string[][] = [];
  private readonly open = new Map<QueryRunner, string[]>();

  logQuery(query: string, _parameters?: unknown[], runner?: QueryRunner): void {
    if (!runner) return;
    if (query === 'START TRANSACTION') this.open.set(runner, []);
    const statements = this.open.get(runner);
    if (!statements) return;
    if (query === 'COMMIT' || query === 'ROLLBACK') {
      this.transactions.push(statements);
      this.open.delete(runner);
    } else statements.push(query);
  }
  logQueryError(): void {}
  logQuerySlow(): void {}
  logSchemaBuild(): void {}
  logMigration(): void {}
  log(): void {}
}

describe('Registrar: enrollment writes', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t?.close());

  /** A program of a new organization with a course, and a client holding read_write_enrollments there. */
  async function world() {
    const org = await createOrganization(t);
    const program = await createProgram(t, org.id);
    const course = await createProgramCourse(t, program.id, {
      courseId: 'course-v1:STEMx+CS333+F19',
      externalCourseKey: 'CompSci3_Fall',
    });
    const client = await createServiceAccount(t, org.id);
    await grantRole(t, client.principal, 'organization_read_write_enrollments', orgScope(org));
    const statuses = async () =>
      Object.fromEntries(
        (
          (await t.app
            .get(DataSource)
            .query('SELECT student_key, status FROM program_enrollments WHERE program_id = $1 ORDER BY student_key', [
              program.id,
            ])) as { student_key: string; status: string }[]
        ).map((r) => [r.student_key, r.status]),
      );
    return { org, program, course, client, auth: jwt(client.auth), statuses };
  }

  const rows = (...pairs: [string, string][]) => pairs.map(([student_key, status]) => ({ student_key, status }));

  describe('program enrollments', () => {
    it('creates every row: 200 with each status, as upstream', async () => {
      const w = await world();
      const res = await t.http
        .post(`/registrar/api/v1/programs/${w.program.key}/enrollments/`)
        .set(w.auth)
        .send(rows(['001', 'enrolled'], ['002', 'enrolled'], ['003', 'pending']));
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ '001': 'enrolled', '002': 'enrolled', '003': 'pending' });
      expect(await w.statuses()).toEqual({ '001': 'enrolled', '002': 'enrolled', '003': 'pending' });
    });

    it('writes the valid rows and reports the others: 207 with invalid-status and duplicated', async () => {
      const w = await world();
      const res = await t.http
        .post(`/registrar/api/v1/programs/${w.program.key}/enrollments`)
        .set(w.auth)
        .send(
          rows(
            ['001', 'enrolled'],
            ['002', 'enrolled'],
            ['003', 'not_a_valid_value'],
            ['004', 'pending'],
            ['004', 'enrolled'],
          ),
        );
      expect(res.status).toBe(207);
      expect(res.body).toEqual({ '001': 'enrolled', '002': 'enrolled', '003': 'invalid-status', '004': 'duplicated' });
      expect(await w.statuses()).toEqual({ '001': 'enrolled', '002': 'enrolled' });
    });

    it('answers 422 conflict for a POST of existing enrollments, and writes nothing', async () => {
      const w = await world();
      await enroll(t, w.program.id, [
        ['001', 'enrolled'],
        ['002', 'pending'],
      ]);
      const res = await t.http
        .post(`/registrar/api/v1/programs/${w.program.key}/enrollments`)
        .set(w.auth)
        .send(rows(['001', 'suspended'], ['002', 'enrolled']));
      expect(res.status).toBe(422);
      expect(res.body).toEqual({ '001': 'conflict', '002': 'conflict' });
      expect(await w.statuses()).toEqual({ '001': 'enrolled', '002': 'pending' });
    });

    it('PATCH changes existing enrollments: not-found for missing ones, illegal-operation out of ended', async () => {
      const w = await world();
      await enroll(t, w.program.id, [
        ['001', 'pending'],
        ['002', 'ended'],
      ]);
      const res = await t.http
        .patch(`/registrar/api/v2/programs/${w.program.key}/enrollments`)
        .set(w.auth)
        .send(rows(['001', 'enrolled'], ['002', 'enrolled'], ['003', 'enrolled']));
      expect(res.status).toBe(207);
      expect(res.body).toEqual({ '001': 'enrolled', '002': 'illegal-operation', '003': 'not-found' });
      expect(await w.statuses()).toEqual({ '001': 'enrolled', '002': 'ended' });
    });

    it('answers 413 over REGISTRAR_ENROLLMENT_WRITE_MAX_ROWS (25) and writes nothing', async () => {
      const w = await world();
      const body = Array.from({ length: 26 }, (_, i) => ({ student_key: `s${i}`, status: 'enrolled' }));
      const res = await t.http.post(`/registrar/api/v1/programs/${w.program.key}/enrollments`).set(w.auth).send(body);
      expect(res.status).toBe(413);
      expect(res.body.error).toBe('too_many_enrollments');
      expect(await w.statuses()).toEqual({});
    });

    it.each([
      [{ 'this is a': 'dict' }, 'expected request body type: List'],
      [['this enrollment is a string'], 'expected items in request to be of type Dict'],
      [[null], 'expected items in request to be of type Dict'],
      [[{ 'this enrollment': 'has no student key' }], 'expected request dicts to have string value for "student_key"'],
      [[{ student_key: null }], 'expected request dicts to have string value for "student_key"'],
      [[{ student_key: 'bob-has-no-status' }], 'expected request dicts to have string value for "status"'],
      [
        [{ student_key: 'bobs-status-is-not-a-string', status: 1 }],
        'expected request dicts to have string value for "status"',
      ],
      [
        [{ student_key: 'x'.repeat(256), status: 'enrolled' }],
        'expected request dicts to have string value for "student_key"',
      ],
    ])('answers 400 for the malformed body %j', async (body, message) => {
      const w = await world();
      const res = await t.http.post(`/registrar/api/v1/programs/${w.program.key}/enrollments`).set(w.auth).send(body);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ error: 'invalid_enrollments', message });
    });

    it('writes 3 or 25 rows in one transaction of the same few statements', async () => {
      const w = await world();
      const ds = t.app.get(DataSource);
      const log = new TransactionLog();
      const original = ds.logger;
      Object.assign(ds, { logger: log });
      try {
        const send = async (n: number, prefix: string) => {
          const body = Array.from({ length: n }, (_, i) => ({ student_key: `${prefix}${i}`, status: 'enrolled' }));
          const before = log.transactions.length;
          const res = await t.http
            .post(`/registrar/api/v1/programs/${w.program.key}/enrollments`)
            .set(w.auth)
            .send(body);
          expect(res.status).toBe(200);
          const mine = log.transactions.slice(before).filter((tx) => tx.some((q) => q.includes('program_enrollments')));
          expect(mine).toHaveLength(1);
          return mine[0];
        };
        const three = await send(3, 'a');
        const twentyFive = await send(25, 'b');
        expect(twentyFive.length).toBe(three.length);
        expect(three.length).toBeLessThanOrEqual(4);
      } finally {
        Object.assign(ds, { logger: original });
      }
    });
  });

  describe('course enrollments', () => {
    it('creates course enrollments by run key or external key, reporting learners outside the program', async () => {
      const w = await world();
      await enroll(t, w.program.id, [
        ['001', 'enrolled'],
        ['002', 'enrolled'],
        ['003', 'enrolled'],
      ]);
      for (const courseId of ['course-v1:STEMx+CS333+F19', 'CompSci3_Fall']) {
        const res = await t.http
          .patch(`/registrar/api/v1/programs/${w.program.key}/courses/${courseId}/enrollments`)
          .set(w.auth)
          .send(rows(['001', 'active']));
        expect(res.status).toBe(422);
        expect(res.body).toEqual({ '001': 'not-found' });
      }
      const res = await t.http
        .post(`/registrar/api/v1/programs/${w.program.key}/courses/CompSci3_Fall/enrollments/`)
        .set(w.auth)
        .send([
          { student_key: '001', status: 'active', course_staff: true },
          { student_key: '002', status: 'active' },
          { student_key: '003', status: 'inactive', course_staff: null },
          { student_key: '999', status: 'active' },
        ]);
      expect(res.status).toBe(207);
      expect(res.body).toEqual({ '001': 'active', '002': 'active', '003': 'inactive', '999': 'not-in-program' });
      const stored = await t.app.get(DataSource).query(
        `SELECT pe.student_key, ce.status, ce.course_staff FROM course_enrollments ce
             JOIN program_enrollments pe ON pe.id = ce.program_enrollment_id WHERE ce.program_course_id = $1 ORDER BY 1`,
        [w.course.id],
      );
      expect(stored).toEqual([
        { student_key: '001', status: 'active', course_staff: true },
        { student_key: '002', status: 'active', course_staff: false },
        { student_key: '003', status: 'inactive', course_staff: false },
      ]);
    });

    it('reports conflict, duplicated, invalid-status, not-found and illegal-operation', async () => {
      const w = await world();
      const ids = await enroll(t, w.program.id, [
        ['001', 'enrolled'],
        ['002', 'canceled'],
        ['003', 'enrolled'],
      ]);
      await enrollInCourse(t, w.course.id, [[ids['001'], 'active']]);
      const base = `/registrar/api/v1/programs/${w.program.key}/courses/${w.course.courseId}/enrollments`;
      const post = await t.http
        .post(base)
        .set(w.auth)
        .send(rows(['001', 'active'], ['002', 'active'], ['003', 'enrolled'], ['004', 'active'], ['004', 'inactive']));
      expect(post.status).toBe(422);
      expect(post.body).toEqual({
        '001': 'conflict',
        '002': 'illegal-operation',
        '003': 'invalid-status',
        '004': 'duplicated',
      });
      const patch = await t.http
        .patch(base)
        .set(w.auth)
        .send(rows(['001', 'inactive'], ['003', 'inactive']));
      expect(patch.status).toBe(207);
      expect(patch.body).toEqual({ '001': 'inactive', '003': 'not-found' });
    });

    it('answers 404 for a course outside the program and 400 for a course_staff that is not a boolean', async () => {
      const w = await world();
      const other = await createProgramCourse(t, (await createProgram(t, w.org.id)).id);
      const outside = await t.http
        .post(`/registrar/api/v1/programs/${w.program.key}/courses/${other.courseId}/enrollments`)
        .set(w.auth)
        .send(rows(['001', 'active']));
      expect(outside.status).toBe(404);
      const bad = await t.http
        .post(`/registrar/api/v1/programs/${w.program.key}/courses/${w.course.courseId}/enrollments`)
        .set(w.auth)
        .send([{ student_key: '001', status: 'active', course_staff: 'course_staff_is_not_bool' }]);
      expect(bad.status).toBe(400);
    });
  });

  describe('who may write', () => {
    it('lets a program-scope read_write role write its program only; readers get 403, strangers 404', async () => {
      const w = await world();
      const other = await createProgram(t, w.org.id);
      const writer = await createUser(t, { organizationId: w.org.id });
      await grantRole(t, writer.principal, 'program_read_write_enrollments', programScope(w.program));
      const reader = await createUser(t, { organizationId: w.org.id });
      await grantRole(t, reader.principal, 'organization_read_enrollments', orgScope(w.org));
      const stranger = await createServiceAccount(t, (await createOrganization(t)).id);
      const body = rows(['001', 'enrolled']);
      const post = (key: string, auth: { Authorization: string }) =>
        t.http.post(`/registrar/api/v1/programs/${key}/enrollments`).set(jwt(auth)).send(body);

      expect((await post(w.program.key, writer.auth)).status).toBe(200);
      expect((await post(other.key, writer.auth)).status).toBe(404);
      const readOnly = await post(w.program.key, reader.auth);
      expect(readOnly.status).toBe(403);
      expect(readOnly.body.error).toBe('forbidden');
      expect((await post(w.program.key, stranger.auth)).status).toBe(404);
      expect((await post('uan-salsa-dancing-with-sharks', w.client.auth)).status).toBe(404);
    });
  });
});
