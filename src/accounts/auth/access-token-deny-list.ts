import type { EntityManager } from 'typeorm';
import { queryRows } from '../../database/query';

/** Expired deny-list rows removed by each revocation, at most: the table stays the size of what is live. */
const PURGE_BATCH = 100;

/**
 * Puts access-token ids (a `jti`, or a session's `sid`) on the deny list until `expiresAt`, the moment
 * the last token they name would expire; the principal lookup of every request reads the list in its one
 * statement, so every replica refuses them from the commit on. Returns how many were not listed yet.
 * Each call also drops a batch of rows whose tokens have expired anyway.
 */
export async function denyAccessTokens(tx: EntityManager, ids: string[], expiresAt: Date): Promise<number> {
  await queryRows(
    tx,
    `DELETE FROM revoked_access_tokens WHERE id IN
       (SELECT id FROM revoked_access_tokens WHERE expires_at < now() ORDER BY expires_at LIMIT ${PURGE_BATCH})`,
  );
  let added = 0;
  for (const id of ids) {
    const rows: unknown[] = await queryRows(
      tx,
      `INSERT INTO revoked_access_tokens (jti, expires_at) VALUES ($1, $2) ON CONFLICT (jti) DO NOTHING RETURNING id`,
      [id, expiresAt],
    );
    added += rows.length;
  }
  return added;
}
