import { DataSource, EntityManager } from 'typeorm';
import { ProjectsService } from '../../src/accounts/projects/projects.service';
import { UsersService } from '../../src/accounts/users/users.service';
import { createOrganization, createProject, createUser, unique } from '../factories/accounts';
import { createTestApp, TestApp } from '../utils/test-app';

jest.setTimeout(60_000);

/** Rolls back whatever `work` did in its transaction. */
class Rollback extends Error {}
async function inRolledBackTransaction(db: DataSource, work: (tx: EntityManager) => Promise<void>): Promise<void> {
  await expect(
    db.transaction(async (tx) => {
      await work(tx);
      throw new Rollback();
    }),
  ).rejects.toBeInstanceOf(Rollback);
}

/** The statements `tx` sends whose SQL starts with `prefix`. */
function countStatements(tx: EntityManager, prefix: RegExp): () => number {
  const spy = jest.spyOn(tx.queryRunner!, 'query');
  return () => spy.mock.calls.filter(([sql]) => prefix.test(sql.trim())).length;
}

describe('Accounts services other modules call', () => {
  let t: TestApp;
  let db: DataSource;
  let users: UsersService;
  let projects: ProjectsService;

  beforeAll(async () => {
    t = await createTestApp();
    db = t.app.get(DataSource);
    users = t.app.get(UsersService);
    projects = t.app.get(ProjectsService);
  });
  afterAll(() => t?.close());

  describe('ProjectsService.findSummary', () => {
    it('returns the project summary, deleted projects included, and null for an unknown id', async () => {
      const org = await createOrganization(t);
      const live = await createProject(t, org.id, { kind: 'course', startDate: '2030-01-01', endDate: '2030-06-30' });
      const deleted = await createProject(t, org.id);
      await db.query(`UPDATE projects SET deleted_at = now() WHERE id = $1`, [deleted.id]);

      expect(await projects.findSummary(live.id)).toEqual({
        id: live.id,
        organizationId: org.id,
        key: live.key,
        name: live.name,
        kind: 'course',
        startDate: '2030-01-01',
        endDate: '2030-06-30',
        deletedAt: null,
      });
      expect((await projects.findSummary(deleted.id))?.deletedAt).toBeInstanceOf(Date);
      expect(await projects.findSummary('00000000-0000-4000-8000-000000000000')).toBeNull();
      const many = await projects.findSummaries([live.id, deleted.id, live.id]);
      expect(many.map((p) => p.id).sort()).toEqual([live.id, deleted.id].sort());
    });

    it("reads in the caller's transaction", async () => {
      const org = await createOrganization(t);
      await inRolledBackTransaction(db, async (tx) => {
        const [{ id }] = await tx.query(
          `INSERT INTO projects (organization_id, key, name) VALUES ($1, $2, 'Uncommitted') RETURNING id`,
          [org.id, unique('prj')],
        );
        expect(await projects.findSummary(id)).toBeNull();
        expect((await projects.findSummary(id, tx))?.name).toBe('Uncommitted');
      });
    });
  });

  describe('UsersService.insertMany', () => {
    it("inserts the rows with one INSERT in the caller's transaction and returns their ids in order", async () => {
      const org = await createOrganization(t);
      const prefix = unique('bulk');
      const rows = Array.from({ length: 1000 }, (_, i) => ({
        username: `${prefix}-${i}`,
        email: `${prefix}-${i}@example.edu`,
        organizationId: org.id,
        kind: 'course_account' as const,
      }));
      let ids: string[] = [];
      await inRolledBackTransaction(db, async (tx) => {
        const inserts = countStatements(tx, /^INSERT INTO "users"/);
        ids = await users.insertMany(rows, tx);
        expect(inserts()).toBe(1);
        const found = await tx.query(
          `SELECT id, username, email, kind, is_active, is_staff, source, password_hash FROM users WHERE id = ANY($1::uuid[])`,
          [ids],
        );
        const byId = new Map(found.map((u: { id: string }) => [u.id, u]));
        expect(ids).toHaveLength(1000);
        ids.forEach((id, i) =>
          expect(byId.get(id)).toEqual({
            id,
            username: rows[i].username,
            email: rows[i].email,
            kind: 'course_account',
            is_active: true,
            is_staff: false,
            source: 'local',
            password_hash: null,
          }),
        );
      });
      const [{ n }] = await db.query(`SELECT count(*)::int AS n FROM users WHERE id = ANY($1::uuid[])`, [ids]);
      expect(n).toBe(0);
    });

    it("splits a batch past PostgreSQL's bind-parameter limit into several INSERTs", async () => {
      const prefix = unique('many');
      const rows = Array.from({ length: 6000 }, (_, i) => ({ username: `${prefix}-${i}` }));
      await inRolledBackTransaction(db, async (tx) => {
        const inserts = countStatements(tx, /^INSERT INTO "users"/);
        const ids = await users.insertMany(rows, tx);
        expect(inserts()).toBe(2);
        expect(new Set(ids).size).toBe(6000);
        const [{ n }] = await tx.query(`SELECT count(*)::int AS n FROM users WHERE username LIKE $1`, [`${prefix}-%`]);
        expect(n).toBe(6000);
      });
    });

    it('refuses a taken username with duplicate_username and inserts none of the rows', async () => {
      const taken = await createUser(t);
      const fresh = unique('fresh');
      await expect(
        users.insertMany([{ username: fresh }, { username: taken.row.username.toUpperCase() }]),
      ).rejects.toMatchObject({ code: 'duplicate_username' });
      await expect(users.insertMany([{ username: taken.row.username }])).rejects.toMatchObject({
        code: 'duplicate_username',
        details: { username: taken.row.username },
      });
      expect(await db.query(`SELECT 1 FROM users WHERE username = $1`, [fresh])).toEqual([]);
    });
  });

  describe('UsersService.deactivate', () => {
    it("deactivates the users with one UPDATE in the caller's transaction", async () => {
      const [a, b, other] = [await createUser(t), await createUser(t), await createUser(t)];
      const active = async (m: DataSource | EntityManager) =>
        Object.fromEntries(
          (
            await m.query(`SELECT id, is_active FROM users WHERE id = ANY($1::uuid[])`, [
              [a.row.id, b.row.id, other.row.id],
            ])
          ).map((u: { id: string; is_active: boolean }) => [u.id, u.is_active]),
        );
      await inRolledBackTransaction(db, async (tx) => {
        const updates = countStatements(tx, /^UPDATE "users"/);
        await users.deactivate([a.row.id, b.row.id], tx);
        expect(updates()).toBe(1);
        expect(await active(tx)).toEqual({ [a.row.id]: false, [b.row.id]: false, [other.row.id]: true });
        expect(await active(db)).toEqual({ [a.row.id]: true, [b.row.id]: true, [other.row.id]: true });
      });
      await users.deactivate([a.row.id]);
      expect(await active(db)).toEqual({ [a.row.id]: false, [b.row.id]: true, [other.row.id]: true });
    });
  });
});
