import { Body, Controller, Module, Post } from '@nestjs/common';
import { Type } from 'class-transformer';
import { IsBoolean, IsInt, IsObject, IsOptional, IsString, Max, Min } from 'class-validator';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { Public } from '../../src/common/decorators/public.decorator';
import { TransactionRunner } from '../../src/database/transaction';
import { JobsModule } from '../../src/jobs/jobs.module';
import { USERS_EXPORT, UsersExportPayload } from '../../src/jobs/exports/users-export.job';
import { JobsService } from '../../src/jobs/jobs.service';
import { defineJob } from '../../src/jobs/processors/job-definition';
import {
  AbandonedJob,
  JobContext,
  JobProcessor,
  ProcessesJob,
  UnrecoverableJobError,
} from '../../src/jobs/processors/job-processor';
import { DeclaresJobQueues } from '../../src/jobs/queue/job-queues';

export const TEST_QUEUE = 'test';

export interface StepsPayload {
  steps: number;
  stepMs?: number;
  /** The first `failTimes` runs throw after their steps. */
  failTimes?: number;
  failMessage?: string;
  /** The failures are ones no retry can fix. */
  unrecoverable?: boolean;
  /** A stored artifact of `bytes` deterministic bytes, written at step `atStep` (default: after the last step). */
  file?: { name: string; bytes: number; atStep?: number };
  /** Inline text written as the `result` artifact at the end. */
  result?: string;
}

export const STEPS_JOB = defineJob<StepsPayload>('test.steps', { queue: TEST_QUEUE });
export const NOOP_JOB = defineJob<Record<string, never>>('test.noop');
/** A job that needs what users.export needs of its owner, and waits at a gate after its first step. */
export const GATED_EXPORT_JOB = defineJob<UsersExportPayload>('test.gated-export', {
  queue: TEST_QUEUE,
  requires: USERS_EXPORT.requires,
});

/** Gates by job id: a job waits at its gate until the test opens it; the test can wait for it to arrive. */
class JobGates {
  private readonly gates = new Map<
    string,
    { arrive: () => void; arrived: Promise<void>; open: () => void; opened: Promise<void> }
  >();

  private gate(jobId: string) {
    let gate = this.gates.get(jobId);
    if (!gate) {
      let arrive!: () => void;
      let open!: () => void;
      const arrived = new Promise<void>((resolve) => (arrive = resolve));
      const opened = new Promise<void>((resolve) => (open = resolve));
      this.gates.set(jobId, (gate = { arrive, arrived, open, opened }));
    }
    return gate;
  }

  async pass(jobId: string): Promise<void> {
    const gate = this.gate(jobId);
    gate.arrive();
    await gate.opened;
  }

  arrived(jobId: string): Promise<void> {
    return this.gate(jobId).arrived;
  }

  open(jobId: string): void {
    this.gate(jobId).open();
  }
}

export const jobGates = new JobGates();

/** Deterministic content: line i is "line <i>" padded, so a truncated or doubled file is easy to spot. */
export function fileContent(bytes: number): Readable {
  return Readable.from(
    (function* () {
      const chunk = 64 * 1024;
      for (let offset = 0; offset < bytes; offset += chunk) {
        const n = Math.min(chunk, bytes - offset);
        const b = Buffer.alloc(n);
        for (let i = 0; i < n; i++) b[i] = 97 + ((offset + i) % 26);
        yield b;
      }
    })(),
  );
}

/** Runs of each job seen in this process, for "runs once" checks. */
export const runsByJob = new Map<string, number>();
/** What StepsProcessor.abandoned() was told, by job id. */
export const abandonedJobs = new Map<string, Pick<AbandonedJob<StepsPayload>, 'state' | 'error' | 'payload'>>();

@ProcessesJob(STEPS_JOB)
export class StepsProcessor implements JobProcessor<StepsPayload> {
  async process(ctx: JobContext<StepsPayload>): Promise<void> {
    runsByJob.set(ctx.jobId, (runsByJob.get(ctx.jobId) ?? 0) + 1);
    const { steps, stepMs = 0, failTimes = 0, file, result } = ctx.payload;
    await ctx.progress(0, steps);
    for (let step = 1; step <= steps; step++) {
      if (stepMs > 0) await sleep(stepMs);
      if (file && file.atStep === step)
        await ctx.writeArtifact(file.name, fileContent(file.bytes), { contentType: 'text/plain' });
      await ctx.progress(step);
    }
    if (ctx.attempt <= failTimes) {
      const message = `${ctx.payload.failMessage ?? 'planned failure'} (attempt ${ctx.attempt})`;
      throw ctx.payload.unrecoverable ? new UnrecoverableJobError(message) : new Error(message);
    }
    if (file && file.atStep === undefined)
      await ctx.writeArtifact(file.name, fileContent(file.bytes), { contentType: 'text/plain' });
    if (result !== undefined) await ctx.writeArtifact('result', result);
  }

  async abandoned({ jobId, state, error, payload }: AbandonedJob<StepsPayload>): Promise<void> {
    abandonedJobs.set(jobId, { state, error, payload });
  }
}

@ProcessesJob(GATED_EXPORT_JOB)
export class GatedExportProcessor implements JobProcessor<UsersExportPayload> {
  async process(ctx: JobContext<UsersExportPayload>): Promise<void> {
    await ctx.progress(1, 2);
    await jobGates.pass(ctx.jobId);
    await ctx.progress(2);
    await ctx.writeArtifact('result', 'done');
  }
}

@ProcessesJob(NOOP_JOB)
export class NoopProcessor implements JobProcessor<Record<string, never>> {
  async process(): Promise<void> {}
}

export const TEST_OWNER = { type: 'user' as const, id: '00000000-0000-4000-8000-00000000a11c' };

class EnqueueBody {
  @IsInt()
  @Min(0)
  @Max(1000)
  steps: number;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  stepMs?: number;

  @IsOptional()
  @IsString()
  result?: string;

  @IsOptional()
  @IsObject()
  file?: { name: string; bytes: number; atStep?: number };

  /** Throw after enqueueing, inside the transaction. */
  @IsOptional()
  @IsBoolean()
  rollback?: boolean;
}

/** Enqueues a test job inside a request's transaction, as a domain service would. */
@Controller('test-jobs')
class TestJobsController {
  constructor(
    private readonly jobs: JobsService,
    private readonly transactions: TransactionRunner,
  ) {}

  @Public()
  @Post()
  enqueue(@Body() body: EnqueueBody): Promise<{ id: string }> {
    const { rollback, ...payload } = body;
    return this.transactions.run(async (tx) => {
      const job = await this.jobs.enqueue(STEPS_JOB, payload, { owner: TEST_OWNER }, tx);
      if (rollback) throw new Error('rolled back on purpose');
      return job;
    });
  }
}

/** Test processors (and a route enqueueing one); mounted by job tests and by the test worker entry point. */
@DeclaresJobQueues(TEST_QUEUE)
@Module({
  imports: [JobsModule],
  controllers: [TestJobsController],
  providers: [StepsProcessor, NoopProcessor, GatedExportProcessor],
})
export class JobsTestModule {}
