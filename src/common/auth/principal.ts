/** Who is calling. Built by the authentication guard from a verified token; routes read it with @CurrentPrincipal(). */
export type PrincipalType = 'user' | 'service_account';

/** Which kind of token proved it: each kind has its own checks and reach. */
export type TokenKind = 'user' | 'service' | 'activation' | 'external' | 'lti';

export interface Principal {
  type: PrincipalType;
  /** users.id or service_accounts.id */
  id: string;
  /** username, or the service account's client_id */
  name: string;
  tokenKind: TokenKind;
  /** OAuth2 scopes granted to the token (activation tokens carry only `account:activate`). */
  scopes: string[];
  /** Global flags (users only): staff may do everything, support may read everything. */
  isStaff: boolean;
  isSupport: boolean;
  /**
   * The organization a service account belongs to (its rights are bound to it), or the one a user
   * was created in (informational: a user's rights come only from its memberships and flags).
   */
  organizationId?: string;
  /** Activation tokens: the activation record they may spend. */
  activationRecordId?: string;
  /**
   * The principal's live group memberships, when they were read in the same statement as the principal
   * itself (every authenticated request): the request's ability is built from them, with no query of
   * its own. Absent, the ability factory reads them.
   */
  grants?: readonly PrincipalGrant[];
}

/** One live membership's role and scope, as the permissions module reads it. */
export interface PrincipalGrant {
  role: string;
  scopeType: string;
  scopeId: string;
  organizationId: string;
}
