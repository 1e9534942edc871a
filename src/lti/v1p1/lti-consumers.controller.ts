import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Patch, Post, Query, Req } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { Request } from 'express';
import type { Principal } from '../../common/auth/principal';
import { CurrentPrincipal } from '../../common/decorators/current-principal.decorator';
import { Page, toPage } from '../../common/pagination/pagination';
import type { AppAbility } from '../../permissions/ability';
import { CurrentAbility } from '../../permissions/current-ability.decorator';
import { RequirePermission } from '../../permissions/require-permission.decorator';
import {
  CreateLtiConsumerDto,
  LtiConsumerPage,
  LtiConsumerQuery,
  LtiConsumerView,
  LtiConsumerWithSecretView,
  UpdateLtiConsumerDto,
} from './lti-consumer.dto';
import { LtiConsumersService } from './lti-consumers.service';

@ApiTags('lti')
@ApiBearerAuth()
@Controller('lti/consumers')
export class LtiConsumersController {
  constructor(private readonly consumers: LtiConsumersService) {}

  @Get()
  @RequirePermission('read', 'LtiConsumer')
  @ApiOperation({ summary: 'LTI 1.1 consumers the caller may read (organization admins see their organization’s)' })
  @ApiOkResponse({ type: LtiConsumerPage })
  async list(
    @CurrentAbility() ability: AppAbility,
    @Query() q: LtiConsumerQuery,
    @Req() req: Request,
  ): Promise<Page<LtiConsumerView>> {
    const [rows, count] = await this.consumers.list(ability, q);
    return toPage(
      req,
      q,
      rows.map((c) => LtiConsumerView.of(c, this.consumers.launchUrl)),
      count,
    );
  }

  @Post()
  @RequirePermission('create', 'LtiConsumer')
  @ApiOperation({
    summary: 'Register an LMS as an LTI 1.1 consumer of an organization (the shared secret is shown once)',
    description:
      'Answers the consumer with `consumer_secret` (only in this answer) and the `tool` block to paste into the LMS. 409 `duplicate_consumer` when the name, key or instance guid is taken.',
  })
  @ApiCreatedResponse({ type: LtiConsumerWithSecretView })
  async create(
    @CurrentPrincipal() who: Principal,
    @CurrentAbility() ability: AppAbility,
    @Body() dto: CreateLtiConsumerDto,
  ): Promise<LtiConsumerWithSecretView> {
    const { consumer, secret } = await this.consumers.create(who, ability, dto);
    return LtiConsumerWithSecretView.withSecret(consumer, this.consumers.launchUrl, secret);
  }

  @Get(':id')
  @RequirePermission('read', 'LtiConsumer')
  @ApiOperation({ summary: 'An LTI 1.1 consumer (never its secret)' })
  @ApiOkResponse({ type: LtiConsumerView })
  async get(@CurrentAbility() ability: AppAbility, @Param('id', ParseUUIDPipe) id: string): Promise<LtiConsumerView> {
    return LtiConsumerView.of(await this.consumers.get(ability, id), this.consumers.launchUrl);
  }

  @Patch(':id')
  @RequirePermission('update', 'LtiConsumer')
  @ApiOperation({ summary: 'Change an LTI 1.1 consumer (its organization and secret stay)' })
  @ApiOkResponse({ type: LtiConsumerView })
  async update(
    @CurrentPrincipal() who: Principal,
    @CurrentAbility() ability: AppAbility,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() dto: UpdateLtiConsumerDto,
  ): Promise<LtiConsumerView> {
    return LtiConsumerView.of(await this.consumers.update(who, ability, id, dto), this.consumers.launchUrl);
  }

  @Post(':id/rotate-secret')
  @HttpCode(200)
  @RequirePermission('rotate_secret', 'LtiConsumer')
  @ApiOperation({
    summary: 'Replace an LTI 1.1 consumer’s shared secret (the new one is shown once; the old one stops at once)',
  })
  @ApiOkResponse({ type: LtiConsumerWithSecretView })
  async rotateSecret(
    @CurrentPrincipal() who: Principal,
    @CurrentAbility() ability: AppAbility,
    @Param('id', ParseUUIDPipe) id: string,
  ): Promise<LtiConsumerWithSecretView> {
    const { consumer, secret } = await this.consumers.rotateSecret(who, ability, id);
    return LtiConsumerWithSecretView.withSecret(consumer, this.consumers.launchUrl, secret);
  }

  @Delete(':id')
  @HttpCode(204)
  @RequirePermission('delete', 'LtiConsumer')
  @ApiOperation({ summary: 'Delete an LTI 1.1 consumer: its launches are refused; its users and course projects stay' })
  @ApiNoContentResponse()
  async remove(
    @CurrentPrincipal() who: Principal,
    @CurrentAbility() ability: AppAbility,
    @Param('id', ParseUUIDPipe) id: string,
  ): Promise<void> {
    await this.consumers.remove(who, ability, id);
  }
}
