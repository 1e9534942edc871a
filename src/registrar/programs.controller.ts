import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Patch,
  Post,
  Query,
  Req,
  Res,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiConsumes,
  ApiCreatedResponse,
  ApiResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import type { Principal } from '../common/auth/principal';
import { CurrentPrincipal } from '../common/decorators/current-principal.decorator';
import { Page, PageQuery, pageWindow, toPage } from '../common/pagination/pagination';
import type { AppAbility } from '../permissions/ability';
import { CurrentAbility } from '../permissions/current-ability.decorator';
import { RequirePermission } from '../permissions/require-permission.decorator';
import {
  CreateProgramCourseDto,
  CreateProgramDto,
  ImportProgramsQuery,
  ProgramCourseView,
  ProgramQuery,
  ProgramView,
  UpdateProgramCourseDto,
  UpdateProgramDto,
} from './dto/program.dto';
import { ProgramsService } from './programs.service';
import { PlaceReportDto, ReportView } from './dto/report.dto';
import { ReportsService } from './reports.service';
import { ProgramImportService } from './program-import.service';

const PROGRAM_FIELDS = {
  key: { type: 'string' },
  title: { type: 'string' },
  uuid: { type: 'string', format: 'uuid' },
  type: { type: 'string' },
  url: { type: 'string', nullable: true },
  status: { type: 'string', enum: ['active', 'unpublished', 'retired'] },
};

/** Programs and their courses, managed by organization admins and staff (native API, `/api/v1/programs`). */
@ApiTags('programs')
@ApiBearerAuth()
@Controller('programs')
export class ProgramsController {
  constructor(
    private readonly programs: ProgramsService,
    private readonly reports: ReportsService,
    private readonly imports: ProgramImportService,
  ) {}

  @Get()
  @RequirePermission('read', 'Program')
  @ApiOperation({ summary: 'Programs the caller may read (or `user_has_perm`), by key' })
  async list(
    @CurrentAbility() ability: AppAbility,
    @Query() q: ProgramQuery,
    @Req() req: Request,
  ): Promise<Page<ProgramView>> {
    const [rows, count] = await this.programs.list(ability, q);
    return toPage(req, q, rows.map(ProgramView.of), count);
  }

  @Post()
  @RequirePermission('create', 'Program')
  @ApiOperation({ summary: 'Create a program in an organization; its key is unique across the deployment' })
  @ApiCreatedResponse({ type: ProgramView })
  async create(
    @CurrentPrincipal() who: Principal,
    @CurrentAbility() ability: AppAbility,
    @Body() dto: CreateProgramDto,
  ): Promise<ProgramView> {
    return ProgramView.of(await this.programs.create(who, ability, dto));
  }

  @Post('import')
  @RequirePermission('create', 'Program')
  @ApiOperation({
    summary:
      'Create or update programs of an organization by key, from a JSON array or a CSV file (`key,title[,uuid,type,url,status]`); each row is reported',
  })
  @ApiConsumes('application/json', 'multipart/form-data')
  @ApiBody({
    schema: {
      oneOf: [
        { type: 'array', items: { type: 'object', required: ['key', 'title'], properties: PROGRAM_FIELDS } },
        {
          type: 'object',
          required: ['file'],
          properties: { file: { type: 'string', format: 'binary', description: 'UTF-8 CSV with a header row.' } },
        },
      ],
    },
  })
  @ApiResponse({ status: 200, description: 'Every row created, updated or unchanged.' })
  @ApiResponse({ status: 207, description: 'Some rows written; the others carry their error code.' })
  @ApiResponse({ status: 422, description: 'No row written.' })
  @ApiResponse({
    status: 400,
    description: 'The input is not a JSON array of programs or a CSV of them; nothing written.',
  })
  @ApiResponse({ status: 413, description: 'More than 1000 programs, or a file over BODY_LIMIT_BYTES.' })
  async import(
    @CurrentPrincipal() who: Principal,
    @CurrentAbility() ability: AppAbility,
    @Query() q: ImportProgramsQuery,
    @Body() body: unknown,
    // A CSV arrives as multipart/form-data and is read as a stream from the request itself.
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const result = await this.imports.import(who, ability, q.organization, req, body);
    res.status(result.status).json(result.body);
  }

  @Get(':id')
  @RequirePermission('read', 'Program')
  @ApiOperation({ summary: 'A program' })
  @ApiOkResponse({ type: ProgramView })
  async get(@CurrentAbility() ability: AppAbility, @Param('id', ParseUUIDPipe) id: string): Promise<ProgramView> {
    return ProgramView.of(await this.programs.get(ability, id));
  }

  @Patch(':id')
  @RequirePermission('update', 'Program')
  @ApiOperation({ summary: "Change a program's key, title, type, URL or status" })
  @ApiOkResponse({ type: ProgramView })
  async update(
    @CurrentPrincipal() who: Principal,
    @CurrentAbility() ability: AppAbility,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() dto: UpdateProgramDto,
  ): Promise<ProgramView> {
    return ProgramView.of(await this.programs.update(who, ability, id, dto));
  }

  @Delete(':id')
  @HttpCode(204)
  @RequirePermission('delete', 'Program')
  @ApiOperation({ summary: 'Delete a program with its courses and reports (409 while it has enrollments)' })
  @ApiNoContentResponse()
  async remove(
    @CurrentPrincipal() who: Principal,
    @CurrentAbility() ability: AppAbility,
    @Param('id', ParseUUIDPipe) id: string,
  ): Promise<void> {
    await this.programs.remove(who, ability, id);
  }

  @Get(':id/courses')
  @RequirePermission('read', 'Program')
  @ApiOperation({ summary: "A program's courses, by course run key" })
  async courses(
    @CurrentAbility() ability: AppAbility,
    @Param('id', ParseUUIDPipe) id: string,
    @Query() q: PageQuery,
    @Req() req: Request,
  ): Promise<Page<ProgramCourseView>> {
    const { offset, pageSize } = pageWindow(q);
    const [rows, count] = await this.programs.courses(ability, id, { offset, limit: pageSize });
    return toPage(req, q, rows.map(ProgramCourseView.of), count);
  }

  @Post(':id/courses')
  @RequirePermission('update', 'Program')
  @ApiOperation({ summary: 'Add a course run to a program' })
  @ApiCreatedResponse({ type: ProgramCourseView })
  async addCourse(
    @CurrentPrincipal() who: Principal,
    @CurrentAbility() ability: AppAbility,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() dto: CreateProgramCourseDto,
  ): Promise<ProgramCourseView> {
    return ProgramCourseView.of(await this.programs.addCourse(who, ability, id, dto));
  }

  @Patch(':id/courses/:courseId')
  @RequirePermission('update', 'Program')
  @ApiOperation({ summary: "Change a program course's external key, title or URL" })
  @ApiOkResponse({ type: ProgramCourseView })
  async updateCourse(
    @CurrentPrincipal() who: Principal,
    @CurrentAbility() ability: AppAbility,
    @Param('id', ParseUUIDPipe) id: string,
    @Param('courseId', ParseUUIDPipe) courseId: string,
    @Body() dto: UpdateProgramCourseDto,
  ): Promise<ProgramCourseView> {
    return ProgramCourseView.of(await this.programs.updateCourse(who, ability, id, courseId, dto));
  }

  @Delete(':id/courses/:courseId')
  @HttpCode(204)
  @RequirePermission('update', 'Program')
  @ApiOperation({ summary: 'Remove a course from a program (409 while it has enrollments)' })
  @ApiNoContentResponse()
  async removeCourse(
    @CurrentPrincipal() who: Principal,
    @CurrentAbility() ability: AppAbility,
    @Param('id', ParseUUIDPipe) id: string,
    @Param('courseId', ParseUUIDPipe) courseId: string,
  ): Promise<void> {
    await this.programs.removeCourse(who, ability, id, courseId);
  }

  @Post(':id/reports')
  @RequirePermission('update', 'Program')
  @ApiOperation({ summary: 'Place a report file of a program (listed by the Registrar API); same name replaces' })
  @ApiCreatedResponse({ type: ReportView })
  placeReport(
    @CurrentPrincipal() who: Principal,
    @CurrentAbility() ability: AppAbility,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() dto: PlaceReportDto,
  ): Promise<ReportView> {
    return this.reports.place(who, ability, id, dto);
  }
}
