import { Delivery, QueueAdapter } from './queue-adapter';

class Lane {
  private items: string[] = [];
  private head = 0;
  readonly queued = new Set<string>();
  active = 0;

  push(jobId: string): boolean {
    if (this.queued.has(jobId)) return false;
    this.queued.add(jobId);
    this.items.push(jobId);
    return true;
  }

  shift(): string | undefined {
    if (this.head >= this.items.length) return undefined;
    const jobId = this.items[this.head++];
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    this.queued.delete(jobId);
    return jobId;
  }
}

/**
 * The runner used without REDIS_URL: deliveries wait in memory and run in this process, at most
 * `concurrency` at once per queue. Nothing here needs to survive a restart: rows still waiting are
 * dispatched again by the sweeper.
 */
export class InProcessQueueAdapter implements QueueAdapter {
  readonly kind = 'in-process' as const;
  private readonly lanes = new Map<string, Lane>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private handler?: (jobId: string) => Promise<void>;
  private concurrency = 1;
  private consuming = false;
  private closed = false;

  private lane(queue: string): Lane {
    let lane = this.lanes.get(queue);
    if (!lane) this.lanes.set(queue, (lane = new Lane()));
    return lane;
  }

  async dispatch(queue: string, delivery: Delivery, delayMs: number): Promise<void> {
    if (this.closed) throw new Error('The in-process job runner is closed');
    if (delayMs > 0) {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        this.enqueue(queue, delivery.jobId);
      }, delayMs);
      timer.unref();
      this.timers.add(timer);
      return;
    }
    this.enqueue(queue, delivery.jobId);
  }

  private enqueue(queue: string, jobId: string): void {
    const lane = this.lane(queue);
    if (lane.push(jobId)) this.pump(lane);
  }

  private pump(lane: Lane): void {
    const handler = this.handler;
    if (!this.consuming || !handler) return;
    while (lane.active < this.concurrency) {
      const jobId = lane.shift();
      if (jobId === undefined) return;
      lane.active++;
      void handler(jobId)
        .catch(() => undefined)
        .finally(() => {
          lane.active--;
          this.pump(lane);
        });
    }
  }

  consume(queues: string[], concurrency: number, handler: (jobId: string) => Promise<void>): void {
    this.handler = handler;
    this.concurrency = concurrency;
    this.consuming = true;
    for (const queue of queues) this.pump(this.lane(queue));
  }

  async stopConsuming(): Promise<void> {
    this.consuming = false;
  }

  async close(): Promise<void> {
    this.consuming = false;
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}
