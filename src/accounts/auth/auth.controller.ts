import { Body, Controller, Get, HttpCode, Post, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags, ApiTooManyRequestsResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Request } from 'express';
import { DataSource } from 'typeorm';
import type { Principal } from '../../common/auth/principal';
import { CurrentPrincipal } from '../../common/decorators/current-principal.decorator';
import { Public } from '../../common/decorators/public.decorator';
import { RequirePermission } from '../../common/decorators/require-permission.decorator';
import type { AppAbility } from '../../permissions/ability';
import { AbilityFactory } from '../../permissions/ability.factory';
import { CurrentAbility } from '../../permissions/current-ability.decorator';
import { AuthService } from './auth.service';
import { LoginDto, MeView, RefreshDto, TokenPairView } from './auth.dto';

@ApiTags('auth')
@Controller('auth')
export class AuthController {
  constructor(
    private readonly auth: AuthService,
    private readonly abilities: AbilityFactory,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  @Public()
  @Post('login')
  @HttpCode(200)
  @ApiOkResponse({ type: TokenPairView })
  @ApiUnauthorizedResponse({ description: '`invalid_credentials`, the same for unknown user and wrong password.' })
  @ApiTooManyRequestsResponse({ description: '`too_many_requests`: per IP and per account.' })
  login(@Body() dto: LoginDto, @Req() req: Request): Promise<TokenPairView> {
    return this.auth.login((dto.username ?? dto.email)!, dto.password, req.ip ?? 'unknown');
  }

  @Public()
  @Post('refresh')
  @HttpCode(200)
  @ApiOkResponse({ type: TokenPairView })
  refresh(@Body() dto: RefreshDto, @Req() req: Request): Promise<TokenPairView> {
    return this.auth.refresh(dto.refresh_token, req.ip ?? 'unknown');
  }

  @Public()
  @Post('logout')
  @HttpCode(204)
  async logout(@Body() dto: RefreshDto): Promise<void> {
    await this.auth.logout(dto.refresh_token);
  }

  @Get('me')
  @ApiBearerAuth()
  @RequirePermission('read', 'Self')
  @ApiOkResponse({ type: MeView })
  async me(@CurrentPrincipal() who: Principal, @CurrentAbility() ability: AppAbility): Promise<MeView> {
    const orgs: { id: string; key: string; name: string }[] =
      who.type === 'service_account'
        ? await this.dataSource.query('SELECT id, key, name FROM organizations WHERE id = $1', [who.organizationId])
        : await this.dataSource.query('SELECT o.id, o.key, o.name FROM organizations o JOIN users u ON u.organization_id = o.id WHERE u.id = $1', [who.id]);
    const grants = this.abilities.grantsBehind(ability) ?? (await this.abilities.grantsOf(who));
    return {
      type: who.type,
      id: who.id,
      name: who.name,
      token_kind: who.tokenKind,
      is_staff: who.isStaff,
      is_support: who.isSupport,
      scopes: who.scopes,
      organizations: orgs,
      roles: grants.map((g) => ({ role: g.role, scope_type: g.scopeType, scope_id: g.scopeId, organization: g.organizationId })),
    };
  }
}
