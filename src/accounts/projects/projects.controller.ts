import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Patch, Post, Query, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import type { Principal } from '../../common/auth/principal';
import { CurrentPrincipal } from '../../common/decorators/current-principal.decorator';
import { RequirePermission } from '../../common/decorators/require-permission.decorator';
import { Page, toPage } from '../../common/pagination/pagination';
import { CreateProjectDto, ProjectQuery, ProjectView, UpdateProjectDto } from './project.dto';
import { ProjectsService } from './projects.service';

@ApiTags('projects')
@ApiBearerAuth()
@Controller('projects')
export class ProjectsController {
  constructor(private readonly projects: ProjectsService) {}

  @Get()
  @RequirePermission('read', 'Project')
  async list(@CurrentPrincipal() who: Principal, @Query() q: ProjectQuery, @Req() req: Request): Promise<Page<ProjectView>> {
    const [rows, count] = await this.projects.list(who, q);
    return toPage(req, q, rows.map(ProjectView.of), count);
  }

  @Get(':id')
  @RequirePermission('read', 'Project')
  async get(@CurrentPrincipal() who: Principal, @Param('id', ParseUUIDPipe) id: string): Promise<ProjectView> {
    return ProjectView.of(await this.projects.get(who, id));
  }

  @Post()
  @RequirePermission('create', 'Project')
  async create(@CurrentPrincipal() who: Principal, @Body() dto: CreateProjectDto): Promise<ProjectView> {
    return ProjectView.of(await this.projects.create(who, dto));
  }

  @Patch(':id')
  @RequirePermission('update', 'Project')
  async update(@CurrentPrincipal() who: Principal, @Param('id', ParseUUIDPipe) id: string, @Body() dto: UpdateProjectDto): Promise<ProjectView> {
    return ProjectView.of(await this.projects.update(who, id, dto));
  }

  @Delete(':id')
  @HttpCode(204)
  @RequirePermission('delete', 'Project')
  async remove(@CurrentPrincipal() who: Principal, @Param('id', ParseUUIDPipe) id: string): Promise<void> {
    await this.projects.remove(who, id);
  }
}
