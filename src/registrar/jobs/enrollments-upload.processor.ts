import { RESULT_ARTIFACT } from '../../jobs/dto/job.dto';
import { JobContext, JobProcessor, ProcessesJob, UnrecoverableJobError } from '../../jobs/processors/job-processor';
import { TransactionRunner } from '../../database/transaction';
import { COURSE_ENROLLMENT_STATUSES } from '../course-enrollment.entity';
import { EnrollmentsService } from '../enrollments.service';
import { PROGRAM_ENROLLMENT_STATUSES } from '../program-enrollment.entity';
import { Program } from '../program.entity';
import { ProgramsRepository } from '../programs.repository';
import { StagedRowWithFlags, UploadsRepository } from '../uploads.repository';
import { EntityManager } from 'typeorm';
import { ENROLLMENTS_UPLOAD, UploadJobPayload } from './registrar.jobs';
import { writeResultFile } from './result-writer';

/** Staged rows from which the job refreshes the staging table's statistics before applying them. */
const ANALYZE_FROM_ROWS = 20_000;
/** Rows applied per transaction. */
const CHUNK = 5000;

/**
 * Applies an upload's staged rows a chunk at a time, each chunk in one transaction that also records
 * the rows' outcomes, so a repeated run continues where the last one stopped. Then writes the
 * outcomes (`result.json`: `[{ line, student_key, course_id?, status }]`) and the overall code.
 */
@ProcessesJob(ENROLLMENTS_UPLOAD)
export class EnrollmentsUploadProcessor implements JobProcessor<UploadJobPayload> {
  constructor(
    private readonly uploads: UploadsRepository,
    private readonly programs: ProgramsRepository,
    private readonly enrollments: EnrollmentsService,
    private readonly tx: TransactionRunner,
  ) {}

  async process(ctx: JobContext<UploadJobPayload>): Promise<void> {
    const { uploadId, programId, kind } = ctx.payload;
    const done = await this.uploads.isDone(uploadId);
    if (done === null) throw new UnrecoverableJobError('The upload no longer exists (its program was deleted).');
    if (done) return;
    const program = await this.programs.findById(programId);
    if (!program) throw new UnrecoverableJobError('The program no longer exists.');
    await this.uploads.flagDuplicates(uploadId);
    const total = await this.uploads.countRows(uploadId);
    if (total >= ANALYZE_FROM_ROWS) await this.uploads.analyze();
    let applied = 0;
    let lastLine = 0;
    for (;;) {
      const page = await this.uploads.pendingRows(uploadId, lastLine, CHUNK);
      if (page.length === 0) break;
      lastLine = page[page.length - 1].line;
      await this.tx.run(async (tx) => {
        const outcomes =
          kind === 'program' ? await this.programChunk(tx, program, page) : await this.courseChunk(tx, program, page);
        await this.uploads.setOutcomes(tx, uploadId, outcomes);
      });
      applied += page.length;
      await ctx.progress(applied, Math.max(total, applied));
    }
    const uploads = this.uploads;
    await writeResultFile(
      ctx,
      'json',
      [],
      (async function* () {
        let after = 0;
        for (;;) {
          const page = await uploads.outcomes(uploadId, after, CHUNK * 5);
          if (page.length === 0) return;
          yield page.map((r) => ({
            line: r.line,
            student_key: r.studentKey,
            ...(kind === 'course' ? { course_id: r.courseKey } : {}),
            status: r.outcome,
          }));
          after = page[page.length - 1].line;
        }
      })(),
      total,
    );
    const statuses = kind === 'program' ? PROGRAM_ENROLLMENT_STATUSES : COURSE_ENROLLMENT_STATUSES;
    const { ok, total: rows } = await this.uploads.tally(uploadId, statuses);
    const code = rows === 0 ? 204 : ok === rows ? 200 : ok > 0 ? 207 : 422;
    await ctx.writeArtifact(RESULT_ARTIFACT, String(code));
    await this.uploads.finish(uploadId);
  }

  private async programChunk(tx: EntityManager, program: Program, page: StagedRowWithFlags[]) {
    const rows = page.filter((r) => !r.duplicated);
    const results = await this.enrollments.applyProgramRows(
      null,
      program,
      rows.map((r) => ({ studentKey: r.studentKey, status: r.status, courseStaff: null })),
      'upsert',
      tx,
    );
    return page.map((r) => ({ line: r.line, outcome: r.duplicated ? 'duplicated' : results.get(r.studentKey)! }));
  }

  private async courseChunk(tx: EntityManager, program: Program, page: StagedRowWithFlags[]) {
    const rows = page.filter((r) => !r.duplicated);
    const keys = [...new Set(rows.map((r) => r.courseKey!))];
    const courses = await this.programs.coursesByKeys(program.id, keys, tx);
    const byKey = new Map<string, (typeof courses)[number]>();
    for (const c of courses) if (c.externalCourseKey) byKey.set(c.externalCourseKey, c);
    for (const c of courses) byKey.set(c.courseId, c);
    const outcome = new Map<number, string>();
    const byCourse = new Map<string, StagedRowWithFlags[]>();
    for (const r of rows) {
      const course = byKey.get(r.courseKey!);
      if (!course) outcome.set(r.line, 'course-not-found');
      else byCourse.set(course.id, [...(byCourse.get(course.id) ?? []), r]);
    }
    for (const [courseId, group] of byCourse) {
      const course = courses.find((c) => c.id === courseId)!;
      const results = await this.enrollments.applyCourseRows(
        null,
        program,
        course,
        group.map((r) => ({ studentKey: r.studentKey, status: r.status, courseStaff: null })),
        'upsert',
        tx,
      );
      for (const r of group) outcome.set(r.line, results.get(r.studentKey)!);
    }
    return page.map((r) => ({ line: r.line, outcome: r.duplicated ? 'duplicated' : outcome.get(r.line)! }));
  }
}
