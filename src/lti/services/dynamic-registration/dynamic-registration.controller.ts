import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { IsUUID } from 'class-validator';
import type { Response } from 'express';
import { PinoLogger } from 'nestjs-pino';
import type { Principal } from '../../../common/auth/principal';
import { CurrentPrincipal } from '../../../common/decorators/current-principal.decorator';
import { Public } from '../../../common/decorators/public.decorator';
import type { AppAbility } from '../../../permissions/ability';
import { CurrentAbility } from '../../../permissions/current-ability.decorator';
import { RequirePermission } from '../../../permissions/require-permission.decorator';
import { LtiPlatformView } from '../../platforms/lti-platform.dto';
import { LtiPlatformsService } from '../../platforms/lti-platforms.service';
import { escapeHtml, sendToolPage } from '../deep-linking/tool-pages';
import {
  DynamicRegistrationService,
  RegistrationLinkAnswer,
  RegistrationRefused,
} from './dynamic-registration.service';

export class CreateRegistrationLinkDto {
  @ApiProperty({ format: 'uuid', description: 'The organization the registering platform joins.' })
  @IsUUID()
  organization: string;
}

export class RegistrationLinkView implements RegistrationLinkAnswer {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) organization: string;
  @ApiProperty({ description: 'Paste into the LMS’s “register a tool by URL” (once).' }) url: string;
  @ApiProperty({ format: 'date-time' }) expires_at: string;
}

@ApiTags('lti')
@ApiBearerAuth()
@Controller('lti')
export class RegistrationLinksController {
  constructor(
    private readonly registration: DynamicRegistrationService,
    private readonly platforms: LtiPlatformsService,
  ) {}

  @Post('registration-links')
  @RequirePermission('create', 'LtiPlatform')
  @ApiOperation({ summary: 'A one-time LTI Dynamic Registration URL for an organization (organization admins)' })
  @ApiCreatedResponse({ type: RegistrationLinkView })
  create(
    @CurrentPrincipal() who: Principal,
    @CurrentAbility() ability: AppAbility,
    @Body() dto: CreateRegistrationLinkDto,
  ): Promise<RegistrationLinkView> {
    return this.registration.createLink(who, ability, dto.organization);
  }

  @Post('platforms/:id/approve')
  @HttpCode(200)
  @RequirePermission('update', 'LtiPlatform')
  @ApiOperation({ summary: 'Approve a platform that registered itself: its launches are accepted from now on' })
  @ApiOkResponse({ type: LtiPlatformView })
  async approve(
    @CurrentPrincipal() who: Principal,
    @CurrentAbility() ability: AppAbility,
    @Param('id', ParseUUIDPipe) id: string,
  ): Promise<LtiPlatformView> {
    return LtiPlatformView.of(await this.registration.approve(who, ability, id), await this.platforms.toolConfig());
  }
}

/** The page an LMS opens for a dynamic registration; it closes itself with the IMS postMessage when done. */
@ApiTags('lti')
@Controller('lti')
export class RegistrationPageController {
  constructor(
    private readonly registration: DynamicRegistrationService,
    private readonly logger: PinoLogger,
  ) {
    this.logger.setContext('LTI');
  }

  @Public()
  @Get('register')
  @ApiOperation({
    summary: 'LTI Dynamic Registration: the LMS opens this with openid_configuration and registration_token',
    description:
      'The URL comes from POST /api/v1/lti/registration-links. Answers a page that posts `{subject: "org.imsglobal.lti.close"}` to the LMS window; a refusal is a page naming its reason.',
  })
  async register(@Query() query: Record<string, unknown>, @Res() res: Response): Promise<void> {
    try {
      const { platform, pending } = await this.registration.register(query);
      this.logger.info({ lti_platform: platform.id, pending }, 'LTI platform registered itself');
      sendToolPage(
        res,
        200,
        'Registered',
        (nonce) =>
          `<main data-lti-registered="${escapeHtml(platform.id)}"><h1>Campus Access is registered</h1>` +
          `<p>${pending ? 'An administrator of your organization approves it before the first launch.' : 'Launches work now.'}</p></main>` +
          `<script nonce="${nonce}">(window.opener || window.parent).postMessage({ subject: 'org.imsglobal.lti.close' }, '*');</script>`,
      );
    } catch (e) {
      if (!(e instanceof RegistrationRefused)) throw e;
      this.logger.warn({ lti_reason: e.reason }, `LTI registration refused: ${e.reason}`);
      sendToolPage(
        res,
        e.status,
        'Registration refused',
        () =>
          `<main data-lti-reason="${escapeHtml(e.reason)}"><h1>The registration was refused</h1><p>${escapeHtml(e.message)}</p></main>`,
      );
    }
  }
}
