import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Patch, Post, Query, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiTags, ApiOperation } from '@nestjs/swagger';
import type { Request } from 'express';
import type { Principal } from '../../common/auth/principal';
import { CurrentPrincipal } from '../../common/decorators/current-principal.decorator';
import { RequirePermission } from '../../permissions/require-permission.decorator';
import { Page, toPage } from '../../common/pagination/pagination';
import type { AppAbility } from '../../permissions/ability';
import { CurrentAbility } from '../../permissions/current-ability.decorator';
import { CreateOrganizationDto, OrganizationQuery, OrganizationView, UpdateOrganizationDto } from './organization.dto';
import { OrganizationsService } from './organizations.service';

@ApiTags('organizations')
@ApiBearerAuth()
@Controller('organizations')
export class OrganizationsController {
  constructor(private readonly organizations: OrganizationsService) {}

  @Get()
  @ApiOperation({ summary: 'Organizations the caller may read' })
  @RequirePermission('read', 'Organization')
  async list(
    @CurrentAbility() ability: AppAbility,
    @Query() q: OrganizationQuery,
    @Req() req: Request,
  ): Promise<Page<OrganizationView>> {
    const [rows, count] = await this.organizations.list(ability, q);
    return toPage(req, q, rows.map(OrganizationView.of), count);
  }

  @Get(':id')
  @ApiOperation({ summary: 'An organization' })
  @RequirePermission('read', 'Organization')
  async get(@CurrentAbility() ability: AppAbility, @Param('id', ParseUUIDPipe) id: string): Promise<OrganizationView> {
    return OrganizationView.of(await this.organizations.get(ability, id));
  }

  @Post()
  @ApiOperation({ summary: 'Staff: create an organization' })
  @RequirePermission('create', 'Organization')
  async create(
    @CurrentPrincipal() who: Principal,
    @CurrentAbility() ability: AppAbility,
    @Body() dto: CreateOrganizationDto,
  ): Promise<OrganizationView> {
    return OrganizationView.of(await this.organizations.create(who, ability, dto));
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Change an organization' })
  @RequirePermission('update', 'Organization')
  async update(
    @CurrentPrincipal() who: Principal,
    @CurrentAbility() ability: AppAbility,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() dto: UpdateOrganizationDto,
  ): Promise<OrganizationView> {
    return OrganizationView.of(await this.organizations.update(who, ability, id, dto));
  }

  @Delete(':id')
  @ApiOperation({ summary: 'Delete an empty organization' })
  @HttpCode(204)
  @RequirePermission('delete', 'Organization')
  async remove(
    @CurrentPrincipal() who: Principal,
    @CurrentAbility() ability: AppAbility,
    @Param('id', ParseUUIDPipe) id: string,
  ): Promise<void> {
    await this.organizations.remove(who, ability, id);
  }
}
