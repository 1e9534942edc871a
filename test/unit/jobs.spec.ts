import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { DiscoveryModule, NestFactory } from '@nestjs/core';
import fc from 'fast-check';
import { MicroBatcher } from '../../src/common/batching/micro-batcher';
import { errorText, retryBackoffMs } from '../../src/jobs/jobs.runner';
import { defineJob } from '../../src/jobs/processors/job-definition';
import { JobProcessor, ProcessesJob } from '../../src/jobs/processors/job-processor';
import { JobProcessorRegistry } from '../../src/jobs/processors/job-processor.registry';
import { InProcessQueueAdapter } from '../../src/jobs/queue/in-process.queue-adapter';
import { declaredJobQueues, DeclaresJobQueues, JOB_QUEUE_NAMES } from '../../src/jobs/queue/job-queues';
import { ARTIFACT_NAME } from '../../src/jobs/storage/artifact-storage';

describe('retryBackoffMs', () => {
  it('doubles from the base with each attempt and never exceeds an hour', () => {
    expect([1, 2, 3, 4].map((a) => retryBackoffMs(5000, a))).toEqual([5000, 10_000, 20_000, 40_000]);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000_000 }), fc.integer({ min: 1, max: 1000 }), (base, attempt) => {
        const delay = retryBackoffMs(base, attempt);
        return delay <= 3_600_000 && delay >= Math.min(base, 3_600_000) && delay <= retryBackoffMs(base, attempt + 1);
      }),
    );
  });
});

describe('errorText', () => {
  it('always gives a non-empty message, cut to a bounded length', () => {
    expect(errorText(new Error('boom'))).toBe('boom');
    expect(errorText(new TypeError(''))).toBe('TypeError');
    expect(errorText('plain')).toBe('plain');
    expect(errorText(undefined)).toBe('undefined');
    expect(errorText(new Error('x'.repeat(10_000)))).toHaveLength(4000);
  });
});

describe('defineJob', () => {
  it('accepts dotted lower-case names and puts jobs on the default queue unless told otherwise', () => {
    expect(defineJob('users.export')).toEqual({ name: 'users.export', queue: 'default' });
    expect(defineJob('a.b_c-d', { queue: 'exports' }).queue).toBe('exports');
    for (const bad of ['', 'Users.export', '.x', 'x..y', 'a b', 'x'.repeat(101)])
      expect(() => defineJob(bad)).toThrow(/Invalid job name/);
  });
});

describe('ARTIFACT_NAME', () => {
  it('never lets a name leave the job folder', () => {
    fc.assert(
      fc.property(
        fc.string(),
        (name) => !ARTIFACT_NAME.test(name) || (!name.includes('/') && !name.includes('\\') && !name.startsWith('.')),
      ),
    );
    expect(ARTIFACT_NAME.test('users.csv')).toBe(true);
    expect(ARTIFACT_NAME.test('../etc/passwd')).toBe(false);
  });
});

describe('MicroBatcher', () => {
  it('answers each caller from one flush of the calls made together', async () => {
    const flushes: number[][] = [];
    const batcher = new MicroBatcher<number, number>(async (items) => {
      flushes.push(items);
      return items.map((i) => i * 2);
    });
    expect(await Promise.all([1, 2, 3].map((i) => batcher.add(i)))).toEqual([2, 4, 6]);
    expect(flushes).toEqual([[1, 2, 3]]);
  });

  it('flushes early at its size limit and rejects every caller of a failed flush', async () => {
    const sizes: number[] = [];
    const batcher = new MicroBatcher<number, void>(async (items) => {
      sizes.push(items.length);
      if (items.includes(13)) throw new Error('unlucky');
      return items.map(() => undefined);
    }, 5);
    const results = await Promise.allSettled(Array.from({ length: 15 }, (_, i) => batcher.add(i)));
    expect(sizes).toEqual([5, 5, 5]);
    expect(results.slice(10).every((r) => r.status === 'rejected')).toBe(true);
    expect(results.slice(0, 10).every((r) => r.status === 'fulfilled')).toBe(true);
  });
});

describe('InProcessQueueAdapter', () => {
  it('runs at most `concurrency` deliveries at once and a waiting delivery only once', async () => {
    const adapter = new InProcessQueueAdapter();
    // Dispatched before anyone consumes, each twice: they wait, deduplicated.
    for (let i = 0; i < 10; i++) {
      await adapter.dispatch('q', { jobId: `j${i}`, lease: 0 }, 0);
      await adapter.dispatch('q', { jobId: `j${i}`, lease: 0 }, 0);
    }
    let active = 0;
    let peak = 0;
    const seen: string[] = [];
    await new Promise<void>((resolve) =>
      adapter.consume(['q'], 3, async (id) => {
        seen.push(id);
        peak = Math.max(peak, ++active);
        await new Promise((r) => setTimeout(r, 5));
        active--;
        if (seen.length === 10) setTimeout(resolve, 30);
      }),
    );
    expect(peak).toBe(3);
    expect(seen).toEqual(Array.from({ length: 10 }, (_, i) => `j${i}`));
    await adapter.close();
  });

  it('holds a delayed delivery back until its delay has passed', async () => {
    const adapter = new InProcessQueueAdapter();
    const ran: number[] = [];
    const started = Date.now();
    adapter.consume(['q'], 1, async () => {
      ran.push(Date.now() - started);
    });
    await adapter.dispatch('q', { jobId: 'late', lease: 1 }, 80);
    await new Promise((r) => setTimeout(r, 40));
    expect(ran).toEqual([]);
    await new Promise((r) => setTimeout(r, 80));
    expect(ran).toHaveLength(1);
    expect(ran[0]).toBeGreaterThanOrEqual(75);
    await adapter.close();
  });
});

describe('declared job queues', () => {
  const ELSEWHERE = defineJob<Record<string, never>>('test.elsewhere', { queue: 'elsewhere' });

  @ProcessesJob(ELSEWHERE)
  class ElsewhereProcessor implements JobProcessor<Record<string, never>> {
    async process(): Promise<void> {}
  }

  @DeclaresJobQueues('alpha', 'beta')
  @Module({})
  class Alpha {}

  @DeclaresJobQueues('beta', 'gamma')
  @Module({})
  class Beta {}

  @Module({})
  class Plain {}

  it('are collected from modules and dynamic modules, each once', () => {
    expect(declaredJobQueues([Alpha, { module: Beta }, Plain])).toEqual(['alpha', 'beta', 'gamma']);
  });

  it('stop the application at start-up when a processor runs on a queue no module declares', async () => {
    @Module({
      imports: [DiscoveryModule],
      providers: [{ provide: JOB_QUEUE_NAMES, useValue: ['default'] }, JobProcessorRegistry, ElsewhereProcessor],
    })
    class App {}
    await expect(NestFactory.createApplicationContext(App, { logger: false, abortOnError: false })).rejects.toThrow(
      /queue elsewhere, which no module declares/,
    );
  });

  it('let a processor on a declared queue start', async () => {
    @Module({
      imports: [DiscoveryModule],
      providers: [{ provide: JOB_QUEUE_NAMES, useValue: ['elsewhere'] }, JobProcessorRegistry, ElsewhereProcessor],
    })
    class App {}
    const app = await NestFactory.createApplicationContext(App, { logger: false, abortOnError: false });
    expect(app.get(JobProcessorRegistry).queues()).toEqual(['elsewhere']);
    await app.close();
  });
});
