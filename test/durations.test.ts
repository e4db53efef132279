// Every millisecond option goes through one validator (an integer from 0 to 2^31-1, the error names
// the option), and the defaults are named constants exported once.
import * as net from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  ConnectedServer,
  ConnectedSocketAdapter,
  DEFAULT_CLIENT_HANDSHAKE_TIMEOUT,
  DEFAULT_CLOSE_TIMEOUT,
  DEFAULT_CONNECT_TIMEOUT,
  DEFAULT_DRAIN_TIMEOUT,
  DEFAULT_SERVER_HANDSHAKE_TIMEOUT,
  EchoProtocol,
  MAX_DURATION_MS,
  SingleServer,
  TCPClient,
  TCPServer,
  createInspector,
} from 'kamaelia-xstate';

const TOO_LONG = 2 ** 31;

describe('millisecond options', () => {
  it('names one set of defaults', () => {
    expect({
      DEFAULT_CONNECT_TIMEOUT,
      DEFAULT_CLOSE_TIMEOUT,
      DEFAULT_CLIENT_HANDSHAKE_TIMEOUT,
      DEFAULT_SERVER_HANDSHAKE_TIMEOUT,
      DEFAULT_DRAIN_TIMEOUT,
      MAX_DURATION_MS,
    }).toEqual({
      DEFAULT_CONNECT_TIMEOUT: 60_000,
      DEFAULT_CLOSE_TIMEOUT: 5000,
      DEFAULT_CLIENT_HANDSHAKE_TIMEOUT: 30_000,
      DEFAULT_SERVER_HANDSHAKE_TIMEOUT: 5000,
      DEFAULT_DRAIN_TIMEOUT: 5000,
      MAX_DURATION_MS: 2 ** 31 - 1,
    });
  });

  const socket = new net.Socket();
  const constructors: [string, (value: number) => unknown][] = [
    ['TCPClient delay', (delay) => TCPClient('127.0.0.1', 80, { delay })],
    ['TCPClient connectTimeout', (connectTimeout) => TCPClient('127.0.0.1', 80, { connectTimeout })],
    ['TCPClient closeTimeout', (closeTimeout) => TCPClient('127.0.0.1', 80, { closeTimeout })],
    ['TCPClient handshakeTimeout', (handshakeTimeout) => TCPClient('127.0.0.1', 80, { handshakeTimeout })],
    ['ConnectedSocketAdapter closeTimeout', (closeTimeout) => ConnectedSocketAdapter(socket, { closeTimeout })],
    ['ConnectedSocketAdapter handshakeTimeout', (handshakeTimeout) => ConnectedSocketAdapter(socket, { handshakeTimeout })],
    ['TCPServer handshakeTimeout', (handshakeTimeout) => TCPServer({ handshakeTimeout })],
    ['TCPServer tls.handshakeTimeout', (handshakeTimeout) => TCPServer({ tls: { handshakeTimeout } })],
    ['TCPServer idleTimeout', (idleTimeout) => TCPServer({ idleTimeout })],
    ['TCPServer drainTimeout', (drainTimeout) => TCPServer({ drainTimeout })],
    ['TCPServer closeTimeout', (closeTimeout) => TCPServer({ closeTimeout })],
    ['TCPServer socketOptions.keepAliveInitialDelay', (keepAliveInitialDelay) => TCPServer({ socketOptions: { keepAliveInitialDelay } })],
    ['ConnectedServer closeTimeout', (closeTimeout) => ConnectedServer({ protocol: () => EchoProtocol(), closeTimeout })],
    ['SingleServer drainTimeout', (drainTimeout) => SingleServer({ drainTimeout })],
  ];

  it.each(constructors)('%s: 2^31 ms (past what Node timers hold), -1, 1.5, NaN and "5" are refused naming the option', (what, make) => {
    const name = what.split(' ')[1]!.replace(/[.^$]/g, '\\$&');
    for (const bad of [TOO_LONG, -1, 1.5, Number.NaN, '5' as unknown as number]) {
      expect(() => make(bad), `${what} = ${String(bad)}`).toThrow(RangeError);
      expect(() => make(bad), `${what} = ${String(bad)}`).toThrow(
        new RegExp(`${name} must be an integer number of milliseconds from 0 to 2147483647`),
      );
    }
    expect(() => make(0)).not.toThrow();
    expect(() => make(MAX_DURATION_MS)).not.toThrow();
  });

  it('createInspector refuses a flushIntervalMs of 2^31 before it listens', async () => {
    await expect(createInspector({ flushIntervalMs: TOO_LONG })).rejects.toThrow(/createInspector: flushIntervalMs must be an integer number of milliseconds/);
  });
});
