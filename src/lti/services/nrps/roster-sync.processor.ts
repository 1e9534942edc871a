import type { JobContext, JobProcessor } from '../../../jobs/processors/job-processor';
import { ProcessesJob, UnrecoverableJobError } from '../../../jobs/processors/job-processor';
import { PlatformCallError } from '../platform-tokens/platform-http';
import { ROSTER_SYNC_JOB, RosterSyncPayload, SCHEDULED_ROSTER_SYNC_JOB } from '../lti-services.jobs';
import { LtiRosterRepository } from './lti-roster.repository';
import { RosterSync } from './roster-sync';

/** Runs a roster sync; its result artifact is the summary `{ added, updated, removed, unchanged }` as JSON. */
@ProcessesJob(ROSTER_SYNC_JOB)
export class RosterSyncProcessor implements JobProcessor<RosterSyncPayload> {
  constructor(
    private readonly repo: LtiRosterRepository,
    private readonly roster: RosterSync,
  ) {}

  async process(ctx: JobContext<RosterSyncPayload>): Promise<void> {
    const context = await this.repo.findContext(ctx.payload.contextRef);
    if (!context || !context.platformLive) throw new UnrecoverableJobError('The LMS course or its platform is gone.');
    const url = await this.repo.membershipsUrl(context.id, context.platformId);
    if (!url) throw new UnrecoverableJobError('No launch of this LMS course carried a roster service (NRPS) claim.');
    try {
      const summary = await this.roster.sync(context, url, ctx.payload.filter ?? {}, (done) => ctx.progress(done));
      await ctx.writeArtifact('summary.json', JSON.stringify(summary), { contentType: 'application/json' });
      await ctx.writeArtifact('result', JSON.stringify(summary));
    } catch (e) {
      if (e instanceof PlatformCallError && !e.retryable) throw new UnrecoverableJobError(e.message);
      throw e;
    }
  }
}

/** The schedule's syncs: the same work, owned by the system. */
@ProcessesJob(SCHEDULED_ROSTER_SYNC_JOB)
export class ScheduledRosterSyncProcessor extends RosterSyncProcessor {}
