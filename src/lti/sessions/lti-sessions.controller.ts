import { Controller, Header, HttpCode, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public } from '../../common/decorators/public.decorator';
import { LtiSessionView } from './lti-session.dto';
import { LtiSessionsService } from './lti-sessions.service';

@ApiTags('lti')
@Controller('lti/launches')
export class LtiSessionsController {
  constructor(private readonly sessions: LtiSessionsService) {}

  // Public: the launch id the launch redirected the browser with is the credential (once, within 60 s).
  @Public()
  @Post(':launchId/exchange')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @Header('Pragma', 'no-cache')
  @ApiOperation({
    summary: 'Exchange a launch id for a session (once, within 60 s of the launch)',
    description:
      'Answers one of our access tokens for the launch’s user (LTI_SESSION_TTL_SECONDS; REST permissions apply), the user, the course project and role, the launch claims and the user’s course account. A second exchange, or one after 60 s, is 400.',
  })
  @ApiOkResponse({ type: LtiSessionView })
  exchange(@Param('launchId', ParseUUIDPipe) launchId: string): Promise<LtiSessionView> {
    return this.sessions.exchange(launchId);
  }
}
