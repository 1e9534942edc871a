import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Patch, Post, Query, Req } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiTags,
  ApiOperation,
} from '@nestjs/swagger';
import type { Request } from 'express';
import type { Principal } from '../../common/auth/principal';
import { CurrentPrincipal } from '../../common/decorators/current-principal.decorator';
import type { AppAbility } from '../ability';
import { CurrentAbility } from '../current-ability.decorator';
import { RequirePermission } from '../require-permission.decorator';
import { Page, toPage } from '../../common/pagination/pagination';
import { CreateGroupDto, GroupQuery, GroupView, UpdateGroupDto } from './dto/group.dto';
import { AddMemberDto, MemberPath, MemberQuery, MemberView, UpdateMemberDto } from './dto/membership.dto';
import { GroupsService } from './groups.service';
import { MembershipsService } from './memberships.service';

@ApiTags('groups')
@ApiBearerAuth()
@Controller('groups')
export class GroupsController {
  constructor(
    private readonly groups: GroupsService,
    private readonly memberships: MembershipsService,
  ) {}

  /** Groups the caller may read, filtered by organization, scope and role. */
  @Get()
  @ApiOperation({ summary: 'Groups the caller may read, filtered by organization, scope and role' })
  @RequirePermission('read', 'Group')
  async list(
    @Query() q: GroupQuery,
    @CurrentAbility() ability: AppAbility,
    @Req() req: Request,
  ): Promise<Page<GroupView>> {
    const [rows, count] = await this.groups.list(ability, q);
    return toPage(req, q, rows.map(GroupView.of), count);
  }

  @Post()
  @ApiOperation({ summary: 'Create a group holding one role at an organization, program or project' })
  @RequirePermission('create', 'Group')
  @ApiCreatedResponse({ type: GroupView })
  async create(
    @CurrentPrincipal() who: Principal,
    @CurrentAbility() ability: AppAbility,
    @Body() dto: CreateGroupDto,
  ): Promise<GroupView> {
    return GroupView.of(await this.groups.create(who, ability, dto));
  }

  @Get(':id')
  @ApiOperation({ summary: 'A group' })
  @RequirePermission('read', 'Group')
  @ApiOkResponse({ type: GroupView })
  async get(@CurrentAbility() ability: AppAbility, @Param('id', ParseUUIDPipe) id: string): Promise<GroupView> {
    return GroupView.of(await this.groups.get(ability, id));
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Rename a group or change its role' })
  @RequirePermission('update', 'Group')
  @ApiOkResponse({ type: GroupView })
  async update(
    @CurrentPrincipal() who: Principal,
    @CurrentAbility() ability: AppAbility,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() dto: UpdateGroupDto,
  ): Promise<GroupView> {
    return GroupView.of(await this.groups.update(who, ability, id, dto));
  }

  /** Deletes the group and with it every membership (each revocation is in the audit event). */
  @Delete(':id')
  @ApiOperation({ summary: 'Delete a group and every membership of it' })
  @HttpCode(204)
  @RequirePermission('delete', 'Group')
  @ApiNoContentResponse()
  async remove(
    @CurrentPrincipal() who: Principal,
    @CurrentAbility() ability: AppAbility,
    @Param('id', ParseUUIDPipe) id: string,
  ): Promise<void> {
    await this.groups.remove(who, ability, id);
  }

  @Get(':id/members')
  @ApiOperation({ summary: 'The members of a group' })
  @RequirePermission('read', 'Group')
  async members(
    @Param('id', ParseUUIDPipe) id: string,
    @Query() q: MemberQuery,
    @CurrentAbility() ability: AppAbility,
    @Req() req: Request,
  ): Promise<Page<MemberView>> {
    const [rows, count] = await this.memberships.members(ability, id, q);
    const now = new Date();
    return toPage(
      req,
      q,
      rows.map((m) => MemberView.of(m, now)),
      count,
    );
  }

  /** Grants the group's role to a user or service account, optionally until `expires_at`. */
  @Post(':id/members')
  @ApiOperation({ summary: "Grant the group's role to a user or service account, optionally until expires_at" })
  @RequirePermission('manage_members', 'Group')
  @ApiCreatedResponse({ type: MemberView })
  async addMember(
    @CurrentPrincipal() who: Principal,
    @CurrentAbility() ability: AppAbility,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() dto: AddMemberDto,
  ): Promise<MemberView> {
    return MemberView.of(await this.memberships.addMember(who, ability, id, dto));
  }

  /** Changes when a membership expires (null: never). */
  @Patch(':id/members/:principalType/:principalId')
  @ApiOperation({ summary: 'Change when a membership expires (null: never)' })
  @RequirePermission('manage_members', 'Group')
  @ApiOkResponse({ type: MemberView })
  async updateMember(
    @CurrentPrincipal() who: Principal,
    @CurrentAbility() ability: AppAbility,
    @Param() path: MemberPath,
    @Body() dto: UpdateMemberDto,
  ): Promise<MemberView> {
    return MemberView.of(
      await this.memberships.updateMember(who, ability, path.id, path.principalType, path.principalId, dto.expires_at),
    );
  }

  @Delete(':id/members/:principalType/:principalId')
  @ApiOperation({ summary: 'Remove a member from a group' })
  @HttpCode(204)
  @RequirePermission('manage_members', 'Group')
  @ApiNoContentResponse()
  async removeMember(
    @CurrentPrincipal() who: Principal,
    @CurrentAbility() ability: AppAbility,
    @Param() path: MemberPath,
  ): Promise<void> {
    await this.memberships.removeMember(who, ability, path.id, path.principalType, path.principalId);
  }
}
