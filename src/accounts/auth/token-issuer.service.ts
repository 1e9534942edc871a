import { Injectable } from '@nestjs/common';
import { InjectSettings } from '../../config/settings.module';
import { publicUrl } from '../../config/load-settings';
import { Settings } from '../../config/settings.schema';
import { SigningKeysService } from '../keys/signing-keys.service';

/** Claim `kind` tells our verifier which checks and reach a token has. */
export type OwnTokenKind = 'user' | 'service' | 'activation' | 'lti';

export const ACTIVATION_SCOPE = 'account:activate';
/** client_id carried by tokens issued to people through /auth/login. */
export const FIRST_PARTY_CLIENT_ID = 'campus-access';

export interface IssuedToken {
  token: string;
  expiresIn: number;
}

@Injectable()
export class TokenIssuer {
  constructor(
    private readonly keys: SigningKeysService,
    @InjectSettings() private readonly settings: Settings,
  ) {}

  get issuer(): string {
    return (this.settings.JWT_ISSUER ?? publicUrl(this.settings)).replace(/\/+$/, '');
  }

  get audience(): string {
    return this.settings.JWT_AUDIENCE;
  }

  /** How long tokens of this kind live; the verifier refuses one of ours that claims to live longer. */
  lifetimeSeconds(kind: OwnTokenKind): number {
    switch (kind) {
      case 'user':
        return this.settings.ACCESS_TOKEN_TTL_SECONDS;
      case 'service':
        return this.settings.SERVICE_TOKEN_TTL_SECONDS;
      case 'activation':
        return this.settings.ACTIVATION_TOKEN_TTL_SECONDS;
      case 'lti':
        return this.settings.LTI_SESSION_TTL_SECONDS;
    }
  }

  private async issue(
    kind: OwnTokenKind,
    sub: string,
    clientId: string,
    scope: string[],
    extra: Record<string, unknown> = {},
  ): Promise<IssuedToken> {
    const ttl = this.lifetimeSeconds(kind);
    // RFC 6749 §3.3 has no empty scope: a token granting none carries no `scope` claim.
    const token = await this.keys.sign(
      {
        ...extra,
        iss: this.issuer,
        aud: this.audience,
        sub,
        client_id: clientId,
        ...(scope.length ? { scope: scope.join(' ') } : {}),
        kind,
      },
      ttl,
    );
    return { token, expiresIn: ttl };
  }

  /** With `sessionId` (the refresh-token family), the token carries it as `sid`: revoking the session denies it. */
  userAccessToken(userId: string, username: string, sessionId?: string): Promise<IssuedToken> {
    return this.issue('user', userId, FIRST_PARTY_CLIENT_ID, [], {
      preferred_username: username,
      ...(sessionId ? { sid: sessionId } : {}),
    });
  }

  /**
   * A user access token of an LTI launch (LTI_SESSION_TTL_SECONDS): the same rights as any of the user's
   * tokens, with the platform (or LTI 1.1 consumer) and launch it came from (`lti_platform` or
   * `lti_consumer`, `lti_launch`).
   */
  ltiSessionToken(
    userId: string,
    username: string,
    source: { lti_platform: string } | { lti_consumer: string },
    launchId: string,
  ): Promise<IssuedToken> {
    return this.issue('lti', userId, FIRST_PARTY_CLIENT_ID, [], {
      preferred_username: username,
      ...source,
      lti_launch: launchId,
    });
  }

  serviceToken(
    serviceAccountId: string,
    clientId: string,
    scope: string[],
    organizationId: string,
  ): Promise<IssuedToken> {
    return this.issue('service', serviceAccountId, clientId, scope, { org: organizationId });
  }

  activationToken(userId: string, recordId: string, clientId: string): Promise<IssuedToken> {
    return this.issue('activation', userId, clientId, [ACTIVATION_SCOPE], { act: recordId });
  }
}
