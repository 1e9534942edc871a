/**
 * Gathers calls made in the same tick into one call of `flush`, so that concurrent jobs share one
 * statement (and one commit) instead of paying one each. `flush` answers item by item, in order.
 */
export class MicroBatcher<I, O> {
  private items: I[] = [];
  private waiters: { resolve: (o: O) => void; reject: (e: unknown) => void }[] = [];
  private scheduled = false;

  constructor(
    private readonly flush: (items: I[]) => Promise<O[]>,
    private readonly maxSize = 200,
  ) {}

  add(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.items.push(item);
      this.waiters.push({ resolve, reject });
      if (this.items.length >= this.maxSize) this.run();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.run());
      }
    });
  }

  private run(): void {
    this.scheduled = false;
    if (this.items.length === 0) return;
    const items = this.items;
    const waiters = this.waiters;
    this.items = [];
    this.waiters = [];
    this.flush(items).then(
      (out) => waiters.forEach((w, i) => w.resolve(out[i])),
      (e: unknown) => waiters.forEach((w) => w.reject(e)),
    );
  }
}
