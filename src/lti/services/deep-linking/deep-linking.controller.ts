import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post, Query, Req, Res } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiConsumes,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiTags,
} from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsNumber,
  IsOptional,
  IsString,
  Length,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';
import type { Request, Response } from 'express';
import type { Principal } from '../../../common/auth/principal';
import { CurrentPrincipal } from '../../../common/decorators/current-principal.decorator';
import { Public } from '../../../common/decorators/public.decorator';
import { AppError } from '../../../common/errors/app-error';
import { RequirePermission } from '../../../permissions/require-permission.decorator';
import { DeepLinkAnswer, DeepLinkingService, PickedLineItem, PickerItem } from './deep-linking.service';
import { escapeHtml, sendAutoPost, sendToolPage } from './tool-pages';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

export class PickedLineItemDto implements PickedLineItem {
  @ApiProperty({ example: 10 })
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(1e9)
  score_maximum: number;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @Length(1, 255)
  label?: string;
}

export class DeepLinkResponseDto {
  @ApiProperty({ type: [String], description: 'Ids of the picker items chosen (none: the LMS is told nothing was).' })
  @IsArray()
  @ArrayMaxSize(20)
  @IsString({ each: true })
  items: string[];

  @ApiPropertyOptional({
    type: PickedLineItemDto,
    description: 'A gradebook column for each item (when the LMS accepts one).',
  })
  @IsOptional()
  @ValidateNested()
  @Type(() => PickedLineItemDto)
  line_item?: PickedLineItemDto;
}

export class PickerItemView implements PickerItem {
  @ApiProperty() id: string;
  @ApiProperty({ enum: ['ltiResourceLink'] }) type: 'ltiResourceLink';
  @ApiProperty() title: string;
  @ApiProperty() text: string;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } }) custom: Record<string, string>;
}

export class PickerView {
  @ApiProperty({ type: [PickerItemView] }) items: PickerItemView[];
  @ApiProperty({ type: [String] }) accept_types: string[];
  @ApiProperty() accept_multiple: boolean;
  @ApiProperty() accept_lineitem: boolean;
}

export class DeepLinkAnswerView implements DeepLinkAnswer {
  @ApiProperty({ description: 'Post `JWT` (form field) here, from the browser.' }) return_url: string;
  @ApiProperty({ description: 'The LtiDeepLinkingResponse, signed with the tool key.' }) jwt: string;
}

/** The content picker's JSON API, for a front end holding the launch's session (the exchanged launch id). */
@ApiTags('lti')
@ApiBearerAuth()
@Controller('lti/deep-linking')
export class DeepLinkingApiController {
  constructor(private readonly deepLinking: DeepLinkingService) {}

  @Get(':launchId/items')
  @RequirePermission('read', 'Self')
  @ApiOperation({ summary: 'The content a deep-linking launch may send back to the LMS (the launch’s user only)' })
  @ApiOkResponse({ type: PickerView })
  async items(
    @CurrentPrincipal() who: Principal,
    @Param('launchId', ParseUUIDPipe) launchId: string,
  ): Promise<PickerView> {
    const p = await this.deepLinking.picker(launchId, who.id);
    return {
      items: p.items,
      accept_types: p.accept_types,
      accept_multiple: p.accept_multiple,
      accept_lineitem: p.accept_lineitem,
    };
  }

  @Post(':launchId/response')
  @HttpCode(200)
  @RequirePermission('read', 'Self')
  @ApiOperation({ summary: 'The signed deep-linking answer for the chosen items, to post to the LMS (once)' })
  @ApiOkResponse({ type: DeepLinkAnswerView })
  respond(
    @CurrentPrincipal() who: Principal,
    @Param('launchId', ParseUUIDPipe) launchId: string,
    @Body() dto: DeepLinkResponseDto,
  ): Promise<DeepLinkAnswerView> {
    return this.deepLinking.answer(launchId, dto.items, dto.line_item ?? null, who.id);
  }
}

/** The server-rendered picker a deep-linking launch lands on (works without JavaScript); the launch id is the credential. */
@ApiTags('lti')
@Controller('lti/deep-linking')
export class DeepLinkingPageController {
  constructor(private readonly deepLinking: DeepLinkingService) {}

  @Public()
  @Get()
  @ApiOperation({ summary: 'The content picker page of a deep-linking launch (`?launch_id=`)' })
  async page(@Query('launch_id') launchId: unknown, @Res() res: Response): Promise<void> {
    try {
      if (typeof launchId !== 'string' || !UUID.test(launchId))
        throw new AppErrorPage(400, 'invalid_launch_id', 'No launch id.');
      const p = await this.deepLinking.picker(launchId);
      const kind = p.accept_multiple ? 'checkbox' : 'radio';
      const accepted = p.accept_types.includes('ltiResourceLink');
      sendToolPage(
        res,
        200,
        'Choose content',
        () =>
          `<main><h1>${escapeHtml(p.title ?? 'Add Campus Access to your course')}</h1>` +
          (accepted
            ? `<form method="post" action="deep-linking"><input type="hidden" name="launch_id" value="${escapeHtml(launchId)}"><ul>` +
              p.items
                .map(
                  (i) =>
                    `<li><label><input type="${kind}" name="item" value="${escapeHtml(i.id)}"> <strong>${escapeHtml(i.title)}</strong> — ${escapeHtml(i.text)}</label></li>`,
                )
                .join('') +
              `</ul>` +
              (p.accept_lineitem
                ? `<p><label>Gradebook column, out of <input type="number" name="score_maximum" min="0" step="any"></label> (leave empty for none)</p>`
                : '') +
              `<button type="submit">Add to the course</button></form>`
            : `<p>The LMS accepts none of the content this tool offers here (it asks for: ${escapeHtml(p.accept_types.join(', ') || 'nothing')}).</p>`) +
          `</main>`,
      );
    } catch (e) {
      this.refuse(res, e);
    }
  }

  @Public()
  @Post()
  @ApiConsumes('application/x-www-form-urlencoded')
  @ApiOperation({ summary: 'The picker’s choice: answers the page that posts the signed answer to the LMS' })
  async choose(@Req() req: Request, @Res() res: Response): Promise<void> {
    try {
      const body = (req.body ?? {}) as Record<string, unknown>;
      const launchId = body.launch_id;
      if (typeof launchId !== 'string' || !UUID.test(launchId))
        throw new AppErrorPage(400, 'invalid_launch_id', 'No launch id.');
      const items = ([] as unknown[])
        .concat(body.item ?? [])
        .filter((v): v is string => typeof v === 'string')
        .slice(0, 20);
      const max =
        typeof body.score_maximum === 'string' && body.score_maximum.trim() ? Number(body.score_maximum) : null;
      if (max !== null && !(Number.isFinite(max) && max >= 0 && max <= 1e9))
        throw new AppErrorPage(400, 'invalid_score_maximum', 'The gradebook column needs a number.');
      const answer = await this.deepLinking.answer(launchId, items, max === null ? null : { score_maximum: max });
      sendAutoPost(res, answer.return_url, { JWT: answer.jwt }, 'Back to the LMS');
    } catch (e) {
      this.refuse(res, e);
    }
  }

  private refuse(res: Response, e: unknown): void {
    const status = e instanceof AppErrorPage || e instanceof AppError ? e.status : null;
    if (status === null) throw e;
    const code = e instanceof AppErrorPage ? e.code : (e as AppError).code;
    sendToolPage(
      res,
      status,
      'Content picker',
      () =>
        `<main data-lti-reason="${escapeHtml(code)}"><h1>The content picker cannot go on</h1><p>${escapeHtml((e as Error).message)}</p></main>`,
    );
  }
}

class AppErrorPage extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}
