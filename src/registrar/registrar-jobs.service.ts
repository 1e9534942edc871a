import { Injectable } from '@nestjs/common';
import type { Principal } from '../common/auth/principal';
import { CommonError } from '../common/errors/common.errors';
import { publicUrl } from '../config/load-settings';
import { InjectSettings } from '../config/settings.module';
import { Settings } from '../config/settings.schema';
import type { JobView } from '../jobs/dto/job.dto';
import { ArtifactDownload, JobsService } from '../jobs/jobs.service';
import type { JobDefinition } from '../jobs/processors/job-definition';
import type { AppAbility } from '../permissions/ability';
import { RegistrarJobStarted, RegistrarJobView } from './dto/registrar.dto';
import {
  COURSE_ENROLLMENTS_READ,
  COURSE_GRADES_READ,
  PROGRAM_ENROLLMENTS_READ,
  RESULT_FORMATS,
  resultArtifact,
  ResultFormat,
} from './jobs/registrar.jobs';
import { Program } from './program.entity';
import { ProgramsService } from './programs.service';
import { RegistrarError } from './registrar.errors';
import { SignedUrls } from './signed-urls';

/** Where the signed result URLs point: `/registrar/job-results/<job id>.<json|csv>`. */
export const JOB_RESULTS_PATH = '/registrar/job-results';
const RESULT_FILE = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.(json|csv)$/;

/** The Registrar API's reads as jobs, and its view of jobs: `{ job_id, name, created, state, result, text }`. */
@Injectable()
export class RegistrarJobsService {
  private readonly jobUrlBase: string;

  constructor(
    private readonly jobs: JobsService,
    private readonly programs: ProgramsService,
    private readonly signed: SignedUrls,
    @InjectSettings() settings: Settings,
  ) {
    this.jobUrlBase = `${publicUrl(settings)}/registrar/api/v1/jobs`;
  }

  /** `?fmt=`: json (default) or csv; anything else is 404, as upstream. */
  format(fmt: string | undefined): ResultFormat {
    if (fmt === undefined || fmt === '') return 'json';
    if ((RESULT_FORMATS as readonly string[]).includes(fmt)) return fmt as ResultFormat;
    throw new CommonError('not_found', `Result format "${fmt}" is not supported.`, { supported: RESULT_FORMATS });
  }

  async readProgramEnrollments(
    who: Principal,
    ability: AppAbility,
    key: string,
    fmt?: string,
  ): Promise<RegistrarJobStarted> {
    const program = await this.programs.byKey(ability, key, 'read_enrollments');
    return this.start(who, program, PROGRAM_ENROLLMENTS_READ, { format: this.format(fmt) });
  }

  /** Course enrollments of one course (`courseKey`) or, without it, of every course of the program. */
  async readCourseEnrollments(
    who: Principal,
    ability: AppAbility,
    key: string,
    courseKey: string | null,
    fmt?: string,
  ): Promise<RegistrarJobStarted> {
    const program = await this.programs.byKey(ability, key, 'read_enrollments');
    const course = courseKey === null ? null : await this.programs.courseOf(program, courseKey);
    const format = this.format(fmt);
    return this.start(who, program, COURSE_ENROLLMENTS_READ, { format, programCourseId: course?.id ?? null });
  }

  async readGrades(
    who: Principal,
    ability: AppAbility,
    key: string,
    courseKey: string,
    fmt?: string,
  ): Promise<RegistrarJobStarted> {
    const program = await this.programs.byKey(ability, key, 'read_enrollments');
    const course = await this.programs.courseOf(program, courseKey);
    return this.start(who, program, COURSE_GRADES_READ, { format: this.format(fmt), programCourseId: course.id });
  }

  /** Starts a job of the program for the caller: 202 `{ job_id, job_url }`. */
  async start<P extends { programId: string; organizationId: string }>(
    who: Principal,
    program: Program,
    definition: JobDefinition<P>,
    payload: Omit<P, 'programId' | 'organizationId'>,
  ): Promise<RegistrarJobStarted> {
    const full = { ...payload, programId: program.id, organizationId: program.organizationId } as P;
    const { id } = await this.jobs.enqueue(definition, full, { owner: who, organizationId: program.organizationId });
    return this.started(id);
  }

  started(id: string): RegistrarJobStarted {
    return { job_id: id, job_url: `${this.jobUrlBase}/${id}` };
  }

  /** The caller's jobs still processing (Pending, In Progress, Retrying). */
  async list(who: Principal): Promise<RegistrarJobView[]> {
    return (await this.jobs.listUnfinished(who)).map((job) => this.view(job, false));
  }

  /** One job of the caller (another principal's: 404), its result as a signed, expiring URL. */
  async get(ability: AppAbility, id: string): Promise<RegistrarJobView> {
    const job = await this.jobs.get(ability, id);
    const hasFile = job.artifacts.some((a) => RESULT_FORMATS.some((f) => a.name === resultArtifact(f)));
    const readable = job.state === 'Succeeded' && hasFile && (await this.jobs.mayReadArtifacts(ability, id));
    return this.view(job, readable);
  }

  /** The result file behind a signed URL; a link that is not ours or has expired is 403. */
  async openResult(file: string, expires: unknown, signature: unknown): Promise<ArtifactDownload> {
    const match = RESULT_FILE.exec(file);
    if (!match || !this.signed.verify(`${JOB_RESULTS_PATH}/${file}`, expires, signature)) {
      throw new RegistrarError('invalid_signature', 'This link is not valid or has expired.');
    }
    return this.jobs.openArtifactForOwner(match[1], resultArtifact(match[2] as ResultFormat));
  }

  private view(job: JobView, readable: boolean): RegistrarJobView {
    const file = readable
      ? RESULT_FORMATS.find((f) => job.artifacts.some((a) => a.name === resultArtifact(f)))
      : undefined;
    return {
      job_id: job.job_id,
      name: job.name,
      created: job.created,
      state: job.state,
      result: file ? this.signed.sign(`${JOB_RESULTS_PATH}/${job.job_id}.${file}`) : null,
      text: job.state === 'Failed' ? job.error : job.text,
    };
  }
}
