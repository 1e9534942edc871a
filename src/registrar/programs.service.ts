import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { EntityManager } from 'typeorm';
import { AuditService } from '../accounts/audit/audit.service';
import { OrganizationsService } from '../accounts/organizations/organizations.service';
import type { Principal } from '../common/auth/principal';
import { CommonError } from '../common/errors/common.errors';
import { isUniqueViolation } from '../common/errors/database-errors';
import { pageWindow } from '../common/pagination/pagination';
import { TransactionRunner } from '../database/transaction';
import type { AppAbility } from '../permissions/ability';
import { requireAccess, requireCreateIn } from '../permissions/access';
import { Action, isAction } from '../permissions/subjects';
import {
  CreateProgramCourseDto,
  CreateProgramDto,
  ProgramQuery,
  UpdateProgramCourseDto,
  UpdateProgramDto,
} from './dto/program.dto';
import { EnrollmentsRepository } from './enrollments.repository';
import { ProgramCourse } from './program-course.entity';
import { Program } from './program.entity';
import { ProgramFilter, ProgramsRepository, Window } from './programs.repository';
import { RegistrarError } from './registrar.errors';

/** The rights the Registrar API reports on a program (`permissions`), in its words. */
export const REGISTRAR_API_PERMISSIONS = [
  'read_metadata',
  'read_enrollments',
  'write_enrollments',
  'read_reports',
] as const;
export type RegistrarApiPermission = (typeof REGISTRAR_API_PERMISSIONS)[number];

export interface RegistrarProgramFilter {
  /** An organization key. */
  org?: string;
  userHasPerm?: string;
  title?: string;
}

/** Programs and their courses: the native admin API and the Registrar API's reads. */
@Injectable()
export class ProgramsService {
  constructor(
    private readonly programs: ProgramsRepository,
    private readonly enrollments: EnrollmentsRepository,
    private readonly organizations: OrganizationsService,
    private readonly audit: AuditService,
    private readonly tx: TransactionRunner,
  ) {}

  async list(ability: AppAbility, q: ProgramQuery): Promise<[Program[], number]> {
    const { offset, pageSize } = pageWindow(q);
    return this.programs.list(
      ability,
      q.user_has_perm ?? 'read',
      { organizationId: q.organization, search: q.search },
      { offset, limit: pageSize },
    );
  }

  async get(ability: AppAbility, id: string, action: Action = 'read'): Promise<Program> {
    return requireAccess(ability, action, 'Program', await this.programs.findById(id));
  }

  async create(who: Principal, ability: AppAbility, dto: CreateProgramDto): Promise<Program> {
    const [organization] = await this.organizations.summaries([dto.organization]);
    requireCreateIn(ability, 'Program', dto.organization, Boolean(organization));
    return this.uniqueKeys(dto, () =>
      this.tx.run(async (tx) => {
        const program = await this.programs.insert(tx, {
          organizationId: dto.organization,
          key: dto.key,
          uuid: dto.uuid ?? randomUUID(),
          title: dto.title,
          type: dto.type ?? 'Masters',
          url: dto.url ?? null,
          status: dto.status ?? 'active',
        });
        await this.record(tx, who, 'program.created', program, { key: program.key, uuid: program.uuid });
        return program;
      }),
    );
  }

  async update(who: Principal, ability: AppAbility, id: string, dto: UpdateProgramDto): Promise<Program> {
    return this.uniqueKeys(dto, () =>
      this.tx.run(async (tx) => {
        const program = requireAccess(ability, 'update', 'Program', await this.programs.lock(tx, id));
        const saved = await this.programs.save(tx, {
          ...program,
          key: dto.key ?? program.key,
          title: dto.title ?? program.title,
          type: dto.type ?? program.type,
          url: dto.url !== undefined ? dto.url : program.url,
          status: dto.status ?? program.status,
        });
        await this.record(tx, who, 'program.updated', saved, { fields: Object.keys(dto) });
        return saved;
      }),
    );
  }

  /** Deletes a program with its courses and reports; one that has learners is 409. */
  async remove(who: Principal, ability: AppAbility, id: string): Promise<void> {
    await this.tx.run(async (tx) => {
      const program = requireAccess(ability, 'delete', 'Program', await this.programs.lock(tx, id));
      if (await this.enrollments.programHasEnrollments(tx, id)) {
        throw new RegistrarError('program_has_enrollments', 'The program has enrollments and cannot be deleted.', {
          program: id,
        });
      }
      await this.programs.delete(tx, id);
      await this.record(tx, who, 'program.deleted', program, { key: program.key });
    });
  }

  async courses(ability: AppAbility, programId: string, window?: Window): Promise<[ProgramCourse[], number]> {
    const program = await this.get(ability, programId);
    return this.programs.courses(program.id, window);
  }

  async addCourse(
    who: Principal,
    ability: AppAbility,
    programId: string,
    dto: CreateProgramCourseDto,
  ): Promise<ProgramCourse> {
    return this.uniqueCourse(dto, () =>
      this.tx.run(async (tx) => {
        const program = requireAccess(ability, 'update', 'Program', await this.programs.lock(tx, programId));
        const course = await this.programs.insertCourse(tx, program.id, {
          courseId: dto.course_id,
          externalCourseKey: dto.external_course_key ?? null,
          title: dto.title,
          url: dto.url ?? null,
        });
        await this.record(tx, who, 'program.course_added', program, { course: course.id, course_id: course.courseId });
        return course;
      }),
    );
  }

  async updateCourse(
    who: Principal,
    ability: AppAbility,
    programId: string,
    courseId: string,
    dto: UpdateProgramCourseDto,
  ): Promise<ProgramCourse> {
    return this.uniqueCourse(dto, () =>
      this.tx.run(async (tx) => {
        const program = requireAccess(ability, 'update', 'Program', await this.programs.lock(tx, programId));
        const course = await this.programs.findCourseById(program.id, courseId, tx);
        if (!course) throw new CommonError('not_found', 'Course not found.');
        const saved = await this.programs.saveCourse(tx, {
          ...course,
          externalCourseKey: dto.external_course_key !== undefined ? dto.external_course_key : course.externalCourseKey,
          title: dto.title ?? course.title,
          url: dto.url !== undefined ? dto.url : course.url,
        });
        await this.record(tx, who, 'program.course_updated', program, { course: course.id, fields: Object.keys(dto) });
        return saved;
      }),
    );
  }

  /** Removes a course from the program; one with enrollments is 409. */
  async removeCourse(who: Principal, ability: AppAbility, programId: string, courseId: string): Promise<void> {
    await this.tx.run(async (tx) => {
      const program = requireAccess(ability, 'update', 'Program', await this.programs.lock(tx, programId));
      const course = await this.programs.findCourseById(program.id, courseId, tx);
      if (!course) throw new CommonError('not_found', 'Course not found.');
      if (await this.enrollments.courseHasEnrollments(tx, course.id)) {
        throw new RegistrarError('course_has_enrollments', 'The course has enrollments and cannot be removed.', {
          course: course.id,
        });
      }
      await this.programs.deleteCourse(tx, course.id);
      await this.record(tx, who, 'program.course_removed', program, { course: course.id, course_id: course.courseId });
    });
  }

  // ─── Registrar API reads ────────────────────────────────────────────────────────────────────

  /**
   * Programs for `GET /programs`: those the caller may `userHasPerm` (default read_metadata).
   * An unknown organization key or permission is 404, as upstream; an organization the caller
   * cannot see simply yields no program.
   */
  async registrarList(
    ability: AppAbility,
    filter: RegistrarProgramFilter,
    window?: Window,
  ): Promise<[Program[], number]> {
    const perm = filter.userHasPerm || 'read_metadata';
    if (!(REGISTRAR_API_PERMISSIONS as readonly string[]).includes(perm) || !isAction(perm)) {
      throw new CommonError('not_found', `No permission "${perm}".`, { known: REGISTRAR_API_PERMISSIONS });
    }
    const where: ProgramFilter = { title: filter.title || undefined };
    if (filter.org) {
      const organization = await this.organizations.findByKey(filter.org);
      if (!organization) throw new CommonError('not_found', `No organization "${filter.org}".`);
      where.organizationId = organization.id;
    }
    return this.programs.list(ability, perm, where, window);
  }

  /** A program by key that the caller may `action`: 404 when it cannot see it, 403 when it sees it only. */
  async byKey(ability: AppAbility, key: string, action: Action): Promise<Program> {
    return requireAccess(ability, action, 'Program', await this.programs.findByKey(key));
  }

  /** A course of the program by run key or external key, else 404. */
  async courseOf(program: Program, courseIdOrExternalKey: string): Promise<ProgramCourse> {
    const course = await this.programs.findCourse(program.id, courseIdOrExternalKey);
    if (!course) throw new CommonError('not_found', 'Course not found in this program.');
    return course;
  }

  allCourses(program: Program): Promise<[ProgramCourse[], number]> {
    return this.programs.courses(program.id);
  }

  private async record(
    tx: EntityManager,
    who: Principal,
    action: string,
    program: Program,
    data: Record<string, unknown>,
  ): Promise<void> {
    await this.audit.record(
      {
        action,
        actor: who,
        subjectType: 'Program',
        subjectId: program.id,
        organizationId: program.organizationId,
        data,
      },
      tx,
    );
  }

  private async uniqueKeys<T>(dto: { key?: string; uuid?: string }, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (e) {
      if (isUniqueViolation(e)) {
        throw new RegistrarError('duplicate_key', 'A program with this key or uuid exists.', {
          key: dto.key,
          uuid: dto.uuid,
        });
      }
      throw e;
    }
  }

  private async uniqueCourse<T>(
    dto: { course_id?: string; external_course_key?: string | null },
    work: () => Promise<T>,
  ): Promise<T> {
    try {
      return await work();
    } catch (e) {
      if (isUniqueViolation(e)) {
        throw new RegistrarError(
          'duplicate_key',
          'The program has a course with this course_id or external_course_key.',
          {
            course_id: dto.course_id,
            external_course_key: dto.external_course_key,
          },
        );
      }
      throw e;
    }
  }
}
