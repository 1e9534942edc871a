import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Patch, Post, Query, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import type { Principal } from '../../common/auth/principal';
import { CurrentPrincipal } from '../../common/decorators/current-principal.decorator';
import { RequirePermission } from '../../common/decorators/require-permission.decorator';
import { Page, toPage } from '../../common/pagination/pagination';
import { CreateOrganizationDto, OrganizationQuery, OrganizationView, UpdateOrganizationDto } from './organization.dto';
import { OrganizationsService } from './organizations.service';

@ApiTags('organizations')
@ApiBearerAuth()
@Controller('organizations')
export class OrganizationsController {
  constructor(private readonly organizations: OrganizationsService) {}

  @Get()
  @RequirePermission('read', 'Organization')
  async list(@CurrentPrincipal() who: Principal, @Query() q: OrganizationQuery, @Req() req: Request): Promise<Page<OrganizationView>> {
    const [rows, count] = await this.organizations.list(who, q);
    return toPage(req, q, rows.map(OrganizationView.of), count);
  }

  @Get(':id')
  @RequirePermission('read', 'Organization')
  async get(@CurrentPrincipal() who: Principal, @Param('id', ParseUUIDPipe) id: string): Promise<OrganizationView> {
    return OrganizationView.of(await this.organizations.get(who, id));
  }

  @Post()
  @RequirePermission('create', 'Organization')
  async create(@CurrentPrincipal() who: Principal, @Body() dto: CreateOrganizationDto): Promise<OrganizationView> {
    return OrganizationView.of(await this.organizations.create(who, dto));
  }

  @Patch(':id')
  @RequirePermission('update', 'Organization')
  async update(@CurrentPrincipal() who: Principal, @Param('id', ParseUUIDPipe) id: string, @Body() dto: UpdateOrganizationDto): Promise<OrganizationView> {
    return OrganizationView.of(await this.organizations.update(who, id, dto));
  }

  @Delete(':id')
  @HttpCode(204)
  @RequirePermission('delete', 'Organization')
  async remove(@CurrentPrincipal() who: Principal, @Param('id', ParseUUIDPipe) id: string): Promise<void> {
    await this.organizations.remove(who, id);
  }
}
