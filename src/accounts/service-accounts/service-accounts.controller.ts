import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Patch, Post, Query, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import type { Principal } from '../../common/auth/principal';
import { CurrentPrincipal } from '../../common/decorators/current-principal.decorator';
import { RequirePermission } from '../../permissions/require-permission.decorator';
import { Page, toPage } from '../../common/pagination/pagination';
import type { AppAbility } from '../../permissions/ability';
import { CurrentAbility } from '../../permissions/current-ability.decorator';
import {
  CreateServiceAccountDto,
  ServiceAccountQuery,
  ServiceAccountView,
  ServiceAccountWithSecretView,
  UpdateServiceAccountDto,
} from './service-account.dto';
import { ServiceAccountsService } from './service-accounts.service';
import { ServiceAccount } from './service-account.entity';

@ApiTags('service-accounts')
@ApiBearerAuth()
@Controller('service-accounts')
export class ServiceAccountsController {
  constructor(private readonly accounts: ServiceAccountsService) {}

  private async view(a: ServiceAccount): Promise<ServiceAccountView> {
    return ServiceAccountView.of(a, await this.accounts.liveSecrets([a.id]));
  }

  @Get()
  @ApiOperation({ summary: 'Service accounts the caller may read' })
  @RequirePermission('read', 'ServiceAccount')
  async list(
    @CurrentAbility() ability: AppAbility,
    @Query() q: ServiceAccountQuery,
    @Req() req: Request,
  ): Promise<Page<ServiceAccountView>> {
    const [rows, count] = await this.accounts.list(ability, q);
    const secrets = await this.accounts.liveSecrets(rows.map((r) => r.id));
    return toPage(
      req,
      q,
      rows.map((r) =>
        ServiceAccountView.of(
          r,
          secrets.filter((s) => s.serviceAccountId === r.id),
        ),
      ),
      count,
    );
  }

  @Get(':id')
  @ApiOperation({ summary: 'A service account' })
  @RequirePermission('read', 'ServiceAccount')
  async get(
    @CurrentAbility() ability: AppAbility,
    @Param('id', ParseUUIDPipe) id: string,
  ): Promise<ServiceAccountView> {
    return this.view(await this.accounts.get(ability, id));
  }

  @Post()
  @ApiOperation({ summary: 'Create a service account; its client secret is shown once' })
  @RequirePermission('create', 'ServiceAccount')
  async create(
    @CurrentPrincipal() who: Principal,
    @CurrentAbility() ability: AppAbility,
    @Body() dto: CreateServiceAccountDto,
  ): Promise<ServiceAccountWithSecretView> {
    const { account, secret } = await this.accounts.create(who, ability, dto);
    return { ...(await this.view(account)), client_secret: secret };
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Change a service account' })
  @RequirePermission('update', 'ServiceAccount')
  async update(
    @CurrentPrincipal() who: Principal,
    @CurrentAbility() ability: AppAbility,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() dto: UpdateServiceAccountDto,
  ): Promise<ServiceAccountView> {
    return this.view(await this.accounts.update(who, ability, id, dto));
  }

  @Post(':id/rotate-secret')
  @ApiOperation({ summary: "Rotate a service account's secret; the previous one stays valid for the overlap" })
  @HttpCode(200)
  @RequirePermission('rotate_secret', 'ServiceAccount')
  async rotate(
    @CurrentPrincipal() who: Principal,
    @CurrentAbility() ability: AppAbility,
    @Param('id', ParseUUIDPipe) id: string,
  ): Promise<ServiceAccountWithSecretView> {
    const { account, secret } = await this.accounts.rotateSecret(who, ability, id);
    return { ...(await this.view(account)), client_secret: secret };
  }

  @Post(':id/revoke-tokens')
  @HttpCode(200)
  @RequirePermission('update', 'ServiceAccount')
  @ApiOperation({
    summary: "Revoke all of a service account's tokens",
    description:
      'Every access token issued to the account until now is refused from now on, on every replica; it can ask for new ones a second later. Audited as `service_account.tokens_revoked`.',
  })
  async revokeTokens(
    @CurrentPrincipal() who: Principal,
    @CurrentAbility() ability: AppAbility,
    @Param('id', ParseUUIDPipe) id: string,
  ): Promise<ServiceAccountView> {
    return this.view(await this.accounts.revokeTokens(who, ability, id));
  }

  @Post(':id/deactivate')
  @ApiOperation({ summary: 'Deactivate a service account' })
  @HttpCode(200)
  @RequirePermission('update', 'ServiceAccount')
  async deactivate(
    @CurrentPrincipal() who: Principal,
    @CurrentAbility() ability: AppAbility,
    @Param('id', ParseUUIDPipe) id: string,
  ): Promise<ServiceAccountView> {
    return this.view(await this.accounts.deactivate(who, ability, id));
  }
}
