import { All, Body, Controller, Get, Header, HttpCode, Post, Req, UseFilters } from '@nestjs/common';
import { ApiConsumes, ApiExcludeEndpoint, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { Public } from '../../common/decorators/public.decorator';
import { CommonError } from '../../common/errors/common.errors';
import { publicUrl } from '../../config/load-settings';
import { SigningKeysService } from '../keys/signing-keys.service';
import { ACTIVATION_SCOPE, TokenIssuer } from '../auth/token-issuer.service';
import { InjectSettings } from '../../config/settings.module';
import { Settings } from '../../config/settings.schema';
import { CLIENT_ASSERTION_ALGORITHMS } from '../service-accounts/client-keys';
import { OAuthError } from './oauth-error';
import { OAuthService, TokenResponse } from './oauth.service';
import { INTROSPECT_SCOPE, IntrospectionResponse } from './token-introspection.service';
import { TokenEndpointExceptionFilter } from './token-endpoint-errors';

/** How service accounts authenticate: with a secret (Basic or in the body), or with a key they registered (RFC 7523). */
const CLIENT_AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'private_key_jwt'];

/** The OAuth endpoints take form-encoded bodies only (RFC 6749 §3.2, RFC 7009 §2.1, RFC 7662 §2.1). */
function assertForm(req: Request): void {
  if (!req.is('application/x-www-form-urlencoded'))
    throw new OAuthError('invalid_request', 'This endpoint accepts application/x-www-form-urlencoded only.');
}

/** OAuth2 token endpoint (RFC 6749) and discovery documents (RFC 8414, RFC 7517). */
@ApiTags('oauth')
@Controller()
export class OAuthController {
  constructor(
    private readonly oauth: OAuthService,
    private readonly keys: SigningKeysService,
    private readonly issuer: TokenIssuer,
    @InjectSettings() private readonly settings: Settings,
  ) {}

  private async issue(req: Request, body: Record<string, unknown>): Promise<TokenResponse> {
    assertForm(req);
    return this.oauth.token(req.headers.authorization, body ?? {}, req.ip ?? 'unknown');
  }

  @Public()
  @UseFilters(TokenEndpointExceptionFilter)
  @Post('oauth/token')
  @ApiOperation({ summary: 'OAuth2 token endpoint: client_credentials and new-user-credentials grants' })
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @Header('Pragma', 'no-cache')
  @ApiConsumes('application/x-www-form-urlencoded')
  @ApiOkResponse({ description: '`{ access_token, token_type: "bearer", expires_in, scope? }`' })
  token(@Req() req: Request, @Body() body: Record<string, unknown>): Promise<TokenResponse> {
    return this.issue(req, body);
  }

  /** The same endpoint at /token, where clients of the activation flow expect it. */
  @Public()
  @UseFilters(TokenEndpointExceptionFilter)
  @Post('token')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @Header('Pragma', 'no-cache')
  @ApiExcludeEndpoint()
  tokenAlias(@Req() req: Request, @Body() body: Record<string, unknown>): Promise<TokenResponse> {
    return this.issue(req, body);
  }

  /**
   * RFC 7009. Public as a route: the client authenticates in the request itself (as at /oauth/token), or is
   * the first-party public client revoking a user's own session or access token.
   */
  @Public()
  @UseFilters(TokenEndpointExceptionFilter)
  @Post('oauth/revoke')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @Header('Pragma', 'no-cache')
  @ApiConsumes('application/x-www-form-urlencoded')
  @ApiOperation({
    summary: 'Revoke a token (RFC 7009)',
    description:
      '`token` (an access token or a refresh token) and optional `token_type_hint`. A refresh token ends its session and the access tokens issued in it; an access token is refused from now on. 200 with an empty body, also for unknown, expired or already revoked tokens.',
  })
  @ApiOkResponse({ description: 'Empty body.' })
  async revoke(@Req() req: Request, @Body() body: Record<string, unknown>): Promise<void> {
    assertForm(req);
    await this.oauth.revoke(req.headers.authorization, body ?? {}, req.ip ?? 'unknown');
  }

  /** RFC 7662. Public as a route: the client authenticates in the request itself and needs the introspection scope. */
  @Public()
  @UseFilters(TokenEndpointExceptionFilter)
  @Post('oauth/introspect')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @Header('Pragma', 'no-cache')
  @ApiConsumes('application/x-www-form-urlencoded')
  @ApiOperation({
    summary: 'Introspect an access token (RFC 7662)',
    description: `\`token\` and optional \`token_type_hint\`. Only service accounts allowed the \`${INTROSPECT_SCOPE}\` scope (granted by staff) may ask. \`{ active: false }\` for anything expired, revoked, unknown or of a principal deactivated since; otherwise \`active: true\` with \`scope\`, \`client_id\`, \`username\`, \`token_type\`, \`exp\`, \`iat\`, \`sub\`, \`aud\`, \`iss\`, \`jti\`.`,
  })
  @ApiOkResponse({ description: '`{ active, … }`' })
  introspect(@Req() req: Request, @Body() body: Record<string, unknown>): Promise<IntrospectionResponse> {
    assertForm(req);
    return this.oauth.introspect(req.headers.authorization, body ?? {}, req.ip ?? 'unknown');
  }

  @Public()
  @UseFilters(TokenEndpointExceptionFilter)
  @All(['oauth/token', 'token', 'oauth/revoke', 'oauth/introspect'])
  @ApiExcludeEndpoint()
  wrongMethod(): never {
    throw new OAuthError('invalid_request', 'Use POST.', 405, { Allow: 'POST' });
  }

  @Public()
  @Get('.well-known/jwks.json')
  @ApiOperation({ summary: 'The public keys our tokens are signed with (JWKS)' })
  @Header('Cache-Control', 'public, max-age=300')
  jwks() {
    return this.keys.jwks();
  }

  @Public()
  @Get('.well-known/oauth-authorization-server')
  @Header('Cache-Control', 'public, max-age=300')
  @ApiOperation({ summary: 'OAuth 2.0 authorization server metadata (RFC 8414)' })
  metadata() {
    return this.metadataDocument();
  }

  /**
   * RFC 8414 §3.1: the metadata of an issuer with a path (`https://example.edu/campus`) is at
   * `/.well-known/oauth-authorization-server/campus`; any other path here is 404.
   */
  @Public()
  @Get('.well-known/oauth-authorization-server/*path')
  @Header('Cache-Control', 'public, max-age=300')
  @ApiOperation({ summary: "Metadata of an issuer with a path (RFC 8414 §3.1), at the issuer's path" })
  pathIssuerMetadata(@Req() req: Request) {
    const issuerPath = new URL(this.issuer.issuer).pathname.replace(/\/+$/, '');
    const asked = req.path.slice('/.well-known/oauth-authorization-server'.length);
    if (!issuerPath || asked !== issuerPath) throw new CommonError('not_found', 'No such route.');
    return this.metadataDocument();
  }

  /**
   * What we actually support. There is no authorization endpoint, so no response type (RFC 9700 forbids the
   * implicit grant's `token` anyway). The endpoints are where the server is reached (PUBLIC_URL), which is
   * not the issuer when the issuer has a path the server is not mounted at.
   */
  private metadataDocument() {
    const base = publicUrl(this.settings);
    return {
      issuer: this.issuer.issuer,
      token_endpoint: `${base}/oauth/token`,
      jwks_uri: `${base}/.well-known/jwks.json`,
      grant_types_supported: ['client_credentials', ...this.settings.NEW_USER_GRANT_TYPES],
      token_endpoint_auth_methods_supported: CLIENT_AUTH_METHODS,
      token_endpoint_auth_signing_alg_values_supported: CLIENT_ASSERTION_ALGORITHMS,
      revocation_endpoint: `${base}/oauth/revoke`,
      // `none`: the first-party public client revokes a user's own session without credentials.
      revocation_endpoint_auth_methods_supported: [...CLIENT_AUTH_METHODS, 'none'],
      revocation_endpoint_auth_signing_alg_values_supported: CLIENT_ASSERTION_ALGORITHMS,
      introspection_endpoint: `${base}/oauth/introspect`,
      introspection_endpoint_auth_methods_supported: CLIENT_AUTH_METHODS,
      introspection_endpoint_auth_signing_alg_values_supported: CLIENT_ASSERTION_ALGORITHMS,
      // The scopes the server itself defines; every other scope is a client's own (its allowed scopes).
      scopes_supported: [ACTIVATION_SCOPE, INTROSPECT_SCOPE],
      response_types_supported: [],
      ...(this.settings.DOCS_ENABLED ? { service_documentation: `${base}/docs` } : {}),
      // Not RFC 8414: where clients of the activation flow that predate /oauth/token post the same requests.
      campus_access_token_endpoint_alias: `${base}/token`,
    };
  }
}
