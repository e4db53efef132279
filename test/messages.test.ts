// The message vocabulary keeps Kamaelia's class relations in its predicates.
import { describe, expect, it } from 'vitest';
import {
  isProducerFinished,
  isServerShutdown,
  isShutdownMicroprocess,
  isShutdownRequest,
  isSocketShutdown,
  listening,
  newCSA,
  producerFinished,
  reasonFromError,
  serverShutdown,
  shutdownCSA,
  shutdownMicroprocess,
  socketShutdown,
} from 'kamaelia-xstate';

describe('messages', () => {
  it('a socketShutdown is a producerFinished, not the other way round', () => {
    expect(isProducerFinished(socketShutdown())).toBe(true);
    expect(isSocketShutdown(producerFinished())).toBe(false);
    expect(isShutdownMicroprocess(socketShutdown())).toBe(false);
  });

  it('a serverShutdown is a shutdownMicroprocess, not the other way round', () => {
    expect(isShutdownMicroprocess(serverShutdown())).toBe(true);
    expect(isServerShutdown(shutdownMicroprocess())).toBe(false);
    expect(isProducerFinished(serverShutdown())).toBe(false);
  });

  it('isShutdownRequest is either family; anything else is not', () => {
    for (const m of [producerFinished(), socketShutdown(), shutdownMicroprocess(), serverShutdown()]) expect(isShutdownRequest(m)).toBe(true);
    for (const m of [null, undefined, 'producerFinished', { kind: 'flurble' }, listening('127.0.0.1', 1, 'IPv4'), newCSA(1, {}, { peer: 'a', peerPort: 1, localIp: 'b', localPort: 2 }), shutdownCSA(1, {})]) {
      expect(isShutdownRequest(m)).toBe(false);
    }
  });

  it('carries a reason only when one is given, and turns errors into reasons with their code', () => {
    expect(producerFinished()).toEqual({ kind: 'producerFinished' });
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    expect(producerFinished(reasonFromError(refused))).toEqual({
      kind: 'producerFinished',
      reason: { code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:1' },
    });
    expect(reasonFromError('plain string')).toEqual({ code: 'ECOMPONENT', message: 'plain string' });
  });
});
