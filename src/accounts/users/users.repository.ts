import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { queryRows } from '../../database/query';
import { User } from './user.entity';

/** The state of a user a password change or an activation starts from. */
export interface UserStatus {
  isActive: boolean;
  passwordHash: string | null;
}

/** The row `syncProfile` reads back: the user after the change, with the fields as they were. */
export interface SyncedProfileRow {
  id: string;
  username: string;
  email: string | null;
  first_name: string;
  last_name: string;
  is_active: boolean;
  old_email: string | null;
  old_first_name: string;
  old_last_name: string;
}

/** Statements on `users` beyond the entity repository: locked reads a change starts from, and set-wise updates. */
@Injectable()
export class UsersRepository {
  /**
   * A user read in `tx` and locked (FOR UPDATE) until it ends, for a change: the change applies
   * to the row as it is now, so one deleted or changed by a request that committed meanwhile is not
   * written back from what was read before. Pass it to `requireAccess` first.
   */
  lockForUpdate(tx: EntityManager, id: string): Promise<User | null> {
    return tx.findOne(User, { where: { id }, lock: { mode: 'pessimistic_write' } });
  }

  /**
   * The user's active flag and password hash, locked in `tx` (FOR NO KEY UPDATE: a deactivation, or
   * another change, comes first and is seen, or waits; a refresh-token rotation holding a family
   * lock may still insert its token, a foreign key to this row). Null for no such user.
   */
  async lockStatus(tx: EntityManager, id: string): Promise<UserStatus | null> {
    const [row] = await queryRows<{ is_active: boolean; password_hash: string | null }>(
      tx,
      'SELECT is_active, password_hash FROM users WHERE id = $1 FOR NO KEY UPDATE',
      [id],
    );
    return row ? { isActive: row.is_active, passwordHash: row.password_hash } : null;
  }

  /** Of these usernames (lower case), those some user has, compared case-insensitively. */
  async takenUsernames(db: EntityManager, lowered: string[]): Promise<Set<string>> {
    const taken = await queryRows<{ name: string }>(
      db,
      'SELECT lower(username) AS name FROM users WHERE lower(username) = ANY($1::text[])',
      [lowered],
    );
    return new Set(taken.map((t) => t.name));
  }

  /** Sets the e-mail (when `setEmail`) and the names given (non-null) in one statement; null for no such user. */
  async syncProfile(
    db: EntityManager,
    id: string,
    setEmail: boolean,
    email: string | null,
    firstName: string | null,
    lastName: string | null,
  ): Promise<SyncedProfileRow | null> {
    const [row] = await queryRows<SyncedProfileRow>(
      db,
      `WITH old AS (SELECT id, username, email, first_name, last_name, is_active FROM users WHERE id = $1),
       next AS (
         SELECT old.*,
                CASE WHEN $2::boolean THEN $3::varchar ELSE old.email END AS new_email,
                COALESCE($4::varchar, old.first_name) AS new_first_name,
                COALESCE($5::varchar, old.last_name) AS new_last_name
         FROM old),
       upd AS (
         UPDATE users u SET email = next.new_email, first_name = next.new_first_name,
                            last_name = next.new_last_name, updated_at = now()
         FROM next
         WHERE u.id = next.id AND (next.new_email IS DISTINCT FROM next.email
                                   OR next.new_first_name <> next.first_name OR next.new_last_name <> next.last_name)
         RETURNING u.id)
       SELECT next.id, next.username, next.new_email AS email, next.new_first_name AS first_name,
              next.new_last_name AS last_name, next.is_active,
              next.email AS old_email, next.first_name AS old_first_name, next.last_name AS old_last_name
       FROM next`,
      [id, setEmail, email, firstName, lastName],
    );
    return row ?? null;
  }
}
