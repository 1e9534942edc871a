import { MemoryThrottlerStorage } from '../../src/common/throttling/memory-throttler-storage';

describe('MemoryThrottlerStorage', () => {
  let storage: MemoryThrottlerStorage;
  beforeEach(() => {
    jest.useFakeTimers({ now: new Date('2026-01-01T00:00:00Z') });
    storage = new MemoryThrottlerStorage();
  });
  afterEach(() => {
    storage.onApplicationShutdown();
    jest.useRealTimers();
  });

  it('counts hits per key and blocks the one over the limit until the block ends', async () => {
    for (let i = 1; i <= 3; i++) {
      expect(await storage.increment('ip:a', 60_000, 3, 30_000, 'auth')).toEqual({
        totalHits: i,
        timeToExpire: 60,
        isBlocked: false,
        timeToBlockExpire: 0,
      });
    }
    expect(await storage.increment('ip:a', 60_000, 3, 30_000, 'auth')).toMatchObject({
      totalHits: 4,
      isBlocked: true,
      timeToBlockExpire: 30,
    });
    // Another key and another throttler name are counted apart.
    expect(await storage.increment('ip:b', 60_000, 3, 30_000, 'auth')).toMatchObject({
      totalHits: 1,
      isBlocked: false,
    });
    expect(await storage.increment('ip:a', 60_000, 3, 30_000, 'other')).toMatchObject({
      totalHits: 1,
      isBlocked: false,
    });
    // Blocked hits are not counted, and the block holds past the window's end.
    jest.setSystemTime(Date.now() + 20_000);
    expect(await storage.increment('ip:a', 60_000, 3, 30_000, 'auth')).toMatchObject({
      totalHits: 4,
      isBlocked: true,
      timeToBlockExpire: 10,
    });
    jest.setSystemTime(Date.now() + 10_001);
    expect(await storage.increment('ip:a', 60_000, 3, 30_000, 'auth')).toMatchObject({ totalHits: 5, isBlocked: true });
  });

  it('without a block duration, blocks until the window resets, then starts a fresh window', async () => {
    for (let i = 0; i < 2; i++) await storage.increment('k', 10_000, 2, 0, 'auth');
    jest.setSystemTime(Date.now() + 4_000);
    expect(await storage.increment('k', 10_000, 2, 0, 'auth')).toMatchObject({
      totalHits: 3,
      isBlocked: true,
      timeToBlockExpire: 6,
    });
    jest.setSystemTime(Date.now() + 6_000);
    expect(await storage.increment('k', 10_000, 2, 0, 'auth')).toEqual({
      totalHits: 1,
      timeToExpire: 10,
      isBlocked: false,
      timeToBlockExpire: 0,
    });
  });

  it('keeps one small record per key however many hits it takes, and sweeps idle keys', async () => {
    for (let i = 0; i < 100_000; i++) await storage.increment('busy', 60_000, 1_000_000_000, 0, 'auth');
    expect(await storage.increment('busy', 60_000, 1_000_000_000, 0, 'auth')).toMatchObject({
      totalHits: 100_001,
      isBlocked: false,
    });
    await storage.increment('idle', 1_000, 10, 0, 'auth');
    expect(storage.size).toBe(2);
    jest.advanceTimersByTime(61_000);
    expect(storage.size).toBe(0);
  });
});
