import type { JobContext } from './job-processor';

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
