// STARTTLS on an already-connected socket, client or server side (anchors note 3.2).
// Client: tls.connect({ socket }) is the supported upgrade path and verifies the server's
// certificate (on by default). Server: new TLSSocket(socket, { isServer: true }) does not check a
// requested client certificate itself (nodejs/node#13368), so we do.
import { isIP, type Socket } from 'node:net';
import * as tls from 'node:tls';

/**
 * node:tls options for the client side of a handshake. Verification stays on unless turned off.
 * `host` is the name (or address) the server's certificate is checked against (default: the host
 * the client connected to); `servername` is the SNI sent and, when given, also the name checked
 * (default: `host` when it is a name; none for an IP address, RFC 6066).
 */
export type ClientTlsOptions = Omit<tls.ConnectionOptions, 'socket' | 'port' | 'path'> & { readonly isServer?: false };

/**
 * The identity a TLS client checks and announces: `host` as given (or `connectedTo`), and SNI
 * `servername` for a name but never for an IP literal, unless the options name one themselves.
 * The same for makessl and for `secure: true`, so both check the host the client was given.
 */
export function clientIdentity(connectedTo: string | undefined, options: tls.ConnectionOptions): tls.ConnectionOptions {
  const host = options.host ?? connectedTo;
  const servername = options.servername ?? (host !== undefined && isIP(host) === 0 ? host : undefined);
  return { ...options, ...(host !== undefined ? { host } : {}), ...(servername !== undefined ? { servername } : {}) };
}

/**
 * Where a socket we did not connect ourselves points: the name it was connected by (node:net keeps
 * it as `_host`, and node:tls falls back to it too), else its address. Never node:tls's 'localhost'.
 */
function connectedHost(socket: Socket): string | undefined {
  const byName = (socket as Socket & { _host?: unknown })._host;
  return typeof byName === 'string' && byName !== '' ? byName : socket.remoteAddress;
}

/** node:tls options for the server side of a handshake (key and cert are required there). */
export type ServerTlsOptions = tls.TlsOptions & { readonly isServer: true };

/** node:tls options for a TLS upgrade (makessl): a client's, or a server's with `isServer: true`. */
export type TlsUpgradeOptions = ClientTlsOptions | ServerTlsOptions;

export interface TlsHandshakeCallbacks {
  /** The TLS socket exists (client side: at once; server side: once the handshake is done). */
  readonly onSocket: (secured: tls.TLSSocket) => void;
  readonly onSecure: (secured: tls.TLSSocket) => void;
  readonly onError: (error: Error) => void;
}

/**
 * Starts the handshake over `socket` (which must have no 'data'/'readable' listeners and an empty
 * write buffer). Calls `onSecure` once it is done and verified, or `onError` once.
 */
export function startTls(socket: Socket, options: TlsUpgradeOptions, callbacks: TlsHandshakeCallbacks): void {
  const { onSocket, onSecure, onError } = callbacks;
  if (options.isServer) {
    // A tls.Server that never listens, fed the connection: the supported server-side STARTTLS path
    // (a bare TLSSocket with isServer leaves `authorized` unset, nodejs/node#13368).
    const { isServer: _isServer, requestCert, rejectUnauthorized, ...serverOptions } = options;
    const server = tls.createServer({ ...serverOptions, requestCert: requestCert === true, rejectUnauthorized: false });
    server.once('secureConnection', (secured: tls.TLSSocket) => {
      onSocket(secured);
      if (requestCert && rejectUnauthorized !== false && !secured.authorized) {
        const code = typeof secured.authorizationError === 'string' && secured.authorizationError ? secured.authorizationError : 'ERR_TLS_CERT_REJECTED';
        onError(Object.assign(new Error(`client certificate rejected: ${code}`), { code }));
        return;
      }
      onSecure(secured);
    });
    server.once('tlsClientError', (error: Error, secured: tls.TLSSocket) => {
      secured.on('error', () => {});
      onError(error);
    });
    server.emit('connection', socket);
    return;
  }
  const { isServer: _isServer, ...clientOptions } = options;
  const secured = tls.connect({ ...clientIdentity(connectedHost(socket), clientOptions), socket });
  onSocket(secured);
  secured.once('secureConnect', () => onSecure(secured));
  secured.once('error', onError);
}
