import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { queryRows } from '../database/query';
import { TransactionRunner } from '../database/transaction';
import type { UploadKind } from './program-upload.entity';

export interface StagedRow {
  line: number;
  studentKey: string;
  courseKey: string | null;
  status: string;
}

export interface StagedRowWithFlags extends StagedRow {
  duplicated: boolean;
  outcome: string | null;
}

/**
 * statement_timeout of the statements that go over a whole upload at once (a million staged rows:
 * flag duplicates, count, delete), which the API connections' DATABASE_STATEMENT_TIMEOUT_MS would cut.
 */
const WHOLE_UPLOAD_TIMEOUT = '15min';

/** The program_uploads and program_upload_rows tables. */
@Injectable()
export class UploadsRepository {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly transactions: TransactionRunner,
  ) {}

  /** `sql` in a transaction of its own whose statement_timeout fits a statement over a whole upload. */
  private wholeUpload<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    return this.transactions.run(async (tx) => {
      await queryRows(tx, `SET LOCAL statement_timeout = '${WHOLE_UPLOAD_TIMEOUT}'`);
      return queryRows<T>(tx, sql, params);
    });
  }

  /**
   * Takes the program's upload lock until `tx` ends, without waiting: false when another request
   * holds it (that request is receiving an upload of the program right now).
   */
  async tryLockProgram(tx: EntityManager, programId: string): Promise<boolean> {
    const [row] = await queryRows<{ locked: boolean }>(
      tx,
      `SELECT pg_try_advisory_xact_lock(hashtextextended('campus-access registrar upload ' || $1::text, 0)) AS locked`,
      [programId],
    );
    return row.locked;
  }

  /** Jobs of the program's uploads not marked done (their jobs may have finished nonetheless). */
  async openUploadJobs(tx: EntityManager, programId: string): Promise<string[]> {
    const rows = await queryRows<{ job_id: string }>(
      tx,
      'SELECT job_id FROM program_uploads WHERE program_id = $1 AND NOT done',
      [programId],
    );
    return rows.map((r) => r.job_id);
  }

  async insertUpload(tx: EntityManager, upload: { id: string; programId: string; jobId: string; kind: UploadKind }) {
    await queryRows(tx, 'INSERT INTO program_uploads (id, program_id, job_id, kind) VALUES ($1, $2, $3, $4)', [
      upload.id,
      upload.programId,
      upload.jobId,
      upload.kind,
    ]);
  }

  /** Stages rows in one statement (callers keep batches well under the bind-parameter limit: 4 arrays). */
  async stageRows(tx: EntityManager, uploadId: string, rows: StagedRow[]): Promise<void> {
    if (rows.length === 0) return;
    await queryRows(
      tx,
      `INSERT INTO program_upload_rows (upload_id, line, student_key, course_key, status)
       SELECT $1, * FROM unnest($2::int[], $3::text[], $4::text[], $5::text[])`,
      [
        uploadId,
        rows.map((r) => r.line),
        rows.map((r) => r.studentKey),
        rows.map((r) => r.courseKey),
        rows.map((r) => r.status),
      ],
    );
  }

  async isDone(uploadId: string): Promise<boolean | null> {
    const [row] = await queryRows<{ done: boolean }>(this.db, 'SELECT done FROM program_uploads WHERE id = $1', [
      uploadId,
    ]);
    return row ? row.done : null;
  }

  /** Flags every row whose learner (and course) appears on more than one line. Idempotent. */
  async flagDuplicates(uploadId: string): Promise<void> {
    await this.wholeUpload(
      `UPDATE program_upload_rows r SET duplicated = true
         FROM (SELECT student_key, course_key FROM program_upload_rows WHERE upload_id = $1
                GROUP BY student_key, course_key HAVING count(*) > 1) d
        WHERE r.upload_id = $1 AND r.student_key = d.student_key
          AND r.course_key IS NOT DISTINCT FROM d.course_key AND NOT r.duplicated`,
      [uploadId],
    );
  }

  /**
   * Refreshes the planner's statistics of the staging table. A large upload lands in one
   * transaction, before autovacuum has looked: without this the planner takes the table for small
   * and joins each chunk's outcomes against every staged row.
   */
  async analyze(): Promise<void> {
    await this.wholeUpload('ANALYZE program_upload_rows');
  }

  async countRows(uploadId: string): Promise<number> {
    const [row] = await this.wholeUpload<{ n: number }>(
      'SELECT count(*)::int AS n FROM program_upload_rows WHERE upload_id = $1',
      [uploadId],
    );
    return row.n;
  }

  /**
   * The next page of rows not applied yet after line `after`, by line. The caller moves `after` to
   * the last line it got, so each page starts where the last ended instead of stepping over every
   * row applied before it (which made a large upload quadratic).
   */
  pendingRows(uploadId: string, after: number, limit: number): Promise<StagedRowWithFlags[]> {
    return queryRows(
      this.db,
      `SELECT line, student_key AS "studentKey", course_key AS "courseKey", status, duplicated, outcome
         FROM program_upload_rows WHERE upload_id = $1 AND line > $2 AND outcome IS NULL ORDER BY line LIMIT $3`,
      [uploadId, after, limit],
    );
  }

  /** A page of applied rows after line `after`, by line. */
  outcomes(uploadId: string, after: number, limit: number): Promise<StagedRowWithFlags[]> {
    return queryRows(
      this.db,
      `SELECT line, student_key AS "studentKey", course_key AS "courseKey", status, duplicated, outcome
         FROM program_upload_rows WHERE upload_id = $1 AND line > $2 ORDER BY line LIMIT $3`,
      [uploadId, after, limit],
    );
  }

  async setOutcomes(tx: EntityManager, uploadId: string, outcomes: { line: number; outcome: string }[]): Promise<void> {
    if (outcomes.length === 0) return;
    await queryRows(
      tx,
      `UPDATE program_upload_rows r SET outcome = v.o FROM unnest($2::int[], $3::varchar[]) AS v(l, o)
        WHERE r.upload_id = $1 AND r.line = v.l`,
      [uploadId, outcomes.map((o) => o.line), outcomes.map((o) => o.outcome)],
    );
  }

  /** How many rows ended with one of `statuses`, and how many rows there are. */
  async tally(uploadId: string, statuses: readonly string[]): Promise<{ ok: number; total: number }> {
    const [row] = await this.wholeUpload<{ ok: number; total: number }>(
      `SELECT count(*) FILTER (WHERE outcome = ANY($2::varchar[]))::int AS ok, count(*)::int AS total
         FROM program_upload_rows WHERE upload_id = $1`,
      [uploadId, statuses],
    );
    return row;
  }

  /** The upload is done: its staged rows go. */
  async finish(uploadId: string): Promise<void> {
    await this.transactions.run(async (tx) => {
      await queryRows(tx, `SET LOCAL statement_timeout = '${WHOLE_UPLOAD_TIMEOUT}'`);
      await queryRows(tx, 'DELETE FROM program_upload_rows WHERE upload_id = $1', [uploadId]);
      await queryRows(tx, 'UPDATE program_uploads SET done = true, updated_at = now() WHERE id = $1', [uploadId]);
    });
  }
}
