import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { ProjectSummary } from '../accounts/projects/project.types';
import { CourseAccountError } from './course-accounts.errors';
import {
  BackendAccount,
  BackendProject,
  COURSE_ACCOUNT_BACKEND,
  CourseAccountBackend,
  CourseAccountBackendError,
} from './backends/course-account-backend';
import { CourseAccount } from './course-account.entity';
import { CourseAccountStateMachine, TransitionActor } from './course-account.state-machine';
import { CourseAccountsRepository } from './course-accounts.repository';

export interface CreatedAccount {
  id: string;
  username: string;
  backendId: string;
}

export interface OperationContext {
  actor: TransitionActor;
  /** Who asks for the account upstream (`ownerUsername`). */
  ownerUsername: string;
  signal?: AbortSignal;
  /**
   * Records PENDING → OK for an account created upstream; undefined when the account was no longer
   * PENDING. Default: one move of its own; bulk jobs pass a MicroBatcher that commits concurrent moves together.
   */
  commitCreated?: (created: CreatedAccount) => Promise<CourseAccount | undefined>;
}

/** The account after an upstream step, and the backend's error when the step failed. */
export interface Outcome {
  account: CourseAccount;
  error?: CourseAccountBackendError;
}

export function backendProject(
  p: Pick<ProjectSummary, 'id' | 'key' | 'name' | 'startDate' | 'endDate'>,
): BackendProject {
  return { id: p.id, key: p.key, name: p.name, startDate: p.startDate, endDate: p.endDate };
}

/** The last day an account expiring at `expiresAt` is valid (YYYY-MM-DD, UTC). */
export function validTo(expiresAt: Date): string {
  return new Date(expiresAt.getTime() - 1).toISOString().slice(0, 10);
}

function asBackendError(e: unknown): CourseAccountBackendError | null {
  return e instanceof CourseAccountBackendError ? e : null;
}

function isInvalidTransition(e: unknown): boolean {
  return e instanceof CourseAccountError && e.code === 'invalid_transition';
}

/**
 * The two upstream steps of an account's life, each ending in a state-machine move: creating
 * (PENDING → OK, or ERRED with the backend's error) and closing (OK/ERRED → CLOSED, or ERRED).
 * Both are safe to run twice: creation sends the account's idempotency key, and a move that lost
 * its race changes nothing.
 */
@Injectable()
export class CourseAccountProvisioner {
  private readonly logger = new Logger('CourseAccounts');

  constructor(
    @Inject(COURSE_ACCOUNT_BACKEND) readonly backend: CourseAccountBackend,
    private readonly machine: CourseAccountStateMachine,
    private readonly accounts: CourseAccountsRepository,
  ) {}

  /** Creates a PENDING account upstream. Backend failures end in ERRED (and are returned); other errors are thrown. */
  async create(account: CourseAccount, project: BackendProject, ctx: OperationContext): Promise<Outcome> {
    let created: BackendAccount;
    try {
      created = await this.ensureUpstream(account, project, ctx);
    } catch (e) {
      const error = asBackendError(e);
      if (!error || ctx.signal?.aborted) throw e;
      return { account: await this.fail(account, 'create', error, ctx), error };
    }
    const commit =
      ctx.commitCreated ?? (async (c: CreatedAccount) => (await this.machine.markCreated([c], ctx.actor))[0]);
    const moved = await commit({ id: account.id, username: created.username, backendId: created.backendId });
    return { account: moved ?? (await this.afterLostCreation(account.id, created, ctx)) };
  }

  /**
   * Closes an OK or ERRED account: upstream first (when it was ever created there), then CLOSED.
   * A close the backend refuses leaves the account ERRED with the error, never looking closed.
   */
  async close(
    account: CourseAccount,
    ctx: Omit<OperationContext, 'ownerUsername'> & { deleted?: boolean },
  ): Promise<Outcome> {
    if (account.state !== 'OK' && account.state !== 'ERRED') {
      // Let the state machine say why (409).
      await this.machine.transition(account.id, { from: account.state, to: 'CLOSED', actor: ctx.actor });
    }
    let upstream: 'closed' | 'missing' | 'never created' = 'never created';
    const username = account.username;
    if (username) {
      if (account.state === 'ERRED') account = await this.machine.takeForClose(account.id, ctx.actor);
      try {
        upstream = await this.closeUpstream(username, ctx.signal);
      } catch (e) {
        const error = asBackendError(e);
        if (!error || ctx.signal?.aborted) throw e;
        return { account: await this.fail(account, 'close', error, ctx), error };
      }
    }
    const moved = await this.machine.transition(account.id, {
      from: account.state,
      to: 'CLOSED',
      actor: ctx.actor,
      data: { upstream },
      deleted: ctx.deleted,
    });
    return { account: moved };
  }

  /**
   * ERRED → OK once the backend confirms it has the account (staff recovery). 409 `not_on_backend`
   * when it has none (or the account was never made there), 502 `backend_error` when it cannot say.
   */
  async recover(
    account: CourseAccount,
    reason: string,
    ctx: Omit<OperationContext, 'ownerUsername'>,
  ): Promise<CourseAccount> {
    const notOnBackend = () =>
      new CourseAccountError(
        'not_on_backend',
        'The backend has no such account: retry the account to create it there.',
        {
          id: account.id,
          username: account.username,
        },
      );
    if (!account.username) throw notOnBackend();
    let exists: boolean;
    try {
      exists = await this.backend.get(account.username, { signal: ctx.signal });
    } catch (e) {
      const error = asBackendError(e);
      if (!error) throw e;
      throw new CourseAccountError(
        'backend_error',
        `The backend could not be asked about the account: ${error.message}`,
        {
          id: account.id,
          upstream_status: error.details.status ?? null,
        },
      );
    }
    if (!exists) throw notOnBackend();
    return this.machine.transition(account.id, {
      from: 'ERRED',
      to: 'OK',
      actor: ctx.actor,
      data: { reason, recovered_from: account.errorMessage },
    });
  }

  /** Whether an OK account still exists upstream; one that does not becomes ERRED "missing on backend". */
  async reconcile(
    account: CourseAccount,
    ctx: Omit<OperationContext, 'ownerUsername'>,
  ): Promise<'present' | 'missing' | 'moved'> {
    if (!account.username) return 'present';
    if (await this.backend.get(account.username, { signal: ctx.signal })) return 'present';
    try {
      await this.machine.transition(account.id, {
        from: 'OK',
        to: 'ERRED',
        actor: ctx.actor,
        changes: {
          errorMessage: 'missing on backend',
          errorTraceback: `The backend has no account ${account.username} (checked ${new Date().toISOString()}).`,
          failedOperation: 'create',
        },
      });
      return 'missing';
    } catch (e) {
      if (isInvalidTransition(e)) return 'moved';
      throw e;
    }
  }

  /**
   * The account upstream: the one already recorded if the backend still has it, else a creation.
   * An account recorded but gone upstream is created anew under a fresh idempotency key (the old key
   * would answer the gone account).
   */
  private async ensureUpstream(
    account: CourseAccount,
    project: BackendProject,
    ctx: OperationContext,
  ): Promise<BackendAccount> {
    let key = account.idempotencyKey;
    if (account.username) {
      if (await this.backend.get(account.username, { signal: ctx.signal })) {
        return { username: account.username, backendId: account.backendId ?? account.username };
      }
      key = randomUUID();
      if (!(await this.machine.renewIdempotencyKey(account.id, key)))
        throw new CourseAccountBackendError('The account changed while it was being created', { stage: 'request' });
    }
    return this.backend.create(
      {
        idempotencyKey: key,
        email: account.email,
        description: account.description,
        ownerUsername: ctx.ownerUsername,
        validTo: validTo(account.expiresAt),
      },
      project,
      { signal: ctx.signal },
    );
  }

  /** Closes upstream; a 404 counts as closed only when a read confirms the account is gone. */
  private async closeUpstream(username: string, signal?: AbortSignal): Promise<'closed' | 'missing'> {
    try {
      await this.backend.close(username, { signal });
      return 'closed';
    } catch (e) {
      const error = asBackendError(e);
      if (error?.details.status !== 404) throw e;
      if (await this.backend.get(username, { signal })) throw e;
      return 'missing';
    }
  }

  /** Moves the account to ERRED with the error; an ERRED account (a failed retry of a close) keeps its state and gets the new error. */
  private async fail(
    account: CourseAccount,
    operation: 'create' | 'close',
    error: CourseAccountBackendError,
    ctx: Omit<OperationContext, 'ownerUsername'>,
  ): Promise<CourseAccount> {
    const changes = {
      errorMessage: error.message,
      errorTraceback: error.traceback,
      failedOperation: operation,
    } as const;
    if (account.state === 'ERRED') return this.machine.recordError(account.id, changes, ctx.actor);
    try {
      return await this.machine.transition(account.id, { from: account.state, to: 'ERRED', actor: ctx.actor, changes });
    } catch (e) {
      if (!isInvalidTransition(e)) throw e;
      return this.accounts.getById(account.id);
    }
  }

  /**
   * Someone else moved the account while we created it upstream. Another run of the same creation
   * (same key) made it OK: nothing to do. Otherwise (ERRED or CLOSED meanwhile, e.g. its project was
   * deleted) the upstream account is recorded on the row so a close can find it, and a CLOSED
   * account is closed upstream at once.
   */
  private async afterLostCreation(id: string, created: BackendAccount, ctx: OperationContext): Promise<CourseAccount> {
    await this.machine.recordUpstreamIdentity(id, created.username, created.backendId);
    const current = await this.accounts.getById(id);
    if (current.state === 'CLOSED') {
      await this.backend.close(created.username, { signal: ctx.signal }).catch((e: unknown) => {
        this.logger.warn(
          `Course account ${id} was closed while being created; closing ${created.username} upstream failed: ${(e as Error).message}`,
        );
      });
    }
    return current;
  }
}
