import type { Principal } from '../../common/auth/principal';
import type { JobContext } from '../../jobs/processors/job-processor';

/**
 * Runs `work` on every item with at most `concurrency` at once. The first error stops handing out
 * items and is thrown once the running ones have settled.
 */
export async function forEachBounded<T>(
  items: readonly T[],
  concurrency: number,
  work: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failed = false;
  let failure: unknown;
  const lane = async () => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        await work(items[i], i);
      } catch (e) {
        if (!failed) failure = e;
        failed = true;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, lane));
  if (failed) throw failure;
}

/** Records progress on the job row at most every `intervalMs` (and at the end); each record also checks for a cancel. */
export class ProgressReporter {
  private done: number;
  private lastAt = 0;
  private writing?: Promise<void>;

  constructor(
    private readonly ctx: JobContext<object>,
    private readonly total: number,
    already = 0,
    private readonly intervalMs = 250,
  ) {
    this.done = already;
  }

  async start(): Promise<void> {
    this.lastAt = Date.now();
    await this.ctx.progress(this.done, this.total);
  }

  async step(count = 1): Promise<void> {
    this.done += count;
    if (this.writing) return;
    if (this.done < this.total && Date.now() - this.lastAt < this.intervalMs) return;
    this.lastAt = Date.now();
    this.writing = this.ctx.progress(this.done).finally(() => (this.writing = undefined));
    await this.writing;
  }

  async finish(): Promise<void> {
    await this.writing?.catch(() => undefined);
    await this.ctx.progress(this.done);
  }
}

/** The job runner's signal for a canceled job (its class belongs to the jobs module). */
export function isJobCanceled(e: unknown): boolean {
  return e instanceof Error && e.name === 'JobCanceledSignal';
}

/** The owner of a job as the actor of what it does. */
export function jobActor(ctx: JobContext<object>): Principal {
  return {
    type: ctx.owner.type,
    id: ctx.owner.id,
    name: '',
    tokenKind: 'user',
    scopes: [],
    isStaff: false,
    isSupport: false,
  };
}

/** Failures a job's result lists; the first ones in full, the rest counted. */
export const MAX_LISTED_FAILURES = 200;
