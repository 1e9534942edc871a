import { Injectable } from '@nestjs/common';
import { PrincipalLookup } from '../accounts/auth/principal-lookup';
import { AbilityFactory } from '../permissions/ability.factory';
import { AppAbility, asSubject } from '../permissions/ability';
import type { JobOwnerType } from './job.entity';
import type { JobPermission } from './processors/job-definition';

/** Whether an ability allows what a job definition requires of its owner. */
export function allowsJob(ability: AppAbility, permission: JobPermission): boolean {
  return ability.can(permission.action, asSubject(permission.subject, permission.object));
}

/** The current rights of a job's owner, for jobs whose definition requires a permission. */
@Injectable()
export class JobOwnerRights {
  constructor(
    private readonly principals: PrincipalLookup,
    private readonly abilities: AbilityFactory,
  ) {}

  /** Whether the owner, as they are now, holds the permission. A deactivated or deleted owner holds none. */
  async hold(owner: { type: JobOwnerType; id: string }, permission: JobPermission): Promise<boolean> {
    const principal = await this.principals.current(owner.type, owner.id);
    return principal !== null && allowsJob(await this.abilities.for(principal), permission);
  }
}
