// Headless Chromium for browser tests: Debian's chromium through playwright-core (no downloaded
// browser). launch() gives every run a fresh temporary profile (its own --user-data-dir).
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** CI sets INSPECTOR_E2E_REQUIRED=1 so a missing browser fails instead of skipping. */
export const chromiumAvailable = existsSync(CHROMIUM_PATH);
export const chromiumRequired = process.env.INSPECTOR_E2E_REQUIRED === '1';

/** `extraArgs` adds switches, e.g. `--host-resolver-rules=MAP evil.example 127.0.0.1` for a rebinding test. */
export function launchChromium(extraArgs: readonly string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-quic',
      '--no-first-run',
      '--disable-component-update',
      '--disable-sync',
      ...extraArgs,
    ],
  });
}
