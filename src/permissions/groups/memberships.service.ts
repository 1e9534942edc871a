import { Injectable } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import type { Principal, PrincipalType } from '../../common/auth/principal';
import { CommonError } from '../../common/errors/common.errors';
import type { Listed } from '../../common/pagination/pagination';
import { TransactionRunner } from '../../database/transaction';
import type { AppAbility } from '../ability';
import { PermissionsError } from '../permissions.errors';
import { SubjectDirectory } from '../subject-directory.service';
import { AddMemberDto, MemberQuery } from './dto/membership.dto';
import { emitGroupAudit } from './group-audit';
import { lockForChange } from './group-rules';
import { GroupMembership } from './group-membership.entity';
import { GroupsRepository } from './groups.repository';
import { GroupsService } from './groups.service';

/**
 * The members of a group, through the groups API: who may join (the group's organization, a
 * service account only its own), with an expiry, each change audited in its transaction. The
 * caller may `manage_members` the group and holds its role (group-rules.ts).
 */
@Injectable()
export class MembershipsService {
  constructor(
    private readonly groups: GroupsRepository,
    private readonly groupsService: GroupsService,
    private readonly transactions: TransactionRunner,
    private readonly directory: SubjectDirectory,
    private readonly events: EventEmitter2,
  ) {}

  async members(ability: AppAbility, id: string, q: MemberQuery): Promise<Listed<GroupMembership>> {
    await this.groupsService.get(ability, id);
    return this.groups.membershipPage(id, q);
  }

  async addMember(who: Principal, ability: AppAbility, id: string, dto: AddMemberDto): Promise<GroupMembership> {
    const principal = await this.directory.accounts().resolvePrincipal(dto.principal_type, dto.principal_id);
    return this.transactions.run(async (tx) => {
      const group = await lockForChange(this.groups, tx, ability, id, 'manage_members');
      // Outside staff, a principal of another organization (users of none may join) is refused exactly
      // as one that does not exist: the answer tells nothing about other organizations, and nobody is pulled into a
      // group of an organization they do not belong to.
      if (
        !principal ||
        (!who.isStaff && principal.organizationId !== null && principal.organizationId !== group.organizationId)
      ) {
        throw new PermissionsError(
          'unknown_principal',
          `No ${dto.principal_type} ${dto.principal_id} in this organization.`,
          {
            principal_type: dto.principal_type,
            principal_id: dto.principal_id,
          },
        );
      }
      if (dto.principal_type === 'service_account' && principal.organizationId !== group.organizationId) {
        throw new PermissionsError(
          'principal_outside_organization',
          'A service account may only join groups of its own organization.',
        );
      }
      const expiresAt = dto.expires_at ? new Date(dto.expires_at) : null;
      const member = { principalType: dto.principal_type, principalId: dto.principal_id };
      const inserted = await this.groups.insertMembership(tx, id, member, expiresAt);
      if (!inserted) {
        throw new PermissionsError('already_member', 'Already a member; change the expiry with PATCH.', {
          principal_type: dto.principal_type,
          principal_id: dto.principal_id,
        });
      }
      await emitGroupAudit(this.events, tx, who, 'group.member_added', group, {
        principal_type: dto.principal_type,
        principal_id: dto.principal_id,
        expires_at: expiresAt,
      });
      return inserted;
    });
  }

  async updateMember(
    who: Principal,
    ability: AppAbility,
    id: string,
    principalType: PrincipalType,
    principalId: string,
    expiresAtIso: string | null,
  ): Promise<GroupMembership> {
    return this.transactions.run(async (tx) => {
      const group = await lockForChange(this.groups, tx, ability, id, 'manage_members');
      const membership = await this.groups.findMembership(tx, id, { principalType, principalId });
      if (!membership) throw new CommonError('not_found', 'Membership not found.');
      const expiresAt = expiresAtIso === null ? null : new Date(expiresAtIso);
      const from = membership.expiresAt;
      if ((from?.getTime() ?? null) === (expiresAt?.getTime() ?? null)) return membership;
      membership.expiresAt = expiresAt;
      const saved = await this.groups.saveMembership(tx, membership);
      await emitGroupAudit(this.events, tx, who, 'group.member_expiry_changed', group, {
        principal_type: principalType,
        principal_id: principalId,
        from,
        to: expiresAt,
      });
      return saved;
    });
  }

  async removeMember(
    who: Principal,
    ability: AppAbility,
    id: string,
    principalType: PrincipalType,
    principalId: string,
  ): Promise<void> {
    await this.transactions.run(async (tx) => {
      const group = await lockForChange(this.groups, tx, ability, id, 'manage_members');
      const deleted = await this.groups.deleteMembership(tx, id, { principalType, principalId });
      if (!deleted) throw new CommonError('not_found', 'Membership not found.');
      await emitGroupAudit(this.events, tx, who, 'group.member_removed', group, {
        principal_type: principalType,
        principal_id: principalId,
        expires_at: deleted.expiresAt,
      });
    });
  }
}
