import type { CourseAccount } from '../course-account.entity';

/** Failures a job's result lists; the first ones in full, the rest counted. */
export const MAX_LISTED_FAILURES = 200;

export interface AccountFailure {
  id: string;
  email: string | null;
  username: string | null;
  error: string;
}

/** What a job reports as its `result` artifact. */
export interface LifecycleResult {
  accounts: number;
  ok?: number;
  erred?: number;
  closed?: number;
  missing?: number;
  failed: AccountFailure[];
  failed_count: number;
}

/** Counts what a job did to its accounts, and lists the first MAX_LISTED_FAILURES failures. */
export class Tally {
  readonly counts: Record<string, number> = {};
  readonly failed: AccountFailure[] = [];
  failedCount = 0;

  add(key: string, n = 1): void {
    this.counts[key] = (this.counts[key] ?? 0) + n;
  }

  fail(a: Pick<CourseAccount, 'id' | 'email' | 'username'>, error: string): void {
    this.failedCount++;
    if (this.failed.length < MAX_LISTED_FAILURES)
      this.failed.push({ id: a.id, email: a.email, username: a.username, error });
  }

  /** Counts an account by the state it ended in, and its error if it has one. */
  count(account: CourseAccount, error?: { message: string }): void {
    const state = account.state;
    this.add(state === 'OK' ? 'ok' : state === 'CLOSED' ? 'closed' : state === 'ERRED' ? 'erred' : 'pending');
    if (error) this.fail(account, error.message);
  }

  result(accounts: number): LifecycleResult {
    return { accounts, ...this.counts, failed: this.failed, failed_count: this.failedCount };
  }
}
