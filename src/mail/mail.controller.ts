import { Body, Controller, Delete, Get, HttpCode, Param, ParseEnumPipe, ParseUUIDPipe, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { AppAbility } from '../permissions/ability';
import { CurrentAbility } from '../permissions/current-ability.decorator';
import { RequirePermission } from '../permissions/require-permission.decorator';
import { MailTemplateDto, MailTemplateView, ParticipantEmailView } from './dto/mail.dto';
import { MAIL_KINDS, MailKind } from './mail-template.entity';
import { ParticipantMailService } from './participant-mail.service';

const KIND = new ParseEnumPipe(Object.fromEntries(MAIL_KINDS.map((k) => [k, k])));

@ApiTags('mail')
@ApiBearerAuth()
@Controller()
export class MailController {
  constructor(private readonly mail: ParticipantMailService) {}

  @Get('course-accounts/:id/emails')
  @RequirePermission('read', 'CourseAccount')
  @ApiOperation({
    summary: 'E-mails sent (or being sent) to a course account’s participant, with their delivery state',
  })
  @ApiOkResponse({ type: [ParticipantEmailView] })
  async emails(
    @CurrentAbility() ability: AppAbility,
    @Param('id', ParseUUIDPipe) id: string,
  ): Promise<ParticipantEmailView[]> {
    return (await this.mail.emailsOf(ability, id)).map(ParticipantEmailView.of);
  }

  @Get('organizations/:id/mail-templates')
  @RequirePermission('read', 'Organization')
  @ApiOperation({ summary: 'The participant e-mail templates of an organization (its own, or the defaults)' })
  @ApiOkResponse({ type: [MailTemplateView] })
  templates(
    @CurrentAbility() ability: AppAbility,
    @Param('id', ParseUUIDPipe) id: string,
  ): Promise<MailTemplateView[]> {
    return this.mail.templates(ability, id);
  }

  @Put('organizations/:id/mail-templates/:kind')
  @HttpCode(204)
  @RequirePermission('update', 'Organization')
  @ApiOperation({
    summary: 'Set an organization’s template of one kind: welcome, expiry_notice or closed',
    description:
      'Mustache templates. Variables: username, email, course, course_key, organization, expires_on, days_left. In the HTML body every variable is escaped; `{{{raw}}}` is refused.',
  })
  @ApiNoContentResponse()
  async setTemplate(
    @CurrentAbility() ability: AppAbility,
    @Param('id', ParseUUIDPipe) id: string,
    @Param('kind', KIND) kind: MailKind,
    @Body() dto: MailTemplateDto,
  ): Promise<void> {
    await this.mail.setTemplate(ability, id, kind, dto);
  }

  @Delete('organizations/:id/mail-templates/:kind')
  @HttpCode(204)
  @RequirePermission('update', 'Organization')
  @ApiOperation({ summary: 'Go back to the default template of one kind' })
  @ApiNoContentResponse()
  async resetTemplate(
    @CurrentAbility() ability: AppAbility,
    @Param('id', ParseUUIDPipe) id: string,
    @Param('kind', KIND) kind: MailKind,
  ): Promise<void> {
    await this.mail.resetTemplate(ability, id, kind);
  }
}
