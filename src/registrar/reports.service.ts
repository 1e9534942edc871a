import { Injectable } from '@nestjs/common';
import { AuditService } from '../accounts/audit/audit.service';
import type { Principal } from '../common/auth/principal';
import { CommonError } from '../common/errors/common.errors';
import { TransactionRunner } from '../database/transaction';
import type { AppAbility } from '../permissions/ability';
import { requireAccess } from '../permissions/access';
import { PlaceReportDto, ReportView } from './dto/report.dto';
import { RegistrarReportView } from './dto/registrar.dto';
import { ProgramReport } from './program-report.entity';
import { ProgramsRepository } from './programs.repository';
import { ProgramsService } from './programs.service';
import { RegistrarError } from './registrar.errors';
import { SignedUrls } from './signed-urls';

/** Where signed report links point: `/registrar/program-reports/<report id>`. */
export const REPORTS_PATH = '/registrar/program-reports';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Report files of programs: placed by admins (native API), listed with signed links by the Registrar API. */
@Injectable()
export class ReportsService {
  constructor(
    private readonly programs: ProgramsService,
    private readonly repository: ProgramsRepository,
    private readonly signed: SignedUrls,
    private readonly audit: AuditService,
    private readonly tx: TransactionRunner,
  ) {}

  /** Places (or replaces) a report file of a program. */
  async place(who: Principal, ability: AppAbility, programId: string, dto: PlaceReportDto): Promise<ReportView> {
    const program = requireAccess(ability, 'update', 'Program', await this.repository.findById(programId));
    const content = Buffer.from(dto.content, dto.encoding === 'base64' ? 'base64' : 'utf8');
    const createdDate = dto.created_date ?? new Date().toISOString().slice(0, 10);
    return this.tx.run(async (tx) => {
      const report = await this.repository.putReport(tx, {
        programId: program.id,
        name: dto.name,
        createdDate,
        contentType: dto.content_type ?? 'text/csv; charset=utf-8',
        content,
      });
      await this.audit.record(
        {
          action: 'program.report_placed',
          actor: who,
          subjectType: 'Program',
          subjectId: program.id,
          organizationId: program.organizationId,
          data: { report: report.id, name: report.name, size: report.size },
        },
        tx,
      );
      return {
        id: report.id,
        program: program.id,
        name: report.name,
        created_date: report.createdDate,
        content_type: report.contentType,
        size: report.size,
      };
    });
  }

  /** `GET /programs/{key}/reports`: the program's reports (read_reports), each with a signed link. */
  async list(ability: AppAbility, programKey: string, minCreatedDate?: string): Promise<RegistrarReportView[]> {
    const program = await this.programs.byKey(ability, programKey, 'read_reports');
    const reports = await this.repository.reports(program.id, minCreatedDate);
    return reports.map((r) => ({
      name: r.name,
      created_date: r.createdDate,
      download_url: this.signed.sign(`${REPORTS_PATH}/${r.id}`),
    }));
  }

  /** The report behind a signed link; 403 for a link that is not ours or has expired. */
  async open(id: string, expires: unknown, signature: unknown): Promise<ProgramReport> {
    if (!UUID.test(id) || !this.signed.verify(`${REPORTS_PATH}/${id}`, expires, signature)) {
      throw new RegistrarError('invalid_signature', 'This link is not valid or has expired.');
    }
    const report = await this.repository.findReport(id);
    if (!report) throw new CommonError('not_found', 'The report no longer exists.');
    return report;
  }
}
