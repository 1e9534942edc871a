import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { createBullBoard } from '@bull-board/api';
import { BullAdapter } from '@bull-board/api/bullAdapter';
import { ExpressAdapter } from '@bull-board/express';
import express, { NextFunction, Request, Response, Router } from 'express';
import { ExtractJwt } from 'passport-jwt';
import { DASHBOARD_SESSION_COOKIE, QUEUE_DASHBOARD_PATH } from '../../accounts/auth/dashboard-session';
import { TokenVerifier } from '../../accounts/auth/token-verifier.service';
import { UsersService } from '../../accounts/users/users.service';
import { JobProcessorRegistry } from '../processors/job-processor.registry';
import { BullQueueAdapter } from '../queue/bull.queue-adapter';
import { QUEUE_ADAPTER, QueueAdapter } from '../queue/queue-adapter';

type Board = ReturnType<typeof createBullBoard>;

type Refusal = { status: 401; error: 'unauthorized'; message: string } | { status: 403; error: 'forbidden'; message: string };

const extractBearer = ExtractJwt.fromAuthHeaderAsBearerToken();

/** One cookie's value from the Cookie header (no cookie parser elsewhere in the application needs one). */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) {
      const value = part.slice(at + 1).trim();
      try {
        return decodeURIComponent(value);
      } catch {
        return value;
      }
    }
  }
  return undefined;
}

/**
 * The Bull dashboard (@bull-board) for staff at /admin/queues, when jobs run on Bull. Browsers reach it
 * with the cookie of `POST /api/v1/auth/dashboard-session`; scripts may send a bearer token instead.
 * Either must be our user access token of an active staff user. It is read-only: jobs are canceled and
 * retried through their rows (`/api/v1/jobs`), which stay the truth; Redis only carries deliveries.
 */
@Injectable()
export class QueueDashboard implements OnApplicationBootstrap {
  private board?: Board;

  constructor(
    @Inject(QUEUE_ADAPTER) private readonly adapter: QueueAdapter,
    private readonly registry: JobProcessorRegistry,
    private readonly verifier: TokenVerifier,
    private readonly users: UsersService,
  ) {}

  get path(): string {
    return QUEUE_DASHBOARD_PATH;
  }

  /** The Express router to mount at `path`, staff check first; undefined without Bull (nothing to show). */
  router(): Router | undefined {
    if (!(this.adapter instanceof BullQueueAdapter)) return undefined;
    const serverAdapter = new ExpressAdapter().setBasePath(QUEUE_DASHBOARD_PATH);
    this.board = createBullBoard({ queues: [], serverAdapter, options: { uiConfig: { boardTitle: 'Campus Access' } } });
    const router = express.Router();
    router.use((req: Request, res: Response, next: NextFunction) => {
      this.refusal(req).then(
        (refused) => {
          res.setHeader('Cache-Control', 'no-store');
          if (!refused) return next();
          if (refused.status === 401) res.setHeader('WWW-Authenticate', 'Bearer');
          res.status(refused.status).json({ error: refused.error, message: refused.message });
        },
        (e: unknown) => next(e),
      );
    });
    router.use(serverAdapter.getRouter() as Router);
    return router;
  }

  /** The queues are known once every module's processors are registered. */
  onApplicationBootstrap(): void {
    if (!this.board || !(this.adapter instanceof BullQueueAdapter)) return;
    const bull = this.adapter;
    this.board.replaceQueues(
      this.registry.queues().map((name) => new BullAdapter(bull.queue(name), { readOnlyMode: true, description: 'Deliveries of job ids; each job is a row of /api/v1/jobs.' })),
    );
  }

  /** Why this request may not see the dashboard, or undefined when it may. */
  private async refusal(req: Request): Promise<Refusal | undefined> {
    const token = extractBearer(req) ?? cookieValue(req.headers.cookie, DASHBOARD_SESSION_COOKIE);
    if (!token) return { status: 401, error: 'unauthorized', message: 'Staff sign-in required: POST /api/v1/auth/dashboard-session first.' };
    let verified: Awaited<ReturnType<TokenVerifier['verify']>>;
    try {
      verified = await this.verifier.verify(token);
    } catch {
      return { status: 401, error: 'unauthorized', message: 'The session has expired or is not valid.' };
    }
    if (verified.source !== 'own' || verified.kind === 'activation') {
      return { status: 401, error: 'unauthorized', message: 'Use a Campus Access user token or the dashboard session cookie.' };
    }
    if (verified.kind === 'service') return { status: 403, error: 'forbidden', message: 'Only staff may open the queue dashboard.' };
    const user = await this.users.findById(String(verified.payload.sub));
    if (!user || !user.isActive) return { status: 401, error: 'unauthorized', message: 'The user is deactivated.' };
    if (!user.isStaff) return { status: 403, error: 'forbidden', message: 'Only staff may open the queue dashboard.' };
    return undefined;
  }
}
