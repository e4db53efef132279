// End to end in headless Chromium: the demo (`npm start`) runs as a child process with the
// inspector attached; the page must show client connections going connecting → connected →
// closed, a TLS upgrade, a refusal and a timeout, on both client and server side. Then the demo's
// recording is replayed with the time slider, and a 5 000-connection recording must not freeze it.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRecording, storeAt } from '../inspector/page/store.js';
import { chromiumAvailable, chromiumRequired, launchChromium } from './helpers/chromium.js';
import { manyConnections } from './helpers/inspectorRecords.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const artifacts = join(root, 'test', 'artifacts');
const WAIT = { timeout: 30_000 };

const suite = chromiumAvailable || chromiumRequired ? describe : describe.skip;
if (!chromiumAvailable && !chromiumRequired) console.warn('inspector-e2e: /usr/bin/chromium not found, skipping (CI installs it)');

interface Demo {
  readonly child: ChildProcess;
  readonly url: string;
  readonly output: string[];
}

/** Starts the demo the way `npm start` does (tsx), and waits for the inspector URL it prints. */
async function startDemo(record: string): Promise<Demo> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/demo.ts', '--duration', '120', '--interval', '1500', '--record', record], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  child.stderr!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  const lines = createInterface({ input: child.stdout! });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the demo printed no inspector URL:\n${output.join('')}`)), 30_000);
    lines.on('line', (line) => {
      output.push(line);
      const match = /^Inspector: (http:\/\/\S+)/.exec(line);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    child.once('exit', (code) => reject(new Error(`the demo exited (${code}) before printing its URL:\n${output.join('\n')}`)));
  });
  return { child, url, output };
}

/** Narrows the swimlanes with the page's own filters, as a user would. */
async function filterLanes(page: Page, text: string, side: 'all' | 'client' | 'server' = 'all'): Promise<void> {
  await page.selectOption('#lane-side', side);
  await page.fill('#lane-filter', text);
}

/** The visible lanes' state sequences (data-states), for the current filter. */
function laneStates(page: Page): Promise<{ side: string; states: string; reason: string }[]> {
  return page.$$eval('.lane', (rows) =>
    rows.map((row) => ({
      side: (row as HTMLElement).dataset.side ?? '',
      states: (row as HTMLElement).dataset.states ?? '',
      reason: row.querySelector('.lane-reason')?.textContent ?? '',
    })),
  );
}

suite('inspector in headless Chromium', { timeout: 120_000 }, () => {
  let browser: Browser;
  let demo: Demo | undefined;
  let work: string;
  let recording: string;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    mkdirSync(artifacts, { recursive: true });
    work = mkdtempSync(join(tmpdir(), 'inspector-e2e-'));
    recording = join(work, 'demo.jsonl');
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    if (demo && demo.child.exitCode === null) {
      demo.child.kill('SIGKILL');
      await once(demo.child, 'exit');
    }
    await browser?.close();
    rmSync(work, { recursive: true, force: true });
  });

  async function openPage(url: string): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1300 } });
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(url);
    return page;
  }

  it('shows the demo live: connecting → connected → closed, a TLS upgrade, a refusal, a timeout', async () => {
    demo = await startDemo(recording);
    const page = await openPage(demo.url);
    await page.waitForSelector('#status[data-kind="live"]', WAIT);

    // A talker's client side: (delaying →) connecting → connected → … → closed.
    await filterLanes(page, 'closed', 'client');
    await page.waitForFunction(
      () => Array.from(document.querySelectorAll<HTMLElement>('.lane')).some((row) => /connecting connected( \w+)* closed$/.test(row.dataset.states ?? '')),
      undefined,
      WAIT,
    );
    const clientLanes = await laneStates(page);
    expect(clientLanes.every((lane) => lane.side === 'client')).toBe(true);
    expect(clientLanes.some((lane) => /^delaying connecting connected/.test(lane.states))).toBe(true); // the delayed talker

    // The STARTTLS talker, on both sides: upgradingTls, then connected again.
    for (const side of ['client', 'server'] as const) {
      await filterLanes(page, 'upgradingTls', side);
      await page.waitForFunction(
        () => Array.from(document.querySelectorAll<HTMLElement>('.lane')).some((row) => / upgradingTls connected/.test(row.dataset.states ?? '')),
        undefined,
        WAIT,
      );
    }

    // The server side of a plain talker: accepted connected, closed when the talker is done.
    await filterLanes(page, 'closed', 'server');
    await page.waitForFunction(() => Array.from(document.querySelectorAll<HTMLElement>('.lane')).some((row) => /^connected( \w+)* closed$/.test(row.dataset.states ?? '')), undefined, WAIT);

    // The refused client and the one whose connect timed out end failed, with the reason shown.
    for (const code of ['ECONNREFUSED', 'ETIMEDOUT']) {
      await filterLanes(page, code, 'client');
      await page.waitForFunction(
        (wanted) => Array.from(document.querySelectorAll<HTMLElement>('.lane')).some((row) => row.dataset.current === 'failed' && row.querySelector('.lane-reason')?.textContent?.includes(wanted)),
        code,
        WAIT,
      );
    }

    // The component graph (laid out by elkjs), the counters and the event log are alive too.
    await filterLanes(page, '');
    await page.waitForFunction(() => {
      const labels = Array.from(document.querySelectorAll('svg.graph text.label')).map((t) => t.textContent ?? '');
      return labels.some((l) => l.includes('TCPClient')) && labels.some((l) => l.includes('EchoChat')) && document.querySelectorAll('svg.graph polyline.link').length > 0;
    }, undefined, WAIT);
    expect(Number(await page.textContent('#count-total'))).toBeGreaterThan(4);
    expect(await page.locator('.log-row').count()).toBeGreaterThan(0);
    await page.screenshot({ path: join(artifacts, 'inspector-e2e.png'), fullPage: true });
    await page.close();
  });

  it('replays the demo recording with the time slider', async () => {
    // Ctrl-C: the demo stops its clients and server, ends the recording and exits cleanly.
    expect(demo, 'the live test starts the demo').toBeDefined();
    const child = demo!.child;
    child.kill('SIGINT');
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code, demo!.output.join('\n')).toBe(0);

    // Serve the page from a fresh inspector with no program attached, and open the file there.
    const { createInspector } = await import('kamaelia-xstate');
    const viewer = await createInspector();
    try {
      const replay = await openPage(viewer.url);
      await replay.setInputFiles('#open-recording', recording);
      await replay.waitForSelector('#status[data-kind="replay"]', WAIT);
      const slider = replay.locator('#replay-slider');
      const [min, max] = await Promise.all([slider.getAttribute('min'), slider.getAttribute('max')]);
      // It opens at the end of the recording.
      expect(await slider.inputValue()).toBe(max);
      const atEnd = Number(await replay.textContent('#count-total'));
      expect(atEnd).toBeGreaterThan(4);
      // Back to the very start: nothing has connected yet.
      await slider.fill(min!);
      await replay.waitForFunction(() => document.querySelector('#count-total')?.textContent === '0', undefined, WAIT);
      // Just before the last connection opened: the page shows what the model says about that
      // moment (computed here from the same file), which is fewer connections than at the end.
      const records = parseRecording(readFileSync(recording, 'utf8'));
      const lastOpened = records.filter((r) => r.k === 'lane').at(-1)!.t - 1;
      const expected = storeAt(records, lastOpened).laneOrder.length;
      expect(expected).toBeGreaterThan(0);
      expect(expected).toBeLessThan(atEnd);
      await slider.fill(String(lastOpened));
      await replay.waitForFunction((n) => document.querySelector('#count-total')?.textContent === String(n), expected, WAIT);
      // The component graph is rebuilt from the recording too.
      await replay.waitForFunction(() => Array.from(document.querySelectorAll('svg.graph text.label')).some((t) => t.textContent?.includes('TCPClient')), undefined, WAIT);
      await replay.screenshot({ path: join(artifacts, 'inspector-replay.png'), fullPage: true });
      await replay.close();
    } finally {
      await viewer.close();
    }
  });

  it('stays responsive with 5 000 connections: rows are virtualized, counts are exact', async () => {
    const file = join(work, 'many.jsonl');
    const records = [
      { k: 'hello', t: 0, version: 1, showPayloadBytes: 0 },
      { k: 'actor', t: 0, id: 's', parent: null, path: 'server', name: 'server', component: 'ConnectedServer', inboxes: ['control'], outboxes: ['listening', 'signal'] },
      ...manyConnections(5000, 's'),
    ];
    writeFileSync(file, records.map((r) => JSON.stringify(r)).join('\n'));
    const { createInspector } = await import('kamaelia-xstate');
    const viewer = await createInspector();
    try {
      const page = await openPage(viewer.url);
      await page.setInputFiles('#open-recording', file);
      await page.waitForFunction(() => document.querySelector('#lane-summary')?.textContent?.includes('5000 of 5000'), undefined, WAIT);
      expect(await page.textContent('#count-open')).toBe('2500');
      // Only the rows in view exist in the DOM.
      expect(await page.locator('.lane').count()).toBeLessThan(60);
      // Newest activity first: the last connection is at the top; scrolled to the bottom, the first.
      await page.waitForSelector('.lane[data-lane="c4999"]', WAIT);
      await page.$eval('#lanes', (element) => (element.scrollTop = element.scrollHeight));
      await page.waitForSelector('.lane[data-lane="c0"]', WAIT);
      // One folded box in the graph stands for all 5 000 connection actors.
      await page.waitForFunction(() => Array.from(document.querySelectorAll('svg.graph text.count')).some((t) => t.textContent?.includes('2500 live · 5000 seen')), undefined, WAIT);
      await page.close();
    } finally {
      await viewer.close();
    }
    expect(pageErrors).toEqual([]);
  });
});
