import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../../src/database/data-source-options';
import { createTestDatabase, databaseUrl, withAdminClient } from '../utils/test-databases';

/** Schema statements TypeORM would run to make the database match the entities; none when they agree. */
async function drift(ds: DataSource): Promise<string[]> {
  return (await ds.driver.createSchemaBuilder().log()).upQueries.map((q) => q.query);
}

describe('Migrations', () => {
  it('build exactly the schema the entities describe', async () => {
    const db = await createTestDatabase();
    const ds = new DataSource(dataSourceOptions({ url: db.url, poolSize: 1 }));
    await ds.initialize();
    try {
      expect(await drift(ds)).toEqual([]);
    } finally {
      await ds.destroy();
    }
  });

  it('can each be reverted and applied again', async () => {
    const name = `ca_test_${process.env.CA_TEST_RUN_ID}_migrations_${Math.random().toString(36).slice(2, 10)}`;
    await withAdminClient((c) => c.query(`CREATE DATABASE "${name}"`));
    const ds = new DataSource(dataSourceOptions({ url: databaseUrl(name), poolSize: 1 }));
    await ds.initialize();
    try {
      const applied = await ds.runMigrations({ transaction: 'each' });
      expect(applied.length).toBeGreaterThan(0);
      for (let i = 0; i < applied.length; i++) await ds.undoLastMigration({ transaction: 'each' });
      expect(
        await ds.query(
          `SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> 'migrations'`,
        ),
      ).toEqual([{ n: 0 }]);
      expect(await ds.runMigrations({ transaction: 'each' })).toHaveLength(applied.length);
      expect(await drift(ds)).toEqual([]);
    } finally {
      await ds.destroy();
      await withAdminClient((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    }
  });
});
