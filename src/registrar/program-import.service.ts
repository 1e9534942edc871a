import { Injectable, Logger } from '@nestjs/common';
import { isURL, isUUID } from 'class-validator';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { EntityManager } from 'typeorm';
import { AuditService } from '../accounts/audit/audit.service';
import { OrganizationsService } from '../accounts/organizations/organizations.service';
import type { Principal } from '../common/auth/principal';
import { CommonError } from '../common/errors/common.errors';
import { isDatabaseUnavailable, isUniqueViolation } from '../common/errors/database-errors';
import { InjectSettings } from '../config/settings.module';
import { Settings } from '../config/settings.schema';
import { TransactionRunner } from '../database/transaction';
import type { AppAbility } from '../permissions/ability';
import { asSubject } from '../permissions/ability';
import { requireCreateIn } from '../permissions/access';
import { PROGRAM_KEY } from './dto/program.dto';
import { Program, PROGRAM_STATUSES, ProgramStatus } from './program.entity';
import { ProgramsRepository } from './programs.repository';
import { RegistrarError } from './registrar.errors';
import { readCsvUpload } from './upload-parser';

/** Most programs one import may carry; an organization has tens or hundreds, so the answer is immediate. */
export const PROGRAM_IMPORT_MAX_ROWS = 1000;

const REQUIRED_COLUMNS = ['key', 'title'] as const;
const OPTIONAL_COLUMNS = ['uuid', 'type', 'url', 'status'] as const;
const FIELDS: readonly string[] = [...REQUIRED_COLUMNS, ...OPTIONAL_COLUMNS];
const URL_OPTIONS = { require_tld: false, require_protocol: true, protocols: ['http', 'https'] };

/** Outcomes of a row that was written (or needed no change). */
export type ImportOutcome = 'created' | 'updated' | 'unchanged';
/** Why a row was not written. */
export const IMPORT_ROW_ERRORS = [
  'duplicated',
  'invalid-key',
  'invalid-uuid',
  'invalid-title',
  'invalid-type',
  'invalid-url',
  'invalid-status',
  'conflict',
  'forbidden',
  'internal-error',
] as const;
export type ImportRowError = (typeof IMPORT_ROW_ERRORS)[number];

export interface ImportRowResult {
  /** 1-based position of the row among the data rows (JSON: the array index + 1). */
  row: number;
  /** CSV only: the line of the file the row ends on (the header is line 1). */
  line?: number;
  key: string | null;
  result: ImportOutcome | ImportRowError;
  /** The program's id when the row was written. */
  id?: string;
}

export interface ImportResult {
  status: 200 | 207 | 422;
  body: {
    created: number;
    updated: number;
    unchanged: number;
    failed: number;
    results: ImportRowResult[];
  };
}

/** A row as sent: `undefined` is "not given" (an empty CSV cell, an absent JSON property). */
interface ImportRow {
  row: number;
  line?: number;
  key: unknown;
  uuid?: unknown;
  title?: unknown;
  type?: unknown;
  url?: unknown;
  status?: unknown;
}

interface ValidRow {
  key: string;
  uuid?: string;
  title?: string;
  type?: string;
  url?: string | null;
  status?: ProgramStatus;
}

const invalid = (message: string, details?: Record<string, unknown>) =>
  new RegistrarError('invalid_import', message, details);
const tooMany = (rows?: number) =>
  new RegistrarError('import_too_large', `At most ${PROGRAM_IMPORT_MAX_ROWS} programs may be imported at once.`, {
    limit: PROGRAM_IMPORT_MAX_ROWS,
    ...(rows !== undefined ? { rows } : {}),
  });

/**
 * Import of programs into one organization from a JSON array or a CSV file (`key,title` and
 * optionally `uuid,type,url,status`): each row creates the program of its key or updates the
 * organization's program of that key, in a transaction of its own, and is reported. The whole input
 * is read and its structure checked before any row is written (a structure error is 400 and writes
 * nothing). A key or uuid held by a program outside the organization is a bare `conflict`: the
 * answer says nothing of that program, nor whether the caller could see it.
 */
@Injectable()
export class ProgramImportService {
  private readonly logger = new Logger(ProgramImportService.name);

  constructor(
    private readonly programs: ProgramsRepository,
    private readonly organizations: OrganizationsService,
    private readonly audit: AuditService,
    private readonly tx: TransactionRunner,
    @InjectSettings() private readonly settings: Settings,
  ) {}

  async import(
    who: Principal,
    ability: AppAbility,
    organizationId: string,
    req: IncomingMessage,
    body: unknown,
  ): Promise<ImportResult> {
    try {
      const [organization] = await this.organizations.summaries([organizationId]);
      requireCreateIn(ability, 'Program', organizationId, Boolean(organization));
      const type = req.headers['content-type'] ?? '';
      let rows: ImportRow[];
      if (/^multipart\/form-data/i.test(type)) rows = await this.readCsv(req);
      else if (/^application\/(.+\+)?json/i.test(type)) rows = readJson(body);
      else {
        throw new CommonError(
          'unsupported_media_type',
          'Send the programs as a JSON array, or as a CSV file in the multipart part "file".',
        );
      }
      return await this.apply(who, ability, organizationId, rows);
    } finally {
      // Whatever was not read (an early refusal) is drained, so the connection can answer.
      req.resume();
    }
  }

  private async readCsv(req: IncomingMessage): Promise<ImportRow[]> {
    const rows: ImportRow[] = [];
    try {
      await readCsvUpload(
        req,
        {
          maxBytes: this.settings.BODY_LIMIT_BYTES,
          required: REQUIRED_COLUMNS,
          optional: OPTIONAL_COLUMNS,
          batchSize: 500,
        },
        async (batch) => {
          for (const { line, cells } of batch) {
            const given = (c: string) => (cells[c] === undefined || cells[c] === '' ? undefined : cells[c]);
            rows.push({
              row: rows.length + 1,
              line,
              key: cells.key,
              uuid: given('uuid'),
              title: cells.title,
              type: given('type'),
              url: given('url'),
              status: given('status'),
            });
          }
          if (rows.length > PROGRAM_IMPORT_MAX_ROWS) throw tooMany();
        },
      );
    } catch (e) {
      // The CSV reader's structure errors, in the words of an import.
      if (e instanceof RegistrarError && e.code === 'invalid_upload') throw invalid(e.message, e.details);
      if (e instanceof RegistrarError && e.code === 'upload_too_large') {
        throw new RegistrarError('import_too_large', e.message, e.details);
      }
      throw e;
    }
    return rows;
  }

  private async apply(
    who: Principal,
    ability: AppAbility,
    organizationId: string,
    rows: ImportRow[],
  ): Promise<ImportResult> {
    const counts = new Map<unknown, number>();
    for (const r of rows) if (typeof r.key === 'string') counts.set(r.key, (counts.get(r.key) ?? 0) + 1);
    const results: ImportRowResult[] = [];
    for (const r of rows) {
      const key = typeof r.key === 'string' ? r.key : null;
      const report = (result: ImportRowResult['result'], id?: string) =>
        results.push({
          row: r.row,
          ...(r.line !== undefined ? { line: r.line } : {}),
          key,
          result,
          ...(id ? { id } : {}),
        });
      const valid = validate(r);
      if (typeof valid === 'string') report(valid);
      else if ((counts.get(valid.key) ?? 0) > 1) report('duplicated');
      else {
        const [result, id] = await this.write(who, ability, organizationId, valid);
        report(result, id);
      }
    }
    const written = results.filter((r) => r.id !== undefined).length;
    const count = (result: string) => results.filter((r) => r.result === result).length;
    return {
      status: written === results.length ? 200 : written > 0 ? 207 : 422,
      body: {
        created: count('created'),
        updated: count('updated'),
        unchanged: count('unchanged'),
        failed: results.length - written,
        results,
      },
    };
  }

  /** One row in its own transaction: created, updated or left alone, with its audit event. */
  private async write(
    who: Principal,
    ability: AppAbility,
    organizationId: string,
    row: ValidRow,
  ): Promise<[ImportOutcome | ImportRowError, string?]> {
    try {
      return await this.tx.run(async (tx): Promise<[ImportOutcome | ImportRowError, string?]> => {
        const existing = await this.programs.lockByKey(tx, row.key);
        if (!existing) {
          const program = await this.programs.insert(tx, {
            organizationId,
            key: row.key,
            uuid: row.uuid ?? randomUUID(),
            title: row.title!,
            type: row.type ?? 'Masters',
            url: row.url ?? null,
            status: row.status ?? 'active',
          });
          await this.record(tx, who, 'program.created', program, { key: program.key, uuid: program.uuid });
          return ['created', program.id];
        }
        // Another organization's program (even one the caller may see): never moved, never described.
        if (existing.organizationId !== organizationId) return ['conflict'];
        if (!ability.can('update', asSubject('Program', existing))) return ['forbidden'];
        if (row.uuid !== undefined && row.uuid !== existing.uuid) return ['conflict'];
        const changes: Partial<Program> = {};
        if (row.title !== undefined && row.title !== existing.title) changes.title = row.title;
        if (row.type !== undefined && row.type !== existing.type) changes.type = row.type;
        if (row.url !== undefined && row.url !== existing.url) changes.url = row.url;
        if (row.status !== undefined && row.status !== existing.status) changes.status = row.status;
        const fields = Object.keys(changes);
        if (fields.length === 0) return ['unchanged', existing.id];
        const saved = await this.programs.save(tx, { ...existing, ...changes });
        await this.record(tx, who, 'program.updated', saved, { fields });
        return ['updated', saved.id];
      });
    } catch (e) {
      // A uuid another program holds, or a key created meanwhile by someone else.
      if (isUniqueViolation(e)) return ['conflict'];
      if (isDatabaseUnavailable(e)) throw e;
      this.logger.error({ err: e, key: row.key }, 'a program import row failed');
      return ['internal-error'];
    }
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
        data: { ...data, source: 'import' },
      },
      tx,
    );
  }
}

/** The rows of a JSON import: an array of objects with only the known fields; else 400, 413 over the limit. */
function readJson(body: unknown): ImportRow[] {
  if (!Array.isArray(body)) throw invalid('Send a JSON array of programs.');
  if (body.length > PROGRAM_IMPORT_MAX_ROWS) throw tooMany(body.length);
  return body.map((item: unknown, index) => {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      throw invalid('Each program must be a JSON object.', { row: index + 1 });
    }
    const unknown = Object.keys(item).filter((f) => !FIELDS.includes(f));
    if (unknown.length > 0) {
      throw invalid(`A program has fields an import cannot set: ${unknown.join(', ')}.`, {
        row: index + 1,
        unknown,
        allowed: FIELDS,
      });
    }
    return { row: index + 1, ...(item as Omit<ImportRow, 'row'>) };
  });
}

const isText = (v: unknown, max: number): v is string =>
  typeof v === 'string' && v.trim().length > 0 && v.length <= max && !v.includes('\u0000');

/** The row's values checked one by one; the first bad one names the row's error. */
function validate(r: ImportRow): ValidRow | ImportRowError {
  if (typeof r.key !== 'string' || !PROGRAM_KEY.test(r.key)) return 'invalid-key';
  if (r.uuid !== undefined && (typeof r.uuid !== 'string' || !isUUID(r.uuid))) return 'invalid-uuid';
  if (!isText(r.title, 255)) return 'invalid-title';
  if (r.type !== undefined && !isText(r.type, 64)) return 'invalid-type';
  if (r.url !== undefined && r.url !== null && !(isText(r.url, 2048) && isURL(r.url, URL_OPTIONS))) {
    return 'invalid-url';
  }
  if (r.status !== undefined && !(PROGRAM_STATUSES as readonly unknown[]).includes(r.status)) return 'invalid-status';
  return {
    key: r.key,
    uuid: r.uuid?.toLowerCase(),
    title: r.title,
    type: r.type,
    url: r.url as string | null | undefined,
    status: r.status as ProgramStatus | undefined,
  };
}
