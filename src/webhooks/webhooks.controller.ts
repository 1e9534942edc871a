import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Patch, Post, Query, Req } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { Request } from 'express';
import type { Principal } from '../common/auth/principal';
import { CurrentPrincipal } from '../common/decorators/current-principal.decorator';
import { Page, toPage } from '../common/pagination/pagination';
import type { AppAbility } from '../permissions/ability';
import { CurrentAbility } from '../permissions/current-ability.decorator';
import { RequirePermission } from '../permissions/require-permission.decorator';
import {
  CreateWebhookDto,
  DeliveryPage,
  DeliveryQuery,
  DeliveryView,
  UpdateWebhookDto,
  WebhookPage,
  WebhookQuery,
  WebhookView,
  WebhookWithSecretView,
} from './dto/webhook.dto';
import { WebhooksService } from './webhooks.service';

@ApiTags('webhooks')
@ApiBearerAuth()
@Controller('webhooks')
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  @Get()
  @RequirePermission('read', 'Webhook')
  @ApiOperation({ summary: 'Webhook subscriptions the caller may read (organization admins: their organization’s)' })
  @ApiOkResponse({ type: WebhookPage })
  async list(
    @CurrentAbility() ability: AppAbility,
    @Query() q: WebhookQuery,
    @Req() req: Request,
  ): Promise<Page<WebhookView>> {
    const [rows, count] = await this.webhooks.list(ability, q);
    return toPage(req, q, rows.map(WebhookView.of), count);
  }

  @Post()
  @RequirePermission('create', 'Webhook')
  @ApiOperation({
    summary: 'Subscribe a URL to an organization’s events',
    description:
      'The answer holds the signing secret, shown this once. Event types may use `*` (`course_account.*`, `*`). The URL must be https (http only for loopback hosts).',
  })
  @ApiCreatedResponse({ type: WebhookWithSecretView })
  async create(
    @CurrentPrincipal() who: Principal,
    @CurrentAbility() ability: AppAbility,
    @Body() dto: CreateWebhookDto,
  ): Promise<WebhookWithSecretView> {
    const { subscription, secret } = await this.webhooks.create(who, ability, dto);
    return WebhookWithSecretView.withSecret(subscription, secret);
  }

  @Get(':id')
  @RequirePermission('read', 'Webhook')
  @ApiOperation({ summary: 'A webhook subscription (never its secret)' })
  @ApiOkResponse({ type: WebhookView })
  async get(@CurrentAbility() ability: AppAbility, @Param('id', ParseUUIDPipe) id: string): Promise<WebhookView> {
    return WebhookView.of(await this.webhooks.get(ability, id));
  }

  @Patch(':id')
  @RequirePermission('update', 'Webhook')
  @ApiOperation({ summary: 'Change a webhook subscription; turning it on again resumes its waiting deliveries' })
  @ApiOkResponse({ type: WebhookView })
  async update(
    @CurrentPrincipal() who: Principal,
    @CurrentAbility() ability: AppAbility,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() dto: UpdateWebhookDto,
  ): Promise<WebhookView> {
    return WebhookView.of(await this.webhooks.update(who, ability, id, dto));
  }

  @Delete(':id')
  @HttpCode(204)
  @RequirePermission('delete', 'Webhook')
  @ApiOperation({ summary: 'Delete a webhook subscription and its deliveries' })
  @ApiNoContentResponse()
  async remove(
    @CurrentPrincipal() who: Principal,
    @CurrentAbility() ability: AppAbility,
    @Param('id', ParseUUIDPipe) id: string,
  ): Promise<void> {
    await this.webhooks.remove(who, ability, id);
  }

  @Post(':id/rotate-secret')
  @HttpCode(200)
  @RequirePermission('rotate_secret', 'Webhook')
  @ApiOperation({
    summary: 'A new signing secret (shown once); the previous one keeps signing for WEBHOOK_SECRET_OVERLAP_SECONDS',
  })
  @ApiOkResponse({ type: WebhookWithSecretView })
  async rotate(
    @CurrentPrincipal() who: Principal,
    @CurrentAbility() ability: AppAbility,
    @Param('id', ParseUUIDPipe) id: string,
  ): Promise<WebhookWithSecretView> {
    const { subscription, secret } = await this.webhooks.rotateSecret(who, ability, id);
    return WebhookWithSecretView.withSecret(subscription, secret);
  }

  @Get(':id/deliveries')
  @RequirePermission('read', 'Webhook')
  @ApiOperation({
    summary: 'Deliveries of a subscription, newest first, each with its attempts (status, answer excerpt, time)',
  })
  @ApiOkResponse({ type: DeliveryPage })
  async deliveries(
    @CurrentAbility() ability: AppAbility,
    @Param('id', ParseUUIDPipe) id: string,
    @Query() q: DeliveryQuery,
    @Req() req: Request,
  ): Promise<Page<DeliveryView>> {
    const [rows, count] = await this.webhooks.deliveries(ability, id, q);
    return toPage(req, q, rows.map(DeliveryView.of), count);
  }

  @Post(':id/deliveries/:deliveryId/redeliver')
  @HttpCode(202)
  @RequirePermission('update', 'Webhook')
  @ApiOperation({ summary: 'Send a delivered or failed delivery again (same message); 409 while it is pending' })
  @ApiAcceptedResponse({ type: DeliveryView })
  async redeliver(
    @CurrentPrincipal() who: Principal,
    @CurrentAbility() ability: AppAbility,
    @Param('id', ParseUUIDPipe) id: string,
    @Param('deliveryId', ParseUUIDPipe) deliveryId: string,
  ): Promise<DeliveryView> {
    return DeliveryView.of(await this.webhooks.redeliver(who, ability, id, deliveryId));
  }

  @Post(':id/ping')
  @HttpCode(202)
  @RequirePermission('update', 'Webhook')
  @ApiOperation({ summary: 'Send a `ping` event to the subscription’s URL to test it' })
  @ApiAcceptedResponse({ type: DeliveryView })
  async ping(
    @CurrentPrincipal() who: Principal,
    @CurrentAbility() ability: AppAbility,
    @Param('id', ParseUUIDPipe) id: string,
  ): Promise<DeliveryView> {
    return DeliveryView.of(await this.webhooks.ping(who, ability, id));
  }
}
