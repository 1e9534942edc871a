import { getDataSourceToken } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { createTestApp, TestApp } from '../utils/test-app';
import { createTestDatabase } from '../utils/test-databases';

describe('First start', () => {
  const apps: TestApp[] = [];
  afterAll(async () => {
    for (const t of apps) await t.close();
  });

  it('creates exactly one staff admin when several replicas start together on an empty database', async () => {
    const { url } = await createTestDatabase();
    const settings = { BOOTSTRAP_ADMIN_USERNAME: 'admin', BOOTSTRAP_ADMIN_PASSWORD: 'first start password' };
    const started = await Promise.allSettled([1, 2, 3].map(() => createTestApp({ databaseUrl: url, settings })));
    for (const s of started) if (s.status === 'fulfilled') apps.push(s.value);
    expect(started.map((s) => s.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled']);

    const db = apps[0].app.get<DataSource>(getDataSourceToken());
    expect(await db.query(`SELECT username, is_staff FROM users`)).toEqual([{ username: 'admin', is_staff: true }]);
    expect(await db.query(`SELECT count(*)::int AS n FROM audit_events WHERE action = 'user.bootstrap_admin'`)).toEqual(
      [{ n: 1 }],
    );
    await apps[1].http
      .post('/api/v1/auth/login')
      .send({ username: 'admin', password: 'first start password' })
      .expect(200);
  });
});
