import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AbilityFactory } from './ability.factory';
import { GroupMembership } from './groups/group-membership.entity';
import { Group } from './groups/group.entity';
import { GroupsController } from './groups/groups.controller';
import { GroupsRepository } from './groups/groups.repository';
import { GroupsService } from './groups/groups.service';
import { MembershipsService } from './groups/memberships.service';
import { PermissionsController } from './permissions.controller';
import { SubjectDirectory } from './subject-directory.service';

/**
 * Roles, groups and memberships, abilities and the authorization guard. The guard itself is
 * registered by AppModule (AUTHORIZATION_GUARD) right after the authentication guard. The
 * SCOPE_RESOLVER it needs comes from a @Global() module of accounts.
 */
@Module({
  imports: [TypeOrmModule.forFeature([Group, GroupMembership])],
  controllers: [GroupsController, PermissionsController],
  providers: [AbilityFactory, SubjectDirectory, GroupsRepository, GroupsService, MembershipsService],
  exports: [AbilityFactory, SubjectDirectory, GroupsService],
})
export class PermissionsModule {}
