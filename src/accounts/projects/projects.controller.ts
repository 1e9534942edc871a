import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Patch, Post, Query, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiTags, ApiOperation } from '@nestjs/swagger';
import type { Request } from 'express';
import type { Principal } from '../../common/auth/principal';
import { CurrentPrincipal } from '../../common/decorators/current-principal.decorator';
import { RequirePermission } from '../../permissions/require-permission.decorator';
import { Page, toPage } from '../../common/pagination/pagination';
import type { AppAbility } from '../../permissions/ability';
import { CurrentAbility } from '../../permissions/current-ability.decorator';
import { CreateProjectDto, ProjectQuery, ProjectView, UpdateProjectDto } from './project.dto';
import { ProjectMemberQuery, ProjectMemberView } from './project-member.dto';
import { ProjectsService } from './projects.service';

@ApiTags('projects')
@ApiBearerAuth()
@Controller('projects')
export class ProjectsController {
  constructor(private readonly projects: ProjectsService) {}

  @Get()
  @ApiOperation({ summary: 'Projects the caller may read' })
  @RequirePermission('read', 'Project')
  async list(
    @CurrentAbility() ability: AppAbility,
    @Query() q: ProjectQuery,
    @Req() req: Request,
  ): Promise<Page<ProjectView>> {
    const [rows, count] = await this.projects.list(ability, q);
    return toPage(req, q, rows.map(ProjectView.of), count);
  }

  @Get(':id')
  @ApiOperation({ summary: 'A project' })
  @RequirePermission('read', 'Project')
  async get(@CurrentAbility() ability: AppAbility, @Param('id', ParseUUIDPipe) id: string): Promise<ProjectView> {
    return ProjectView.of(await this.projects.get(ability, id));
  }

  @Get(':id/members')
  @ApiOperation({
    summary: 'The project’s roster: the members of its groups with their names and roles',
    description:
      'Every live member of the project’s groups, one entry per user or service account with its roles, ordered by name. For whoever may `read_members` the project (its managers and contributors, organization admins, staff, support); 403 to its other readers, 404 to everyone else. A user’s `email` only where the caller may read that user (as `GET /api/v1/users/{id}`), else null.',
  })
  @RequirePermission('read_members', 'Project')
  async members(
    @CurrentAbility() ability: AppAbility,
    @Param('id', ParseUUIDPipe) id: string,
    @Query() q: ProjectMemberQuery,
    @Req() req: Request,
  ): Promise<Page<ProjectMemberView>> {
    const [rows, count] = await this.projects.members(ability, id, q);
    return toPage(req, q, rows.map(ProjectMemberView.of), count);
  }

  @Post()
  @ApiOperation({ summary: 'Create a project in an organization' })
  @RequirePermission('create', 'Project')
  async create(
    @CurrentPrincipal() who: Principal,
    @CurrentAbility() ability: AppAbility,
    @Body() dto: CreateProjectDto,
  ): Promise<ProjectView> {
    return ProjectView.of(await this.projects.create(who, ability, dto));
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Change a project' })
  @RequirePermission('update', 'Project')
  async update(
    @CurrentPrincipal() who: Principal,
    @CurrentAbility() ability: AppAbility,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() dto: UpdateProjectDto,
  ): Promise<ProjectView> {
    return ProjectView.of(await this.projects.update(who, ability, id, dto));
  }

  @Delete(':id')
  @ApiOperation({ summary: 'Delete a project (its course accounts are closed by a job)' })
  @HttpCode(204)
  @RequirePermission('delete', 'Project')
  async remove(
    @CurrentPrincipal() who: Principal,
    @CurrentAbility() ability: AppAbility,
    @Param('id', ParseUUIDPipe) id: string,
  ): Promise<void> {
    await this.projects.remove(who, ability, id);
  }
}
