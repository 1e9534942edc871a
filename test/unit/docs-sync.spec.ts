import { readFileSync } from 'node:fs';
import {
  ENV_EXAMPLE_PATH,
  README_PATH,
  renderEnvExample,
  renderReadme,
  renderSettingsTable,
} from '../../scripts/settings-docs';
import { SETTINGS_SCHEMA } from '../../src/config/settings.schema';

const FIX = 'run `npm run docs:settings` and commit README.md and .env.example';

describe('settings documentation', () => {
  it('README.md has the configuration table of the current settings schema', () => {
    const readme = readFileSync(README_PATH, 'utf8');
    if (renderReadme(readme) !== readme) {
      throw new Error(`README.md's configuration table is out of date with src/config/settings.schema.ts: ${FIX}`);
    }
  });

  it('.env.example lists every setting of the current settings schema', () => {
    if (renderEnvExample() !== readFileSync(ENV_EXAMPLE_PATH, 'utf8')) {
      throw new Error(`.env.example is out of date with src/config/settings.schema.ts: ${FIX}`);
    }
  });

  it('renders one table row and one commented-out line per setting', () => {
    const names = Object.keys(SETTINGS_SCHEMA);
    const table = renderSettingsTable();
    const env = renderEnvExample();
    for (const name of names) {
      expect(table).toContain(`| \`${name}\` |`);
      expect(env).toMatch(new RegExp(`^# ${name}=`, 'm'));
    }
    expect(table.split('\n')).toHaveLength(names.length + 2);
    // Nothing is active by default: copying the example changes no behaviour.
    expect(env.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'))).toEqual([]);
  });

  it('refuses a README without the table markers', () => {
    expect(() => renderReadme('# Title\n')).toThrow(/settings:start/);
  });
});
