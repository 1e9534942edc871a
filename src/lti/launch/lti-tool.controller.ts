import { Controller, Get, Header, HttpCode, Post, Req, Res } from '@nestjs/common';
import { ApiConsumes, ApiExcludeEndpoint, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Public } from '../../common/decorators/public.decorator';
import { LtiToolKeysService } from '../keys/lti-tool-keys.service';
import { toolUrls } from '../lti-urls';
import { InjectSettings } from '../../config/settings.module';
import { Settings } from '../../config/settings.schema';
import { LtiLaunchError } from './lti-launch-error';
import { LtiFrameAncestors } from './lti-frame-ancestors';
import {
  sendAppPage,
  sendErrorPage,
  sendLaunchStoragePage,
  sendLoginStoragePage,
  withFrameAncestors,
} from './lti-pages';
import { LtiToolService } from './lti-tool.service';

const requestId = (req: Request) => (req as Request & { id?: unknown }).id?.toString();

/**
 * The tool's browser endpoints (outside /api/v1, at the URLs an LMS administrator registers) and
 * its public keyset. Refusals answer an HTML page naming the reason (400 or 401), never a launch.
 */
@ApiTags('lti')
@Controller('lti')
export class LtiToolController {
  constructor(
    private readonly tool: LtiToolService,
    private readonly keys: LtiToolKeysService,
    private readonly frames: LtiFrameAncestors,
    @InjectSettings() private readonly settings: Settings,
  ) {}

  @Public()
  @Get('jwks.json')
  @Header('Cache-Control', 'public, max-age=300')
  @ApiOperation({ summary: 'The tool’s public keys (active, and the previous one through the rotation overlap)' })
  @ApiOkResponse({ description: '`{ keys: [JWK…] }`' })
  jwks(): { keys: object[] } {
    return this.keys.jwks();
  }

  @Public()
  @Get('login')
  @ApiOperation({
    summary: 'LTI 1.3 third-party initiated login (OIDC), by GET',
    description:
      'Parameters: iss, login_hint, target_link_uri, lti_message_hint?, client_id?, lti_deployment_id?, lti_storage_target?. Redirects to the platform’s authorization endpoint (with lti_storage_target: a page that first stores the state in the platform frame). A refusal is a 400 page naming its reason.',
  })
  async loginByGet(@Req() req: Request, @Res() res: Response): Promise<void> {
    await this.login(req.query as Record<string, unknown>, req, res);
  }

  @Public()
  @Post('login')
  @HttpCode(200)
  @ApiConsumes('application/x-www-form-urlencoded')
  @ApiOperation({ summary: 'LTI 1.3 third-party initiated login (OIDC), by POST (same parameters, form-encoded)' })
  async loginByPost(@Req() req: Request, @Res() res: Response): Promise<void> {
    await this.login(
      { ...(req.query as Record<string, unknown>), ...((req.body ?? {}) as Record<string, unknown>) },
      req,
      res,
    );
  }

  @Public()
  @Post('launch')
  @ApiConsumes('application/x-www-form-urlencoded')
  @ApiOperation({
    summary: 'LTI 1.3 launch: the platform’s form post of id_token and state',
    description:
      'Validates the login’s state (cookie, or postMessage storage), the id_token and its claims, provisions the user, course project and role, and answers 303 to the target link with a one-time `launch_id` (exchange it with POST /api/v1/lti/launches/{launch_id}/exchange). A refusal is a 400 or 401 page naming its reason.',
  })
  async launch(@Req() req: Request, @Res() res: Response): Promise<void> {
    try {
      const answer = await this.tool.launch(req);
      if (answer.kind === 'storage') {
        sendLaunchStoragePage(await this.framed(res), { ...answer, launchUrl: toolUrls(this.settings).launch });
        return;
      }
      res.setHeader('Set-Cookie', answer.clearCookie);
      res.setHeader('Cache-Control', 'no-store');
      res.redirect(303, answer.location);
    } catch (e) {
      if (!(e instanceof LtiLaunchError)) throw e;
      this.tool.logRefusal('launch', e);
      sendErrorPage(await this.framed(res), e.status, e.reason, e.message, requestId(req));
    }
  }

  @Public()
  @Get('app')
  @ApiExcludeEndpoint()
  async app(@Res() res: Response): Promise<void> {
    sendAppPage(
      await this.framed(res),
      `${new URL(toolUrls(this.settings).base).pathname.replace(/\/+$/, '')}/api/v1/lti/launches/{launch_id}/exchange`,
    );
  }

  private async login(params: Record<string, unknown>, req: Request, res: Response): Promise<void> {
    try {
      const answer = await this.tool.login(params);
      res.setHeader('Set-Cookie', answer.cookie);
      if (answer.kind === 'storage') {
        sendLoginStoragePage(await this.framed(res), answer);
        return;
      }
      res.setHeader('Cache-Control', 'no-store');
      res.redirect(302, answer.location);
    } catch (e) {
      if (!(e instanceof LtiLaunchError)) throw e;
      this.tool.logRefusal('login', e);
      sendErrorPage(await this.framed(res), 400, e.reason, e.message, requestId(req));
    }
  }

  /** `res` with the frame-ancestors of the registered platforms, for a page (a redirect needs none). */
  private async framed(res: Response): Promise<Response> {
    return withFrameAncestors(res, await this.frames.sources());
  }
}
