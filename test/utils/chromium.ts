import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BrowserContext, chromium } from 'playwright-core';

/** Debian's Chromium (`apt-get install chromium`); `.ci/run` installs it when it is missing. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Why browser tests are skipped on this machine, or null when Chromium is there. */
export const chromiumMissing: string | null = existsSync(CHROMIUM_PATH)
  ? null
  : `${CHROMIUM_PATH} is not installed (apt-get install chromium); browser tests are skipped`;

/** `describe` where Chromium is installed; elsewhere the block is skipped, and its name and a warning say why. */
export function describeWithChromium(name: string, fn: () => void): void {
  if (!chromiumMissing) return describe(name, fn);
  console.warn(`${name}: skipped, ${chromiumMissing}`);
  describe.skip(`${name} (skipped: ${chromiumMissing})`, fn);
}

export interface ChromiumOptions {
  /**
   * Blocks third-party cookies as a browser that allows none does (Safari, or Chrome's "block all
   * cookies" for a site): Chrome's own "Block third-party cookies" setting still admits partitioned
   * (CHIPS) cookies, so each `{ site, embeddedIn }` pair also gets a content-setting exception that
   * refuses every cookie of `site` (an origin) while the top-level page is on `embeddedIn`.
   */
  blockThirdPartyCookies?: { site: string; embeddedIn: string }[];
}

export interface Chromium {
  context: BrowserContext;
  userDataDir: string;
  close(): Promise<void>;
}

/**
 * Starts headless Chromium on a fresh profile of its own, driven by playwright-core. Nothing is
 * downloaded: the browser is Debian's, and background networking, component updates and first-run
 * pages are off, so the only traffic is what the test sends.
 */
export async function launchChromium(options: ChromiumOptions = {}): Promise<Chromium> {
  if (chromiumMissing) throw new Error(chromiumMissing);
  const userDataDir = await mkdtemp(join(tmpdir(), 'campus-access-chromium-'));
  await mkdir(join(userDataDir, 'Default'));
  await writeFile(join(userDataDir, 'Default', 'Preferences'), JSON.stringify(preferences(options)));
  try {
    const context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run',
      ],
    });
    return {
      context,
      userDataDir,
      async close() {
        await context.close();
        await rm(userDataDir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await rm(userDataDir, { recursive: true, force: true });
    throw e;
  }
}

/** The profile's `Default/Preferences`, read by Chromium at start. */
function preferences(options: ChromiumOptions): object {
  const blocked = options.blockThirdPartyCookies ?? [];
  if (blocked.length === 0) return {};
  const exceptions: Record<string, { setting: number }> = {};
  // Pattern pair: the cookie's site, then the top-level page; 2 = block.
  for (const { site, embeddedIn } of blocked) exceptions[`${site},${embeddedIn}`] = { setting: 2 };
  return {
    profile: {
      cookie_controls_mode: 1,
      block_third_party_cookies: true,
      content_settings: { exceptions: { cookies: exceptions } },
    },
  };
}
