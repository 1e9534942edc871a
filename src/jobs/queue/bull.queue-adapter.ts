import Bull from 'bull';
import Redis, { type RedisOptions } from 'ioredis';
import { MicroBatcher } from '../../common/batching/micro-batcher';
import { Delivery, QueueAdapter } from './queue-adapter';

export interface BullQueueAdapterOptions {
  /** The declared queues by name, as @nestjs/bull registered them. */
  queues: ReadonlyMap<string, Bull.Queue<BullDeliveryData>>;
  /** The connections Bull made for them, closed with the adapter. */
  connections: BullConnections;
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

/**
 * Bull's `createClient` for every queue, keeping the connections it makes: Bull does not close
 * connections it was handed. The command connection sends the commands issued in one tick (fetches,
 * acks, dispatches) in one write; the blocking and subscriber connections stay as Bull makes them.
 */
export class BullConnections {
  private readonly clients: Redis[] = [];

  readonly create = (type: 'client' | 'subscriber' | 'bclient', opts?: RedisOptions): Redis => {
    const client =
      type === 'client'
        ? new Redis({ ...opts, enableAutoPipelining: true })
        : new Redis({ ...opts, maxRetriesPerRequest: null, enableReadyCheck: false });
    this.clients.push(client);
    return client;
  };

  disconnect(): void {
    for (const client of this.clients.splice(0)) client.disconnect();
  }
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
 * Each delivery's Bull id is `<job id>-<lease>`, so dispatching the same run twice adds it once.
 */
export class BullQueueAdapter implements QueueAdapter {
  readonly kind = 'bull' as const;
  private readonly consumed = new Set<string>();
  private readonly batchers = new Map<string, MicroBatcher<Delivery, void>>();
  private readonly connecting = new Map<Bull.Queue<BullDeliveryData>, Promise<void>>();
  private readonly dispatchTimeoutMs: number;

  constructor(private readonly options: BullQueueAdapterOptions) {
    this.dispatchTimeoutMs = options.dispatchTimeoutMs ?? 2000;
    for (const [name, queue] of options.queues) queue.on('error', (e: Error) => options.onError?.(name, e));
  }

  /** The Bull queue of a declared name. */
  queue(name: string): Bull.Queue<BullDeliveryData> {
    const queue = this.options.queues.get(name);
    if (!queue)
      throw new Error(`Job queue ${name} is not declared (@DeclaresJobQueues on the module of its processors)`);
    return queue;
  }

  async dispatch(queueName: string, delivery: Delivery, delayMs: number): Promise<void> {
    const queue = this.queue(queueName);
    await this.ready(queue);
    if (delayMs > 0) {
      await withTimeout(
        queue.add({ jobId: delivery.jobId }, this.jobOptions(delivery, delayMs)),
        this.dispatchTimeoutMs,
        'Adding to the queue',
      );
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
      jobId: `${delivery.jobId}-${delivery.lease}`,
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
      connected = new Promise<void>((resolve) => client.once('ready', () => resolve())).finally(() =>
        this.connecting.delete(queue),
      );
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
    await Promise.all(
      [...this.options.queues.values()].map((q) =>
        withTimeout(q.close(true), 5000, 'Closing the queue').catch(() => undefined),
      ),
    );
    this.options.connections.disconnect();
    this.consumed.clear();
    this.batchers.clear();
  }
}
