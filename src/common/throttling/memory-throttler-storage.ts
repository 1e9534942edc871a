import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';

type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

interface Window {
  hits: number;
  /** Epoch ms when this window's count resets. */
  resetAt: number;
  /** Epoch ms until which the key stays blocked once it went over the limit. */
  blockedUntil: number;
}

const SWEEP_INTERVAL_MS = 60_000;

/**
 * Attempt counters in process memory for one replica (REDIS_URL shares them across replicas instead).
 *
 * A fixed window per key: O(1) per hit whatever the traffic. @nestjs/throttler's own memory storage keeps
 * one timestamp per hit and scans them on every hit, which costs milliseconds per request once a busy key
 * has tens of thousands of hits in its window.
 */
@Injectable()
export class MemoryThrottlerStorage implements ThrottlerStorage, OnApplicationShutdown {
  private readonly windows = new Map<string, Window>();
  private readonly sweeper = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS).unref();

  async increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerStorageRecord> {
    const now = Date.now();
    const id = `${throttlerName}:${key}`;
    let w = this.windows.get(id);
    if (!w || (w.resetAt <= now && w.blockedUntil <= now)) {
      w = { hits: 0, resetAt: now + ttl, blockedUntil: 0 };
      this.windows.set(id, w);
    } else if (w.resetAt <= now) {
      w.hits = 0;
      w.resetAt = now + ttl;
    }
    if (w.blockedUntil <= now) {
      w.hits++;
      if (w.hits > limit) w.blockedUntil = now + (blockDuration > 0 ? blockDuration : w.resetAt - now);
    }
    const isBlocked = w.blockedUntil > now;
    return {
      totalHits: w.hits,
      timeToExpire: Math.ceil((w.resetAt - now) / 1000),
      isBlocked,
      timeToBlockExpire: isBlocked ? Math.ceil((w.blockedUntil - now) / 1000) : 0,
    };
  }

  /** Drops windows that have reset and are not blocked, so idle keys do not accumulate. */
  sweep(now = Date.now()): void {
    for (const [id, w] of this.windows) if (w.resetAt <= now && w.blockedUntil <= now) this.windows.delete(id);
  }

  get size(): number {
    return this.windows.size;
  }

  onApplicationShutdown(): void {
    clearInterval(this.sweeper);
    this.windows.clear();
  }
}
