import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Controller, Get, Param, Req, Res } from '@nestjs/common';
import { ApiExcludeEndpoint } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Public } from '../common/decorators/public.decorator';
import { CommonError } from '../common/errors/common.errors';
import { publicUrl } from '../config/load-settings';
import { InjectSettings } from '../config/settings.module';
import { Settings } from '../config/settings.schema';
import { consoleBuildDir } from './console-files';
import { LtiFrameAncestors } from '../lti/launch/lti-frame-ancestors';
import { consoleCsp } from './console-headers';

/** Files of the build with a content hash in their name: cached for a year. */
const HASHED_ASSETS = 'assets';
const SAFE_SEGMENT = /^[A-Za-z0-9._-]+$/;

/**
 * The web console (console/, built into dist/console-app): its files, and its index page for every
 * other path under /console (the console routes in the browser). A client of the public REST API:
 * no route exists for it alone but the browser sign-in ones (/api/v1/auth/session/*).
 */
@Controller('console')
export class ConsoleController {
  constructor(
    private readonly frames: LtiFrameAncestors,
    @InjectSettings() private readonly settings: Settings,
  ) {}

  @Public()
  @Get()
  @ApiExcludeEndpoint()
  async root(@Req() req: Request, @Res() res: Response): Promise<void> {
    await this.page([], res);
  }

  @Public()
  @Get('*path')
  @ApiExcludeEndpoint()
  async path(@Param('path') path: string[] | string, @Res() res: Response): Promise<void> {
    const segments = (Array.isArray(path) ? path : path.split('/')).filter((s) => s !== '');
    if (segments[0] === HASHED_ASSETS || (segments.length === 1 && /\.(ico|png|svg|txt)$/.test(segments[0]))) {
      await this.file(segments, res);
      return;
    }
    await this.page(segments, res);
  }

  private async file(segments: string[], res: Response): Promise<void> {
    const dir = consoleBuildDir();
    if (!dir || !segments.every((s) => SAFE_SEGMENT.test(s) && s !== '.' && s !== '..'))
      throw new CommonError('not_found', 'No such file.');
    res.setHeader(
      'Cache-Control',
      segments[0] === HASHED_ASSETS ? 'public, max-age=31536000, immutable' : 'public, max-age=300',
    );
    await new Promise<void>((resolve, reject) =>
      res.sendFile(join(...segments), { root: dir, dotfiles: 'deny' }, (err) => {
        if (!err) return resolve();
        if (res.headersSent) return resolve();
        res.removeHeader('Cache-Control');
        reject(new CommonError('not_found', 'No such file.'));
      }),
    );
  }

  /** The index page; the LTI landing page (/console/lti) may be framed by the registered platforms. */
  private async page(segments: string[], res: Response): Promise<void> {
    const lti = segments[0] === 'lti';
    const frameAncestors = lti ? await this.frames.sources() : "'none'";
    res.setHeader('Content-Security-Policy', consoleCsp(frameAncestors));
    if (lti) res.removeHeader('X-Frame-Options');
    else res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Referrer-Policy', 'no-referrer');
    const dir = consoleBuildDir();
    if (!dir) {
      res
        .status(503)
        .type('text/plain')
        .send('The web console is not built: run `npm run build:console` (npm start and npm run build do it).\n');
      return;
    }
    const basePath = new URL(publicUrl(this.settings)).pathname.replace(/\/+$/, '');
    let html = await readFile(join(dir, 'index.html'), 'utf8');
    if (basePath) html = html.replaceAll('"/console/', `"${basePath}/console/`);
    res.status(200).type('html').send(html);
  }
}
