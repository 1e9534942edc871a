import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags, ApiOperation } from '@nestjs/swagger';
import type { Principal } from '../../common/auth/principal';
import { CurrentPrincipal } from '../../common/decorators/current-principal.decorator';
import { RequirePermission } from '../../permissions/require-permission.decorator';
import { AccountsError } from '../accounts.errors';
import { ActivationOnly } from '../auth/activation-only.decorator';
import type { AppAbility } from '../../permissions/ability';
import { CurrentAbility } from '../../permissions/current-ability.decorator';
import { ActivateDto, CreateActivationRecordsDto } from './activation.dto';
import { ActivationCodesService, ActivationRowResult } from './activation-codes.service';
import { ActivationService } from './activation.service';

@ApiTags('activation')
@ApiBearerAuth()
@Controller()
export class ActivationController {
  constructor(
    private readonly activation: ActivationService,
    private readonly codes: ActivationCodesService,
  ) {}

  /** Creates activation records (1–1,000); every row is reported, with its code shown once. */
  @Post('activation-records')
  @ApiOperation({ summary: 'Create 1–1,000 activation records; each row is reported, its code shown once' })
  @RequirePermission('create', 'ActivationRecord')
  async create(
    @CurrentPrincipal() who: Principal,
    @CurrentAbility() ability: AppAbility,
    @Body() dto: CreateActivationRecordsDto,
  ): Promise<{ results: ActivationRowResult[] }> {
    return { results: await this.codes.createMany(who, ability, dto.organization, dto.records) };
  }

  /** With an activation token (new-user-credentials grant): set the password and activate the account. */
  @Post('accounts/activate')
  @ApiOperation({ summary: 'With an activation token: set the password and activate the account' })
  @HttpCode(204)
  @ActivationOnly()
  @RequirePermission('activate', 'Self')
  async activate(@CurrentPrincipal() who: Principal, @Body() dto: ActivateDto): Promise<void> {
    if (!dto.accept_terms) throw new AccountsError('terms_not_accepted', 'accept_terms must be true.');
    const recordId = who.activationRecordId;
    if (!recordId) throw new AccountsError('activation_used', 'This activation token carries no activation.');
    await this.activation.activate(who, recordId, dto.password);
  }
}
