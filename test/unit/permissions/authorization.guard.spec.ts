import { ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { PinoLogger } from 'nestjs-pino';
import type { Principal } from '../../../src/common/auth/principal';
import { Public } from '../../../src/common/decorators/public.decorator';
import { RequirePermission } from '../../../src/permissions/require-permission.decorator';
import { buildAbility, Grant } from '../../../src/permissions/ability';
import type { AbilityFactory } from '../../../src/permissions/ability.factory';
import { AuthorizationGuard } from '../../../src/permissions/authorization.guard';
import { ABILITY_KEY } from '../../../src/permissions/current-ability.decorator';

class Routes {
  @Public()
  open() {}
  @RequirePermission('update', 'Project')
  updateProject() {}
  @RequirePermission('read', 'Project')
  readProjects() {}
  undeclared() {}
}

const user: Principal = {
  type: 'user',
  id: 'u-1',
  name: 'alice',
  tokenKind: 'user',
  scopes: [],
  isStaff: false,
  isSupport: false,
};

function setup(grants: Grant[] = []) {
  let built = 0;
  const factory = { for: async (p: Principal) => (built++, buildAbility(p, grants)) } as unknown as AbilityFactory;
  const logged: unknown[][] = [];
  const logger = {
    setContext: () => undefined,
    error: (...args: unknown[]) => void logged.push(args),
  } as unknown as PinoLogger;
  const guard = new AuthorizationGuard(new Reflector(), factory, logger);
  const run = (method: keyof Routes, req: Record<string, unknown>) => {
    const request = Object.assign(req, { method: 'GET', originalUrl: '/x', params: req.params ?? {} });
    const ctx = {
      getType: () => 'http',
      getHandler: () => Routes.prototype[method],
      getClass: () => Routes,
      switchToHttp: () => ({ getRequest: () => request }),
    } as unknown as ExecutionContext;
    return guard.canActivate(ctx);
  };
  return { run, built: () => built, logged };
}

describe('AuthorizationGuard', () => {
  it('lets a public route through without a principal', async () => {
    await expect(setup().run('open', {})).resolves.toBe(true);
  });

  it('refuses a route that declares nothing, even to staff', async () => {
    const s = setup();
    await expect(s.run('undeclared', { principal: { ...user, isStaff: true } })).rejects.toMatchObject({
      code: 'forbidden',
      status: 403,
    });
    expect(s.logged).toEqual([
      [{ method: 'GET', path: '/x', handler: 'Routes.undeclared' }, expect.stringContaining('neither')],
    ]);
  });

  it('answers 401 when no principal reached a declared route', async () => {
    await expect(setup().run('readProjects', {})).rejects.toMatchObject({ code: 'unauthorized', status: 401 });
  });

  it('checks the action on the subject type and keeps the ability on the request', async () => {
    const s = setup([{ role: 'project_member', scopeType: 'project', scopeId: 'p-1', organizationId: 'o-1' }]);
    const req: Record<string, unknown> = { principal: user };
    await expect(s.run('readProjects', req)).resolves.toBe(true);
    expect(req[ABILITY_KEY]).toBeDefined();
    await expect(s.run('readProjects', req)).resolves.toBe(true);
    expect(s.built()).toBe(1);
    await expect(s.run('updateProject', { principal: user })).rejects.toMatchObject({ code: 'forbidden' });
  });

  it('on an object route, leaves 404-or-403 to the service when the caller reads the type, and answers 404 when it reads none', async () => {
    const member = setup([{ role: 'project_member', scopeType: 'project', scopeId: 'p-1', organizationId: 'o-1' }]);
    await expect(member.run('updateProject', { principal: user, params: { id: 'p-2' } })).resolves.toBe(true);
    await expect(setup().run('updateProject', { principal: user, params: { id: 'p-2' } })).rejects.toMatchObject({
      code: 'not_found',
      status: 404,
    });
  });
});
