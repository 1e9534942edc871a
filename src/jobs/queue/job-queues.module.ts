import { BullAdapter } from '@bull-board/api/bullAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { BullBoardModule } from '@bull-board/nestjs';
import { BullModule, getQueueToken } from '@nestjs/bull';
import { DynamicModule, Logger, Module, Provider } from '@nestjs/common';
import type { Queue } from 'bull';
import { AccountsModule } from '../../accounts/accounts.module';
import { QUEUE_DASHBOARD_PATH } from '../../accounts/auth/dashboard-session';
import { TokenVerifier } from '../../accounts/auth/token-verifier.service';
import { UsersService } from '../../accounts/users/users.service';
import { Settings } from '../../config/settings.schema';
import { queueDashboardGuard } from '../dashboard/queue-dashboard';
import { BullConnections, BullDeliveryData, BullQueueAdapter, redisOptions } from './bull.queue-adapter';
import { InProcessQueueAdapter } from './in-process.queue-adapter';
import { JOB_QUEUE_NAMES } from './job-queues';
import { QUEUE_ADAPTER } from './queue-adapter';
import { redisKey } from '../../common/redis/redis-key';

/** Queue errors (Redis down, mostly) are logged at most every 10 s, however many queues report them. */
function queueErrorLogger(): (queue: string, e: Error) => void {
  const logger = new Logger('Jobs');
  let lastLog = 0;
  return (queue, e) => {
    if (Date.now() - lastLog < 10_000) return;
    lastLog = Date.now();
    logger.warn(`Queue ${queue}: ${e.message}`);
  };
}

/**
 * The queues that carry job deliveries, as the application declared them (`@DeclaresJobQueues`).
 *
 * Without REDIS_URL: the in-process runner. With it: one Bull queue per declared name, registered with
 * @nestjs/bull on the shared connection settings, and the staff dashboard (@bull-board/nestjs) at
 * /admin/queues, read-only (jobs are canceled and retried through their rows, which stay the truth).
 * Global: JobsModule and every module that enqueues reach `QUEUE_ADAPTER` through it.
 */
@Module({})
export class JobQueuesModule {
  static forRoot(settings: Settings, queues: string[]): DynamicModule {
    const names: Provider = { provide: JOB_QUEUE_NAMES, useValue: queues };
    if (!settings.REDIS_URL) {
      return {
        module: JobQueuesModule,
        global: true,
        providers: [names, { provide: QUEUE_ADAPTER, useFactory: () => new InProcessQueueAdapter() }],
        exports: [names, QUEUE_ADAPTER],
      };
    }
    const connections = new BullConnections();
    return {
      module: JobQueuesModule,
      global: true,
      imports: [
        BullModule.forRoot({
          redis: redisOptions(settings.REDIS_URL),
          prefix: redisKey(settings, 'bull'),
          createClient: connections.create,
          settings: { lockDuration: 30_000, stalledInterval: 30_000, maxStalledCount: 1 },
        }),
        BullModule.registerQueue(...queues.map((name) => ({ name }))),
        BullBoardModule.forRootAsync({
          imports: [AccountsModule],
          inject: [TokenVerifier, UsersService],
          useFactory: (verifier: TokenVerifier, users: UsersService) => ({
            route: QUEUE_DASHBOARD_PATH,
            adapter: ExpressAdapter,
            boardOptions: { uiConfig: { boardTitle: 'Campus Access' } },
            middleware: queueDashboardGuard(verifier, users),
          }),
        }),
        BullBoardModule.forFeature(
          ...queues.map((name) => ({
            name,
            adapter: BullAdapter,
            options: { readOnlyMode: true, description: 'Deliveries of job ids; each job is a row of /api/v1/jobs.' },
          })),
        ),
      ],
      providers: [
        names,
        {
          provide: QUEUE_ADAPTER,
          inject: queues.map((name) => getQueueToken(name)),
          useFactory: (...bullQueues: Queue<BullDeliveryData>[]) =>
            new BullQueueAdapter({
              queues: new Map(queues.map((name, i) => [name, bullQueues[i]])),
              connections,
              onError: queueErrorLogger(),
            }),
        },
      ],
      exports: [names, QUEUE_ADAPTER],
    };
  }
}
