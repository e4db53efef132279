// SNI: a certificate per host name the client asks for. A map (exact names and '*.example.com'
// wildcards, made into secure contexts once, so a bad key fails at construction) or a function
// of the name; either becomes node:tls's SNICallback, for implicit TLS and STARTTLS alike.
import tls from 'node:tls';
import type { SniCertificates, TCPServerTlsOptions } from '../../actors/listener.js';

function contextFor(where: string, name: string, options: tls.SecureContextOptions): tls.SecureContext {
  try {
    return tls.createSecureContext(options);
  } catch (error) {
    throw new TypeError(`${where}: tls.sni[${JSON.stringify(name)}] is not a usable key and certificate: ${(error as Error).message}`);
  }
}

function lookupIn(contexts: ReadonlyMap<string, tls.SecureContext>, servername: string): tls.SecureContext | undefined {
  const name = servername.toLowerCase();
  const exact = contexts.get(name);
  if (exact) return exact;
  const dot = name.indexOf('.');
  return dot > 0 ? contexts.get(`*${name.slice(dot)}`) : undefined; // a wildcard covers one label
}

function sniCallback(sni: SniCertificates, where: string): NonNullable<tls.TlsOptions['SNICallback']> {
  if (typeof sni === 'function') {
    // Keyed weakly: a function that returns a new options object per call must not grow the cache.
    const cache = new WeakMap<tls.SecureContextOptions, tls.SecureContext>();
    return (servername, callback) => {
      try {
        const options = sni(servername);
        if (options === undefined) return callback(null, undefined); // the default certificate
        let context = cache.get(options);
        if (!context) cache.set(options, (context = tls.createSecureContext(options)));
        callback(null, context);
      } catch (error) {
        callback(error as Error, undefined); // this handshake fails; the server goes on
      }
    };
  }
  if (sni === null || typeof sni !== 'object') throw new TypeError(`${where}: tls.sni must be an object of host name to { key, cert } or a function`);
  const contexts = new Map<string, tls.SecureContext>();
  for (const [name, options] of Object.entries(sni)) contexts.set(name.toLowerCase(), contextFor(where, name, options));
  return (servername, callback) => callback(null, lookupIn(contexts, servername));
}

/** The TLS options with `sni` turned into node:tls's SNICallback (unchanged without `sni`). */
export function resolveSni(options: TCPServerTlsOptions | undefined, where: string): TCPServerTlsOptions | undefined {
  if (options?.sni === undefined) return options;
  if (options.SNICallback) throw new TypeError(`${where}: give tls.sni or tls.SNICallback, not both`);
  const { sni, ...rest } = options;
  return { ...rest, SNICallback: sniCallback(sni, where) };
}
