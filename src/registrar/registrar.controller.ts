import { Controller, Get, Param, Query, Req } from '@nestjs/common';
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
  constructor(private readonly programs: ProgramsService) {}

  @Get('programs')
  @RequirePermission('read', 'Program')
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
  @RequirePermission('read', 'Program')
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
