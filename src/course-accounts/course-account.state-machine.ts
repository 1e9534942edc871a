import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { AuditEntry, AuditService } from '../accounts/audit/audit.service';
import { UsersService } from '../accounts/users/users.service';
import { CourseAccount, CourseAccountOperation, CourseAccountState } from './course-account.entity';
import { CourseAccountError } from './course-accounts.errors';
import { queryRows } from '../database/query';
import { CommonError } from '../common/errors/common.errors';
import { TransactionRunner } from '../database/transaction';
import { EventOutbox } from '../events/event-outbox';
import type { NewEvent } from '../events/event-types';

/**
 * The allowed moves. PENDING → OK/ERRED (created upstream, or not); OK → CLOSED, or ERRED when the
 * close failed (the account may still work upstream, so it must not look closed); ERRED → PENDING
 * (retry), CLOSED, or OK (staff recovery, once the backend confirms the account exists). CLOSED is final.
 */
export const ALLOWED_TRANSITIONS: Readonly<Record<CourseAccountState, readonly CourseAccountState[]>> = {
  PENDING: ['OK', 'ERRED'],
  OK: ['CLOSED', 'ERRED'],
  ERRED: ['PENDING', 'CLOSED', 'OK'],
  CLOSED: [],
};

export function isAllowedTransition(from: CourseAccountState, to: CourseAccountState): boolean {
  return ALLOWED_TRANSITIONS[from]?.includes(to) ?? false;
}

/** Who moved the account: the caller of a route, or the owner of the job doing the work. */
export type TransitionActor = NonNullable<AuditEntry['actor']>;

/** What a move writes besides the state. ERRED needs an error message and the failed operation. */
export interface TransitionChanges {
  username?: string | null;
  backendId?: string | null;
  idempotencyKey?: string;
  errorMessage?: string;
  errorTraceback?: string | null;
  failedOperation?: CourseAccountOperation;
}

export interface Transition {
  from: CourseAccountState;
  to: CourseAccountState;
  actor: TransitionActor;
  changes?: TransitionChanges;
  /** Recorded with the audit event; a function gets the account as moved. */
  data?: Record<string, unknown> | ((moved: CourseAccount) => Record<string, unknown>);
  /** A close asked for with DELETE: also written as the event `course_account.deleted`. */
  deleted?: boolean;
}

/** What events say of a course account: no secrets, nothing of the backend's credentials. */
export function courseAccountEventPayload(a: CourseAccount): Record<string, unknown> {
  return {
    id: a.id,
    project: a.projectId,
    organization: a.organizationId,
    user: a.userId,
    state: a.state,
    username: a.username,
    email: a.email,
    description: a.description,
    expires_at: a.expiresAt instanceof Date ? a.expiresAt.toISOString() : a.expiresAt,
    closed_at: a.closedAt instanceof Date ? a.closedAt.toISOString() : (a.closedAt ?? null),
  };
}

function accountEvent(type: NewEvent['type'], a: CourseAccount, extra: Record<string, unknown> = {}): NewEvent {
  return {
    type,
    organizationId: a.organizationId,
    subjectType: 'CourseAccount',
    subjectId: a.id,
    payload: { ...courseAccountEventPayload(a), ...extra },
  };
}

const COLUMNS: Record<keyof CourseAccount, string> = {
  id: 'id',
  createdAt: 'created_at',
  updatedAt: 'updated_at',
  projectId: 'project_id',
  organizationId: 'organization_id',
  userId: 'user_id',
  username: 'username',
  email: 'email',
  description: 'description',
  state: 'state',
  backendId: 'backend_id',
  idempotencyKey: 'idempotency_key',
  errorMessage: 'error_message',
  errorTraceback: 'error_traceback',
  failedOperation: 'failed_operation',
  expiresAt: 'expires_at',
  closedAt: 'closed_at',
};

/** A `RETURNING *` row as an entity. */
export function accountFromRow(row: Record<string, unknown>): CourseAccount {
  const account = new CourseAccount();
  for (const [property, column] of Object.entries(COLUMNS)) {
    if (column in row) (account as unknown as Record<string, unknown>)[property] = row[column];
  }
  return account;
}

/** What the move itself sets, by target state: closing stamps closed_at, leaving ERRED forgets the error. */
function assignments(t: Transition): { sql: string[]; params: unknown[] } {
  const sql: string[] = [];
  const params: unknown[] = [];
  const set = (column: string, value: unknown) => {
    params.push(value);
    sql.push(`${column} = $${params.length + 3}`);
  };
  const c = t.changes ?? {};
  if (c.username !== undefined) set('username', c.username);
  if (c.backendId !== undefined) set('backend_id', c.backendId);
  if (c.idempotencyKey !== undefined) set('idempotency_key', c.idempotencyKey);
  switch (t.to) {
    case 'ERRED':
      if (!c.errorMessage || !c.failedOperation)
        throw new Error('A move to ERRED needs errorMessage and failedOperation');
      set('error_message', c.errorMessage);
      set('error_traceback', c.errorTraceback ?? null);
      set('failed_operation', c.failedOperation);
      break;
    case 'OK':
      sql.push('error_message = NULL', 'error_traceback = NULL', 'failed_operation = NULL');
      break;
    case 'PENDING':
      // The failed operation stays: it is what the retry runs again.
      sql.push('error_message = NULL', 'error_traceback = NULL');
      break;
    case 'CLOSED':
      sql.push('closed_at = now()', 'error_message = NULL', 'error_traceback = NULL', 'failed_operation = NULL');
      break;
  }
  return { sql, params };
}

/** Rows per multi-row INSERT: 12 parameters a row stays far under PostgreSQL's 65,535. */
const INSERT_CHUNK = 500;

/**
 * Owns every state change of a course account. A move is one guarded
 * `UPDATE … WHERE id = $1 AND state = $from` with its audit event in one transaction (closing also
 * deactivates the account's user there). A forbidden move or a lost race is 409
 * `invalid_transition`: two concurrent attempts never both move the row.
 */
@Injectable()
export class CourseAccountStateMachine {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly audit: AuditService,
    private readonly users: UsersService,
    private readonly transactions: TransactionRunner,
    private readonly outbox: EventOutbox,
  ) {}

  /** Moves one account or throws 409 `invalid_transition` (404 `not_found` when there is no such account). */
  async transition(id: string, t: Transition, tx?: EntityManager): Promise<CourseAccount> {
    this.assertAllowed(t);
    const [moved] = await this.inTransaction(tx, (m) => this.move(m, [id], t));
    if (moved) return moved;
    const current = await (tx ?? this.db.manager).findOneBy(CourseAccount, { id });
    if (!current) throw new CommonError('not_found', 'Course account not found.', { id });
    throw invalidTransition(id, current.state, t);
  }

  /**
   * Moves every listed account that is in `t.from`; the others are left alone (they were moved by
   * someone else). Returns the moved accounts.
   */
  async transitionMany(ids: readonly string[], t: Transition, tx?: EntityManager): Promise<CourseAccount[]> {
    this.assertAllowed(t);
    if (ids.length === 0) return [];
    return this.inTransaction(tx, (m) => this.move(m, ids, t));
  }

  /**
   * PENDING → OK for several accounts created upstream, each with its own username: one guarded
   * UPDATE and one audit event per moved account, in one transaction. Accounts no longer PENDING
   * are left alone and missing from the answer (their race was lost).
   */
  async markCreated(
    created: readonly { id: string; username: string; backendId: string }[],
    actor: TransitionActor,
  ): Promise<CourseAccount[]> {
    if (created.length === 0) return [];
    return this.transactions.run(async (m) => {
      const rows = await queryRows<Record<string, unknown>>(
        m,
        `UPDATE course_accounts ca
            SET state = 'OK', updated_at = now(), username = v.username, backend_id = v.backend_id,
                error_message = NULL, error_traceback = NULL, failed_operation = NULL
           FROM unnest($1::uuid[], $2::text[], $3::text[]) AS v(id, username, backend_id)
          WHERE ca.id = v.id AND ca.state = 'PENDING'
          RETURNING ca.*`,
        [created.map((c) => c.id), created.map((c) => c.username), created.map((c) => c.backendId)],
      );
      const moved = rows.map(accountFromRow);
      await this.recordMoves(m, moved, { from: 'PENDING', to: 'OK', actor }, (a) => ({ username: a.username }));
      return moved;
    });
  }

  /**
   * Before an ERRED account is closed upstream, its failed operation becomes `close` (a guarded
   * UPDATE, not a move). A retry that comes while the close is under way then closes the account
   * again instead of creating it upstream anew; a retry that came first has moved the account, and
   * this answers 409 before anything is closed.
   */
  async takeForClose(id: string, actor: TransitionActor): Promise<CourseAccount> {
    const [row] = await queryRows<Record<string, unknown>>(
      this.db,
      `UPDATE course_accounts SET failed_operation = 'close', updated_at = now() WHERE id = $1 AND state = 'ERRED' RETURNING *`,
      [id],
    );
    if (row) return accountFromRow(row);
    const current = await this.db.manager.findOneBy(CourseAccount, { id });
    if (!current) throw new CommonError('not_found', 'Course account not found.', { id });
    throw invalidTransition(id, current.state, { from: 'ERRED', to: 'CLOSED', actor });
  }

  /** New accounts, PENDING, in `tx`: the one way rows enter course_accounts (multi-row INSERTs). */
  async insertPending(tx: EntityManager, accounts: CourseAccount[]): Promise<void> {
    for (let i = 0; i < accounts.length; i += INSERT_CHUNK) {
      await tx
        .createQueryBuilder()
        .insert()
        .into(CourseAccount)
        .values(accounts.slice(i, i + INSERT_CHUNK))
        .execute();
    }
    await this.outbox.append(
      tx,
      accounts.map((a) => accountEvent('course_account.created', a)),
    );
  }

  /**
   * A PENDING account recorded upstream but gone there gets a fresh idempotency key and loses its
   * upstream identity, so that it is created anew (not a move: guarded on PENDING). False when the
   * account is no longer PENDING.
   */
  async renewIdempotencyKey(id: string, key: string): Promise<boolean> {
    const rows = await queryRows(
      this.db,
      `UPDATE course_accounts SET idempotency_key = $2, username = NULL, backend_id = NULL, updated_at = now()
        WHERE id = $1 AND state = 'PENDING' RETURNING id`,
      [id, key],
    );
    return rows.length > 0;
  }

  /**
   * Records the upstream identity of an account that another request or job moved (not to OK)
   * while it was being created, so that a close can find it upstream. Not a move.
   */
  async recordUpstreamIdentity(id: string, username: string, backendId: string): Promise<void> {
    await queryRows(
      this.db,
      `UPDATE course_accounts SET username = $2, backend_id = $3, updated_at = now() WHERE id = $1 AND username IS NULL AND state <> 'OK' RETURNING id`,
      [id, username, backendId],
    );
  }

  /**
   * Takes accounts PENDING for longer than `timeoutMs` since their last change (of `ids` when given,
   * else the longest-stalled up to `limit`), for a new creation job: they stay locked until `tx`
   * ends (rows another claim or a move holds are skipped; a row a transaction merely references, as
   * a participant e-mail's insert does through its foreign key, is not), and each one's `updated_at` is renewed, so the
   * next look does not take it again before that job had its time. Not a move.
   */
  async takeStuckPending(
    tx: EntityManager,
    timeoutMs: number,
    { ids, limit }: { ids?: string[]; limit: number },
  ): Promise<string[]> {
    const rows = await queryRows<{ id: string }>(
      tx,
      `UPDATE course_accounts SET updated_at = now()
        WHERE id IN (SELECT id FROM course_accounts
                      WHERE state = 'PENDING' AND updated_at < now() - $1 * interval '1 millisecond'
                        AND ($2::uuid[] IS NULL OR id = ANY($2::uuid[]))
                      ORDER BY updated_at LIMIT $3 FOR NO KEY UPDATE SKIP LOCKED)
        RETURNING id`,
      [timeoutMs, ids ?? null, limit],
    );
    return rows.map((r) => r.id);
  }

  /**
   * A new error for an account that stays ERRED (a retried close failed again): not a move, but
   * guarded the same way and audited.
   */
  async recordError(
    id: string,
    changes: Required<Pick<TransitionChanges, 'errorMessage' | 'failedOperation'>> &
      Pick<TransitionChanges, 'errorTraceback'>,
    actor: TransitionActor,
  ): Promise<CourseAccount> {
    return this.transactions.run(async (m) => {
      const [row] = await queryRows<Record<string, unknown>>(
        m,
        `UPDATE course_accounts SET error_message = $2, error_traceback = $3, failed_operation = $4, updated_at = now()
          WHERE id = $1 AND state = 'ERRED' RETURNING *`,
        [id, changes.errorMessage, changes.errorTraceback ?? null, changes.failedOperation],
      );
      if (!row) {
        const current = await m.findOneBy(CourseAccount, { id });
        if (!current) throw new CommonError('not_found', 'Course account not found.', { id });
        throw invalidTransition(id, current.state, { from: 'ERRED', to: 'ERRED', actor });
      }
      const account = accountFromRow(row);
      await this.audit.record(
        {
          action: 'course_account.error_recorded',
          actor,
          subjectType: 'CourseAccount',
          subjectId: id,
          organizationId: account.organizationId,
          data: { error: changes.errorMessage, failed_operation: changes.failedOperation },
        },
        m,
      );
      return account;
    });
  }

  private assertAllowed(t: Transition): void {
    if (!isAllowedTransition(t.from, t.to)) throw invalidTransition(null, t.from, t);
  }

  private inTransaction<T>(tx: EntityManager | undefined, work: (m: EntityManager) => Promise<T>): Promise<T> {
    return tx ? work(tx) : this.transactions.run(work);
  }

  private async move(m: EntityManager, ids: readonly string[], t: Transition): Promise<CourseAccount[]> {
    const { sql, params } = assignments(t);
    const rows = await queryRows<Record<string, unknown>>(
      m,
      `UPDATE course_accounts SET state = $2, updated_at = now()${sql.map((s) => `, ${s}`).join('')}
        WHERE id = ANY($1::uuid[]) AND state = $3
        RETURNING *`,
      [ids, t.to, t.from, ...params],
    );
    const moved = rows.map(accountFromRow);
    if (moved.length === 0) return moved;
    if (t.to === 'CLOSED')
      await this.users.deactivate(
        moved.map((a) => a.userId),
        m,
      );
    // Staff recovery brings an account back to use: its user works again.
    if (t.from === 'ERRED' && t.to === 'OK')
      await this.users.reactivate(
        moved.map((a) => a.userId),
        m,
      );
    const data = t.data;
    await this.recordMoves(m, moved, t, typeof data === 'function' ? data : () => data ?? {});
    if (t.deleted && t.to === 'CLOSED')
      await this.outbox.append(
        m,
        moved.map((a) => accountEvent('course_account.deleted', a)),
      );
    return moved;
  }

  private async recordMoves(
    m: EntityManager,
    moved: CourseAccount[],
    t: Pick<Transition, 'from' | 'to' | 'actor'>,
    data: (a: CourseAccount) => Record<string, unknown>,
  ): Promise<void> {
    const events: NewEvent[] = [];
    for (const account of moved) {
      const error = t.to === 'ERRED' ? account.errorMessage : null;
      events.push(accountEvent('course_account.state_changed', account, { from: t.from, to: t.to, error }));
      if (t.to === 'CLOSED') events.push(accountEvent('course_account.closed', account));
    }
    await this.outbox.append(m, events);
    for (const account of moved) {
      await this.audit.record(
        {
          action: 'course_account.state_changed',
          actor: t.actor,
          subjectType: 'CourseAccount',
          subjectId: account.id,
          organizationId: account.organizationId,
          data: {
            from: t.from,
            to: t.to,
            ...(t.to === 'ERRED' ? { error: account.errorMessage, failed_operation: account.failedOperation } : {}),
            ...data(account),
          },
        },
        m,
      );
    }
  }
}

function invalidTransition(id: string | null, current: CourseAccountState, t: Transition) {
  const message =
    current === t.from
      ? `A course account cannot go from ${t.from} to ${t.to}.`
      : `The course account is ${current}, not ${t.from}: it cannot go to ${t.to}.`;
  return new CourseAccountError('invalid_transition', message, {
    ...(id ? { id } : {}),
    state: current,
    from: t.from,
    to: t.to,
  });
}
