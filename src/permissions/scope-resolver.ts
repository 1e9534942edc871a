import type { EntityManager } from 'typeorm';
import type { PrincipalType } from '../common/auth/principal';

/**
 * Injection token of the ScopeResolver. The accounts module provides it (from a @Global() module,
 * so the permissions module sees it without importing accounts).
 */
export const SCOPE_RESOLVER = Symbol('SCOPE_RESOLVER');

export interface ResolvedOrganization {
  id: string;
}

export interface ResolvedProject {
  id: string;
  organizationId: string;
}

export interface ResolvedPrincipal {
  id: string;
  /** A service account's organization; the creating organization of a user (or null). */
  organizationId: string | null;
}

/**
 * Facts owned by the accounts module that permissions needs. Every method answers `null` for an
 * id that does not exist, and for a project that is deleted (`deleted_at` set).
 */
export interface ScopeResolver {
  resolveOrganization(id: string): Promise<ResolvedOrganization | null>;
  /**
   * With `tx`: read in that transaction and locked (FOR SHARE) until it ends, so a deletion of the
   * project waits for it and then sees what it created there.
   */
  resolveProject(id: string, tx?: EntityManager): Promise<ResolvedProject | null>;
  /** An active user or service account; null when unknown. */
  resolvePrincipal(type: PrincipalType, id: string): Promise<ResolvedPrincipal | null>;
}
