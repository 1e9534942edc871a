import { Injectable } from '@nestjs/common';
import { InjectSettings } from '../../config/settings.module';
import { Settings } from '../../config/settings.schema';
import { AccountsError } from '../accounts.errors';
import { ActivationService } from '../activation/activation.service';
import { AuditService } from '../audit/audit.service';
import { TokenIssuanceAudit } from '../audit/token-issuance-audit';
import { RateLimiter } from '../auth/rate-limiter';
import { TokenIssuer } from '../auth/token-issuer.service';
import { SCOPE_TOKEN } from '../service-accounts/service-account.dto';
import { AuthenticatedClient, ServiceAccountsService } from '../service-accounts/service-accounts.service';
import { OAuthError } from './oauth-error';

export interface TokenResponse {
  access_token: string;
  /** `JWT` when the client asked with `token_type=jwt`, as Open edX clients (Registrar's among them) do. */
  token_type: 'bearer' | 'JWT';
  expires_in: number;
  scope?: string;
}

interface ClientCredentials {
  clientId: string;
  secret: string;
  viaBasic: boolean;
}

const FULL_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

function isFullDate(value: string): boolean {
  const m = FULL_DATE.exec(value);
  if (!m) return false;
  const d = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3]));
  return d.getUTCFullYear() === +m[1] && d.getUTCMonth() === +m[2] - 1 && d.getUTCDate() === +m[3];
}

/** A form parameter that may appear once; sent without a value it counts as omitted (RFC 6749 §3.2). */
function single(body: Record<string, unknown>, name: string): string | undefined {
  const v = body[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new OAuthError('invalid_request', `Parameter ${name} must appear once.`);
  return v === '' ? undefined : v;
}

/** The token endpoint's grants (RFC 6749 §4.4 client credentials; the new-user-credentials activation grant). */
@Injectable()
export class OAuthService {
  constructor(
    private readonly serviceAccounts: ServiceAccountsService,
    private readonly issuer: TokenIssuer,
    private readonly activation: ActivationService,
    private readonly audit: AuditService,
    private readonly issuance: TokenIssuanceAudit,
    private readonly limiter: RateLimiter,
    @InjectSettings() private readonly settings: Settings,
  ) {}

  /** Client credentials from HTTP Basic (RFC 6749 §2.3.1, form-encoded parts) or the body; never both. */
  private clientCredentials(
    authorization: string | undefined,
    body: Record<string, unknown>,
  ): ClientCredentials | undefined {
    const bodyId = single(body, 'client_id');
    const bodySecret = single(body, 'client_secret');
    const basic =
      authorization && /^Basic\s+/i.test(authorization) ? authorization.replace(/^Basic\s+/i, '') : undefined;
    if (authorization && !basic)
      throw new OAuthError(
        'invalid_request',
        'Only HTTP Basic client authentication is supported in the Authorization header.',
      );
    if (basic !== undefined) {
      if (bodySecret !== undefined)
        throw new OAuthError('invalid_request', 'Use one client authentication method, not both.');
      const decoded = Buffer.from(basic, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0)
        throw new OAuthError('invalid_client', 'Malformed Basic credentials.', 401, {
          'WWW-Authenticate': 'Basic realm="campus-access"',
        });
      try {
        const clientId = decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' '));
        const secret = decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, ' '));
        if (bodyId !== undefined && bodyId !== clientId)
          throw new OAuthError('invalid_request', 'client_id does not match the authenticated client.');
        return { clientId, secret, viaBasic: true };
      } catch (e) {
        if (e instanceof OAuthError) throw e;
        throw new OAuthError('invalid_client', 'Malformed Basic credentials.', 401, {
          'WWW-Authenticate': 'Basic realm="campus-access"',
        });
      }
    }
    if (bodySecret !== undefined) {
      if (!bodyId) throw new OAuthError('invalid_request', 'client_secret needs client_id.');
      return { clientId: bodyId, secret: bodySecret, viaBasic: false };
    }
    return undefined;
  }

  /**
   * Failed client authentications count per IP (LOGIN_RATE_LIMIT, like password logins); an address over
   * the limit is refused, right secret or not, until its window ends. Not per client: client_id is in
   * every token the client holds, so anyone could lock a service out, and with 256-bit random secrets
   * such a lockout protects nothing. Each authenticated request then counts per client against
   * TOKEN_RATE_LIMIT, so a runaway client cannot monopolise signing; only authenticated ones, or failures
   * sent under a client's id would use up its budget. Successful requests are not limited per IP: many
   * services may share one address behind NAT.
   */
  private async authenticateClient(creds: ClientCredentials, ip: string): Promise<AuthenticatedClient> {
    const failureKeys = [`token-fail:ip:${ip}`];
    await this.limitOr429(async () => this.limiter.assertNotBlocked(failureKeys));
    const account = await this.serviceAccounts.authenticate(creds.clientId, creds.secret);
    if (!account) {
      await this.audit.record({
        action: 'oauth.client_auth_failed',
        actor: { type: 'anonymous' },
        data: { client_id: creds.clientId.slice(0, 64) },
        ip,
      });
      await this.limitOr429(() => this.limiter.hit(failureKeys));
      throw new OAuthError(
        'invalid_client',
        'Client authentication failed.',
        401,
        creds.viaBasic ? { 'WWW-Authenticate': 'Basic realm="campus-access"' } : {},
      );
    }
    await this.limitOr429(() => this.limiter.hit([`token:client:${account.clientId}`], this.settings.TOKEN_RATE_LIMIT));
    return account;
  }

  private async limitOr429(check: () => Promise<void>): Promise<void> {
    try {
      await check();
    } catch (e) {
      if (e instanceof AccountsError)
        throw new OAuthError('invalid_request', 'Too many requests; try again later.', 429, {
          'Retry-After': String(e.details?.retry_after_seconds ?? 60),
        });
      throw e;
    }
  }

  async token(authorization: string | undefined, body: Record<string, unknown>, ip: string): Promise<TokenResponse> {
    const grantType = single(body, 'grant_type');
    if (!grantType) throw new OAuthError('invalid_request', 'grant_type is required.');
    if (grantType === 'client_credentials') return this.clientCredentialsGrant(authorization, body, ip);
    if (this.settings.NEW_USER_GRANT_TYPES.includes(grantType))
      return this.newUserCredentialsGrant(authorization, body, ip);
    throw new OAuthError('unsupported_grant_type', `Grant type ${grantType.slice(0, 100)} is not supported.`);
  }

  private async clientCredentialsGrant(
    authorization: string | undefined,
    body: Record<string, unknown>,
    ip: string,
  ): Promise<TokenResponse> {
    const creds = this.clientCredentials(authorization, body);
    if (!creds)
      throw new OAuthError('invalid_client', 'Client authentication is required.', 401, {
        'WWW-Authenticate': 'Basic realm="campus-access"',
      });
    const requested = single(body, 'scope');
    // Open edX clients ask for `token_type=jwt` and then send `Authorization: JWT …`; our access
    // tokens are JWTs either way, so the parameter only names the type in the answer.
    const tokenType = single(body, 'token_type')?.toLowerCase();
    if (tokenType !== undefined && tokenType !== 'jwt' && tokenType !== 'bearer')
      throw new OAuthError('invalid_request', 'token_type must be jwt or bearer.');
    const account = await this.authenticateClient(creds, ip);
    let scopes = account.allowedScopes;
    if (requested !== undefined) {
      const asked = requested.split(' ').filter(Boolean);
      if (!asked.length || asked.some((s) => !SCOPE_TOKEN.test(s)))
        throw new OAuthError('invalid_scope', 'scope is malformed.');
      const extra = asked.filter((s) => !account.allowedScopes.includes(s));
      if (extra.length) throw new OAuthError('invalid_scope', `Scopes not allowed for this client: ${extra.join(' ')}`);
      scopes = [...new Set(asked)];
    }
    const issued = await this.issuer.serviceToken(account.id, account.clientId, scopes, account.organizationId);
    await this.issuance.issued({
      serviceAccountId: account.id,
      organizationId: account.organizationId,
      scope: scopes.join(' '),
      ip,
    });
    return {
      access_token: issued.token,
      token_type: tokenType === 'jwt' ? 'JWT' : 'bearer',
      expires_in: issued.expiresIn,
      ...(scopes.length ? { scope: scopes.join(' ') } : {}),
    };
  }

  private async newUserCredentialsGrant(
    authorization: string | undefined,
    body: Record<string, unknown>,
    ip: string,
  ): Promise<TokenResponse> {
    const creds = this.clientCredentials(authorization, body);
    const client = creds ? await this.authenticateClient(creds, ip) : undefined;
    const crsid = single(body, 'crsid');
    const lastName = single(body, 'last_name');
    const dateOfBirth = single(body, 'date_of_birth');
    const code = single(body, 'code');
    if ((crsid === undefined) === (lastName === undefined))
      throw new OAuthError('invalid_request', 'Give exactly one of crsid and last_name.');
    if (!dateOfBirth) throw new OAuthError('invalid_request', 'date_of_birth is required.');
    if (!isFullDate(dateOfBirth))
      throw new OAuthError('invalid_request', 'date_of_birth must be an RFC 3339 full-date such as 1996-12-19.');
    if (!code) throw new OAuthError('invalid_request', 'code is required.');
    if ((crsid ?? lastName)!.length > 150 || code.length > 128)
      throw new OAuthError('invalid_request', 'A parameter is too long.');
    await this.limitOr429(() => this.limiter.hit([`activation:ip:${ip}`]));
    const record = await this.activation.match({ crsid, lastName, dateOfBirth, code });
    if (!record) {
      await this.audit.record({
        action: 'activation.failed',
        actor: { type: 'anonymous' },
        data: { by: crsid ? 'crsid' : 'last_name' },
        ip,
      });
      throw new OAuthError('invalid_grant', 'The activation details do not match an active record.');
    }
    const issued = await this.issuer.activationToken(record.userId, record.id, client?.clientId ?? 'campus-access');
    await this.audit.record({
      action: 'oauth.token_issued',
      actor: { type: 'anonymous' },
      subjectType: 'User',
      subjectId: record.userId,
      organizationId: record.organizationId,
      data: { grant_type: 'new-user-credentials' },
      ip,
    });
    return {
      access_token: issued.token,
      token_type: 'bearer',
      expires_in: issued.expiresIn,
      scope: 'account:activate',
    };
  }
}
