import { LtiConsumer } from './lti-consumer.entity';
import { LtiConsumersController } from './lti-consumers.controller';
import { LtiConsumersRepository } from './lti-consumers.repository';
import { LtiConsumersService } from './lti-consumers.service';
import { LtiGradedAssignment } from './lti-graded-assignment.entity';
import { LtiOAuthNonce } from './lti-oauth-nonce.entity';
import { LtiOutcomeService } from './lti-outcome-service.entity';
import { LtiUser } from './lti-user.entity';
import { Lti11AssignmentsRepository } from './lti11-assignments.repository';
import { Lti11LaunchController } from './lti11-launch.controller';
import { Lti11LaunchService } from './lti11-launch.service';
import { Lti11NoncesRepository } from './lti11-nonces.repository';
import { LtiAssignmentsController } from './outcomes/lti-assignments.controller';
import { LtiAssignmentsService } from './outcomes/lti-assignments.service';
import { OutcomesClient } from './outcomes/outcomes.client';
import { SendOutcomeProcessor } from './outcomes/outcomes.processor';

/** The LTI 1.1 provider's parts, registered by LtiModule. */
export const LTI11_ENTITIES = [LtiConsumer, LtiUser, LtiOAuthNonce, LtiOutcomeService, LtiGradedAssignment];
export const LTI11_CONTROLLERS = [LtiConsumersController, Lti11LaunchController, LtiAssignmentsController];
export const LTI11_PROVIDERS = [
  LtiConsumersRepository,
  LtiConsumersService,
  Lti11NoncesRepository,
  Lti11AssignmentsRepository,
  Lti11LaunchService,
  OutcomesClient,
  SendOutcomeProcessor,
  LtiAssignmentsService,
];
