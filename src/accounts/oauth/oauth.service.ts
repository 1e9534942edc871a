import { Injectable } from '@nestjs/common';
import { publicUrl } from '../../config/load-settings';
import { InjectSettings } from '../../config/settings.module';
import { Settings } from '../../config/settings.schema';
import { CommonError } from '../../common/errors/common.errors';
import { ActivationService } from '../activation/activation.service';
import { AuditService } from '../audit/audit.service';
import { TokenIssuanceAudit } from '../audit/token-issuance-audit';
import { RateLimiter } from '../auth/rate-limiter';
import { FIRST_PARTY_CLIENT_ID, TokenIssuer } from '../auth/token-issuer.service';
import { SCOPE_TOKEN } from '../service-accounts/service-account.dto';
import { AuthenticatedClient, ServiceAccountsService } from '../service-accounts/service-accounts.service';
import { ClientAssertionVerifier, JWT_BEARER_ASSERTION_TYPE } from './client-assertion.service';
import { OAuthError } from './oauth-error';
import { INTROSPECT_SCOPE, IntrospectionResponse, TokenIntrospection } from './token-introspection.service';
import { TokenRevocation } from './token-revocation.service';

export interface TokenResponse {
  access_token: string;
  /** `JWT` when the client asked with `token_type=jwt`, as Open edX clients (Registrar's among them) do. */
  token_type: 'bearer' | 'JWT';
  expires_in: number;
  scope?: string;
}

type ClientCredentials =
  | { clientId: string; secret: string; viaBasic: boolean }
  /** private_key_jwt (RFC 7523 §2.2); `clientId` is the body's client_id, when sent. */
  | { assertion: string; clientId?: string; viaBasic: false };

/** The endpoints a client authenticates at; a client assertion may name any of them, or the issuer. */
export type OAuthEndpoint = 'oauth/token' | 'oauth/revoke' | 'oauth/introspect';

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
    private readonly revocation: TokenRevocation,
    private readonly introspection: TokenIntrospection,
    private readonly assertions: ClientAssertionVerifier,
    @InjectSettings() private readonly settings: Settings,
  ) {}

  /**
   * Client credentials from HTTP Basic (RFC 6749 §2.3.1, form-encoded parts), the body, or a client
   * assertion (private_key_jwt); exactly one method.
   */
  private clientCredentials(
    authorization: string | undefined,
    body: Record<string, unknown>,
  ): ClientCredentials | undefined {
    const bodyId = single(body, 'client_id');
    const bodySecret = single(body, 'client_secret');
    const assertionType = single(body, 'client_assertion_type');
    const assertion = single(body, 'client_assertion');
    if (assertionType !== undefined || assertion !== undefined) {
      if (authorization || bodySecret !== undefined)
        throw new OAuthError('invalid_request', 'Use one client authentication method, not both.');
      if (assertionType !== JWT_BEARER_ASSERTION_TYPE)
        throw new OAuthError('invalid_request', `client_assertion_type must be ${JWT_BEARER_ASSERTION_TYPE}.`);
      if (!assertion) throw new OAuthError('invalid_request', 'client_assertion is required.');
      return { assertion, clientId: bodyId, viaBasic: false };
    }
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
  private async authenticateClient(
    creds: ClientCredentials,
    ip: string,
    endpoint: OAuthEndpoint,
    tokenBudget = true,
  ): Promise<AuthenticatedClient> {
    const failureKeys = [`token-fail:ip:${ip}`];
    await this.limitOr429(async () => this.limiter.assertNotBlocked(failureKeys));
    let account: AuthenticatedClient | null;
    let failure: Record<string, string> = {};
    if ('assertion' in creds) {
      const verified = await this.assertions.verify(creds.assertion, this.assertionAudiences(endpoint));
      account = 'client' in verified ? verified.client : null;
      if (account && creds.clientId !== undefined && creds.clientId !== account.clientId) account = null;
      failure = {
        method: 'private_key_jwt',
        reason: 'failure' in verified ? verified.failure : 'client_id_mismatch',
        client_id: this.assertions.claimedClientId(creds.assertion) ?? '',
      };
    } else {
      account = await this.serviceAccounts.authenticate(creds.clientId, creds.secret);
      failure = { client_id: creds.clientId.slice(0, 64) };
    }
    if (!account) {
      await this.audit.record({
        action: 'oauth.client_auth_failed',
        actor: { type: 'anonymous' },
        data: failure,
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
    if (tokenBudget)
      await this.limitOr429(() =>
        this.limiter.hit([`token:client:${account.clientId}`], this.settings.TOKEN_RATE_LIMIT),
      );
    return account;
  }

  /**
   * What a client assertion's `aud` may name (RFC 7523 §3): our issuer, or the endpoint it is sent to
   * (the token endpoint also by its `/token` alias), as reached at PUBLIC_URL.
   */
  private assertionAudiences(endpoint: OAuthEndpoint): string[] {
    const base = publicUrl(this.settings);
    return [this.issuer.issuer, `${base}/${endpoint}`, ...(endpoint === 'oauth/token' ? [`${base}/token`] : [])];
  }

  /**
   * The client of a revocation or introspection request (RFC 7009 §2.1, RFC 7662 §2.1), authenticated as
   * at the token endpoint; failures count per IP the same way. Without credentials it is the first-party
   * public client (`campus-access`, which holds user sessions), named by `client_id` or not at all; any
   * other client_id without credentials is a confidential client that did not authenticate.
   * These requests do not spend the client's token budget (TOKEN_RATE_LIMIT).
   */
  async endpointClient(
    authorization: string | undefined,
    body: Record<string, unknown>,
    ip: string,
    endpoint: OAuthEndpoint,
  ): Promise<{ client?: AuthenticatedClient; clientId: string }> {
    const creds = this.clientCredentials(authorization, body);
    if (creds) {
      const client = await this.authenticateClient(creds, ip, endpoint, false);
      return { client, clientId: client.clientId };
    }
    const named = single(body, 'client_id');
    if (named !== undefined && named !== FIRST_PARTY_CLIENT_ID)
      throw new OAuthError('invalid_client', 'Client authentication is required.', 401, {
        'WWW-Authenticate': 'Basic realm="campus-access"',
      });
    return { clientId: FIRST_PARTY_CLIENT_ID };
  }

  /**
   * RFC 7662 §2.1: `token` (required) and `token_type_hint` (optional). Only an authenticated service
   * account whose allowed scopes hold INTROSPECT_SCOPE may ask (403 `unauthorized_client` for any other).
   */
  async introspect(
    authorization: string | undefined,
    body: Record<string, unknown>,
    ip: string,
  ): Promise<IntrospectionResponse> {
    const token = single(body, 'token');
    single(body, 'token_type_hint');
    const { client } = await this.endpointClient(authorization, body, ip, 'oauth/introspect');
    if (!client)
      throw new OAuthError('invalid_client', 'Client authentication is required.', 401, {
        'WWW-Authenticate': 'Basic realm="campus-access"',
      });
    if (!client.allowedScopes.includes(INTROSPECT_SCOPE))
      throw new OAuthError('unauthorized_client', 'This client may not introspect tokens.', 403);
    if (!token) throw new OAuthError('invalid_request', 'token is required.');
    return this.introspection.introspect(token);
  }

  /** RFC 7009 §2.1: `token` (required) and `token_type_hint` (optional; our token types tell themselves apart). */
  async revoke(authorization: string | undefined, body: Record<string, unknown>, ip: string): Promise<void> {
    const token = single(body, 'token');
    single(body, 'token_type_hint');
    const { client, clientId } = await this.endpointClient(authorization, body, ip, 'oauth/revoke');
    if (!token) throw new OAuthError('invalid_request', 'token is required.');
    await this.revocation.revoke(
      token,
      { clientId, serviceAccountId: client?.id, organizationId: client?.organizationId },
      ip,
    );
  }

  private async limitOr429(check: () => Promise<void>): Promise<void> {
    try {
      await check();
    } catch (e) {
      if (e instanceof CommonError && e.code === 'too_many_requests')
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
    throw new OAuthError('unsupported_grant_type', 'The grant type is not supported.');
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
    const account = await this.authenticateClient(creds, ip, 'oauth/token');
    let scopes = account.allowedScopes;
    if (requested !== undefined) {
      const asked = requested.split(' ').filter(Boolean);
      if (!asked.length || asked.some((s) => !SCOPE_TOKEN.test(s)))
        throw new OAuthError('invalid_scope', 'scope is malformed.');
      const extra = asked.filter((s) => !account.allowedScopes.includes(s));
      if (extra.length) throw new OAuthError('invalid_scope', 'A requested scope is not allowed for this client.');
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
    const client = creds ? await this.authenticateClient(creds, ip, 'oauth/token') : undefined;
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
