// The library's contract, written once and independently of the machines (Kamaelia's contract as
// DESIGN.md and docs/ state it), as path.test() invariants and expectations. The model tests run
// it on every path, so a machine that changes both the walk and the real component (a mutant, a
// bug) still fails: these checks judge what the real component put on its boxes and how its
// connections ended against the steps the test caused, never against the machine's own states.
import type { PathCheck, PathCheckArgs, TestStep } from 'kamaelia-xstate/testing';

type Message = { readonly kind?: unknown; readonly reason?: { readonly code?: unknown; readonly message?: unknown }; readonly [key: string]: unknown };
export type Contract = { readonly invariants: Record<string, PathCheck>; readonly expect: Record<string, PathCheck> };

const TERMINAL = new Set(['producerFinished', 'shutdownMicroprocess', 'socketShutdown', 'serverShutdown']);

const messages = (args: PathCheckArgs, box: string): Message[] => (args.outputs[box] ?? []) as Message[];
const ofKind = (args: PathCheckArgs, box: string, kind: string): Message[] => messages(args, box).filter((m) => m.kind === kind);
const terminals = (args: PathCheckArgs, box = 'signal'): Message[] => messages(args, box).filter((m) => TERMINAL.has(String(m.kind)));
const taken = (args: PathCheckArgs): readonly TestStep[] => args.path.steps.slice(0, args.index + 1);
const controlKind = (step: TestStep): unknown => (step.name === 'control' ? (step.event.data as { kind?: unknown } | undefined)?.kind : undefined);
const isPromptShutdown = (step: TestStep): boolean => controlKind(step) === 'shutdownMicroprocess';
const isAnyShutdown = (step: TestStep): boolean => controlKind(step) === 'shutdownMicroprocess' || controlKind(step) === 'serverShutdown';
const isGarbage = (step: TestStep): boolean => step.name === 'control' && !TERMINAL.has(String(controlKind(step)));
// When the path has ended the component (the real one may run ahead of the steps taken: a refused
// connect fails at once, so the real actor's own status says nothing about which steps led there).
const isDone = (args: PathCheckArgs): boolean => args.snapshot.status === 'done';
const isRealDone = (args: PathCheckArgs): boolean => args.real?.getSnapshot().status === 'done';
const contextOf = (args: PathCheckArgs): { bytesIn?: number; bytesOut?: number; secure?: boolean } =>
  (args.real?.getSnapshot() as { context?: { bytesIn?: number; bytesOut?: number; secure?: boolean } } | undefined)?.context ?? {};
const after = (step: TestStep, timer: string): boolean => step.cause.kind === 'after' && step.description === `after ${timer}`;
const resetBy = (step: TestStep): boolean => step.name === 'socket.closed' && (step.event as { reason?: unknown }).reason !== undefined;

function check(condition: unknown, message: string): void {
  if (!condition) throw new Error(message);
}

const show = (value: unknown): string => JSON.stringify(value, (key, v: unknown) => (key === 'csa' ? '[actor]' : v));

/** Waits (up to `ms`) until `condition` holds, then checks it once more with `message`. */
async function eventually(condition: () => boolean, message: () => string, ms = 1500): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
  check(condition(), message());
}

/**
 * Each garbage control message is reported once, as a badMessage naming the box, the component and
 * what came. (Found by this check, left to the machine's owner: a CSA that is flushing drops a
 * garbage control message silently, so after our producerFinished only "at most" is required.)
 */
function badMessagesReported(...components: string[]): PathCheck {
  return (args) => {
    const steps = taken(args);
    const garbage = steps.filter(isGarbage).length;
    const finishing = steps.findIndex((step) => controlKind(step) === 'producerFinished');
    const beforeFinishing = finishing < 0 ? garbage : steps.slice(0, finishing).filter(isGarbage).length;
    const reports = ofKind(args, 'signal', 'badMessage');
    check(reports.length >= beforeFinishing && reports.length <= garbage, `${garbage} garbage control message(s) sent, ${reports.length} badMessage report(s) on signal`);
    for (const report of reports) {
      check(report.box === 'control' && report.reason?.code === 'EBADMESSAGE', `badMessage names box "control" and code EBADMESSAGE: ${show(report)}`);
      const text = String(report.reason?.message);
      check(components.some((name) => text.startsWith(`${name}:`)) && text.includes('Object') && text.includes('dropped'), `badMessage says who dropped what: ${text}`);
    }
  };
}

/** At most one terminal message, and exactly one once the component has ended. */
function oneTerminal(box = 'signal'): PathCheck {
  return (args) => {
    const ends = terminals(args, box);
    check(ends.length <= 1, `more than one terminal message on ${box}: ${show(ends)}`);
    if (isDone(args)) check(ends.length === 1, `the component ended without a terminal message on ${box}`);
  };
}

/** A timer step fired no sooner than `ms` after the (first) step that started it. (No upper bound: a loaded machine fires late.) */
function timerAfter(args: PathCheckArgs, startedBy: (step: TestStep) => boolean, ms: number, name: string): void {
  const steps = taken(args);
  const startIndex = steps.slice(0, -1).findIndex(startedBy);
  if (startIndex < 0) return;
  // A timer started by a step the test caused runs from then; one started by another timer's step
  // from when the real actor got there (seen a poll later: some slack).
  const started = steps[startIndex]!.cause.kind === 'after' ? args.timing[startIndex]!.reached - 50 : args.timing[startIndex]!.caused;
  const elapsed = args.timing[args.index]!.reached - started;
  check(elapsed >= ms - 2, `${name} fired ${elapsed} ms after "${steps[startIndex]!.description}": sooner than its ${ms} ms`);
}

/** Each garbage control message is reported once, as a badMessage naming the box, `component` and what came (also while closing). */
function everyBadMessageReported(component: string): PathCheck {
  return (args) => {
    const garbage = taken(args).filter(isGarbage).length;
    const reports = ofKind(args, 'signal', 'badMessage');
    check(reports.length === garbage, `${garbage} garbage control message(s) sent, ${reports.length} badMessage report(s) on signal`);
    for (const report of reports) {
      check(report.box === 'control' && report.reason?.code === 'EBADMESSAGE', `badMessage names box "control" and code EBADMESSAGE: ${show(report)}`);
      const text = String(report.reason?.message);
      check(text.startsWith(`${component}:`) && text.includes('Object') && text.includes('dropped'), `badMessage says who dropped what: ${text}`);
    }
  };
}

/** What a TCPClient sends for an inbox message: its bytes (a string as UTF-8), or undefined when it is not bytes. */
function clientBytes(data: unknown): Buffer | undefined {
  if (typeof data === 'string') return Buffer.from(data);
  return data instanceof Uint8Array ? Buffer.from(data) : undefined;
}

export interface ClientContractOptions {
  readonly closeTimeoutMs: number;
  readonly handshakeTimeoutMs: number;
  /** The client's pendingHighWaterMark: queued bytes reaching it close the inbox gate until connected. */
  readonly pendingHighWaterMark: number;
  /** The client's allowHalfOpen: without it the server's FIN ends the client. */
  readonly allowHalfOpen: boolean;
  /** The client's `secure`: TLS from the start. */
  readonly secure: boolean;
  /** The code of the error a connector that throws (the `connector fails` step) throws. */
  readonly connectorErrorCode: string;
  /** Where the client connects, as its context should show it (`host:port` or the Unix socket's path). */
  readonly endpoint: () => string | undefined;
  /** What the peer has received so far (bytes, decrypted after TLS), or undefined when there is no peer. */
  readonly peerReceived: () => Uint8Array | undefined;
  /** Whether the peer has seen our FIN (undefined when there is no peer). */
  readonly peerSawFin: () => boolean | undefined;
  /** Whether the client's connection (its CSA) is still linked to the client's boxes (undefined before it has one). */
  readonly connectionLinked: () => boolean | undefined;
  /** Whether a producer outside the graph may send to the client's inbox now (its gate open, and a producer that waited on it woken). */
  readonly inboxOpen: () => boolean | undefined;
}

/**
 * TCPClient: one producerFinished on signal at the end (never shutdownMicroprocess), with the error's
 * code when one ended it and none after a clean close; data queued before the connection reaches
 * the peer first, all of it in order (what followed a makessl over TLS), or counts as unsentBytes
 * when the connection never came or was abandoned; a producerFinished queued before the connection
 * closes it once what was queued is written; queued bytes reaching pendingHighWaterMark close the
 * inbox gate until the connection is up; makessl starts TLS; a refusal, a reset, a timeout, a
 * shutdownMicroprocess and (without allowHalfOpen) the server's FIN end it promptly; garbage on
 * inbox or control is reported; its byte counts and context (as the inspector shows it) are true.
 */
export function tcpClientContract(options: ClientContractOptions): Contract {
  const connectedAt = (args: PathCheckArgs): number => taken(args).findIndex((step) => step.name === 'connect.ok');
  const isData = (step: TestStep): boolean => step.name === 'inbox' && clientBytes(step.event.data) !== undefined;
  const isBadInbox = (step: TestStep): boolean => step.name === 'inbox' && clientBytes(step.event.data) === undefined;
  /** Bytes queued before the connection; -1 once connected. */
  const queued = (args: PathCheckArgs): number => {
    if (connectedAt(args) >= 0) return -1;
    return taken(args).filter(isData).reduce((sum, step) => sum + clientBytes(step.event.data)!.length, 0);
  };
  /** Everything the test gave the client to send, in order (a progress step sends "ping"). */
  const sent = (args: PathCheckArgs): Buffer =>
    Buffer.concat(taken(args).flatMap((step) => (isData(step) ? [clientBytes(step.event.data)!] : step.name === 'socket.progress' ? [Buffer.from('ping')] : [])));
  const tlsStarted = (args: PathCheckArgs): boolean => taken(args).some((step) => step.name === 'socket.upgrading' || step.name === 'makessl');
  const tlsCompleted = (args: PathCheckArgs): boolean => taken(args).some((step) => step.name === 'socket.secure');
  const producerFinishedAt = (args: PathCheckArgs): number => taken(args).findIndex((step) => controlKind(step) === 'producerFinished');
  /** Steps after which the client must end promptly (nothing else keeps it). */
  const endsIt = (step: TestStep, index: number, steps: readonly TestStep[]): boolean =>
    step.name === 'connect.failed' ||
    step.name === 'xstate.error.actor.connector' ||
    step.name === 'socket.closed' ||
    after(step, 'csa.handshakeTimeout') ||
    after(step, 'csa.closeTimeout') ||
    isAnyShutdown(step) ||
    // The server's FIN, without allowHalfOpen or once our producer has finished too.
    (step.name === 'socket.peerEnded' && (!options.allowHalfOpen || steps.slice(0, index).some((s) => controlKind(s) === 'producerFinished'))) ||
    (controlKind(step) === 'producerFinished' && steps.slice(0, index).some((s) => s.name === 'socket.peerEnded'));
  const ending = (args: PathCheckArgs): Message => {
    const [end] = terminals(args);
    check(end?.kind === 'producerFinished', `TCPClient ends with producerFinished on signal, got ${show(end)}`);
    check(end!.source === 'TCPClient', `its source is TCPClient: ${show(end)}`);
    return end!;
  };
  const received = (): Buffer => Buffer.from(options.peerReceived() ?? []);
  const controlReports = badMessagesReported('TCPClient', 'ConnectedSocketAdapter');
  return {
    invariants: {
      oneTerminalMessage: oneTerminal(),
      // Once open, the CSA reports them (passed out of the client's signal). Garbage inbox: below.
      badMessagesReported: (args) =>
        controlReports({ ...args, outputs: { ...args.outputs, signal: messages(args, 'signal').filter((m) => !(m.kind === 'badMessage' && m.box === 'inbox')) } }),
      badInboxReported: (args) => {
        const garbage = taken(args).filter(isBadInbox).length;
        const reports = ofKind(args, 'signal', 'badMessage').filter((m) => m.box === 'inbox');
        check(reports.length === garbage, `${garbage} inbox message(s) that are not bytes sent, ${reports.length} badMessage report(s) for inbox on signal`);
        for (const report of reports) {
          const text = String(report.reason?.message);
          check(report.reason?.code === 'EBADMESSAGE' && text.startsWith('TCPClient:') && text.includes('Object') && text.includes('dropped'), `badMessage says TCPClient dropped what came: ${show(report)}`);
        }
      },
      terminalKindAndReason: (args) => {
        if (!isDone(args)) return;
        const end = ending(args);
        const steps = taken(args);
        const failure = steps.find((step) => step.name === 'connect.failed' || step.name === 'xstate.error.actor.connector' || resetBy(step) || after(step, 'csa.handshakeTimeout'));
        const code = !failure
          ? undefined
          : failure.name === 'connect.failed'
            ? 'ECONNREFUSED'
            : failure.name === 'xstate.error.actor.connector'
              ? options.connectorErrorCode
              : resetBy(failure)
                ? 'ECONNRESET'
                : 'ETIMEDOUT';
        // A close that closeTimeout cut short may carry ETIMEDOUT (issue 17 makes it always).
        if (code === undefined && steps.some((step) => after(step, 'csa.closeTimeout'))) return;
        check(end.reason?.code === code, `TCPClient's end carries ${code ?? 'no reason'}, got ${show(end.reason)}`);
      },
      unsentBytes: (args) => {
        if (!isDone(args)) return;
        const end = ending(args);
        const bytes = queued(args);
        // Never connected: everything queued was never written.
        if (bytes >= 0) check(end.unsentBytes === bytes, `${bytes} bytes were queued and never written; unsentBytes is ${String(end.unsentBytes)}`);
        else if (!taken(args).some((step) => resetBy(step) || after(step, 'csa.closeTimeout') || isAnyShutdown(step))) {
          check(end.unsentBytes === 0, `a clean close writes everything; unsentBytes is ${String(end.unsentBytes)}`);
        }
      },
      // A refusal, a reset, a timeout, a shutdown, the server's FIN: the client ends then, nothing holds it.
      endsWhenItMust: async (args) => {
        if (!taken(args).some(endsIt)) return;
        await eventually(() => isRealDone(args), () => `TCPClient did not end after "${taken(args).find(endsIt)!.description}"`);
      },
      // Flow control before the connection: the queue is bounded by pendingHighWaterMark.
      inboxGate: (args) => {
        // (Once the delay is over, a client that will connect may already have: it runs ahead of the steps.)
        const connects = args.path.steps.some((step) => step.name === 'connect.ok');
        if (isRealDone(args) || connectedAt(args) >= 0 || (connects && taken(args).some((step) => after(step, 'connectDelay')))) return;
        const bytes = queued(args);
        const expected = bytes < options.pendingHighWaterMark;
        check(options.inboxOpen() === expected, `with ${bytes} bytes queued (pendingHighWaterMark ${options.pendingHighWaterMark}) the inbox gate should be ${expected ? 'open' : 'closed'}`);
      },
      // Every byte given to it reaches the peer, in order, nothing else (what followed a makessl over TLS).
      deliveredInOrder: async (args) => {
        if (!isRealDone(args) || connectedAt(args) < 0 || (tlsStarted(args) && !tlsCompleted(args))) return;
        const expected = sent(args);
        await eventually(
          () => received().equals(expected),
          () => `the peer got ${JSON.stringify(received().toString('latin1'))}, the client was given ${JSON.stringify(expected.toString('latin1'))}`,
        );
      },
      // Its counts are the connection's: what it wrote, and nothing read (the peer never writes here).
      finalByteCounts: (args) => {
        if (!isRealDone(args) || connectedAt(args) < 0 || tlsStarted(args) || options.secure) return;
        const { bytesIn, bytesOut } = contextOf(args);
        const expected = sent(args).length;
        check(bytesIn === 0 && bytesOut === expected, `TCPClient ended counting ${String(bytesIn)} bytes in, ${String(bytesOut)} out; it wrote ${expected} and read none`);
      },
      // Once ended, it lets go of its connection: nothing links the ended CSA to the client (memory).
      connectionReleased: (args) => {
        if (!isRealDone(args) || connectedAt(args) < 0) return;
        check(options.connectionLinked() === false, 'TCPClient ended with its ended connection still linked to its boxes');
      },
      // Its connection is secure from the start with `secure`, after a completed makessl otherwise (the inspector shows it).
      connectionSecure: (args) => {
        if (connectedAt(args) < 0 || isRealDone(args)) return;
        const csa = (args.real?.getSnapshot() as { children?: Record<string, { getSnapshot(): { context?: { secure?: unknown } } } | undefined> } | undefined)?.children?.csa;
        const expected = options.secure || tlsCompleted(args);
        check(csa?.getSnapshot().context?.secure === expected, `TCPClient's connection should say it is ${expected ? '' : 'not '}secure: ${show(csa?.getSnapshot().context?.secure)}`);
      },
      // As the inspector shows it (JSON): where it connects, and each opaque part by a name.
      contextShown: (args) => {
        const context = (args.real?.getSnapshot() as { context?: unknown } | undefined)?.context;
        if (context === undefined) return;
        const json = JSON.parse(JSON.stringify(context)) as Record<string, unknown>;
        check(json.request === options.endpoint(), `TCPClient's context shows where it connects (${String(options.endpoint())}): ${show(json.request)}`);
        const named = ['pending', 'csaLinks', ...(connectedAt(args) >= 0 ? ['socket'] : [])];
        for (const key of named) check(typeof json[key] === 'string' && json[key] !== '', `TCPClient's context shows its ${key} by a name: ${show(json[key])}`);
      },
    },
    expect: {
      'connect.ok': async (args) => {
        // What was queued before the connection is written first, in order, up to a queued makessl.
        const steps = taken(args);
        const makessl = steps.findIndex((step) => step.name === 'makessl');
        const plain = Buffer.concat(steps.slice(0, makessl < 0 ? steps.length : makessl).filter(isData).map((step) => clientBytes(step.event.data)!));
        await eventually(
          () => received().subarray(0, plain.length).equals(plain),
          () => `the peer got ${JSON.stringify(received().toString('latin1'))}, not what was queued first (${JSON.stringify(plain.toString('latin1'))})`,
        );
        // The connection takes over the queue: producers may send again.
        await eventually(() => isRealDone(args) || options.inboxOpen() === true, () => 'the inbox gate stayed closed after the connection opened');
        // A producerFinished queued before the connection closes it once that is written (after TLS, if makessl was queued).
        if (producerFinishedAt(args) >= 0 && makessl < 0) await eventually(() => options.peerSawFin() === true, () => 'a producerFinished queued before the connection sent no FIN once connected');
      },
      'socket.secure': async (args) => {
        if (producerFinishedAt(args) >= 0) await eventually(() => options.peerSawFin() === true, () => 'a producerFinished that waited for the TLS handshake sent no FIN after it');
      },
      // makessl while open starts TLS: the peer gets a ClientHello (a TLS handshake record) right after the plain bytes.
      makessl: async (args) => {
        if (connectedAt(args) < 0) return;
        const plain = sent(args).length;
        await eventually(() => received().length > plain && received()[plain] === 0x16, () => `makessl sent no ClientHello: the peer got ${JSON.stringify(received().toString('latin1'))}`);
      },
      // The client's byte counts follow its connection's (the inspector shows them).
      'socket.progress': async (args) => {
        const sent = taken(args).filter((step) => step.name === 'socket.progress').length * 4;
        const counts = (): { bytesOut?: number } => (args.real?.getSnapshot() as { context: { bytesOut?: number } }).context;
        await eventually(() => (counts().bytesOut ?? 0) >= sent, () => `TCPClient counts ${String(counts().bytesOut)} bytes out after ${sent} were written`);
      },
      // Shut down at once: no flushing on the way (seen[0] is where it was).
      'control (shutdownMicroprocess)': (args) => check(!args.seen.slice(1).some((value) => JSON.stringify(value).includes('flushing')), `shutdownMicroprocess went through ${show(args.seen)}`),
      'control (serverShutdown)': (args) => check(!args.seen.slice(1).some((value) => JSON.stringify(value).includes('flushing')), `serverShutdown went through ${show(args.seen)}`),
      'after csa.handshakeTimeout': (args) => timerAfter(args, (step) => step.name === 'socket.upgrading', options.handshakeTimeoutMs, 'the handshake timeout'),
      'after csa.halfOpenTimeout': (args) => timerAfter(args, (step) => step.name === 'socket.peerEnded', options.closeTimeoutMs, 'the half-open timeout'),
      'after csa.closeTimeout': (args) =>
        timerAfter(args, (step) => controlKind(step) === 'producerFinished' || after(step, 'csa.halfOpenTimeout'), options.closeTimeoutMs, 'the close timeout'),
    },
  };
}

export interface CsaContractOptions {
  /** The id the CSA was given (shutdownCSA carries it). */
  readonly id: number;
  readonly closeTimeoutMs: number;
  readonly handshakeTimeoutMs: number;
  /** Whether the CSA was made with allowHalfOpen. Default: false (node:net's default). */
  readonly allowHalfOpen?: boolean;
  /** Whether its socket was TLS from the start (`secure: true`). Default: false. */
  readonly secure?: boolean;
  /** The bytes a step's handler sent to the CSA's inbox, if any. Default: an `inbox` step's data. */
  readonly sent?: (step: TestStep) => Uint8Array | undefined;
  /** What the peer has received so far (decrypted after TLS) and whether our FIN reached it. Default: not checked. */
  readonly peer?: () => { readonly received: Uint8Array; readonly ended: boolean } | undefined;
  /** How many timers the real CSA has running (its I/O's, actors/connectionTimers.ts). Default: not checked. */
  readonly timersRunning?: () => number;
}

/** What a CSA's path has written to its peer and what it dropped (sent after our side had finished writing). */
interface CsaBytes {
  readonly written: Buffer;
  readonly unsent: number;
}

/**
 * The CSA: one CreatorFeedback, a socketShutdown, and one shutdownCSA on signal when it ends, both
 * with the error's code when one ended it (ECONNRESET, ETIMEDOUT for a handshake, ECLOSETIMEOUT
 * for a peer that never closed, EUNSENT for bytes dropped) and otherwise the producer's reason;
 * unsentBytes is what was sent after our side had finished writing; the bytes written reach the
 * peer in order before our FIN; a peer's FIN is a producerFinished (source peer) on signal while we
 * are still writing; shutdownMicroprocess closes at once; a timeout runs only while it applies.
 */
export function csaContract(options: CsaContractOptions): Contract {
  const allowHalfOpen = options.allowHalfOpen === true;
  const sent = options.sent ?? ((step: TestStep) => (step.name === 'inbox' ? Buffer.from(step.event.data as Uint8Array) : undefined));
  /** Our side has finished writing after this step: our producer finished, or the peer's FIN ended it (node's default, or the half-open timeout). */
  const finishesOurSide = (step: TestStep): boolean =>
    controlKind(step) === 'producerFinished' || after(step, 'csa.halfOpenTimeout') || (!allowHalfOpen && step.name === 'socket.peerEnded');
  const bytes = (steps: readonly TestStep[]): CsaBytes => {
    // During a TLS handshake what is sent is held, and written once it completes (our FIN waits for
    // it too) or dropped if it never does. An upgrade reported after our producer finished had begun
    // before that reached the socket (makessl came first): its handshake ran from then.
    const finishAt = steps.findIndex(finishesOurSide);
    const upgradeAt = steps.findIndex((step) => step.name === 'socket.upgrading');
    const secureAt = steps.findIndex((step) => step.name === 'socket.secure');
    const handshakeFrom = upgradeAt >= 0 && finishAt >= 0 && finishAt < upgradeAt ? finishAt : upgradeAt;
    const written: Buffer[] = [];
    let unsent = 0;
    steps.forEach((step, index) => {
      const data = sent(step);
      if (!data) return;
      const handshaking = handshakeFrom >= 0 && index >= handshakeFrom && (secureAt < 0 || index < secureAt);
      const finished = finishAt >= 0 && finishAt < index;
      if (handshaking ? secureAt < 0 : finished) unsent += data.byteLength;
      else written.push(Buffer.from(data));
    });
    return { written: Buffer.concat(written), unsent };
  };
  /** The error that ended it, if the steps caused one (the timeouts' reasons are the machine's to give: a cut close is never a clean one). */
  const failureCode = (steps: readonly TestStep[]): string | undefined =>
    steps.some(resetBy)
      ? 'ECONNRESET'
      : steps.some((step) => after(step, 'csa.handshakeTimeout'))
        ? 'ETIMEDOUT'
        : steps.some((step) => after(step, 'csa.closeTimeout'))
          ? 'ECLOSETIMEOUT'
          : undefined;
  /** Our FIN and the peer's closed it: nothing reset, cut short or destroyed. */
  const graceful = (steps: readonly TestStep[]): boolean =>
    failureCode(steps) === undefined && !steps.some((step) => isAnyShutdown(step) || step.name === 'ReadReady');
  /** The timeouts that apply after `steps`: the handshake's during a handshake, the half-open one after the peer's FIN (allowHalfOpen) until our side finishes, the close timeout after our FIN. */
  const timeoutsRunning = (steps: readonly TestStep[]): number => {
    let handshake = false;
    let halfOpen = false;
    let close = false;
    let closeAfterHandshake = false;
    for (const step of steps) {
      // A handshake that began as our side finished (see bytes) is bounded by the close timeout.
      if (step.name === 'socket.upgrading') handshake = !close;
      else if (step.name === 'socket.secure') {
        handshake = false;
        close ||= closeAfterHandshake;
      } else if (controlKind(step) === 'producerFinished') {
        // Our FIN cannot go out mid-handshake: it goes (and its timeout starts) once the handshake is done.
        if (handshake) closeAfterHandshake = true;
        else close = true;
        halfOpen = false;
      } else if (step.name === 'socket.peerEnded') {
        if (allowHalfOpen && !close) halfOpen = true;
        else close = true;
      } else if (after(step, 'csa.halfOpenTimeout')) {
        halfOpen = false;
        close = true;
      }
    }
    return Number(handshake) + Number(halfOpen) + Number(close);
  };
  return {
    invariants: {
      oneCreatorFeedback: (args) => {
        const feedback = messages(args, 'CreatorFeedback');
        check(feedback.length <= 1, `more than one CreatorFeedback: ${show(feedback)}`);
        if (isDone(args)) check(feedback.length === 1 && feedback[0]!.kind === 'socketShutdown', `CreatorFeedback is one socketShutdown: ${show(feedback)}`);
      },
      oneShutdownCsa: (args) => {
        const ends = ofKind(args, 'signal', 'shutdownCSA');
        check(ends.length <= 1, `more than one shutdownCSA: ${show(ends)}`);
        if (isDone(args)) check(ends.length === 1, 'the CSA ended without shutdownCSA on signal');
      },
      badMessagesReported: everyBadMessageReported('ConnectedSocketAdapter'),
      peerFinReported: (args) => {
        // The peer's FIN while we still write is its producerFinished; once we flush, nobody reads it.
        const steps = taken(args);
        const fin = steps.findIndex((step) => step.name === 'socket.peerEnded');
        const weFinishedFirst = fin >= 0 && steps.slice(0, fin).some((step) => controlKind(step) === 'producerFinished');
        const expected = fin >= 0 && !weFinishedFirst ? 1 : 0;
        const reports = ofKind(args, 'signal', 'producerFinished');
        check(reports.length === expected, `the peer's FIN makes ${expected} producerFinished on signal, got ${show(reports)}`);
        if (expected) check(reports[0]!.source === 'peer', `the peer's producerFinished has source peer: ${show(reports[0])}`);
      },
      contextSerializable: (args) => {
        // Inspectors JSON-encode its context: the socket shows as its label.
        const json = JSON.parse(JSON.stringify(contextOf(args))) as { binding?: unknown };
        check(json.binding === 'socket', `the CSA's context shows its socket as "socket": ${show(json.binding)}`);
      },
      contextFlags: (args) => {
        // The context says whether the connection is TLS (from the start, or once a handshake
        // completed) and whether the peer's FIN has come (a clean close the test caused by the
        // peer's FIN may have come with one).
        const steps = taken(args);
        const context = contextOf(args) as { secure?: unknown; peerEnded?: unknown };
        const secure = options.secure === true || steps.some((step) => step.name === 'socket.secure');
        check(context.secure === secure, `the CSA's context says secure: ${String(context.secure)}, expected ${secure}`);
        if (steps.some((step) => step.name === 'socket.peerEnded')) check(context.peerEnded === true, "after the peer's FIN the CSA's context says peerEnded");
        else if (!steps.some((step) => step.name === 'socket.closed')) check(context.peerEnded === false, "without the peer's FIN the CSA's context says peerEnded: false");
        // sslready once per completed handshake.
        if (!options.secure) {
          const ready = messages(args, 'sslready');
          const handshakes = steps.filter((step) => step.name === 'socket.secure').length;
          check(ready.length === handshakes && ready.every((m) => m.kind === 'sslReady'), `${handshakes} handshake(s) completed, sslready ${show(ready)}`);
        }
      },
      timeoutsRunning: (args) => {
        if (!options.timersRunning) return;
        const running = options.timersRunning();
        const expected = isRealDone(args) ? 0 : timeoutsRunning(taken(args));
        check(running === expected, `${running} timer(s) running, expected ${expected} (a timeout runs only while it applies, none once the CSA has ended)`);
      },
      output: (args) => {
        if (!isDone(args)) return;
        const output = (args.real?.getSnapshot() as { output?: { bytesIn?: unknown; bytesOut?: unknown; unsentBytes?: unknown; reason?: { code?: unknown } } }).output;
        const { written, unsent } = bytes(taken(args));
        check(
          output !== undefined && output.bytesIn === 0 && output.bytesOut === written.byteLength && output.unsentBytes === unsent,
          `the CSA's output counts its bytes (0 in, ${written.byteLength} out, ${unsent} unsent): ${show(output)}`,
        );
        const [feedback] = messages(args, 'CreatorFeedback');
        check(output!.reason?.code === feedback?.reason?.code, `its output has CreatorFeedback's reason: ${show(output)}`);
      },
      endReason: (args) => {
        if (!isDone(args)) return;
        const steps = taken(args);
        const [feedback] = messages(args, 'CreatorFeedback');
        const [end] = ofKind(args, 'signal', 'shutdownCSA');
        const { unsent } = bytes(steps);
        // A producer's reason (the first producerFinished is the one acted on) is passed on after a close that lost nothing.
        const producer = (steps.find((step) => controlKind(step) === 'producerFinished')?.event.data as { reason?: { code?: string } } | undefined)?.reason?.code;
        const failure = failureCode(steps) ?? (unsent > 0 ? 'EUNSENT' : undefined);
        const code = failure ?? producer;
        const output = (args.real?.getSnapshot() as { output?: { producerReason?: { code?: unknown } } }).output;
        check(output?.producerReason?.code === (failure === undefined ? producer : undefined), `the output's producerReason is the producer's after a close that lost nothing: ${show(output)}`);
        check(feedback?.reason?.code === code, `CreatorFeedback carries ${code ?? 'no reason'}: ${show(feedback)}`);
        check(end?.reason?.code === code, `shutdownCSA carries ${code ?? 'no reason'}: ${show(end)}`);
        check(end?.id === options.id && end.csa === args.real, `shutdownCSA carries the CSA's id (${options.id}) and actor: ${show(end)}`);
        check(feedback?.source === 'ConnectedSocketAdapter' && feedback.unsentBytes === unsent, `CreatorFeedback names its source and ${unsent} unsent byte(s): ${show(feedback)}`);
        const message = String(feedback?.reason?.message);
        if (code === 'ETIMEDOUT') check(message.includes('TLS handshake') && message.includes(`${options.handshakeTimeoutMs} ms`), `a handshake timeout says so: ${message}`);
        if (code === 'ECLOSETIMEOUT') check(message.includes('close timeout') && message.includes(`${options.closeTimeoutMs} ms`), `a close timeout says so: ${message}`);
        if (code === 'EUNSENT') check(message.includes(`${unsent} bytes`), `EUNSENT says how many bytes were dropped: ${message}`);
      },
      peerGotOurBytes: async (args) => {
        // What we wrote reaches the peer, in order; after a graceful close, all of it before our FIN.
        const peer = options.peer?.();
        if (!peer || !isRealDone(args)) return;
        const steps = taken(args);
        const { written } = bytes(steps);
        if (graceful(steps)) await eventually(() => options.peer!()!.ended, () => 'the CSA closed gracefully but the peer never got our FIN');
        // A handshake the peer never answered leaves our ClientHello behind what we wrote in plain text.
        const unanswered = steps.some((step) => step.name === 'socket.upgrading') && !steps.some((step) => step.name === 'socket.secure');
        // (Over TLS the FIN may be seen before the last records are decrypted: wait for them.)
        const got = (): Buffer => {
          const received = Buffer.from(options.peer!()!.received);
          return unanswered ? received.subarray(0, written.byteLength) : received;
        };
        await eventually(
          () => got().equals(written),
          () => `the peer got ${JSON.stringify(got().toString('latin1').slice(0, 80))}, we wrote ${JSON.stringify(written.toString('latin1'))}`,
        );
      },
    },
    expect: {
      'control (shutdownMicroprocess)': async (args) => {
        check(!args.seen.slice(1).includes('flushing'), `shutdownMicroprocess closes at once, went through ${show(args.seen)}`);
        await eventually(() => isRealDone(args), () => 'shutdownMicroprocess did not close the connection', options.closeTimeoutMs / 2);
      },
      'control (serverShutdown)': async (args) => {
        check(!args.seen.slice(1).includes('flushing'), `serverShutdown closes at once, went through ${show(args.seen)}`);
        await eventually(() => isRealDone(args), () => 'serverShutdown did not close the connection', options.closeTimeoutMs / 2);
      },
      // The Selector's readiness, sent to the CSA itself, reaches its socket: a close ends it.
      ReadReady: async (args) => {
        if ((args.step?.event.data as { readiness?: unknown } | undefined)?.readiness !== 'close') return;
        await eventually(() => isRealDone(args), () => "the Selector's close did not end the CSA", options.closeTimeoutMs / 2);
      },
      // Its byte counts follow the socket's (the inspector shows them).
      'socket.progress': async (args) => {
        const { written } = bytes(taken(args));
        await eventually(
          () => contextOf(args).bytesOut === written.byteLength && contextOf(args).bytesIn === 0,
          () => `the CSA counts ${String(contextOf(args).bytesOut)} bytes out (${String(contextOf(args).bytesIn)} in) after ${written.byteLength} were written`,
        );
      },
      'control (producerFinished)': (args) => {
        // Our FIN goes out: the peer is told, unless the socket is already closed. During a TLS
        // handshake it waits for the handshake to be done (a FIN cannot go out mid-handshake).
        const handshaking = args.seen.at(-1) === 'upgradingTls' && (contextOf(args) as { flushPending?: unknown }).flushPending === true;
        check(args.real?.getSnapshot().status === 'done' || args.seen.includes('flushing') || handshaking, `producerFinished flushes, went through ${show(args.seen)}`);
      },
      'after csa.handshakeTimeout': (args) => timerAfter(args, (step) => step.name === 'socket.upgrading', options.handshakeTimeoutMs, 'the handshake timeout'),
      'after csa.halfOpenTimeout': (args) => timerAfter(args, (step) => step.name === 'socket.peerEnded', options.closeTimeoutMs, 'the half-open timeout'),
      'after csa.closeTimeout': (args) =>
        timerAfter(args, finishesOurSide, options.closeTimeoutMs, 'the close timeout'),
    },
  };
}

export interface ServerContractOptions {
  readonly drainTimeoutMs: number;
  readonly closeTimeoutMs: number;
  /** The server's counters (serverStats). */
  readonly stats: () => {
    open: number;
    refused: number;
    handshakeFailures: number;
    acceptErrors: number;
    lastHandshakeFailure?: { code?: unknown } | undefined;
    lastAcceptError?: { code?: unknown } | undefined;
  };
  /** When each connection the test opened saw its end (Date.now()), undefined while open. */
  readonly connectionEnds: () => readonly (number | undefined)[];
}

/**
 * TCPServer: `listening` once bound; one terminal message on signal, which passes on the shutdown
 * request that ended it (the latest) or is producerFinished (with EADDRINUSE when the bind
 * failed); after serverShutdown no connection is closed before drainTimeout, and none destroyed
 * before closeTimeout more; shutdownMicroprocess closes them at once; every refusal and failed
 * handshake is counted.
 */
export function tcpServerContract(options: ServerContractOptions): Contract {
  /** Indexes of the connections the path opened and did not close itself (the test closes the oldest first). */
  const stillOpen = (args: PathCheckArgs): number[] => {
    const steps = taken(args);
    const opened = steps.filter((step) => step.name === 'a connection opens').length;
    const closed = steps.filter((step) => step.name === 'a connection closes').length;
    return Array.from({ length: opened - closed }, (_, i) => closed + i);
  };
  const timeOf = (args: PathCheckArgs, predicate: (step: TestStep) => boolean): number | undefined => {
    const index = taken(args).findIndex(predicate);
    return index < 0 ? undefined : args.timing[index]!.caused;
  };
  return {
    invariants: {
      oneTerminalMessage: oneTerminal(),
      badMessagesReported: badMessagesReported('TCPServer'),
      listening: (args) => {
        const bound = taken(args).some((step) => step.name === 'listener.bound');
        const announced = messages(args, 'listening');
        check(announced.length === (bound ? 1 : 0), `listening announced ${announced.length} time(s) (bound: ${bound})`);
        if (bound) check(announced[0]!.kind === 'listening' && typeof announced[0]!.port === 'number' && announced[0]!.port > 0, `listening carries the port: ${show(announced[0])}`);
      },
      shutdownPassedOn: (args) => {
        if (!isDone(args)) return;
        const steps = taken(args);
        const [end] = terminals(args);
        const bindFailed = steps.some((step) => step.name === 'listener.bindFailed');
        // The request acted on: the latest prompt one, else the first serverShutdown (a repeat is not acted on).
        const request = [...steps].reverse().find(isPromptShutdown) ?? steps.find(isAnyShutdown);
        if (bindFailed) {
          check(end?.kind === 'producerFinished' && end.reason?.code === 'EADDRINUSE', `a failed bind ends with producerFinished EADDRINUSE: ${show(end)}`);
        } else if (request) {
          check(end?.kind === controlKind(request), `the server passes on ${String(controlKind(request))}, sent ${show(end)}`);
        } else {
          check(end?.kind === 'producerFinished' && end.reason === undefined, `the server ends with a clean producerFinished: ${show(end)}`);
        }
      },
      counted: (args) => {
        const steps = taken(args);
        const stats = options.stats();
        const count = (name: string): number => steps.filter((step) => step.name === name).length;
        check(stats.refused === count('listener.refused'), `${count('listener.refused')} refusal(s), stats.refused ${stats.refused}`);
        check(stats.handshakeFailures === count('listener.handshakeFailed'), `${count('listener.handshakeFailed')} failed handshake(s), stats.handshakeFailures ${stats.handshakeFailures}`);
        if (count('listener.handshakeFailed') > 0) check(typeof stats.lastHandshakeFailure?.code === 'string', `the last handshake failure is kept: ${show(stats.lastHandshakeFailure)}`);
        // A reopen after suspendAccepting that cannot bind is an accept error too (the first bind's failure ends the server instead).
        const failedReopens = steps.filter((step, index) => step.name === 'listener.bindFailed' && index > 0).length;
        const acceptErrors = count('listener.acceptError') + failedReopens;
        check(stats.acceptErrors === acceptErrors, `${acceptErrors} accept error(s), stats.acceptErrors ${stats.acceptErrors}`);
        // The port taken by another server while suspended: the reopen's error is kept.
        if (failedReopens > 0) check(stats.lastAcceptError?.code === 'EADDRINUSE', `a failed reopen keeps its EADDRINUSE: ${show(stats.lastAcceptError)}`);
      },
      gracefulDrain: (args) => {
        // After serverShutdown, connections go on for drainTimeout; only a later prompt shutdown cuts that short.
        const drainFrom = timeOf(args, (step) => controlKind(step) === 'serverShutdown');
        if (drainFrom === undefined) return;
        const prompt = timeOf(args, isPromptShutdown);
        const closedByTest = taken(args).filter((step) => step.name === 'a connection closes').length;
        options.connectionEnds().forEach((end, index) => {
          if (end === undefined || index < closedByTest || (prompt !== undefined && end >= prompt)) return;
          if (end >= drainFrom) check(end - drainFrom >= options.drainTimeoutMs - 2, `a connection closed ${end - drainFrom} ms after serverShutdown, before drainTimeout (${options.drainTimeoutMs} ms)`);
        });
      },
    },
    expect: {
      'after drainTimeout': async (args) => {
        timerAfter(args, (step) => controlKind(step) === 'serverShutdown', options.drainTimeoutMs, 'the drain timeout');
        // Then each connection still open is asked to close: the peer sees our FIN soon, and the
        // connection is not destroyed yet (that is closeTimeout later).
        const open = stillOpen(args);
        await eventually(
          () => open.every((index) => options.connectionEnds()[index] !== undefined),
          () => 'at the drain timeout a connection was not asked to close (no FIN)',
          options.closeTimeoutMs / 2,
        );
        check(options.stats().open === open.length, `at the drain timeout ${open.length} connection(s) are asked to close, not destroyed: ${options.stats().open} open`);
      },
      'after closeTimeout': async (args) => {
        timerAfter(args, (step) => after(step, 'drainTimeout'), options.closeTimeoutMs, 'the close timeout');
        // A peer that never answers our FIN is destroyed then.
        await eventually(() => options.stats().open === 0, () => `after closeTimeout ${options.stats().open} connection(s) are still open`);
      },
      'control (shutdownMicroprocess)': async (args) => {
        // Prompt: every connection still open is closed now, not after the drain.
        const from = args.timing[args.index]!.caused;
        const closedByTest = taken(args).filter((step) => step.name === 'a connection closes').length;
        await eventually(
          () => options.connectionEnds().slice(closedByTest).every((end) => end !== undefined),
          () => 'shutdownMicroprocess left a connection open',
        );
        for (const end of options.connectionEnds().slice(closedByTest)) {
          check(end! - from < options.drainTimeoutMs, `shutdownMicroprocess closed a connection only after ${end! - from} ms`);
        }
      },
    },
  };
}

/** Invariants and expectations of several contracts (and the test's own), run together. */
export function combine(...contracts: Partial<Contract>[]): Contract {
  const invariants: Record<string, PathCheck> = {};
  const expect: Record<string, PathCheck> = {};
  for (const contract of contracts) {
    Object.assign(invariants, contract.invariants);
    for (const [key, check] of Object.entries(contract.expect ?? {})) {
      const before = expect[key];
      expect[key] = before
        ? async (args) => {
            await before(args);
            await check(args);
          }
        : check;
    }
  }
  return { invariants, expect };
}
