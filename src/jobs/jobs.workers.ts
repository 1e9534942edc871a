import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnModuleDestroy,
} from '@nestjs/common';
import { InjectSettings } from '../config/settings.module';
import { Settings } from '../config/settings.schema';
import { JobRunner } from './jobs.runner';
import { JobProcessorRegistry } from './processors/job-processor.registry';
import { QUEUE_ADAPTER, QueueAdapter } from './queue/queue-adapter';

/**
 * Starts this process's workers once the application is up, and on shutdown stops taking jobs,
 * lets running ones finish (SHUTDOWN_TIMEOUT_MS), then hands back what still runs.
 */
@Injectable()
export class JobWorkers implements OnApplicationBootstrap, OnModuleDestroy, BeforeApplicationShutdown {
  private readonly logger = new Logger('Jobs');
  private started = false;

  constructor(
    @Inject(QUEUE_ADAPTER) private readonly adapter: QueueAdapter,
    private readonly runner: JobRunner,
    private readonly registry: JobProcessorRegistry,
    @InjectSettings() private readonly settings: Settings,
  ) {}

  /** The in-process runner always works (nothing else would run its jobs); Bull workers follow JOB_WORKERS_ENABLED. */
  get enabled(): boolean {
    return this.adapter.kind === 'in-process' || this.settings.JOB_WORKERS_ENABLED;
  }

  onApplicationBootstrap(): void {
    const queues = this.registry.queues();
    if (!this.enabled) {
      this.logger.log(`Job workers are off in this process (queues: ${this.adapter.kind})`);
      return;
    }
    this.adapter.consume(queues, this.settings.JOB_CONCURRENCY, (jobId) => this.runner.run(jobId));
    this.started = true;
    this.logger.log(
      `Job workers started (${this.adapter.kind}, queues: ${queues.join(', ') || 'none'}, concurrency ${this.settings.JOB_CONCURRENCY})`,
    );
  }

  async onModuleDestroy(): Promise<void> {
    if (!this.started) return;
    await this.adapter.stopConsuming();
    await this.runner.stop(this.settings.SHUTDOWN_TIMEOUT_MS);
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.adapter.close();
  }
}
