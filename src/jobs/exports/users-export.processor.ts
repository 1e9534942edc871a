import { pipeline, Readable } from 'node:stream';
import { UsersService } from '../../accounts/users/users.service';
import { csvWriter } from '../../common/csv/csv-writer';
import { JobContext, JobProcessor, ProcessesJob } from '../processors/job-processor';
import { RESULT_ARTIFACT } from '../dto/job.dto';
import { USERS_EXPORT, USERS_EXPORT_COLUMNS, UsersExportPayload } from './users-export.job';

const PAGE_SIZE = 1000;

/**
 * Streams the organization's users page by page through the CSV writer (common) into the artifact storage:
 * memory stays flat whatever the row count. Progress (and the cancel check) after every page; a
 * re-run overwrites `users.csv`.
 */
@ProcessesJob(USERS_EXPORT)
export class UsersExportProcessor implements JobProcessor<UsersExportPayload> {
  constructor(private readonly users: UsersService) {}

  async process(ctx: JobContext<UsersExportPayload>): Promise<void> {
    const { organizationId } = ctx.payload;
    const total = await this.users.countInOrganization(organizationId);
    await ctx.progress(0, total);
    const users = this.users;
    let exported = 0;
    const rows = Readable.from(
      (async function* () {
        for await (const page of users.pagesInOrganization(organizationId, PAGE_SIZE)) {
          for (const u of page) {
            yield [u.id, u.username, u.email ?? '', u.firstName, u.lastName, u.isActive, u.kind, u.source, u.createdAt];
          }
          exported += page.length;
          await ctx.progress(exported, Math.max(total, exported));
        }
      })(),
    );
    const csv = csvWriter(USERS_EXPORT_COLUMNS);
    // The artifact storage starts reading csv only once it is ready, and stops at its first error: an error of
    // the rows (a cancel seen at a progress report) before or after that must not go unheard and end the
    // process. pipeline listens for it throughout and destroys csv with it, so the write still fails with it.
    pipeline(rows, csv, () => undefined);
    try {
      await ctx.writeArtifact('users.csv', csv, { contentType: 'text/csv; charset=utf-8' });
    } finally {
      rows.destroy();
    }
    await ctx.writeArtifact(RESULT_ARTIFACT, `Exported ${exported} users.`);
  }
}
