import fc from 'fast-check';
import { DataSource } from 'typeorm';
import { AppError } from '../../src/common/errors/app-error';
import {
  COURSE_ACCOUNT_STATES,
  CourseAccount,
  CourseAccountState,
} from '../../src/course-accounts/course-account.entity';
import {
  ALLOWED_TRANSITIONS,
  CourseAccountStateMachine,
  isAllowedTransition,
  Transition,
} from '../../src/course-accounts/course-account.state-machine';
import { createStateMachineDatabase, insertAccount } from '../utils/course-accounts-db';

const SYSTEM = { type: 'system' as const };
const EDGES: [CourseAccountState, CourseAccountState][] = [
  ['PENDING', 'OK'],
  ['PENDING', 'ERRED'],
  ['OK', 'CLOSED'],
  ['OK', 'ERRED'],
  ['ERRED', 'PENDING'],
  ['ERRED', 'CLOSED'],
  ['ERRED', 'OK'],
];

const state = fc.constantFrom(...COURSE_ACCOUNT_STATES);
const attempt = fc.record({ from: state, to: state });

function move(from: CourseAccountState, to: CourseAccountState): Transition {
  return {
    from,
    to,
    actor: SYSTEM,
    changes:
      to === 'ERRED'
        ? { errorMessage: 'upstream said no', failedOperation: 'create' }
        : to === 'OK'
          ? { username: 'ca-x', backendId: 'b-1' }
          : {},
  };
}

/** The states reachable from PENDING along the allowed edges. */
function reachable(): Set<CourseAccountState> {
  const seen = new Set<CourseAccountState>(['PENDING']);
  const queue: CourseAccountState[] = ['PENDING'];
  while (queue.length) {
    for (const next of ALLOWED_TRANSITIONS[queue.shift()!]) {
      if (seen.has(next)) continue;
      seen.add(next);
      queue.push(next);
    }
  }
  return seen;
}

describe('Course account state machine: the graph', () => {
  it('allows exactly the documented moves', () => {
    const allowed = COURSE_ACCOUNT_STATES.flatMap((from) =>
      COURSE_ACCOUNT_STATES.filter((to) => isAllowedTransition(from, to)).map((to) => [from, to]),
    );
    expect(allowed.sort()).toEqual([...EDGES].sort());
  });

  it('reaches every state from PENDING and never leaves CLOSED', () => {
    expect([...reachable()].sort()).toEqual([...COURSE_ACCOUNT_STATES].sort());
    expect(ALLOWED_TRANSITIONS.CLOSED).toEqual([]);
  });

  it('never produces a state outside the graph, whatever moves are attempted', () => {
    fc.assert(
      fc.property(fc.array(attempt, { maxLength: 50 }), (attempts) => {
        let current: CourseAccountState = 'PENDING';
        for (const { from, to } of attempts) {
          // A move applies only when the account is in `from` and the edge exists.
          if (from === current && isAllowedTransition(from, to)) {
            expect(EDGES).toContainEqual([current, to]);
            current = to;
          }
          expect(COURSE_ACCOUNT_STATES).toContain(current);
        }
      }),
    );
  });
});

describe('Course account state machine on PostgreSQL', () => {
  let ds: DataSource;
  let machine: CourseAccountStateMachine;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    ({ ds, machine, drop } = await createStateMachineDatabase(24));
  }, 60_000);
  afterAll(() => drop?.());

  const stored = (id: string) => ds.getRepository(CourseAccount).findOneByOrFail({ id });
  const auditCount = async (id: string): Promise<number> =>
    (
      await ds.query(
        `SELECT count(*)::int AS n FROM audit_events WHERE subject_id = $1 AND action = 'course_account.state_changed'`,
        [id],
      )
    )[0].n;

  it('follows random sequences of attempted moves exactly as the graph says, auditing each real move', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(attempt, { minLength: 1, maxLength: 12 }), async (attempts) => {
        const account = await insertAccount(ds);
        let current: CourseAccountState = 'PENDING';
        let moves = 0;
        for (const { from, to } of attempts) {
          const legal = from === current && isAllowedTransition(from, to);
          const outcome = await machine.transition(account.id, move(from, to)).then(
            (a) => a,
            (e: unknown) => e,
          );
          if (legal) {
            expect(outcome).toBeInstanceOf(CourseAccount);
            current = to;
            moves++;
          } else {
            expect(outcome).toBeInstanceOf(AppError);
            expect((outcome as AppError).code).toBe('invalid_transition');
            expect((outcome as AppError).status).toBe(409);
          }
          const row = await stored(account.id);
          expect(row.state).toBe(current);
          expect(COURSE_ACCOUNT_STATES).toContain(row.state);
          expect(row.closedAt !== null).toBe(current === 'CLOSED');
          expect(row.errorMessage !== null).toBe(current === 'ERRED');
        }
        expect(await auditCount(account.id)).toBe(moves);
      }),
      { numRuns: 40 },
    );
  }, 60_000);

  it('lets exactly one of many concurrent attempts on one row win', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<CourseAccountState>('PENDING', 'OK', 'ERRED'),
        fc.array(state, { minLength: 2, maxLength: 16 }),
        async (start, targets) => {
          const account = await insertAccount(ds, start);
          const legal = targets.filter((to) => isAllowedTransition(start, to));
          const outcomes = await Promise.allSettled(
            targets.map((to) => machine.transition(account.id, move(start, to))),
          );
          const winners = outcomes.flatMap((o, i) => (o.status === 'fulfilled' ? [targets[i]] : []));
          for (const o of outcomes) {
            if (o.status === 'rejected') expect((o.reason as AppError).code).toBe('invalid_transition');
          }
          expect(winners.length).toBe(legal.length > 0 ? 1 : 0);
          const row = await stored(account.id);
          expect(row.state).toBe(winners[0] ?? start);
          expect(await auditCount(account.id)).toBe(winners.length);
        },
      ),
      { numRuns: 30 },
    );
  }, 60_000);

  it('moves many rows at once only where they are in the expected state, and closing deactivates their users', async () => {
    const accounts = await Promise.all(
      ['OK', 'OK', 'ERRED', 'CLOSED'].map((s) => insertAccount(ds, s as CourseAccountState)),
    );
    const moved = await machine.transitionMany(
      accounts.map((a) => a.id),
      move('OK', 'CLOSED'),
    );
    expect(moved.map((a) => a.id).sort()).toEqual([accounts[0].id, accounts[1].id].sort());
    const users = await ds.query(`SELECT id, is_active FROM users WHERE id = ANY($1::uuid[])`, [
      accounts.map((a) => a.userId),
    ]);
    const active = Object.fromEntries(users.map((u: { id: string; is_active: boolean }) => [u.id, u.is_active]));
    expect(accounts.map((a) => active[a.userId])).toEqual([false, false, true, true]);
  });

  it('answers 404 for an unknown account and refuses a forbidden move before touching the row', async () => {
    await expect(
      machine.transition('00000000-0000-4000-8000-000000000000', move('OK', 'CLOSED')),
    ).rejects.toMatchObject({ code: 'not_found' });
    const account = await insertAccount(ds, 'PENDING');
    await expect(machine.transition(account.id, move('PENDING', 'CLOSED'))).rejects.toMatchObject({
      code: 'invalid_transition',
      status: 409,
    });
    expect((await stored(account.id)).state).toBe('PENDING');
  });
});
