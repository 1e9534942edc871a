import { Inject, Injectable, Optional } from '@nestjs/common';
import type { DataSource, EntityTarget, FindOptionsSelect, FindOptionsWhere } from 'typeorm';
import type { Scope } from './ability';
import { PermissionsError } from './permissions.errors';
import { SCOPE_RESOLVER, ScopeResolver } from './scope-resolver';
import { SCOPE_SUBJECT, ScopeType, SubjectType } from './subjects';

/** Loads the fields abilities condition on (see SubjectFields) for one object; null when it does not exist. */
export type SubjectLoader = (id: string) => Promise<Record<string, unknown> | null>;

/**
 * Finds objects by subject type and id, for scope validation and introspection. Organizations,
 * projects, users and service accounts come from the ScopeResolver (accounts); other modules
 * register their subjects (`register('Job', …)`, `register('Program', …)` — the latter also makes
 * program scopes usable for groups).
 */
@Injectable()
export class SubjectDirectory {
  private readonly loaders = new Map<SubjectType, SubjectLoader>();

  constructor(@Optional() @Inject(SCOPE_RESOLVER) private readonly resolver?: ScopeResolver) {}

  register(type: SubjectType, loader: SubjectLoader): void {
    this.loaders.set(type, loader);
  }

  /** Registers a subject whose fields are columns of its own row, found by primary key `id`. */
  registerEntity<E extends { id: string }>(
    type: SubjectType,
    db: DataSource,
    entity: EntityTarget<E>,
    fields: (keyof E & string)[],
  ): void {
    const select = Object.fromEntries(['id', ...fields].map((f) => [f, true])) as FindOptionsSelect<E>;
    this.register(type, async (id) => {
      const row = await db.getRepository(entity).findOne({ where: { id } as FindOptionsWhere<E>, select });
      return row && Object.fromEntries(['id', ...fields].map((f) => [f, (row as Record<string, unknown>)[f]]));
    });
  }

  knows(type: SubjectType): boolean {
    return this.loaders.has(type) || ['Organization', 'Project', 'User', 'ServiceAccount'].includes(type);
  }

  async load(type: SubjectType, id: string): Promise<Record<string, unknown> | null> {
    const loader = this.loaders.get(type);
    if (loader) return loader(id);
    switch (type) {
      case 'Organization':
        return this.accounts().resolveOrganization(id) as Promise<Record<string, unknown> | null>;
      case 'Project':
        return this.accounts().resolveProject(id) as Promise<Record<string, unknown> | null>;
      case 'User':
        return this.accounts().resolvePrincipal('user', id) as Promise<Record<string, unknown> | null>;
      case 'ServiceAccount':
        return this.accounts().resolvePrincipal('service_account', id) as Promise<Record<string, unknown> | null>;
      default:
        throw new PermissionsError('unknown_object_type', `Objects of type ${type} cannot be looked up.`, {
          object_type: type,
        });
    }
  }

  /** The scope with its organization, or null when no such organization/program/project exists. */
  async resolveScope(type: ScopeType, id: string): Promise<Scope | null> {
    const subject = SCOPE_SUBJECT[type];
    if (!this.knows(subject)) {
      throw new PermissionsError('unknown_scope', `${type} scopes are not available.`, {
        scope_type: type,
        scope_id: id,
      });
    }
    const fields = await this.load(subject, id);
    if (!fields) return null;
    const organizationId = type === 'organization' ? id : fields.organizationId;
    if (typeof organizationId !== 'string') return null;
    return { type, id, organizationId };
  }

  accounts(): ScopeResolver {
    if (!this.resolver) {
      throw new PermissionsError(
        'scope_resolution_unavailable',
        'Organizations and projects cannot be looked up: no ScopeResolver is registered.',
      );
    }
    return this.resolver;
  }
}
