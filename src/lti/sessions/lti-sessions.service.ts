import { Injectable } from '@nestjs/common';
import { TokenIssuer } from '../../accounts/auth/token-issuer.service';
import { ProjectsService } from '../../accounts/projects/projects.service';
import { UsersService } from '../../accounts/users/users.service';
import { CommonError } from '../../common/errors/common.errors';
import { CourseAccountsService } from '../../course-accounts/course-accounts.service';
import { LtiError } from '../lti.errors';
import { LtiProvisioningRepository } from '../provisioning/lti-provisioning.repository';
import { LtiSessionView } from './lti-session.dto';
import { LtiLaunchesRepository } from './lti-launches.repository';

/**
 * The launch → session step: the browser posts the one-time launch id the launch redirected it with
 * (once, within a minute) and gets one of our access tokens for the launch's user, so the REST API
 * answers it with that user's rights, and what the launch said.
 */
@Injectable()
export class LtiSessionsService {
  constructor(
    private readonly launches: LtiLaunchesRepository,
    private readonly provisioning: LtiProvisioningRepository,
    private readonly users: UsersService,
    private readonly projects: ProjectsService,
    private readonly courseAccounts: CourseAccountsService,
    private readonly tokens: TokenIssuer,
  ) {}

  async exchange(launchId: string): Promise<LtiSessionView> {
    const launch = await this.launches.exchange(launchId);
    if (!launch) {
      const known = await this.launches.findById(launchId);
      if (!known) throw new CommonError('not_found', 'No such launch.');
      if (known.exchangedAt)
        throw new LtiError('launch_already_exchanged', 'This launch was already exchanged for a session.');
      throw new LtiError('launch_expired', 'This launch is too old to be exchanged: open the link again.');
    }
    const [user, project, accounts, emailVerified] = await Promise.all([
      this.users.findById(launch.userId),
      launch.projectId ? this.projects.findSummary(launch.projectId) : Promise.resolve(null),
      this.courseAccounts.findSummaries(launch.courseAccountId ? [launch.courseAccountId] : []),
      this.provisioning.emailVerified(launch, launch.userId),
    ]);
    if (!user || !user.isActive) throw new LtiError('user_deactivated', 'The account of this user is deactivated.');
    const source = launch.platformId ? { lti_platform: launch.platformId } : { lti_consumer: launch.consumerId! };
    const token = await this.tokens.ltiSessionToken(user.id, user.username, source, launch.id);
    const account = accounts[0];
    return {
      access_token: token.token,
      token_type: 'Bearer',
      expires_in: token.expiresIn,
      user: {
        id: user.id,
        username: user.username,
        email: user.email,
        email_verified: emailVerified,
        first_name: user.firstName,
        last_name: user.lastName,
      },
      project:
        project && !project.deletedAt
          ? { id: project.id, organization: project.organizationId, key: project.key, name: project.name }
          : null,
      role: launch.projectRole,
      link: launch.resourceLinkRef,
      context: launch.contextRef,
      claims: {
        launch_id: launch.id,
        message_type: launch.messageType,
        deployment_id: launch.deploymentId,
        target_link_uri: launch.targetLinkUri,
        roles: launch.roles,
        ...launch.claims,
      },
      course_account: account
        ? {
            id: account.id,
            state: account.state,
            username: account.username,
            error_message: account.errorMessage,
            expires_at: account.expiresAt.toISOString(),
          }
        : null,
    };
  }
}
