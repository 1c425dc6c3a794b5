import type { TestContext } from 'node:test';
import { type Browser, chromium } from 'playwright-core';
import { CHROMIUM, requireBinary } from './external-binary.js';

/**
 * Headless Chromium for a browser test, closed when the test ends. Undefined when the test was skipped
 * because Chromium is not installed; under CI=true that fails the test instead (requireBinary).
 */
export async function launchChromium(t: TestContext): Promise<Browser | undefined> {
  const executablePath = requireBinary(t, CHROMIUM);
  if (!executablePath) return undefined;
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  t.after(() => browser.close());
  return browser;
}
