import { BeforeApplicationShutdown, Injectable, OnModuleInit } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { InjectSettings } from '../../config/settings.module';
import { Settings } from '../../config/settings.schema';
import { AuditEntry, AuditService } from './audit.service';

export interface IssuedClientToken {
  serviceAccountId: string;
  organizationId: string;
  scope: string;
  ip: string;
}

interface Tally extends IssuedClientToken {
  count: number;
  firstAt: string;
  lastAt: string;
}

/** Tokens are counted together per client, scope and address. */
const tallyKey = (t: IssuedClientToken) => `${t.serviceAccountId}\u0000${t.scope}\u0000${t.ip}`;

/** Events per INSERT when a flush has many clients to write. */
const FLUSH_CHUNK = 500;

/**
 * Audit of client_credentials issuance. A busy service can ask for thousands of tokens a minute: one row and
 * one commit each would make the audit table the endpoint's bottleneck and its largest table. Tokens are
 * counted per (client, scope, IP) and written as one `oauth.token_issued` event with `count`,
 * `first_issued_at` and `last_issued_at` every AUDIT_TOKEN_FLUSH_SECONDS and at shutdown. A crash loses at
 * most that interval's counts; AUDIT_TOKEN_FLUSH_SECONDS=0 writes one event per token before answering.
 */
@Injectable()
export class TokenIssuanceAudit implements OnModuleInit, BeforeApplicationShutdown {
  private pending = new Map<string, Tally>();
  private timer?: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly audit: AuditService,
    @InjectSettings() private readonly settings: Settings,
    private readonly logger: PinoLogger,
  ) {
    this.logger.setContext(TokenIssuanceAudit.name);
  }

  onModuleInit(): void {
    const seconds = this.settings.AUDIT_TOKEN_FLUSH_SECONDS;
    if (seconds > 0) this.timer = setInterval(() => void this.flush(), seconds * 1000).unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.flush();
  }

  private static entry(t: Tally): AuditEntry {
    return {
      action: 'oauth.token_issued',
      actor: { type: 'service_account', id: t.serviceAccountId } as AuditEntry['actor'],
      subjectType: 'ServiceAccount',
      subjectId: t.serviceAccountId,
      organizationId: t.organizationId,
      data: {
        grant_type: 'client_credentials',
        scope: t.scope,
        count: t.count,
        first_issued_at: t.firstAt,
        last_issued_at: t.lastAt,
      },
      ip: t.ip,
    };
  }

  /** Counts one issued token; written at the next flush (or now, when AUDIT_TOKEN_FLUSH_SECONDS is 0). */
  async issued(token: IssuedClientToken): Promise<void> {
    const now = new Date().toISOString();
    if (this.settings.AUDIT_TOKEN_FLUSH_SECONDS === 0) {
      await this.audit.record(TokenIssuanceAudit.entry({ ...token, count: 1, firstAt: now, lastAt: now }));
      return;
    }
    const key = tallyKey(token);
    const tally = this.pending.get(key);
    if (tally) {
      tally.count++;
      tally.lastAt = now;
    } else {
      this.pending.set(key, { ...token, count: 1, firstAt: now, lastAt: now });
    }
  }

  /** Writes the counts gathered so far; one flush at a time, and counts that fail to write are kept for the next. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.write());
    return this.flushing;
  }

  private async write(): Promise<void> {
    if (!this.pending.size) return;
    const batch = [...this.pending.values()];
    this.pending = new Map();
    for (let i = 0; i < batch.length; i += FLUSH_CHUNK) {
      const chunk = batch.slice(i, i + FLUSH_CHUNK);
      try {
        await this.audit.recordMany(chunk.map(TokenIssuanceAudit.entry));
      } catch (e) {
        // This chunk and every later one wait for the next flush; a database that refused one INSERT
        // (an outage, say) would most likely refuse the next too.
        const unwritten = batch.slice(i);
        for (const t of unwritten) this.merge(t);
        this.logger.error(
          { err: e, events: unwritten.length },
          'could not write token issuance audit events; keeping them for the next flush',
        );
        return;
      }
    }
  }

  /** Puts an unwritten tally back, adding it to one for the same key counted since the flush began. */
  private merge(t: Tally): void {
    const newer = this.pending.get(tallyKey(t));
    if (!newer) {
      this.pending.set(tallyKey(t), t);
      return;
    }
    newer.count += t.count;
    newer.firstAt = t.firstAt < newer.firstAt ? t.firstAt : newer.firstAt;
    newer.lastAt = t.lastAt > newer.lastAt ? t.lastAt : newer.lastAt;
  }
}
