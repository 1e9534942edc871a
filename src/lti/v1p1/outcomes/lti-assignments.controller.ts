import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Post, Query, Req } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import type { Principal } from '../../../common/auth/principal';
import { CurrentPrincipal } from '../../../common/decorators/current-principal.decorator';
import { Page, toPage } from '../../../common/pagination/pagination';
import type { AppAbility } from '../../../permissions/ability';
import { CurrentAbility } from '../../../permissions/current-ability.decorator';
import { RequirePermission } from '../../../permissions/require-permission.decorator';
import { LtiAssignmentPage, LtiAssignmentQuery, LtiAssignmentView, ScoreDto } from './lti-assignment.dto';
import { LtiAssignmentsService } from './lti-assignments.service';

@ApiTags('lti')
@ApiBearerAuth()
@Controller('lti/assignments')
export class LtiAssignmentsController {
  constructor(private readonly assignments: LtiAssignmentsService) {}

  @Get()
  @RequirePermission('read', 'LtiAssignment')
  @ApiOperation({ summary: 'LTI 1.1 graded assignments the caller may read (course staff see their projects’)' })
  @ApiOkResponse({ type: LtiAssignmentPage })
  async list(
    @CurrentAbility() ability: AppAbility,
    @Query() q: LtiAssignmentQuery,
    @Req() req: Request,
  ): Promise<Page<LtiAssignmentView>> {
    const [rows, count] = await this.assignments.list(ability, q);
    return toPage(req, q, rows.map(LtiAssignmentView.of), count);
  }

  @Get(':id')
  @RequirePermission('read', 'LtiAssignment')
  @ApiOperation({ summary: 'An LTI 1.1 graded assignment, with the delivery state of its latest grade' })
  @ApiOkResponse({ type: LtiAssignmentView })
  async get(@CurrentAbility() ability: AppAbility, @Param('id', ParseUUIDPipe) id: string): Promise<LtiAssignmentView> {
    return LtiAssignmentView.of(await this.assignments.get(ability, id));
  }

  @Post(':id/score')
  @HttpCode(202)
  @RequirePermission('update', 'LtiAssignment')
  @ApiOperation({
    summary: 'Send a score (0.0–1.0) to the LTI 1.1 consumer’s gradebook (replaceResult, by a job)',
    description:
      'Answers 202 with the assignment `pending`; a job sends the POX replaceResult, retried with backoff on network errors and 5xx. 409 `consumer_deleted` when the consumer is gone.',
  })
  @ApiAcceptedResponse({ type: LtiAssignmentView })
  async score(
    @CurrentPrincipal() who: Principal,
    @CurrentAbility() ability: AppAbility,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() dto: ScoreDto,
  ): Promise<LtiAssignmentView> {
    return LtiAssignmentView.of(await this.assignments.request(who, ability, id, dto.score));
  }

  @Delete(':id/score')
  @HttpCode(202)
  @RequirePermission('update', 'LtiAssignment')
  @ApiOperation({ summary: 'Remove the score from the LTI 1.1 consumer’s gradebook (deleteResult, by a job)' })
  @ApiAcceptedResponse({ type: LtiAssignmentView })
  async deleteScore(
    @CurrentPrincipal() who: Principal,
    @CurrentAbility() ability: AppAbility,
    @Param('id', ParseUUIDPipe) id: string,
  ): Promise<LtiAssignmentView> {
    return LtiAssignmentView.of(await this.assignments.request(who, ability, id, null));
  }
}
