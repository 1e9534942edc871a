/**
 * Gathers calls made in the same tick into one call of `flush`, so that concurrent jobs share one
 * statement (and one commit) instead of paying one each. `flush` answers item by item, in order.
 *
 * With `maxInFlight`, at most that many flushes run at once: calls made while they run wait and go
 * together in the next one (a full batch of `maxSize` goes at once regardless), so under load the
 * batches grow instead of the statements multiplying.
 */
export class MicroBatcher<I, O> {
  private items: I[] = [];
  private waiters: { resolve: (o: O) => void; reject: (e: unknown) => void }[] = [];
  private scheduled = false;
  private inFlight = 0;

  constructor(
    private readonly flush: (items: I[]) => Promise<O[]>,
    private readonly maxSize = 200,
    private readonly maxInFlight = Infinity,
  ) {}

  add(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.items.push(item);
      this.waiters.push({ resolve, reject });
      if (this.items.length >= this.maxSize) this.run(true);
      else this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.maxInFlight) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.run(false);
    });
  }

  private run(full: boolean): void {
    if (this.items.length === 0) return;
    if (!full && this.inFlight >= this.maxInFlight) return;
    const items = this.items;
    const waiters = this.waiters;
    this.items = [];
    this.waiters = [];
    this.inFlight++;
    let flushing: Promise<O[]>;
    try {
      flushing = this.flush(items);
    } catch (e) {
      flushing = Promise.reject(e);
    }
    flushing
      .then(
        (out) => waiters.forEach((w, i) => w.resolve(out[i])),
        (e: unknown) => waiters.forEach((w) => w.reject(e)),
      )
      .finally(() => {
        this.inFlight--;
        if (this.items.length > 0) this.schedule();
      });
  }
}
