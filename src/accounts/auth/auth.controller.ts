import { Body, Controller, Get, Header, HttpCode, Post, Req, Res } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiForbiddenResponse,
  ApiOperation,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import type { Principal } from '../../common/auth/principal';
import { CurrentPrincipal } from '../../common/decorators/current-principal.decorator';
import { publicUrl } from '../../config/load-settings';
import { InjectSettings } from '../../config/settings.module';
import { Settings } from '../../config/settings.schema';
import { Public } from '../../common/decorators/public.decorator';
import { RequirePermission } from '../../permissions/require-permission.decorator';
import type { AppAbility } from '../../permissions/ability';
import { AbilityFactory } from '../../permissions/ability.factory';
import { CurrentAbility } from '../../permissions/current-ability.decorator';
import { OrganizationsService } from '../organizations/organizations.service';
import { AuthService } from './auth.service';
import { DASHBOARD_SESSION_COOKIE, QUEUE_DASHBOARD_PATH } from './dashboard-session';
import { ChangePasswordDto, LoginDto, MeView, RefreshDto, TokenPairView } from './auth.dto';

@ApiTags('auth')
@Controller('auth')
export class AuthController {
  constructor(
    private readonly auth: AuthService,
    private readonly abilities: AbilityFactory,
    private readonly organizations: OrganizationsService,
    @InjectSettings() private readonly settings: Settings,
  ) {}

  // Responses carrying tokens are never cached (RFC 6749 §5.1).
  @Public()
  @Post('login')
  @ApiOperation({ summary: 'Log in with a username and password: an access token and a refresh token' })
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @Header('Pragma', 'no-cache')
  @ApiOkResponse({ type: TokenPairView })
  @ApiUnauthorizedResponse({ description: '`invalid_credentials`, the same for unknown user and wrong password.' })
  @ApiTooManyRequestsResponse({ description: '`too_many_requests`: per IP and per account.' })
  login(@Body() dto: LoginDto, @Req() req: Request): Promise<TokenPairView> {
    return this.auth.login((dto.username ?? dto.email)!, dto.password, req.ip ?? 'unknown');
  }

  @Public()
  @Post('refresh')
  @ApiOperation({ summary: 'Exchange a refresh token for a new token pair (the old one is rotated out)' })
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @Header('Pragma', 'no-cache')
  @ApiOkResponse({ type: TokenPairView })
  refresh(@Body() dto: RefreshDto, @Req() req: Request): Promise<TokenPairView> {
    return this.auth.refresh(dto.refresh_token, req.ip ?? 'unknown');
  }

  @Public()
  @Post('logout')
  @ApiOperation({ summary: "Revoke a refresh token's session" })
  @HttpCode(204)
  async logout(@Body() dto: RefreshDto): Promise<void> {
    await this.auth.logout(dto.refresh_token);
  }

  @Post('password')
  @HttpCode(200)
  @ApiBearerAuth()
  @RequirePermission('update', 'Self')
  @Header('Cache-Control', 'no-store')
  @Header('Pragma', 'no-cache')
  @ApiOperation({
    summary: 'Change your own password',
    description:
      'Proves the current password, sets the new one, ends every other session (all refresh tokens are revoked) and answers a new token pair. Attempts count against the login limits.',
  })
  @ApiOkResponse({ type: TokenPairView })
  @ApiBadRequestResponse({
    description:
      '`wrong_current_password`, `password_unchanged`, `validation_failed` (the new password needs 12+ characters).',
  })
  @ApiForbiddenResponse({ description: '`forbidden`: service accounts and external tokens have no password here.' })
  @ApiTooManyRequestsResponse({ description: '`too_many_requests`: per IP and per account, shared with login.' })
  changePassword(
    @Body() dto: ChangePasswordDto,
    @CurrentPrincipal() who: Principal,
    @Req() req: Request,
  ): Promise<TokenPairView> {
    return this.auth.changePassword(who, dto.current_password, dto.new_password, req.ip ?? 'unknown');
  }

  @Post('dashboard-session')
  @ApiOperation({ summary: 'Staff: a cookie that opens the queue dashboard at /admin/queues' })
  @HttpCode(204)
  // The answer sets a cookie holding a token: no cache may keep it.
  @Header('Cache-Control', 'no-store')
  @Header('Pragma', 'no-cache')
  @ApiBearerAuth()
  @RequirePermission('manage', 'all')
  @ApiNoContentResponse({
    description: `Staff only. Sets an HttpOnly, SameSite=Strict cookie for \`${QUEUE_DASHBOARD_PATH}\` holding a short-lived access token, so a browser can open the queue dashboard.`,
  })
  @ApiForbiddenResponse({ description: '`forbidden`: the caller is not staff.' })
  async dashboardSession(
    @CurrentPrincipal() who: Principal,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<void> {
    const { token, expiresIn } = await this.auth.dashboardSession(who);
    res.cookie(DASHBOARD_SESSION_COOKIE, token, {
      httpOnly: true,
      secure: req.secure || new URL(publicUrl(this.settings)).protocol === 'https:',
      sameSite: 'strict',
      path: QUEUE_DASHBOARD_PATH,
      maxAge: expiresIn * 1000,
    });
  }

  @Get('me')
  @ApiOperation({ summary: 'Who the caller is' })
  @ApiBearerAuth()
  @RequirePermission('read', 'Self')
  @ApiOkResponse({ type: MeView })
  async me(@CurrentPrincipal() who: Principal, @CurrentAbility() ability: AppAbility): Promise<MeView> {
    const grants = this.abilities.grantsBehind(ability) ?? (await this.abilities.grantsOf(who));
    // Its own organization, then those it holds roles in.
    const ids = [
      ...new Set([...(who.organizationId ? [who.organizationId] : []), ...grants.map((g) => g.organizationId)]),
    ];
    return MeView.of(who, await this.organizations.summaries(ids), grants);
  }
}
