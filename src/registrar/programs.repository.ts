import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, SelectQueryBuilder } from 'typeorm';
import { containsPattern } from '../common/sql/contains-pattern';
import type { AppAbility } from '../permissions/ability';
import { scopeToAbility } from '../permissions/ability-to-sql';
import type { Action } from '../permissions/subjects';
import { ProgramCourse } from './program-course.entity';
import { Program } from './program.entity';
import { ProgramReport } from './program-report.entity';
import { queryRows } from '../database/query';

export interface ProgramFilter {
  organizationId?: string;
  /** Case-insensitive part of the title. */
  title?: string;
  /** Case-insensitive part of the key or the title. */
  search?: string;
}

export interface Window {
  offset: number;
  limit: number;
}

export type ProgramFields = Pick<Program, 'organizationId' | 'key' | 'uuid' | 'title' | 'type' | 'url' | 'status'>;
export type ProgramCourseFields = Pick<ProgramCourse, 'courseId' | 'externalCourseKey' | 'title' | 'url'>;
export type ReportSummary = Pick<ProgramReport, 'id' | 'programId' | 'name' | 'createdDate' | 'contentType' | 'size'>;

/** The programs, program_courses and program_reports tables. */
@Injectable()
export class ProgramsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  private manager(tx?: EntityManager): EntityManager {
    return tx ?? this.db.manager;
  }

  findById(id: string, tx?: EntityManager): Promise<Program | null> {
    return this.manager(tx).findOneBy(Program, { id });
  }

  findByKey(key: string): Promise<Program | null> {
    return this.db.manager.findOneBy(Program, { key });
  }

  /** Programs on which `ability` allows `action` (and read), filtered and ordered by key; scoped in SQL. */
  list(ability: AppAbility, action: Action, filter: ProgramFilter, window?: Window): Promise<[Program[], number]> {
    const qb = this.db.manager.createQueryBuilder(Program, 'p').orderBy('p.key', 'ASC').addOrderBy('p.id', 'ASC');
    this.scope(qb, ability, action, filter);
    if (window) qb.skip(window.offset).take(window.limit);
    return qb.getManyAndCount();
  }

  private scope(qb: SelectQueryBuilder<Program>, ability: AppAbility, action: Action, filter: ProgramFilter): void {
    scopeToAbility(qb, ability, 'read', 'Program', 'p');
    if (action !== 'read') scopeToAbility(qb, ability, action, 'Program', 'p');
    if (filter.organizationId) qb.andWhere('p.organization_id = :org', { org: filter.organizationId });
    if (filter.title) qb.andWhere('p.title ILIKE :title', { title: containsPattern(filter.title) });
    if (filter.search) qb.andWhere('(p.key ILIKE :s OR p.title ILIKE :s)', { s: containsPattern(filter.search) });
  }

  insert(tx: EntityManager, fields: ProgramFields): Promise<Program> {
    return tx.save(Program, tx.create(Program, fields));
  }

  save(tx: EntityManager, program: Program): Promise<Program> {
    return tx.save(Program, program);
  }

  /** The program row locked (FOR UPDATE) until `tx` ends. */
  lock(tx: EntityManager, id: string): Promise<Program | null> {
    return tx.findOne(Program, { where: { id }, lock: { mode: 'pessimistic_write' } });
  }

  /** The program of this key locked (FOR UPDATE) until `tx` ends, whatever its organization. */
  lockByKey(tx: EntityManager, key: string): Promise<Program | null> {
    return tx.findOne(Program, { where: { key }, lock: { mode: 'pessimistic_write' } });
  }

  async delete(tx: EntityManager, id: string): Promise<void> {
    await tx.delete(Program, { id });
  }

  courses(programId: string, window?: Window): Promise<[ProgramCourse[], number]> {
    return this.db.manager.findAndCount(ProgramCourse, {
      where: { programId },
      order: { courseId: 'ASC', id: 'ASC' },
      ...(window ? { skip: window.offset, take: window.limit } : {}),
    });
  }

  findCourseById(programId: string, id: string, tx?: EntityManager): Promise<ProgramCourse | null> {
    return this.manager(tx).findOneBy(ProgramCourse, { programId, id });
  }

  /** A course of the program by its run key or, failing that, by the school's external key. */
  async findCourse(programId: string, courseIdOrExternalKey: string): Promise<ProgramCourse | null> {
    const rows = await this.db.manager
      .createQueryBuilder(ProgramCourse, 'c')
      .where('c.program_id = :programId', { programId })
      .andWhere('(c.course_id = :key OR c.external_course_key = :key)', { key: courseIdOrExternalKey })
      .getMany();
    return rows.find((c) => c.courseId === courseIdOrExternalKey) ?? rows[0] ?? null;
  }

  /** Every course of the program whose run key or external key is one of `keys`. */
  coursesByKeys(programId: string, keys: string[], tx?: EntityManager): Promise<ProgramCourse[]> {
    if (keys.length === 0) return Promise.resolve([]);
    return this.manager(tx)
      .createQueryBuilder(ProgramCourse, 'c')
      .where('c.program_id = :programId', { programId })
      .andWhere('(c.course_id = ANY(:keys) OR c.external_course_key = ANY(:keys))', { keys })
      .getMany();
  }

  insertCourse(tx: EntityManager, programId: string, fields: ProgramCourseFields): Promise<ProgramCourse> {
    return tx.save(ProgramCourse, tx.create(ProgramCourse, { programId, ...fields }));
  }

  saveCourse(tx: EntityManager, course: ProgramCourse): Promise<ProgramCourse> {
    return tx.save(ProgramCourse, course);
  }

  async deleteCourse(tx: EntityManager, id: string): Promise<void> {
    await tx.delete(ProgramCourse, { id });
  }

  /** Reports of a program created on or after `minDate` (YYYY-MM-DD), newest name last as upstream lists them. */
  reports(programId: string, minDate?: string): Promise<ReportSummary[]> {
    const qb = this.db.manager
      .createQueryBuilder(ProgramReport, 'r')
      .select(['r.id', 'r.programId', 'r.name', 'r.createdDate', 'r.contentType', 'r.size'])
      .where('r.program_id = :programId', { programId })
      .orderBy('r.name', 'ASC');
    if (minDate) qb.andWhere('r.created_date >= :minDate', { minDate });
    return qb.getMany();
  }

  findReport(id: string): Promise<ProgramReport | null> {
    return this.db.manager.findOneBy(ProgramReport, { id });
  }

  /** Places a report, replacing one of the same name. */
  async putReport(
    tx: EntityManager,
    report: Pick<ProgramReport, 'programId' | 'name' | 'createdDate' | 'contentType' | 'content'>,
  ): Promise<ReportSummary> {
    const [row] = (await queryRows(
      tx,
      `INSERT INTO program_reports (program_id, name, created_date, content_type, content, size)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (program_id, name) DO UPDATE
         SET created_date = EXCLUDED.created_date, content_type = EXCLUDED.content_type,
             content = EXCLUDED.content, size = EXCLUDED.size, updated_at = now()
       RETURNING id, program_id AS "programId", name, created_date::text AS "createdDate", content_type AS "contentType", size`,
      [report.programId, report.name, report.createdDate, report.contentType, report.content, report.content.length],
    )) as ReportSummary[];
    return row;
  }
}
