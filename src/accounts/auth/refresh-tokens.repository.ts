import type { EntityManager } from 'typeorm';
import { sha256Hex } from '../../common/crypto/secrets';
import { queryRows } from '../../database/query';
import { denyAccessTokens } from './access-token-deny-list';

/**
 * The statements on `refresh_tokens` that lock, rotate and revoke sessions. Each takes the caller's
 * transaction; a family's changes run under its advisory lock (`lockFamily`), so rotations, reuse
 * revocations and logouts of one family run one after the other.
 */

/** Revokes the live tokens of a family (a login and its rotations). */
export async function revokeFamily(tx: EntityManager, familyId: string): Promise<void> {
  await queryRows(tx, 'UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL', [
    familyId,
  ]);
}

/** Whether the token was rotated less than `seconds` ago, by the database's clock. */
export async function rotatedWithin(tx: EntityManager, id: string, seconds: number): Promise<boolean> {
  const [row] = await queryRows<{ fresh: boolean }>(
    tx,
    `SELECT rotated_at > now() - $2 * interval '1 second' AS fresh FROM refresh_tokens WHERE id = $1`,
    [id, seconds],
  );
  return row?.fresh ?? false;
}

/**
 * RFC 7009 revocation of a refresh token: its whole family (the session) ends, and the access tokens
 * issued in that session, which carry the family as `sid`, go on the deny list until the last of them
 * expires. Null for a token we do not know. Takes the family's lock, as rotations and logouts do.
 */
export async function revokeRefreshTokenFamily(
  tx: EntityManager,
  token: string,
  accessTokenTtlSeconds: number,
): Promise<{ familyId: string; userId: string; revoked: number } | null> {
  const familyId = await lockFamilyOf(tx, sha256Hex(token));
  if (!familyId) return null;
  const [family]: { user_id: string; live: string }[] = await queryRows(
    tx,
    `SELECT min(user_id::text) AS user_id, count(*) FILTER (WHERE revoked_at IS NULL) AS live
       FROM refresh_tokens WHERE family_id = $1`,
    [familyId],
  );
  if (Number(family.live) > 0) await revokeFamily(tx, familyId);
  await denyAccessTokens(tx, [familyId], new Date(Date.now() + accessTokenTtlSeconds * 1000));
  return { familyId, userId: family.user_id, revoked: Number(family.live) };
}

/**
 * Revokes every live refresh token of a user, taking each family's lock first (in a fixed order), so
 * a rotation under way commits before and its new token is revoked too. Returns the families revoked.
 */
export async function revokeSessionsOf(tx: EntityManager, userId: string): Promise<number> {
  const families: { family_id: string }[] = await queryRows(
    tx,
    'SELECT DISTINCT family_id FROM refresh_tokens WHERE user_id = $1 AND revoked_at IS NULL ORDER BY family_id',
    [userId],
  );
  for (const { family_id } of families) await lockFamily(tx, family_id);
  if (families.length > 0)
    await queryRows(tx, 'UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL', [
      userId,
    ]);
  return families.length;
}

/**
 * Takes the lock of the family of the token with this hash, for the rest of the transaction, and
 * returns the family (null for an unknown token). Rotations, reuse revocations and logouts of one
 * family run one after the other, so a revocation also reaches the token that a rotation under way
 * at the same moment hands out.
 */
export async function lockFamilyOf(tx: EntityManager, tokenHash: string): Promise<string | null> {
  const [found]: { family_id: string }[] = await queryRows(
    tx,
    'SELECT family_id FROM refresh_tokens WHERE token_hash = $1',
    [tokenHash],
  );
  if (!found) return null;
  await lockFamily(tx, found.family_id);
  return found.family_id;
}

/** The transaction lock of one refresh-token family (a login and its rotations). */
async function lockFamily(tx: EntityManager, familyId: string): Promise<void> {
  await queryRows(tx, `SELECT pg_advisory_xact_lock(hashtext('refresh_tokens:' || $1))`, [familyId]);
}
