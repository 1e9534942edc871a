import { HttpStatus } from '@nestjs/common';
import { defineErrors } from '../common/errors/app-error';

export const AccountsError = defineErrors('AccountsError', {
  invalid_credentials: HttpStatus.UNAUTHORIZED,
  invalid_refresh_token: HttpStatus.UNAUTHORIZED,
  csrf_check_failed: HttpStatus.FORBIDDEN,
  duplicate_key: HttpStatus.CONFLICT,
  duplicate_username: HttpStatus.CONFLICT,
  invalid_dates: HttpStatus.BAD_REQUEST,
  end_date_required: HttpStatus.BAD_REQUEST,
  organization_not_empty: HttpStatus.CONFLICT,
  inactive: HttpStatus.CONFLICT,
  terms_not_accepted: HttpStatus.BAD_REQUEST,
  weak_password: HttpStatus.BAD_REQUEST,
  wrong_current_password: HttpStatus.BAD_REQUEST,
  password_unchanged: HttpStatus.BAD_REQUEST,
  activation_used: HttpStatus.CONFLICT,
});
