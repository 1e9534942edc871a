import { AuthorizationModule } from '../../src/permissions/authorization.module';
import { createTestApp, TestApp, TestAppOptions } from '../utils/test-app';
import { SqlScopeResolverModule } from './sql-scope-resolver.module';

/**
 * The real application with the authorization guard mounted after the authentication guard (as
 * AppModule does it) and a ScopeResolver reading the accounts tables. Importing a module AppModule
 * already imports changes nothing, so this stays right once AppModule mounts them itself.
 */
export function createPermissionsTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  return createTestApp({
    ...options,
    imports: [SqlScopeResolverModule, AuthorizationModule, ...(options.imports ?? [])],
  });
}
