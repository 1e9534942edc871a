import { DataSource } from 'typeorm';
import { createOrganization, createStaff, createUser, unique } from '../factories/accounts';
import { createProgram, programScope } from '../factories/registrar';
import { grantRole, orgScope } from '../permissions/grants';
import { createTestApp, TestApp } from '../utils/test-app';

describe('Programs import (native admin API)', () => {
  let t: TestApp;
  let db: DataSource;

  beforeAll(async () => {
    t = await createTestApp();
    db = t.app.get(DataSource);
  });
  afterAll(() => t?.close());

  async function orgAdmin() {
    const org = await createOrganization(t);
    const admin = await createUser(t, { organizationId: org.id });
    await grantRole(t, admin.principal, 'organization_admin', orgScope(org));
    const programs = async () =>
      (await db.query(
        'SELECT key, uuid, title, type, url, status FROM programs WHERE organization_id = $1 ORDER BY key',
        [org.id],
      )) as { key: string; uuid: string; title: string; type: string; url: string | null; status: string }[];
    return { org, admin, programs };
  }

  const importJson = (orgId: string, auth: { Authorization: string }, body: unknown) =>
    t.http
      .post('/api/v1/programs/import')
      .query({ organization: orgId })
      .set(auth)
      .send(body as object);
  const importCsv = (orgId: string, auth: { Authorization: string }, csv: string | Buffer, field = 'file') =>
    t.http
      .post('/api/v1/programs/import/')
      .query({ organization: orgId })
      .set(auth)
      .attach(field, Buffer.isBuffer(csv) ? csv : Buffer.from(csv, 'utf8'), 'programs.csv');

  describe('JSON', () => {
    it('creates, updates and leaves alone programs by key, reporting each row; audited', async () => {
      const { org, admin, programs } = await orgAdmin();
      const english = unique('masters-in-english');
      const phil = unique('masters-in-philosophy');
      const first = await importJson(org.id, admin.auth, [
        { key: english, title: 'Master of Arts in English', url: 'https://example.edu/english' },
        { key: phil, title: 'Philosophy', type: 'MicroMasters', status: 'unpublished' },
      ]);
      expect(first.status).toBe(200);
      expect(first.body).toEqual({
        created: 2,
        updated: 0,
        unchanged: 0,
        failed: 0,
        results: [
          { row: 1, key: english, result: 'created', id: expect.any(String) },
          { row: 2, key: phil, result: 'created', id: expect.any(String) },
        ],
      });
      const [createdEnglish, createdPhil] = await programs();
      expect(createdEnglish).toMatchObject({
        key: english,
        title: 'Master of Arts in English',
        type: 'Masters',
        url: 'https://example.edu/english',
        status: 'active',
      });
      expect(createdPhil).toMatchObject({ key: phil, type: 'MicroMasters', status: 'unpublished', url: null });

      const second = await importJson(org.id, admin.auth, [
        { key: english, title: 'Master of Arts in English', url: 'https://example.edu/english' },
        { key: phil, title: 'Master of Philosophy', status: 'active', uuid: createdPhil.uuid.toUpperCase() },
      ]);
      expect(second.status).toBe(200);
      expect(second.body).toMatchObject({ created: 0, updated: 1, unchanged: 1, failed: 0 });
      expect(second.body.results.map((r: { result: string }) => r.result)).toEqual(['unchanged', 'updated']);
      expect(second.body.results[1].id).toBe(first.body.results[1].id);
      expect((await programs())[1]).toEqual({ ...createdPhil, title: 'Master of Philosophy', status: 'active' });

      const audit = await db.query(
        `SELECT action, data->>'source' AS source FROM audit_events WHERE organization_id = $1 AND action LIKE 'program.%' ORDER BY occurred_at, action`,
        [org.id],
      );
      expect(audit).toEqual([
        { action: 'program.created', source: 'import' },
        { action: 'program.created', source: 'import' },
        { action: 'program.updated', source: 'import' },
      ]);
    });

    it('writes the good rows and reports every bad one with its code: 207, then 422 when none is good', async () => {
      const { org, admin, programs } = await orgAdmin();
      const good = unique('good');
      const twice = unique('twice');
      const res = await importJson(org.id, admin.auth, [
        { key: good, title: 'Good' },
        { key: 'has/slash', title: 'x' },
        { key: 42, title: 'x' },
        { key: unique('k'), title: '   ' },
        { key: unique('k'), title: 'x', status: 'open' },
        { key: unique('k'), title: 'x', url: 'javascript:alert(1)' },
        { key: unique('k'), title: 'x', uuid: 'not-a-uuid' },
        { key: unique('k'), title: 'x', type: '' },
        { key: twice, title: 'first' },
        { key: twice, title: 'second' },
      ]);
      expect(res.status).toBe(207);
      expect(res.body.results.map((r: { key: unknown; result: string }) => r.result)).toEqual([
        'created',
        'invalid-key',
        'invalid-key',
        'invalid-title',
        'invalid-status',
        'invalid-url',
        'invalid-uuid',
        'invalid-type',
        'duplicated',
        'duplicated',
      ]);
      expect(res.body.results[2].key).toBeNull();
      expect(res.body).toMatchObject({ created: 1, failed: 9 });
      expect((await programs()).map((p) => p.key)).toEqual([good]);

      const none = await importJson(org.id, admin.auth, [{ key: unique('k'), title: 'x', status: 'open' }]);
      expect(none.status).toBe(422);
      expect(none.body).toMatchObject({ created: 0, updated: 0, unchanged: 0, failed: 1 });
      expect(await programs()).toHaveLength(1);
    });

    it("answers a bare conflict for another organization's key or uuid, and changes nothing there", async () => {
      const { org, admin, programs } = await orgAdmin();
      const other = await createOrganization(t);
      const theirs = await createProgram(t, other.id, { title: 'Secret program' });
      const res = await importJson(org.id, admin.auth, [
        { key: theirs.key, title: 'Taken over' },
        { key: unique('mine'), title: 'Mine', uuid: theirs.uuid },
      ]);
      expect(res.status).toBe(422);
      expect(res.body).toEqual({
        created: 0,
        updated: 0,
        unchanged: 0,
        failed: 2,
        results: [
          { row: 1, key: theirs.key, result: 'conflict' },
          { row: 2, key: expect.any(String), result: 'conflict' },
        ],
      });
      const text = JSON.stringify(res.body);
      for (const secret of [theirs.id, other.id, other.key, 'Secret program']) expect(text).not.toContain(secret);
      expect(await programs()).toEqual([]);
      const [kept] = await db.query('SELECT organization_id, title FROM programs WHERE id = $1', [theirs.id]);
      expect(kept).toEqual({ organization_id: other.id, title: 'Secret program' });

      // Staff see every organization, and still get the same bare conflict: an import never moves a program.
      const staff = await createStaff(t);
      const byStaff = await importJson(org.id, staff.auth, [{ key: theirs.key, title: 'Taken over' }]);
      expect(byStaff.body.results).toEqual([{ row: 1, key: theirs.key, result: 'conflict' }]);

      // The uuid of one's own program under another key is a conflict too.
      const own = await createProgram(t, org.id);
      const mismatch = await importJson(org.id, admin.auth, [{ key: own.key, title: 'x', uuid: theirs.uuid }]);
      expect(mismatch.body.results[0].result).toBe('conflict');
    });

    it.each([
      ['an object instead of an array', { key: 'k', title: 'x' }, 'invalid_import'],
      ['an item that is not an object', [{ key: 'ok-1', title: 'x' }, 'k'], 'invalid_import'],
      ['an item with a field an import cannot set', [{ key: 'ok-2', title: 'x', organization: 'o' }], 'invalid_import'],
    ])('refuses %s with 400 and writes nothing', async (_what, body, error) => {
      const { org, admin, programs } = await orgAdmin();
      const res = await importJson(org.id, admin.auth, body);
      expect(res.status).toBe(400);
      expect(res.body.error).toBe(error);
      expect(await programs()).toEqual([]);
    });

    it('answers 413 over 1000 programs and writes nothing', async () => {
      const { org, admin, programs } = await orgAdmin();
      const body = Array.from({ length: 1001 }, (_, i) => ({ key: `p-${i}-${unique('k')}`, title: 'x' }));
      const res = await importJson(org.id, admin.auth, body);
      expect(res.status).toBe(413);
      expect(res.body).toMatchObject({ error: 'import_too_large', details: { limit: 1000, rows: 1001 } });
      expect(await programs()).toEqual([]);
    });
  });

  describe('CSV', () => {
    it('reads a file with a BOM, CRLF line ends and quoted fields; empty optional cells change nothing', async () => {
      const { org, admin, programs } = await orgAdmin();
      const existing = await createProgram(t, org.id, { title: 'Old title', type: 'Bachelors', status: 'active' });
      const fresh = unique('fresh');
      const csv =
        '\ufeffkey,title,type,url,status\r\n' +
        `${fresh},"Arts, Letters and ""Humanities""",,https://example.edu/arts,unpublished\r\n` +
        `"${existing.key}",New title,,,retired\r\n`;
      const res = await importCsv(org.id, admin.auth, csv);
      expect(res.status).toBe(200);
      expect(res.body.results).toEqual([
        { row: 1, line: 2, key: fresh, result: 'created', id: expect.any(String) },
        { row: 2, line: 3, key: existing.key, result: 'updated', id: existing.id },
      ]);
      const byKey = Object.fromEntries((await programs()).map((p) => [p.key, p]));
      expect(byKey[fresh]).toMatchObject({
        title: 'Arts, Letters and "Humanities"',
        type: 'Masters',
        url: 'https://example.edu/arts',
        status: 'unpublished',
      });
      expect(byKey[existing.key]).toMatchObject({
        title: 'New title',
        type: 'Bachelors',
        url: existing.url,
        status: 'retired',
      });
    });

    it('reports bad rows and duplicate keys by line', async () => {
      const { org, admin, programs } = await orgAdmin();
      const a = unique('a');
      const csv = `title,key,status\nFirst,${a},active\nBad,${unique('b')},closed\nAgain,${a},retired\n`;
      const res = await importCsv(org.id, admin.auth, csv);
      expect(res.status).toBe(422);
      expect(res.body.results).toEqual([
        { row: 1, line: 2, key: a, result: 'duplicated' },
        { row: 2, line: 3, key: expect.any(String), result: 'invalid-status' },
        { row: 3, line: 4, key: a, result: 'duplicated' },
      ]);
      expect(await programs()).toEqual([]);
    });

    it.each([
      ['a missing title column', 'key,type\nk1,Masters\n'],
      ['an unknown column (the organization is the query parameter)', 'key,title,organization\nk1,T,org\n'],
      ['a column named twice', 'key,title,title\nk1,T,T\n'],
      ['a short row after good ones', 'key,title\nk1,One\nk2\n'],
      ['an empty file', ''],
      [
        'text that is not UTF-8',
        Buffer.concat([Buffer.from('key,title\nk1,Caf'), Buffer.from([0xe9]), Buffer.from('\n')]),
      ],
      ['an unterminated quote', 'key,title\nk1,"One\n'],
    ])('refuses %s with 400 invalid_import and writes nothing', async (_what, csv) => {
      const { org, admin, programs } = await orgAdmin();
      const res = await importCsv(org.id, admin.auth, csv);
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('invalid_import');
      expect(await programs()).toEqual([]);
    });

    it('refuses a request without a file part (400), another media type (415), and a file over the limit (413)', async () => {
      const { org, admin, programs } = await orgAdmin();
      expect((await importCsv(org.id, admin.auth, 'key,title\nk1,T\n', 'other')).status).toBe(400);
      const text = await t.http
        .post('/api/v1/programs/import')
        .query({ organization: org.id })
        .set(admin.auth)
        .set('Content-Type', 'text/plain')
        .send('key,title\nk1,T\n');
      expect(text.status).toBe(415);
      expect(text.body.error).toBe('unsupported_media_type');
      const rows = 'key,title\n' + Array.from({ length: 1001 }, (_, i) => `k-${i},T\n`).join('');
      const many = await importCsv(org.id, admin.auth, rows);
      expect(many.status).toBe(413);
      expect(many.body.error).toBe('import_too_large');
      const big = 'key,title\n' + `k1,${'x'.repeat(1100)}\n`.repeat(1000);
      expect(big.length).toBeGreaterThan(1024 * 1024);
      const huge = await importCsv(org.id, admin.auth, big);
      expect(huge.status).toBe(413);
      expect(huge.body).toMatchObject({ error: 'import_too_large', details: { limit_bytes: 1048576 } });
      expect(await programs()).toEqual([]);
    });
  });

  describe('who may import', () => {
    it('organization admins and staff; program roles 403, other organizations 404, a malformed id 400', async () => {
      const { org, admin } = await orgAdmin();
      const program = await createProgram(t, org.id);
      const body = [{ key: unique('k'), title: 'x' }];
      const reader = await createUser(t, { organizationId: org.id });
      await grantRole(t, reader.principal, 'program_read_write_enrollments', programScope(program));
      const outsider = (await orgAdmin()).admin;
      const staff = await createStaff(t);

      expect((await importJson(org.id, reader.auth, body)).status).toBe(403);
      expect((await importJson(org.id, outsider.auth, body)).status).toBe(404);
      expect((await importJson('00000000-0000-4000-8000-000000000000', admin.auth, body)).status).toBe(404);
      expect((await importJson('not-a-uuid', admin.auth, body)).status).toBe(400);
      expect((await t.http.post('/api/v1/programs/import').query({ organization: org.id }).send(body)).status).toBe(
        401,
      );
      expect((await importJson(org.id, staff.auth, body)).status).toBe(200);
    });
  });
});
