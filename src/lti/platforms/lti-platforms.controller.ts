import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Patch, Post, Query, Req } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { Request } from 'express';
import type { Principal } from '../../common/auth/principal';
import { CurrentPrincipal } from '../../common/decorators/current-principal.decorator';
import { Page, toPage } from '../../common/pagination/pagination';
import type { AppAbility } from '../../permissions/ability';
import { CurrentAbility } from '../../permissions/current-ability.decorator';
import { RequirePermission } from '../../permissions/require-permission.decorator';
import {
  CreateLtiPlatformDto,
  LtiPlatformPage,
  LtiPlatformQuery,
  LtiPlatformView,
  UpdateLtiPlatformDto,
} from './lti-platform.dto';
import { LtiPlatformsService } from './lti-platforms.service';
import { LtiLaunchPage, LtiLaunchQuery, LtiLaunchView } from '../sessions/lti-launch.dto';

@ApiTags('lti')
@ApiBearerAuth()
@Controller('lti/platforms')
export class LtiPlatformsController {
  constructor(private readonly platforms: LtiPlatformsService) {}

  @Get()
  @RequirePermission('read', 'LtiPlatform')
  @ApiOperation({ summary: 'LTI platforms the caller may read (organization admins see their organization’s)' })
  @ApiOkResponse({ type: LtiPlatformPage })
  async list(
    @CurrentAbility() ability: AppAbility,
    @Query() q: LtiPlatformQuery,
    @Req() req: Request,
  ): Promise<Page<LtiPlatformView>> {
    const [rows, count] = await this.platforms.list(ability, q);
    const tool = await this.platforms.toolConfig();
    return toPage(
      req,
      q,
      rows.map((p) => LtiPlatformView.of(p, tool)),
      count,
    );
  }

  @Post()
  @RequirePermission('create', 'LtiPlatform')
  @ApiOperation({
    summary: 'Register an LMS as an LTI 1.3 platform of an organization',
    description:
      'The answer’s `tool` block holds what to paste into the LMS. Platform URLs must be https (http only on loopback hosts, or with LTI_ALLOW_INSECURE_PLATFORM_URLS). 409 `duplicate_platform` when the issuer and client_id are registered.',
  })
  @ApiCreatedResponse({ type: LtiPlatformView })
  async create(
    @CurrentPrincipal() who: Principal,
    @CurrentAbility() ability: AppAbility,
    @Body() dto: CreateLtiPlatformDto,
  ): Promise<LtiPlatformView> {
    return LtiPlatformView.of(await this.platforms.create(who, ability, dto), await this.platforms.toolConfig());
  }

  @Get(':id')
  @RequirePermission('read', 'LtiPlatform')
  @ApiOperation({ summary: 'An LTI platform, with the tool values to paste into the LMS' })
  @ApiOkResponse({ type: LtiPlatformView })
  async get(@CurrentAbility() ability: AppAbility, @Param('id', ParseUUIDPipe) id: string): Promise<LtiPlatformView> {
    return LtiPlatformView.of(await this.platforms.get(ability, id), await this.platforms.toolConfig());
  }

  @Get(':id/launches')
  @RequirePermission('read', 'LtiPlatform')
  @ApiOperation({
    summary: 'The launches of an LTI 1.3 platform, newest first (`user` and `since` filters)',
    description:
      'Who launched, when, from which deployment, into which context, project and resource link, with which roles. The launch claims (custom parameters, service endpoints) are never shown.',
  })
  @ApiOkResponse({ type: LtiLaunchPage })
  async launches(
    @CurrentAbility() ability: AppAbility,
    @Param('id', ParseUUIDPipe) id: string,
    @Query() q: LtiLaunchQuery,
    @Req() req: Request,
  ): Promise<Page<LtiLaunchView>> {
    const [rows, count] = await this.platforms.launchesOf(ability, id, q);
    return toPage(req, q, rows.map(LtiLaunchView.of), count);
  }

  @Patch(':id')
  @RequirePermission('update', 'LtiPlatform')
  @ApiOperation({ summary: 'Change an LTI platform (its organization stays)' })
  @ApiOkResponse({ type: LtiPlatformView })
  async update(
    @CurrentPrincipal() who: Principal,
    @CurrentAbility() ability: AppAbility,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() dto: UpdateLtiPlatformDto,
  ): Promise<LtiPlatformView> {
    return LtiPlatformView.of(await this.platforms.update(who, ability, id, dto), await this.platforms.toolConfig());
  }

  @Delete(':id')
  @HttpCode(204)
  @RequirePermission('delete', 'LtiPlatform')
  @ApiOperation({ summary: 'Delete an LTI platform: its launches are refused; its users and course projects stay' })
  @ApiNoContentResponse()
  async remove(
    @CurrentPrincipal() who: Principal,
    @CurrentAbility() ability: AppAbility,
    @Param('id', ParseUUIDPipe) id: string,
  ): Promise<void> {
    await this.platforms.remove(who, ability, id);
  }
}
