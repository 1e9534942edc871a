import { Module } from '@nestjs/common';
import { LtiModule } from '../lti/lti.module';
import { ConsoleController } from './console.controller';

/** Serves the web console at /console (after lti in the module order: it reads the LTI platforms' origins). */
@Module({
  imports: [LtiModule],
  controllers: [ConsoleController],
})
export class ConsoleModule {}
