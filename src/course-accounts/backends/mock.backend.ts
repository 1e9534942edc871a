import { createHash, randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { MicroBatcher } from '../../common/batching/micro-batcher';
import { queryRows } from '../../database/query';
import {
  BackendAccount,
  BackendAccountRequest,
  BackendProject,
  CourseAccountBackend,
  CourseAccountBackendError,
} from './course-account-backend';

/**
 * The same idempotency key always gives the same username: the project's key (shortened) and a
 * hash of the key, e.g. `engl-101-2026-3f9a0c2b1d`.
 */
export function mockUsername(projectKey: string, idempotencyKey: string): string {
  const hash = createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 10);
  return `${projectKey.slice(0, 40).replace(/-+$/, '')}-${hash}`;
}

/**
 * A backend without a network: its accounts are rows of `course_account_mock_backend`, so every
 * process of a deployment sees the same accounts, and creating with a key used before answers the
 * account made then. The default, for the embedded setup and for trying things out.
 */
export class MockCourseAccountBackend implements CourseAccountBackend {
  readonly kind = 'mock' as const;

  constructor(private readonly db: DataSource) {}

  /** Concurrent creations share one statement (and one commit), as a bulk job makes them. */
  private readonly creations = new MicroBatcher<
    { account: BackendAccountRequest; project: BackendProject },
    BackendAccount
  >(
    async (items) => {
      // One row per key: a key twice in a batch is one account.
      const unique = [...new Map(items.map((i) => [i.account.idempotencyKey, i])).values()];
      const rows = await queryRows<{ username: string; backend_id: string; idempotency_key: string }>(
        this.db,
        `INSERT INTO course_account_mock_backend (username, backend_id, idempotency_key, email, scope_slug, valid_to)
       SELECT * FROM unnest($1::text[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::date[])
       ON CONFLICT (idempotency_key) DO UPDATE SET idempotency_key = EXCLUDED.idempotency_key
       RETURNING username, backend_id, idempotency_key`,
        [
          unique.map((i) => mockUsername(i.project.key, i.account.idempotencyKey)),
          unique.map(() => randomUUID()),
          unique.map((i) => i.account.idempotencyKey),
          unique.map((i) => i.account.email),
          unique.map((i) => i.project.key),
          unique.map((i) => i.account.validTo),
        ],
      );
      const byKey = new Map(rows.map((r) => [r.idempotency_key, { username: r.username, backendId: r.backend_id }]));
      return items.map((i) => byKey.get(i.account.idempotencyKey)!);
    },
    200,
    1,
  );

  async create(account: BackendAccountRequest, project: BackendProject): Promise<BackendAccount> {
    return this.creations.add({ account, project });
  }

  async get(username: string): Promise<boolean> {
    const rows = await queryRows(this.db, `SELECT 1 FROM course_account_mock_backend WHERE username = $1`, [username]);
    return rows.length > 0;
  }

  async close(username: string): Promise<void> {
    const rows = await queryRows(
      this.db,
      `UPDATE course_account_mock_backend SET closed_at = COALESCE(closed_at, now()) WHERE username = $1 RETURNING username`,
      [username],
    );
    if (rows.length === 0) {
      throw new CourseAccountBackendError(`The mock backend has no account ${username}`, {
        stage: 'request',
        method: 'close',
        status: 404,
      });
    }
  }
}
