import { Controller, Get, Param, Query, Req, StreamableFile } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { Page, pageWindow, toPage } from '../common/pagination/pagination';
import type { AppAbility } from '../permissions/ability';
import { CurrentAbility } from '../permissions/current-ability.decorator';
import { RequirePermission } from '../permissions/require-permission.decorator';
import {
  RegistrarCourseView,
  RegistrarProgramsPageQuery,
  RegistrarProgramsQuery,
  RegistrarProgramView,
} from './dto/registrar.dto';
import { ProgramsService } from './programs.service';
import { ReportsQuery } from './dto/report.dto';
import { ReportsService } from './reports.service';
import { Public } from '../common/decorators/public.decorator';
import { ApiProduces } from '@nestjs/swagger';
import { RegistrarReportView } from './dto/registrar.dto';

/** Page size of `/registrar/api/v3/programs`, as upstream's. */
const V3_PAGE_SIZE = 100;

/**
 * The Open edX Registrar API, v1 (and v2, which is the same): programs and their courses. Shapes
 * are upstream's; a program the caller may not see is 404 (upstream: 403).
 */
@ApiTags('registrar')
@ApiBearerAuth()
@Controller(['registrar/api/v1', 'registrar/api/v2'])
export class RegistrarProgramsController {
  constructor(
    private readonly programs: ProgramsService,
    private readonly reports: ReportsService,
  ) {}

  @Get('programs/:programKey/reports')
  @RequirePermission('read_reports', 'Program')
  @ApiOperation({ summary: "Registrar: the program's report files, each with a signed expiring download URL" })
  @ApiOkResponse({ type: RegistrarReportView, isArray: true })
  listReports(
    @CurrentAbility() ability: AppAbility,
    @Param('programKey') key: string,
    @Query() q: ReportsQuery,
  ): Promise<RegistrarReportView[]> {
    return this.reports.list(ability, key, q.min_created_date);
  }

  @Get('programs')
  // Any signed-in caller may ask, as upstream: the list holds the programs it may see (often none: []).
  @RequirePermission('read', 'Self')
  @ApiOperation({ summary: 'Registrar: programs the caller has `user_has_perm` on (default read_metadata)' })
  @ApiOkResponse({ type: RegistrarProgramView, isArray: true })
  async list(
    @CurrentAbility() ability: AppAbility,
    @Query() q: RegistrarProgramsQuery,
  ): Promise<RegistrarProgramView[]> {
    const [rows] = await this.programs.registrarList(ability, {
      org: q.org,
      userHasPerm: q.user_has_perm,
      title: q.program_title,
    });
    return rows.map((p) => RegistrarProgramView.of(p, ability));
  }

  @Get('programs/:programKey')
  @RequirePermission('read_metadata', 'Program')
  @ApiOperation({ summary: 'Registrar: one program with the caller’s permissions on it' })
  @ApiOkResponse({ type: RegistrarProgramView })
  async get(@CurrentAbility() ability: AppAbility, @Param('programKey') key: string): Promise<RegistrarProgramView> {
    return RegistrarProgramView.of(await this.programs.byKey(ability, key, 'read_metadata'), ability);
  }

  @Get('programs/:programKey/courses')
  @RequirePermission('read_metadata', 'Program')
  @ApiOperation({ summary: "Registrar: the program's course runs" })
  @ApiOkResponse({ type: RegistrarCourseView, isArray: true })
  async courses(
    @CurrentAbility() ability: AppAbility,
    @Param('programKey') key: string,
  ): Promise<RegistrarCourseView[]> {
    const program = await this.programs.byKey(ability, key, 'read_metadata');
    const [courses] = await this.programs.allCourses(program);
    return courses.map(RegistrarCourseView.of);
  }
}

/** Registrar API v3: the program list, paginated. */
@ApiTags('registrar')
@ApiBearerAuth()
@Controller('registrar/api/v3')
export class RegistrarProgramsV3Controller {
  constructor(private readonly programs: ProgramsService) {}

  @Get('programs')
  @RequirePermission('read', 'Self')
  @ApiOperation({ summary: 'Registrar v3: programs the caller has `user_has_perm` on, paginated' })
  async list(
    @CurrentAbility() ability: AppAbility,
    @Query() q: RegistrarProgramsPageQuery,
    @Req() req: Request,
  ): Promise<Page<RegistrarProgramView>> {
    const query = { ...q, page_size: q.page_size ?? V3_PAGE_SIZE };
    const { offset, pageSize } = pageWindow(query);
    const [rows, count] = await this.programs.registrarList(
      ability,
      { org: q.org, userHasPerm: q.user_has_perm, title: q.program_title },
      { offset, limit: pageSize },
    );
    return toPage(
      req,
      query,
      rows.map((p) => RegistrarProgramView.of(p, ability)),
      count,
    );
  }
}

/** Report files behind signed links: no credentials, the signature and its expiry are the access. */
@ApiTags('registrar')
@Controller('registrar/program-reports')
export class RegistrarReportFilesController {
  constructor(private readonly reports: ReportsService) {}

  @Get(':reportId')
  @Public()
  @ApiOperation({ summary: 'Registrar: a report file through its signed URL (403 when not valid or expired)' })
  @ApiProduces('application/octet-stream')
  async download(
    @Param('reportId') id: string,
    @Query('expires') expires?: string,
    @Query('signature') signature?: string,
  ): Promise<StreamableFile> {
    const report = await this.reports.open(id, expires, signature);
    return new StreamableFile(report.content, {
      type: report.contentType,
      disposition: `attachment; filename="${report.name}"`,
      length: report.size,
    });
  }
}
