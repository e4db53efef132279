// TCPClient's connect step: net.connect (or tls.connect for `secure`) with a connect timeout,
// provided into tcpClientMachine as `connector`. On success the socket is handed over (this actor
// no longer owns it); on failure, timeout or stop the socket is destroyed.
import * as net from 'node:net';
import * as tls from 'node:tls';
import { fromCallback, type EventObject } from 'xstate';
import { reasonFromError } from '../src/kernel/messages.js';
import type { ConnectorEvent, ConnectRequest } from '../machines/tcpClient.js';
import { Opaque } from '../machines/opaque.js';
import { clientIdentity } from './tlsUpgrade.js';

export const connector = fromCallback<EventObject, ConnectRequest>(({ input, sendBack }) => {
  const { host, port, connectTimeoutMs, secure, path } = input;
  // A Unix domain socket (`path`) replaces host and port.
  const endpoint = path !== undefined ? { path } : { host, port };
  const report = (event: ConnectorEvent): void => sendBack(event);
  let settled = false;
  const lookup = input.lookup ? { lookup: input.lookup as net.LookupFunction } : {};
  let socket: net.Socket;
  try {
    if (secure) {
      // The certificate is checked against tls.host / tls.servername if given, else `host`.
      const options = clientIdentity(host, (input.tls ?? {}) as tls.ConnectionOptions);
      socket = tls.connect({ ...options, ...lookup, ...endpoint });
      socket.allowHalfOpen = true;
    } else {
      socket = net.connect({ ...endpoint, allowHalfOpen: true, ...lookup });
    }
  } catch (error) {
    // Bad TLS options (an unreadable key or CA) throw here, before any socket exists.
    report({ type: 'connect.failed', reason: reasonFromError(error, 'ECONNECT') });
    return () => {};
  }
  const fail = (error: unknown, fallbackCode: string): void => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    socket.destroy();
    report({ type: 'connect.failed', reason: reasonFromError(error, fallbackCode) });
  };
  const timer =
    connectTimeoutMs > 0
      ? setTimeout(() => {
          const what = secure ? 'connect and TLS handshake' : 'connect';
          fail(Object.assign(new Error(`${what} to ${path ?? `${host}:${port}`} timed out after ${connectTimeoutMs} ms`), { code: 'ETIMEDOUT' }), 'ETIMEDOUT');
        }, connectTimeoutMs)
      : undefined;
  const onError = (error: Error): void => fail(error, 'ECONNECT');
  socket.on('error', onError);
  socket.once(secure ? 'secureConnect' : 'connect', () => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    socket.off('error', onError);
    // Until the CSA attaches its own, an error must not go unheard (Node would throw it).
    socket.on('error', () => {});
    report({ type: 'connect.ok', socket: new Opaque(socket, path ?? `${host}:${port}`) });
  });
  return () => {
    clearTimeout(timer);
    if (!settled) {
      settled = true;
      socket.destroy();
    }
  };
});

