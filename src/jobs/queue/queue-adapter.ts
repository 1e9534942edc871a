/** One delivery of a job to a worker. `lease` is the row's lease at dispatch time: it tells deliveries of different runs apart. */
export interface Delivery {
  jobId: string;
  lease: number;
}

/** Carries job ids to workers. The `jobs` row stays the truth: a lost or doubled delivery is harmless. */
export interface QueueAdapter {
  readonly kind: 'bull' | 'in-process';
  /** Puts a delivery on a queue, to be taken after `delayMs`; rejects when the queue cannot take it now. */
  dispatch(queue: string, delivery: Delivery, delayMs: number): Promise<void>;
  /** Starts taking deliveries from the queues, at most `concurrency` at once per queue. */
  consume(queues: string[], concurrency: number, handler: (jobId: string) => Promise<void>): void;
  /** Stops taking deliveries; handlers already running carry on. */
  stopConsuming(): Promise<void>;
  close(): Promise<void>;
}

export const QUEUE_ADAPTER = Symbol('QUEUE_ADAPTER');
