import { Injectable, Logger } from '@nestjs/common';
import { Cron, CronExpression } from '@nestjs/schedule';
import { InjectSettings } from '../config/settings.module';
import { Settings } from '../config/settings.schema';
import { WebhooksRepository } from './webhooks.repository';

const BATCH = 1000;

/**
 * Purges, every hour, webhook deliveries finished (delivered or failed) more than
 * WEBHOOK_DELIVERY_RETENTION_DAYS ago, with their attempts, in batches. Pending deliveries are kept
 * however old (a disabled subscription's waiting ones). Every process runs it; a second purge at the
 * same moment skips the rows the first one holds.
 */
@Injectable()
export class WebhooksRetention {
  private readonly logger = new Logger('Webhooks');

  constructor(
    private readonly repo: WebhooksRepository,
    @InjectSettings() private readonly settings: Settings,
  ) {}

  @Cron(CronExpression.EVERY_HOUR, { name: 'webhooks-retention' })
  async purgeOnSchedule(): Promise<void> {
    try {
      const purged = await this.purgeExpired();
      if (purged > 0)
        this.logger.log(
          `Purged ${purged} webhook deliveries finished more than ${this.settings.WEBHOOK_DELIVERY_RETENTION_DAYS} days ago`,
        );
    } catch (e) {
      this.logger.warn(`Webhook delivery purge failed: ${(e as Error).message}`);
    }
  }

  /** Purges the finished deliveries past the retention; returns how many. */
  async purgeExpired(now = new Date()): Promise<number> {
    const cutoff = new Date(now.getTime() - this.settings.WEBHOOK_DELIVERY_RETENTION_DAYS * 86_400_000);
    let total = 0;
    for (;;) {
      const purged = await this.repo.purgeFinished(cutoff, BATCH);
      total += purged;
      if (purged < BATCH) return total;
    }
  }
}
