import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { Principal } from '../../../common/auth/principal';
import { CurrentPrincipal } from '../../../common/decorators/current-principal.decorator';
import type { AppAbility } from '../../../permissions/ability';
import { CurrentAbility } from '../../../permissions/current-ability.decorator';
import { RequirePermission } from '../../../permissions/require-permission.decorator';
import { LineItemDto, LineItemView, LtiResultView, LtiScoreView, PostScoreDto } from './lti-scores.dto';
import { LtiScoresService } from './lti-scores.service';

@ApiTags('lti')
@ApiBearerAuth()
@Controller('lti')
export class LtiScoresController {
  constructor(private readonly scores: LtiScoresService) {}

  @Post('links/:id/scores')
  @HttpCode(202)
  @RequirePermission('create', 'LtiScore')
  @ApiOperation({
    summary: 'Post a score to the LMS gradebook (LTI AGS) for a resource link: a job delivers it',
    description:
      'Project managers and contributors of the course project, or a service account with the right. 202 with the score, `pending` until the job delivered it (retried with backoff on network errors, 5xx and 429). 422 `no_grade_service` when the LMS granted no AGS to the link, `user_not_on_platform` for a user it never launched.',
  })
  @ApiAcceptedResponse({ type: LtiScoreView })
  async post(
    @CurrentPrincipal() who: Principal,
    @CurrentAbility() ability: AppAbility,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() dto: PostScoreDto,
  ): Promise<LtiScoreView> {
    return LtiScoreView.of(await this.scores.post(who, ability, id, dto));
  }

  @Get('scores/:id')
  @RequirePermission('read', 'LtiScore')
  @ApiOperation({
    summary: 'A posted score and its delivery: pending, delivered, or failed with the platform’s answer',
  })
  @ApiOkResponse({ type: LtiScoreView })
  async get(@CurrentAbility() ability: AppAbility, @Param('id', ParseUUIDPipe) id: string): Promise<LtiScoreView> {
    return LtiScoreView.of(await this.scores.get(ability, id));
  }

  @Get('links/:id/line-items')
  @RequirePermission('read', 'LtiScore')
  @ApiOperation({ summary: 'The LMS line items (gradebook columns) of a resource link' })
  @ApiOkResponse({ type: [LineItemView] })
  lineItems(@CurrentAbility() ability: AppAbility, @Param('id', ParseUUIDPipe) id: string): Promise<LineItemView[]> {
    return this.scores.lineItems(ability, id);
  }

  @Post('links/:id/line-items')
  @RequirePermission('create', 'LtiScore')
  @ApiOperation({ summary: 'Create an LMS line item (gradebook column) for a resource link' })
  @ApiCreatedResponse({ type: LineItemView })
  createLineItem(
    @CurrentAbility() ability: AppAbility,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() dto: LineItemDto,
  ): Promise<LineItemView> {
    return this.scores.createLineItem(ability, id, dto);
  }

  @Get('links/:id/results')
  @RequirePermission('read', 'LtiScore')
  @ApiOperation({
    summary: 'Read the LMS results of a resource link’s line items (stored: the Registrar’s grades report uses them)',
  })
  @ApiOkResponse({ type: [LtiResultView] })
  results(@CurrentAbility() ability: AppAbility, @Param('id', ParseUUIDPipe) id: string): Promise<LtiResultView[]> {
    return this.scores.results(ability, id);
  }
}
