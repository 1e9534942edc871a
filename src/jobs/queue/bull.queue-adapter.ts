import Bull from 'bull';
import Redis, { type RedisOptions } from 'ioredis';
import { MicroBatcher } from '../jobs.batcher';
import { Delivery, QueueAdapter } from './queue-adapter';

export interface BullQueueAdapterOptions {
  redisUrl: string;
  prefix: string;
  /** How long a dispatch may wait for Redis before giving up (the sweeper dispatches again later). */
  dispatchTimeoutMs?: number;
  onError?: (queue: string, error: Error) => void;
}

export interface BullDeliveryData {
  jobId: string;
}

/** Connection options from REDIS_URL, reconnecting quickly (at most every 2 s) once Redis is back. */
export function redisOptions(url: string): RedisOptions {
  const u = new URL(url);
  return {
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port: Number(u.port || 6379),
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    db: Number(u.pathname.replace(/^\//, '') || 0),
    tls: u.protocol === 'rediss:' ? {} : undefined,
    retryStrategy: (times: number) => Math.min(100 * times, 2000),
  };
}

function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Bull queues carrying only job ids. Retries are scheduled by the row (attempts, backoff) and carried
 * by Bull as delayed deliveries, so a retry survives Redis losing a job: the sweeper sees the row.
 * Each delivery's Bull id is `<job id>-<attempt>`, so dispatching the same run twice adds it once.
 */
export class BullQueueAdapter implements QueueAdapter {
  readonly kind = 'bull' as const;
  private readonly queues = new Map<string, Bull.Queue<BullDeliveryData>>();
  private readonly consumed = new Set<string>();
  private readonly batchers = new Map<string, MicroBatcher<Delivery, void>>();
  private readonly connecting = new Map<Bull.Queue<BullDeliveryData>, Promise<void>>();
  private readonly dispatchTimeoutMs: number;
  /** Connections made for the queues (Bull does not close connections it was handed). */
  private readonly clients: Redis[] = [];

  constructor(private readonly options: BullQueueAdapterOptions) {
    this.dispatchTimeoutMs = options.dispatchTimeoutMs ?? 2000;
  }

  /** The Bull queue of a name (created on first use); the dashboard shows these. */
  queue(name: string): Bull.Queue<BullDeliveryData> {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new Bull<BullDeliveryData>(name, {
        redis: redisOptions(this.options.redisUrl),
        // The command connection sends the commands issued in one tick (fetches, acks, dispatches) in
        // one write; the blocking and subscriber connections stay as Bull makes them.
        createClient: (type, opts) => {
          const client =
            type === 'client'
              ? new Redis({ ...opts, enableAutoPipelining: true })
              : new Redis({ ...opts, maxRetriesPerRequest: null, enableReadyCheck: false });
          this.clients.push(client);
          return client;
        },
        prefix: this.options.prefix,
        settings: { lockDuration: 30_000, stalledInterval: 30_000, maxStalledCount: 1 },
      });
      queue.on('error', (e: Error) => this.options.onError?.(name, e));
      this.queues.set(name, queue);
    }
    return queue;
  }

  allQueues(): Bull.Queue<BullDeliveryData>[] {
    return [...this.queues.values()];
  }

  async dispatch(queueName: string, delivery: Delivery, delayMs: number): Promise<void> {
    const queue = this.queue(queueName);
    await this.ready(queue);
    if (delayMs > 0) {
      await withTimeout(queue.add({ jobId: delivery.jobId }, this.jobOptions(delivery, delayMs)), this.dispatchTimeoutMs, 'Adding to the queue');
      return;
    }
    let batcher = this.batchers.get(queueName);
    if (!batcher) {
      // Deliveries dispatched together go to Redis in one pipeline.
      batcher = new MicroBatcher<Delivery, void>(async (deliveries) => {
        await withTimeout(
          queue.addBulk(deliveries.map((d) => ({ data: { jobId: d.jobId }, opts: this.jobOptions(d, 0) }))),
          this.dispatchTimeoutMs,
          'Adding to the queue',
        );
        return deliveries.map(() => undefined);
      });
      this.batchers.set(queueName, batcher);
    }
    await batcher.add(delivery);
  }

  private jobOptions(delivery: Delivery, delayMs: number): Bull.JobOptions {
    return {
      jobId: `${delivery.jobId}-${delivery.attempt}`,
      delay: delayMs > 0 ? delayMs : undefined,
      attempts: 1,
      removeOnComplete: true,
      removeOnFail: true,
    };
  }

  private async ready(queue: Bull.Queue<BullDeliveryData>): Promise<void> {
    const client = queue.client;
    if (client.status === 'ready') return;
    // While Redis is down, fail fast instead of stacking commands in the client's offline queue.
    if (client.status === 'reconnecting' || client.status === 'end' || client.status === 'close') {
      throw new Error(`Redis is not reachable (connection ${client.status})`);
    }
    // One wait per connection, however many dispatches are waiting on it.
    let connected = this.connecting.get(queue);
    if (!connected) {
      connected = new Promise<void>((resolve) => client.once('ready', () => resolve())).finally(() => this.connecting.delete(queue));
      this.connecting.set(queue, connected);
    }
    await withTimeout(connected, Math.min(this.dispatchTimeoutMs, 1000), 'Connecting to Redis');
  }

  consume(queues: string[], concurrency: number, handler: (jobId: string) => Promise<void>): void {
    for (const name of queues) {
      if (this.consumed.has(name)) continue;
      this.consumed.add(name);
      this.queue(name)
        .process(concurrency, (job: Bull.Job<BullDeliveryData>) => handler(job.data.jobId))
        .catch((e: Error) => this.options.onError?.(name, e));
    }
  }

  async stopConsuming(): Promise<void> {
    // Local pause: this process stops fetching; running handlers are not awaited here.
    await Promise.all(
      [...this.consumed].map((name) =>
        withTimeout(this.queue(name).pause(true, true), 2000, 'Pausing the queue').catch(() => undefined),
      ),
    );
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => withTimeout(q.close(true), 5000, 'Closing the queue').catch(() => undefined)));
    for (const client of this.clients.splice(0)) client.disconnect();
    this.queues.clear();
    this.consumed.clear();
    this.batchers.clear();
  }
}
