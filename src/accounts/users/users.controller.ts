import { Body, Controller, Get, Param, ParseUUIDPipe, Patch, Post, Query, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiTags, ApiOperation } from '@nestjs/swagger';
import type { Request } from 'express';
import type { Principal } from '../../common/auth/principal';
import { CurrentPrincipal } from '../../common/decorators/current-principal.decorator';
import { RequirePermission } from '../../permissions/require-permission.decorator';
import { Page, toPage } from '../../common/pagination/pagination';
import type { AppAbility } from '../../permissions/ability';
import { CurrentAbility } from '../../permissions/current-ability.decorator';
import { CreateUserDto, UpdateUserDto, UserQuery, UserView } from './user.dto';
import { UsersService } from './users.service';

@ApiTags('users')
@ApiBearerAuth()
@Controller('users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Get()
  @ApiOperation({ summary: 'Users the caller may read' })
  @RequirePermission('read', 'User')
  async list(
    @CurrentAbility() ability: AppAbility,
    @Query() q: UserQuery,
    @Req() req: Request,
  ): Promise<Page<UserView>> {
    const [rows, count] = await this.users.list(ability, q);
    return toPage(req, q, rows.map(UserView.of), count);
  }

  @Get(':id')
  @ApiOperation({ summary: 'A user' })
  @RequirePermission('read', 'User')
  async get(@CurrentAbility() ability: AppAbility, @Param('id', ParseUUIDPipe) id: string): Promise<UserView> {
    return UserView.of(await this.users.get(ability, id));
  }

  @Post()
  @ApiOperation({ summary: 'Create a user' })
  @RequirePermission('create', 'User')
  async create(
    @CurrentPrincipal() who: Principal,
    @CurrentAbility() ability: AppAbility,
    @Body() dto: CreateUserDto,
  ): Promise<UserView> {
    return UserView.of(await this.users.create(who, ability, dto));
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Change a user' })
  @RequirePermission('update', 'User')
  async update(
    @CurrentPrincipal() who: Principal,
    @CurrentAbility() ability: AppAbility,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() dto: UpdateUserDto,
  ): Promise<UserView> {
    return UserView.of(await this.users.update(who, ability, id, dto));
  }
}
