// Echo server over implicit TLS (TLS from the first byte), optionally checking client certificates.
//   npx tsx examples/tlsEchoServer.ts [port] [key.pem cert.pem [ca.pem]]
//   then: openssl s_client -connect 127.0.0.1:1603 -quiet   (add -CAfile for verification)
// Without key/cert files it makes a throwaway self-signed certificate for localhost at startup.
import { readFileSync } from 'node:fs';
import { generate } from 'selfsigned';
import { ConnectedServer, EchoProtocol, run, serverShutdown } from 'kamaelia-xstate';

const [portArg = '1603', keyFile, certFile, caFile] = process.argv.slice(2);
const pems = keyFile && certFile ? undefined : await generate([{ name: 'commonName', value: 'localhost' }], { keyType: 'ec', algorithm: 'sha256' });
const key = keyFile ? readFileSync(keyFile, 'utf8') : pems!.private;
const cert = certFile ? readFileSync(certFile, 'utf8') : pems!.cert;
// With a CA file, only clients holding a certificate signed by it are served.
const clientCheck = caFile ? { requestCert: true, ca: readFileSync(caFile, 'utf8') } : {};

const server = run(
  ConnectedServer({
    host: '127.0.0.1',
    port: Number(portArg),
    protocol: () => EchoProtocol(),
    tls: { secure: true, key, cert, ...clientCheck, handshakeTimeout: 5000 },
  }),
);
const { address, port } = await server.next('listening');
console.log(`TLS echo server on ${address}:${port}${caFile ? ' (client certificates required)' : ''}`);
process.once('SIGINT', () => server.send('control', serverShutdown()));
await server.done;
