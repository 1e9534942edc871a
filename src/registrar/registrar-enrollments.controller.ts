import { applyDecorators, Body, Controller, Param, Patch, Post, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import type { Principal } from '../common/auth/principal';
import { CurrentPrincipal } from '../common/decorators/current-principal.decorator';
import type { AppAbility } from '../permissions/ability';
import { CurrentAbility } from '../permissions/current-ability.decorator';
import { RequirePermission } from '../permissions/require-permission.decorator';
import { EnrollmentsService, WriteResult } from './enrollments.service';

const ROWS_BODY = {
  schema: {
    type: 'array',
    items: {
      type: 'object',
      required: ['student_key', 'status'],
      properties: {
        student_key: { type: 'string' },
        status: { type: 'string' },
        course_staff: { type: 'boolean', description: 'Course writes only.' },
      },
    },
  },
};
/** What every write takes and may answer: the status depends on the rows. */
const ROWS_AND_OUTCOMES = applyDecorators(
  ApiBody(ROWS_BODY),
  ApiResponse({ status: 200, description: 'Every row written: `{ student_key: status }`.' }),
  ApiResponse({
    status: 207,
    description: 'Some rows written; the others carry their error (`duplicated`, `conflict`, …).',
  }),
  ApiResponse({ status: 422, description: 'No row written.' }),
  ApiResponse({ status: 413, description: 'More rows than REGISTRAR_ENROLLMENT_WRITE_MAX_ROWS.' }),
);

/** The status depends on the rows (200, 207, 422), so the handler answers itself. */
function answer(res: Response, result: WriteResult): void {
  res.status(result.status).json(result.results);
}

/** Registrar API enrollment writes (v1 and v2): at most REGISTRAR_ENROLLMENT_WRITE_MAX_ROWS rows, each reported. */
@ApiTags('registrar')
@ApiBearerAuth()
@Controller(['registrar/api/v1', 'registrar/api/v2'])
export class RegistrarEnrollmentsController {
  constructor(private readonly enrollments: EnrollmentsService) {}

  @Post('programs/:programKey/enrollments')
  @RequirePermission('write_enrollments', 'Program')
  @ApiOperation({ summary: 'Registrar: enroll learners in a program (an existing enrollment is a `conflict`)' })
  @ROWS_AND_OUTCOMES
  async createProgramEnrollments(
    @CurrentPrincipal() who: Principal,
    @CurrentAbility() ability: AppAbility,
    @Param('programKey') key: string,
    @Body() body: unknown,
    @Res() res: Response,
  ): Promise<void> {
    answer(res, await this.enrollments.writeProgramEnrollments(who, ability, key, body, 'create'));
  }

  @Patch('programs/:programKey/enrollments')
  @RequirePermission('write_enrollments', 'Program')
  @ApiOperation({ summary: "Registrar: change learners' program enrollment status (a missing one is `not-found`)" })
  @ROWS_AND_OUTCOMES
  async updateProgramEnrollments(
    @CurrentPrincipal() who: Principal,
    @CurrentAbility() ability: AppAbility,
    @Param('programKey') key: string,
    @Body() body: unknown,
    @Res() res: Response,
  ): Promise<void> {
    answer(res, await this.enrollments.writeProgramEnrollments(who, ability, key, body, 'update'));
  }

  @Post('programs/:programKey/courses/:courseId/enrollments')
  @RequirePermission('write_enrollments', 'Program')
  @ApiOperation({ summary: 'Registrar: enroll program learners in a course (by run key or external key)' })
  @ROWS_AND_OUTCOMES
  async createCourseEnrollments(
    @CurrentPrincipal() who: Principal,
    @CurrentAbility() ability: AppAbility,
    @Param('programKey') key: string,
    @Param('courseId') courseId: string,
    @Body() body: unknown,
    @Res() res: Response,
  ): Promise<void> {
    answer(res, await this.enrollments.writeCourseEnrollments(who, ability, key, courseId, body, 'create'));
  }

  @Patch('programs/:programKey/courses/:courseId/enrollments')
  @RequirePermission('write_enrollments', 'Program')
  @ApiOperation({ summary: "Registrar: change program learners' course enrollment status" })
  @ROWS_AND_OUTCOMES
  async updateCourseEnrollments(
    @CurrentPrincipal() who: Principal,
    @CurrentAbility() ability: AppAbility,
    @Param('programKey') key: string,
    @Param('courseId') courseId: string,
    @Body() body: unknown,
    @Res() res: Response,
  ): Promise<void> {
    answer(res, await this.enrollments.writeCourseEnrollments(who, ability, key, courseId, body, 'update'));
  }
}
