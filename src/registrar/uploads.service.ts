import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Principal } from '../common/auth/principal';
import { InjectSettings } from '../config/settings.module';
import { Settings } from '../config/settings.schema';
import { TransactionRunner } from '../database/transaction';
import { JobsService } from '../jobs/jobs.service';
import type { AppAbility } from '../permissions/ability';
import type { RegistrarJobStarted } from './dto/registrar.dto';
import { ENROLLMENTS_UPLOAD } from './jobs/registrar.jobs';
import type { UploadKind } from './program-upload.entity';
import { ProgramsService } from './programs.service';
import { RegistrarError } from './registrar.errors';
import { RegistrarJobsService } from './registrar-jobs.service';
import { readCsvUpload, UploadedRow } from './upload-parser';
import { StagedRow, UploadsRepository } from './uploads.repository';

/** Rows staged per statement: five arrays of bind values, far under PostgreSQL's limits. */
const STAGE_BATCH = 5000;
const STUDENT_KEY_MAX = 255;

const HEADERS: Record<UploadKind, readonly string[]> = {
  program: ['student_key', 'status'],
  course: ['student_key', 'course_id', 'status'],
};

/**
 * CSV enrollment uploads: the request streams the file into staging rows, in the same transaction
 * as its job (so a structure error leaves neither rows nor job), and the job applies them.
 */
@Injectable()
export class UploadsService {
  constructor(
    private readonly programs: ProgramsService,
    private readonly uploads: UploadsRepository,
    private readonly jobs: JobsService,
    private readonly registrarJobs: RegistrarJobsService,
    private readonly tx: TransactionRunner,
    @InjectSettings() private readonly settings: Settings,
  ) {}

  async upload(
    who: Principal,
    ability: AppAbility,
    programKey: string,
    kind: UploadKind,
    req: IncomingMessage,
  ): Promise<RegistrarJobStarted> {
    try {
      const program = await this.programs.byKey(ability, programKey, 'write_enrollments');
      const uploadId = randomUUID();
      return await this.tx.run(async (tx) => {
        // One upload of a program at a time: another request receiving one holds the lock, and a
        // job still applying one is unfinished. JSON writes take neither.
        const busy = () =>
          new RegistrarError('upload_in_progress', 'An enrollment upload of this program is still being processed.');
        if (!(await this.uploads.tryLockProgram(tx, program.id))) throw busy();
        if ((await this.jobs.unfinished(await this.uploads.openUploadJobs(tx, program.id), tx)).length > 0)
          throw busy();
        const { id: jobId } = await this.jobs.enqueue(
          ENROLLMENTS_UPLOAD,
          { uploadId, programId: program.id, organizationId: program.organizationId, kind },
          { owner: who, organizationId: program.organizationId },
          tx,
        );
        await this.uploads.insertUpload(tx, { id: uploadId, programId: program.id, jobId, kind });
        await readCsvUpload(
          req,
          { maxBytes: this.settings.REGISTRAR_UPLOAD_MAX_BYTES, required: HEADERS[kind], batchSize: STAGE_BATCH },
          (rows) =>
            this.uploads.stageRows(
              tx,
              uploadId,
              rows.map((r) => staged(r, kind)),
            ),
        );
        return this.registrarJobs.started(jobId);
      });
    } finally {
      // Whatever was not read (an early refusal) is drained, so the connection can answer.
      req.resume();
    }
  }
}

function staged(row: UploadedRow, kind: UploadKind): StagedRow {
  const studentKey = row.cells.student_key;
  if (studentKey.length === 0 || studentKey.length > STUDENT_KEY_MAX) {
    throw new RegistrarError('invalid_upload', `A student_key must be 1–${STUDENT_KEY_MAX} characters.`, {
      line: row.line,
    });
  }
  return {
    line: row.line,
    studentKey,
    courseKey: kind === 'course' ? row.cells.course_id : null,
    status: row.cells.status,
  };
}
