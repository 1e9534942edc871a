import { SetMetadata } from '@nestjs/common';
import { ACTIVATION_ONLY } from './authentication.guard';

/** The route accepts only activation tokens (scope `account:activate`), and no other route does. */
export const ActivationOnly = (): MethodDecorator => SetMetadata(ACTIVATION_ONLY, true);
