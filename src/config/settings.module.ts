import { DynamicModule, Global, Inject, Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { Settings } from './settings.schema';

export const SETTINGS = Symbol('SETTINGS');

/** Injects the validated, typed settings. */
export const InjectSettings = (): ParameterDecorator => Inject(SETTINGS);

@Global()
@Module({})
export class SettingsModule {
  static forRoot(settings: Settings): DynamicModule {
    return {
      module: SettingsModule,
      imports: [
        // ConfigService sees the same validated values for libraries that expect it.
        ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, load: [() => ({ ...settings })] }),
      ],
      providers: [{ provide: SETTINGS, useValue: settings }],
      exports: [SETTINGS],
    };
  }
}
