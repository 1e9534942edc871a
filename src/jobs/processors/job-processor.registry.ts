import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { DiscoveryService, Reflector } from '@nestjs/core';
import { JOB_QUEUE_NAMES } from '../queue/job-queues';
import type { JobDefinition, JobPermission } from './job-definition';
import { AbandonedJob, JOB_PROCESSOR, JobProcessor } from './job-processor';

interface Registered {
  definition: JobDefinition<object>;
  processor: JobProcessor<object>;
}

/** Every `@ProcessesJob` provider of the application, by job name. */
@Injectable()
export class JobProcessorRegistry implements OnModuleInit {
  private readonly logger = new Logger('Jobs');
  private readonly byName = new Map<string, Registered>();

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly reflector: Reflector,
    @Inject(JOB_QUEUE_NAMES) private readonly declaredQueues: string[],
  ) {}

  onModuleInit(): void {
    for (const wrapper of this.discovery.getProviders()) {
      if (!wrapper.metatype || !wrapper.instance) continue;
      const definition = this.reflector.get<JobDefinition<object> | undefined>(JOB_PROCESSOR, wrapper.metatype);
      if (!definition) continue;
      const existing = this.byName.get(definition.name);
      if (existing && existing.processor !== wrapper.instance) {
        throw new Error(`Two processors are registered for job ${definition.name}`);
      }
      if (!this.declaredQueues.includes(definition.queue)) {
        throw new Error(
          `Job ${definition.name} runs on queue ${definition.queue}, which no module declares: add @DeclaresJobQueues(${JSON.stringify(definition.queue)}) to the module of its processor`,
        );
      }
      this.byName.set(definition.name, { definition, processor: wrapper.instance as JobProcessor<object> });
    }
  }

  get(name: string): Registered | undefined {
    return this.byName.get(name);
  }

  /** The permission the owner of a job of this name and payload must keep, if its definition names one. */
  requiredPermission(name: string, payload: object): JobPermission | undefined {
    return this.byName.get(name)?.definition.requires?.(payload);
  }

  /** Tells each job's processor that it was abandoned (see JobProcessor.abandoned); never throws. */
  async notifyAbandoned(jobs: AbandonedJob<object>[]): Promise<void> {
    for (const job of jobs) {
      const processor = this.byName.get(job.name)?.processor;
      if (!processor?.abandoned) continue;
      try {
        await processor.abandoned(job);
      } catch (e) {
        this.logger.warn(`Releasing what job ${job.jobId} (${job.name}) held failed: ${(e as Error).message}`);
      }
    }
  }

  /** The queues some processor runs on. */
  queues(): string[] {
    return [...new Set([...this.byName.values()].map((r) => r.definition.queue))].sort();
  }

  names(): string[] {
    return [...this.byName.keys()].sort();
  }
}
