// The inspector page under real use, in headless Chromium: a live session whose connections churn
// (test/helpers/liveSession.ts), a long-lived actor's 200 000 steps, a program whose
// @statelyai/inspect cut its definition short. Clicks land on rows that keep moving, memory stays
// bounded, the charts read well, and the page works from the keyboard with no serious or critical
// axe-core violations.
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebSocketInspector } from '@statelyai/inspect';
import { createActor, createMachine } from 'xstate';
import { createInspector, type InspectorRecord } from 'kamaelia-xstate';
import { chromiumAvailable, chromiumRequired, launchChromium } from './helpers/chromium.js';
import { startLiveSession, type LiveSession } from './helpers/liveSession.js';

const WAIT = { timeout: 20_000 };
const KEEP_FINISHED = 60;
const suite = chromiumAvailable || chromiumRequired ? describe : describe.skip;

suite('inspector page under real use (Chromium)', { timeout: 60_000 }, () => {
  let browser: Browser;
  let session: LiveSession;
  let work: string;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'inspector-page-'));
    [browser, session] = await Promise.all([launchChromium(), startLiveSession({ keepFinished: KEEP_FINISHED })]);
  }, 60_000);

  afterAll(async () => {
    await session?.stop();
    await browser?.close();
    rmSync(work, { recursive: true, force: true });
  });

  async function openPage(url: string, width = 1400): Promise<Page> {
    const page = await browser.newPage({ viewport: { width, height: 1100 } });
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(url);
    await page.waitForSelector('#status[data-kind="live"]', WAIT);
    return page;
  }

  /** Waits until `n` more connections have been seen: the page has redrawn several times meanwhile. */
  async function moreConnections(page: Page, n: number): Promise<void> {
    const seen = Number(await page.textContent('#count-total'));
    await page.waitForFunction((target) => Number(document.querySelector('#count-total')?.textContent) >= target, seen + n, WAIT);
  }

  /** A press of `ms` on an element's middle, as a person clicks. */
  async function slowClick(page: Page, selector: string, ms = 100): Promise<void> {
    const box = (await page.locator(selector).first().boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down();
    await new Promise((resolve) => setTimeout(resolve, ms));
    await page.mouse.up();
  }

  it('1 · keeps row elements while they stay in view, holds the order under the pointer, and every 100 ms click lands', async () => {
    const page = await openPage(session.inspector.url);
    await page.waitForFunction(() => document.querySelectorAll('.lane').length > 5, undefined, WAIT);
    // The same element stands for a lane across redraws.
    const lane = await page.$eval('.lane.client', (row) => {
      (row as HTMLElement & { tag?: string }).tag = 'kept';
      return (row as HTMLElement).dataset.lane!;
    });
    await moreConnections(page, 20);
    expect(await page.$eval(`.lane[data-lane="${lane}"]`, (row) => (row as HTMLElement & { tag?: string }).tag)).toBe('kept');

    // Twenty clicks on the top row while connections churn and talkers move to the top.
    let landed = 0;
    for (let i = 0; i < 20; i++) {
      await page.mouse.move(0, 0); // off the list: it may reorder between clicks
      await page.waitForSelector('.lane', WAIT);
      const box = (await page.locator('.lane').first().boundingBox())!;
      await page.mouse.move(box.x + 40, box.y + box.height / 2);
      const target = await page.evaluate(([x, y]) => (document.elementFromPoint(x!, y!)?.closest('.lane') as HTMLElement | null)?.dataset.lane, [box.x + 40, box.y + box.height / 2]);
      await page.mouse.down();
      await new Promise((resolve) => setTimeout(resolve, 100));
      await page.mouse.up();
      const opened = await page.waitForFunction((id) => document.querySelector<HTMLElement>('#detail')?.dataset.lane === id, target, { timeout: 2_000 }).then(
        () => true,
        () => false,
      );
      if (opened) landed++;
      await page.keyboard.press('Escape');
    }
    expect(landed).toBe(20);

    // With the pointer resting on a row, that row stays where it is while the list goes on changing.
    const rest = (await page.locator('.lane').nth(2).boundingBox())!;
    await page.mouse.move(rest.x + 40, rest.y + rest.height / 2);
    const under = await page.evaluate(([x, y]) => (document.elementFromPoint(x!, y!)?.closest('.lane') as HTMLElement).dataset.lane, [rest.x + 40, rest.y + rest.height / 2]);
    await page.waitForSelector('.hold-note[data-held="yes"]', WAIT);
    await moreConnections(page, 10);
    const still = await page.evaluate(([x, y]) => (document.elementFromPoint(x!, y!)?.closest('.lane') as HTMLElement).dataset.lane, [rest.x + 40, rest.y + rest.height / 2]);
    expect(still).toBe(under);

    // A client's two machine tabs (TCPClient, its socket adapter): ten slow clicks switch ten times.
    await page.mouse.move(0, 0);
    await page.selectOption('#lane-side', 'client');
    await page.fill('#lane-filter', 'connected');
    await page.check('#lane-open');
    await page.click('.lane.client');
    await page.waitForFunction(() => document.querySelectorAll('.machine-tab').length === 2, undefined, WAIT);
    let switched = 0;
    for (let i = 0; i < 10; i++) {
      const wanted = await page.$eval('.machine-tab:not(.selected)', (tab) => (tab as HTMLElement).dataset.actor!);
      await slowClick(page, `.machine-tab[data-actor="${wanted}"]`);
      if (await page.$eval('.machine-tab.selected', (tab) => (tab as HTMLElement).dataset.actor).then((id) => id === wanted)) switched++;
    }
    expect(switched).toBe(10);
    await page.close();
  });

  it('3 · an open page keeps the server’s cap of finished connections and says how many it dropped', async () => {
    const page = await openPage(session.inspector.url);
    await page.waitForFunction(() => Number(document.querySelector<HTMLElement>('#lane-summary [data-dropped]')?.dataset.dropped) > 0, undefined, WAIT);
    const summary = (await page.textContent('#lane-summary'))!;
    expect(summary).toMatch(new RegExp(`older finished connections dropped \\(the page keeps the latest ${KEEP_FINISHED}, as the server does\\)`));
    const shown = Number(/of (\d+) connections/.exec(summary)![1]);
    // The cap (plus half again between trims) and the few open connections.
    expect(shown).toBeLessThan(KEEP_FINISHED * 1.5 + 10 + 20);
    // "seen" counts the dropped ones too.
    expect(Number(await page.textContent('#count-total'))).toBeGreaterThan(shown);
    await page.close();
  });

  it('5 · 7 · shows a plain actor as a box with its statechart; counts visits; zooms and pans; marks a failed component; explains a body component', async () => {
    const page = await openPage(session.inspector.url);
    // The plain actor, named by its machine, as a first-class box.
    await page.waitForSelector('svg.graph g.component.plain[data-key="root:metronome"]', WAIT);
    await page.click('svg.graph g.component[data-key="root:metronome"] > text.label');
    await page.waitForSelector('#detail-chart svg.statechart', WAIT);
    expect(await page.textContent('#detail-title')).toBe('metronome');
    // Visits are counted (×N), not listed.
    await page.waitForFunction(() => Number(document.querySelector<HTMLElement>('#detail-chart .state[data-state="tick"] .visit')?.dataset.count) >= 3, undefined, WAIT);
    expect(await page.textContent('#detail-chart .state[data-state="tick"] .visit')).toMatch(/^×\d+$/);

    // A TCPClient's chart is drawn at full size, with zoom and pan.
    await page.keyboard.press('Escape');
    await page.selectOption('#lane-side', 'client');
    await page.fill('#lane-filter', 'connected');
    await page.click('.lane.client');
    await page.waitForSelector('#detail-chart svg.statechart', WAIT);
    // Drawn at 80 % or more (labels ~9 px and up), not shrunk to the panel's width.
    const zoom = Number(await page.getAttribute('#detail-chart', 'data-zoom'));
    expect(zoom).toBeGreaterThanOrEqual(0.8);
    const natural = await page.$eval('#detail-chart svg.statechart', (svg) => ({ drawn: svg.getBoundingClientRect().width, laidOut: Number(svg.getAttribute('viewBox')!.split(' ')[2]) }));
    expect(natural.drawn / natural.laidOut).toBeGreaterThanOrEqual(0.79);
    await page.click('.chart-toolbar button[aria-label="zoom in"]');
    expect(Number(await page.getAttribute('#detail-chart', 'data-zoom'))).toBeGreaterThan(zoom);
    const before = await page.$eval('.chart-viewport', (v) => {
      v.scrollLeft = 0;
      v.scrollTop = 0;
      return 0;
    });
    const view = (await page.locator('.chart-viewport').boundingBox())!;
    await page.mouse.move(view.x + view.width / 2, view.y + view.height / 2);
    await page.mouse.down();
    await page.mouse.move(view.x + view.width / 2 - 120, view.y + view.height / 2 - 80, { steps: 4 });
    await page.mouse.up();
    expect(await page.$eval('.chart-viewport', (v) => v.scrollLeft + v.scrollTop)).toBeGreaterThan(before);
    await page.click('.chart-toolbar button[aria-label="fit the chart to the view"]');
    expect(Number(await page.getAttribute('#detail-chart', 'data-zoom'))).toBeLessThan(zoom);

    // The refused client's component is marked failed in the graph.
    await page.keyboard.press('Escape');
    await page.waitForSelector('svg.graph g.component.failed', WAIT);
    expect(await page.locator('svg.graph g.component.failed text.count').first().textContent()).toContain('failed');

    // The state chips count the connections shown, not all of them.
    await page.selectOption('#lane-side', 'all');
    await page.uncheck('#lane-open').catch(() => {});
    await page.fill('#lane-filter', 'ECONNREFUSED');
    await page.waitForSelector('#lane-summary .chip[data-state="failed"]', WAIT);
    const chips = await page.$$eval('#lane-summary .chip', (elements) => elements.map((chip) => [(chip as HTMLElement).dataset.state, Number((chip as HTMLElement).dataset.count)] as const));
    expect(chips.map(([state]) => state)).toEqual(['failed']);
    expect(Number(/^(\d+) of/.exec((await page.textContent('#lane-summary'))!)![1])).toBe(chips[0]![1]);

    // A click on the echo handler's box says what it is instead of "no state machine".
    await page.fill('#lane-filter', '');
    await page.click('svg.graph g.component[data-key$="[EchoProtocol]"] > text.label');
    await page.waitForFunction(() => document.querySelector('#detail-chart')?.textContent?.includes('body component'), undefined, WAIT);
    expect(await page.textContent('#detail-chart')).toContain('EchoProtocol is a body component');
    await page.close();
  });

  it('7 · the swimlane time track keeps a readable width in a 1 100 px window', async () => {
    const page = await openPage(session.inspector.url, 1100);
    await page.waitForSelector('.lane', WAIT);
    const width = await page.$eval('.lane .lane-track', (track) => track.getBoundingClientRect().width);
    expect(width).toBeGreaterThanOrEqual(160);
    await page.close();
  });

  it('8 · works from the keyboard, and axe-core finds no serious or critical violations', async () => {
    const page = await openPage(session.inspector.url);
    await page.waitForSelector('.lane', WAIT);
    await page.waitForSelector('svg.graph g.component', WAIT);
    // "open recording" is reached with Tab.
    await page.focus('header a');
    let reached = false;
    for (let i = 0; i < 5 && !reached; i++) {
      await page.keyboard.press('Tab');
      reached = await page.evaluate(() => document.activeElement?.id === 'open-recording');
    }
    expect(reached, '"open recording" is focusable').toBe(true);
    // A lane: focus, Enter opens its details, Escape closes them and gives the focus back.
    await page.focus('.lane');
    const lane = await page.evaluate(() => (document.activeElement as HTMLElement).dataset.lane);
    await page.keyboard.press('Enter');
    await page.waitForFunction((id) => document.querySelector<HTMLElement>('#detail')?.dataset.lane === id, lane, WAIT);
    // Its steps are focusable too, and Enter pins one.
    await page.waitForSelector('#detail-steps .step[data-step]', WAIT);
    await page.focus('#detail-steps .step[data-step="1"]');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => /^step 1 of/.test(document.querySelector('.step-label')?.textContent ?? ''), undefined, WAIT);
    await page.keyboard.press('Escape');
    await page.waitForSelector('#detail[hidden]', { state: 'attached', ...WAIT });
    // A graph box and a log row open with Enter too.
    await page.focus('svg.graph g.component[data-key="root:metronome"]');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#detail:not([hidden]) #detail-chart svg.statechart', WAIT);
    await page.keyboard.press('Escape');
    // The log is newest first and live; with the focus on it, it holds its order (keyed rows), so
    // the row focused is the row Enter opens.
    await page.focus('.log-row');
    const focused = await page.evaluate(() => (document.activeElement as HTMLElement).dataset.actor);
    await page.keyboard.press('Enter');
    const opened = await page
      .waitForFunction((actor) => document.querySelector<HTMLElement>('#detail:not([hidden])')?.dataset.actor === actor, focused, WAIT)
      .then(() => true)
      .catch(() => false);
    expect(opened, 'Enter on a log row opens its actor').toBe(true);

    // axe-core over the whole page, the detail view open.
    await page.addScriptTag({ path: createRequire(import.meta.url).resolve('axe-core/axe.min.js') });
    const violations = await page.evaluate(async () => {
      const axe = (window as unknown as { axe: { run(context: Document, options: object): Promise<{ violations: { id: string; impact: string; nodes: { target: string[] }[] }[] }> } }).axe;
      const result = await axe.run(document, { resultTypes: ['violations'] });
      return result.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
    });
    const severe = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    expect(severe, JSON.stringify(violations, null, 1)).toEqual([]);
    await page.close();
  });

  it('2 · a long-lived actor of 200 000 steps: the detail view draws its chart and a virtual step list', async () => {
    const flipper = createMachine({ id: 'flipper', initial: 'a', states: { a: { on: { flip: 'b' } }, b: { on: { flip: 'a' } } } });
    const records: InspectorRecord[] = [
      { k: 'hello', t: 1, version: 1, showPayloadBytes: 0 },
      { k: 'machine', t: 1, machine: 'm1', definition: JSON.parse(JSON.stringify(flipper.config)) as unknown },
      { k: 'actor', t: 1, id: 'x:0', parent: null, path: 'flipper', name: 'flipper', component: null, machine: 'm1' },
    ];
    for (let i = 0; i < 200_000; i++) records.push({ k: 'step', t: 2 + Math.floor(i / 50), id: 'x:0', value: i % 2 ? 'b' : 'a', event: 'flip' });
    const file = join(work, 'long.jsonl');
    writeFileSync(file, records.map((record) => JSON.stringify(record)).join('\n'));
    const viewer = await createInspector();
    try {
      const page = await openPage(viewer.url);
      await page.setInputFiles('#open-recording', file);
      await page.waitForSelector('#status[data-kind="replay"]', WAIT);
      await page.waitForSelector('svg.graph g.component[data-key="root:flipper"]', WAIT);
      await page.click('svg.graph g.component[data-key="root:flipper"] > text.label');
      await page.waitForFunction(() => document.querySelector<HTMLElement>('#detail-chart')?.dataset.active === 'b', undefined, WAIT);
      // The page keeps the first 100 and the latest, 1 000 to 1 333 in all (it trims a third at a time).
      const label = (await page.textContent('.step-label'))!;
      const dropped = Number(/^step 200000 of 200000 \(following\) · (\d+) dropped$/.exec(label)?.[1]);
      expect(200_000 - dropped, label).toBeGreaterThanOrEqual(1_000);
      expect(200_000 - dropped, label).toBeLessThanOrEqual(1_334);
      expect(await page.locator('#detail-steps .step').count()).toBeLessThan(40);
      expect(await page.textContent('#detail-steps .step.current')).toContain('200000.');
      // The gap is said where it is, after the first 100 steps.
      await page.$eval('#detail-steps', (list) => (list.scrollTop = 90 * 18));
      await page.waitForSelector('#detail-steps .step.gap', WAIT);
      expect(await page.textContent('#detail-steps .step.gap')).toContain(`${dropped} steps dropped`);
      await page.close();
    } finally {
      await viewer.close();
    }
    expect(pageErrors).toEqual([]);
  });

  it('6 · says on the chart when @statelyai/inspect cut a definition short (serializationDepthLimit)', async () => {
    // Four levels of nesting and an object-form transition: deeper than the default limit of 10.
    const deep = createMachine({
      id: 'amp',
      initial: 'on',
      states: {
        on: {
          initial: 'stereo',
          states: {
            stereo: {
              initial: 'volume',
              states: {
                volume: {
                  initial: 'loud',
                  states: { loud: { on: { quieter: { target: 'normal', actions: [{ type: 'log' }] } } }, normal: {} },
                },
              },
            },
          },
        },
      },
    });
    const viewer = await createInspector();
    const stately = createWebSocketInspector({ url: viewer.wsUrl });
    const actor = createActor(deep, { inspect: stately.inspect }).start();
    try {
      const page = await openPage(viewer.url);
      await page.waitForSelector('svg.graph g.component[data-key="root:amp"]', WAIT);
      await page.click('svg.graph g.component[data-key="root:amp"] > text.label');
      await page.waitForSelector('#detail-chart .chart-warning:not([hidden])', WAIT);
      expect(await page.textContent('#detail-chart .chart-warning')).toContain('serializationDepthLimit');
      expect(await page.getAttribute('#detail-chart', 'data-truncated')).toBe('yes');
      await page.close();
    } finally {
      actor.stop();
      stately.stop();
      await viewer.close();
    }
  });
});
