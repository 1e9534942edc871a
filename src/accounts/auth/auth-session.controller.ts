import { Body, Controller, Header, HttpCode, Post, Req, Res } from '@nestjs/common';
import {
  ApiForbiddenResponse,
  ApiHeader,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { CookieOptions, Request, Response } from 'express';
import { Public } from '../../common/decorators/public.decorator';
import { InjectSettings } from '../../config/settings.module';
import { Settings } from '../../config/settings.schema';
import { AccountsError } from '../accounts.errors';
import { LoginDto } from './auth.dto';
import { AuthService, TokenPair } from './auth.service';
import { checkSessionRequest, SESSION_COOKIE, SESSION_CSRF_HEADER, sessionCookiePath } from './browser-session';

/** What a browser gets: the access token only; the refresh token stays in the HttpOnly cookie. */
export class SessionTokenView {
  @ApiProperty({ description: 'An access token, to keep in memory and send as `Authorization: Bearer`.' })
  access_token: string;
  @ApiProperty({ example: 'Bearer' }) token_type: 'Bearer';
  @ApiProperty() expires_in: number;

  static of(pair: TokenPair): SessionTokenView {
    return { access_token: pair.access_token, token_type: pair.token_type, expires_in: pair.expires_in };
  }
}

const CSRF_HEADER_DOC = {
  name: SESSION_CSRF_HEADER,
  required: true,
  description: 'Any non-empty value; with an Origin that is PUBLIC_URL’s, it proves the request came from our pages.',
};

/**
 * Sign-in for the web console and other pages served under PUBLIC_URL: the same login, rotation and
 * revocation as /auth/login, /auth/refresh and /auth/logout, with the refresh token carried in an
 * `HttpOnly; Secure; SameSite=Strict` cookie that only these routes receive, so page scripts never
 * hold it. Each route requires the X-Requested-With header and an Origin of PUBLIC_URL (CSRF).
 */
@ApiTags('auth')
@Controller('auth/session')
export class AuthSessionController {
  constructor(
    private readonly auth: AuthService,
    @InjectSettings() private readonly settings: Settings,
  ) {}

  @Public()
  @Post('login')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @Header('Pragma', 'no-cache')
  @ApiHeader(CSRF_HEADER_DOC)
  @ApiOperation({
    summary: 'Browser sign-in: an access token in the body, the refresh token in an HttpOnly cookie',
    description:
      'Same checks and limits as POST /auth/login. Sets `campus_access_session` (HttpOnly; Secure; SameSite=Strict; Path=/api/v1/auth/session).',
  })
  @ApiOkResponse({ type: SessionTokenView })
  @ApiUnauthorizedResponse({ description: '`invalid_credentials`, the same for unknown user and wrong password.' })
  @ApiForbiddenResponse({ description: '`csrf_check_failed`: no X-Requested-With header, or a foreign Origin.' })
  @ApiTooManyRequestsResponse({ description: '`too_many_requests`: per IP and per account.' })
  async login(
    @Body() dto: LoginDto,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<SessionTokenView> {
    checkSessionRequest(req, this.settings);
    const pair = await this.auth.login((dto.username ?? dto.email)!, dto.password, req.ip ?? 'unknown');
    res.cookie(SESSION_COOKIE, pair.refresh_token, this.cookieOptions());
    return SessionTokenView.of(pair);
  }

  @Public()
  @Post('refresh')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @Header('Pragma', 'no-cache')
  @ApiHeader(CSRF_HEADER_DOC)
  @ApiOperation({
    summary: 'Browser session: a new access token for the session cookie (the refresh token is rotated)',
    description: 'Same rotation and reuse detection as POST /auth/refresh; the cookie gets the new refresh token.',
  })
  @ApiOkResponse({ type: SessionTokenView })
  @ApiUnauthorizedResponse({ description: '`invalid_refresh_token`: no cookie, or a cookie that no longer works.' })
  @ApiForbiddenResponse({ description: '`csrf_check_failed`: no X-Requested-With header, or a foreign Origin.' })
  async refresh(@Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<SessionTokenView> {
    checkSessionRequest(req, this.settings);
    const token = sessionCookieOf(req);
    if (!token) throw new AccountsError('invalid_refresh_token', 'There is no session: sign in.');
    try {
      const pair = await this.auth.refresh(token, req.ip ?? 'unknown');
      res.cookie(SESSION_COOKIE, pair.refresh_token, this.cookieOptions());
      return SessionTokenView.of(pair);
    } catch (e) {
      if (e instanceof AccountsError && e.code === 'invalid_refresh_token') this.clear(res);
      throw e;
    }
  }

  @Public()
  @Post('logout')
  @HttpCode(204)
  @ApiHeader(CSRF_HEADER_DOC)
  @ApiOperation({ summary: 'Browser sign-out: revokes the session of the cookie and clears it' })
  @ApiNoContentResponse({ description: 'Also without a cookie (nothing to revoke).' })
  @ApiForbiddenResponse({ description: '`csrf_check_failed`: no X-Requested-With header, or a foreign Origin.' })
  async logout(@Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<void> {
    checkSessionRequest(req, this.settings);
    const token = sessionCookieOf(req);
    if (token) await this.auth.logout(token);
    this.clear(res);
  }

  private cookieOptions(): CookieOptions {
    return {
      httpOnly: true,
      secure: true,
      sameSite: 'strict',
      path: sessionCookiePath(this.settings),
      maxAge: this.settings.REFRESH_TOKEN_TTL_SECONDS * 1000,
    };
  }

  private clear(res: Response): void {
    const { maxAge: _maxAge, ...options } = this.cookieOptions();
    res.clearCookie(SESSION_COOKIE, options);
  }
}

/** The session cookie's value, read from the Cookie header (no cookie parser runs for the whole app). */
export function sessionCookieOf(req: Request): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== SESSION_COOKIE) continue;
    const value = part.slice(eq + 1).trim();
    if (value.length > 512) return undefined;
    try {
      return decodeURIComponent(value) || undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}
