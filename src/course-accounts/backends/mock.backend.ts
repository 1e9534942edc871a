import { createHash, randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { selectRows } from '../course-accounts.sql';
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

  async create(account: BackendAccountRequest, project: BackendProject): Promise<BackendAccount> {
    const [row] = await selectRows<{ username: string; backend_id: string }>(
      this.db,
      `INSERT INTO course_account_mock_backend (username, backend_id, idempotency_key, email, scope_slug, valid_to)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (idempotency_key) DO UPDATE SET idempotency_key = EXCLUDED.idempotency_key
       RETURNING username, backend_id`,
      [mockUsername(project.key, account.idempotencyKey), randomUUID(), account.idempotencyKey, account.email, project.key, account.validTo],
    );
    return { username: row.username, backendId: row.backend_id };
  }

  async get(username: string): Promise<boolean> {
    const rows = await selectRows(this.db, `SELECT 1 FROM course_account_mock_backend WHERE username = $1`, [username]);
    return rows.length > 0;
  }

  async close(username: string): Promise<void> {
    const rows = await selectRows(
      this.db,
      `UPDATE course_account_mock_backend SET closed_at = COALESCE(closed_at, now()) WHERE username = $1 RETURNING username`,
      [username],
    );
    if (rows.length === 0) {
      throw new CourseAccountBackendError(`The mock backend has no account ${username}`, { stage: 'request', method: 'close', status: 404 });
    }
  }
}
