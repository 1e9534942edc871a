import { Controller, Post, Req, Res } from '@nestjs/common';
import { ApiConsumes, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Public } from '../../common/decorators/public.decorator';
import { sendErrorPage } from '../launch/lti-pages';
import { Lti11LaunchError } from './lti11-launch-error';
import { Lti11LaunchService } from './lti11-launch.service';

const requestId = (req: Request) => (req as Request & { id?: unknown }).id?.toString();

/** The LTI 1.1 launch URL consumers are configured with (outside /api/v1). */
@ApiTags('lti')
@Controller('lti/1.1')
export class Lti11LaunchController {
  constructor(private readonly launches: Lti11LaunchService) {}

  // Public: the OAuth 1.0a signature of the consumer is the credential. The launch never reads the
  // browser's own credentials: whoever was signed in, the exchange answers a token for the LTI user.
  @Public()
  @Post('launch')
  @ApiConsumes('application/x-www-form-urlencoded')
  @ApiOperation({
    summary: 'LTI 1.1 (Basic LTI) launch: the consumer’s OAuth 1.0a–signed form post',
    description:
      'Verifies the HMAC-SHA1 signature (over PUBLIC_URL’s launch URL), oauth_timestamp (±300 s) and oauth_nonce (once per consumer), then lti_message_type basic-lti-launch-request, lti_version LTI-1p0, resource_link_id and user_id; provisions the user, course project and role as LTI 1.3 launches do, records the outcome service, and answers 303 to the target (custom_target, else the tool’s landing page) with a one-time `launch_id` for POST /api/v1/lti/launches/{launch_id}/exchange. A refusal is a 400 or 401 page naming its reason.',
  })
  async launch(@Req() req: Request, @Res() res: Response): Promise<void> {
    try {
      const { location } = await this.launches.launch(req);
      res.setHeader('Cache-Control', 'no-store');
      res.redirect(303, location);
    } catch (e) {
      if (!(e instanceof Lti11LaunchError)) throw e;
      this.launches.logRefusal(e);
      sendErrorPage(res, e.status, e.reason, e.message, requestId(req));
    }
  }
}
