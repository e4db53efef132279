// Test-only certificates, made fresh per test process with `selfsigned`: a CA, a server certificate
// it signs for localhost / 127.0.0.1 / ::1, and a client certificate it signs (for requestCert).
import { generate } from 'selfsigned';

export interface TestPki {
  readonly ca: string;
  readonly server: { readonly key: string; readonly cert: string };
  readonly client: { readonly key: string; readonly cert: string };
  /** A second, unrelated CA: nothing here is signed by it. */
  readonly otherCa: string;
  /** A self-signed server certificate for localhost that nobody trusts. */
  readonly untrustedServer: { readonly key: string; readonly cert: string };
  /** Signed by `ca`, naming only IP:127.0.0.1 (no DNS name, CN "ip only"). */
  readonly ipOnlyServer: { readonly key: string; readonly cert: string };
  /** Signed by `ca`, naming only DNS:localhost (no IP address). */
  readonly dnsOnlyServer: { readonly key: string; readonly cert: string };
  /** Signed by `ca`, naming only DNS:default.test: what a multi-name server presents without SNI. */
  readonly otherNameServer: { readonly key: string; readonly cert: string };
}

const ec = { keyType: 'ec', curve: 'P-256', algorithm: 'sha256' } as const;
const tomorrow = (): Date => new Date(Date.now() + 86_400_000);

async function makeCa(name: string): Promise<{ key: string; cert: string }> {
  const ca = await generate([{ name: 'commonName', value: name }], {
    ...ec,
    notAfterDate: tomorrow(),
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  return { key: ca.private, cert: ca.cert };
}

type AltName = { type: 2; value: string } | { type: 7; ip: string };

/** A server certificate `ca` signs for exactly `altNames`. */
async function makeServerCert(ca: { key: string; cert: string }, commonName: string, altNames: AltName[]): Promise<{ key: string; cert: string }> {
  const made = await generate([{ name: 'commonName', value: commonName }], {
    ...ec,
    notAfterDate: tomorrow(),
    ca,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames },
    ],
  });
  return { key: made.private, cert: made.cert };
}

async function makePki(): Promise<TestPki> {
  const ca = await makeCa('kamaelia-xstate test CA');
  const server = await generate([{ name: 'commonName', value: 'localhost' }], {
    ...ec,
    notAfterDate: tomorrow(),
    ca,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }, { type: 7, ip: '::1' }] },
    ],
  });
  const client = await generate([{ name: 'commonName', value: 'test client' }], {
    ...ec,
    notAfterDate: tomorrow(),
    ca,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true },
      { name: 'extKeyUsage', clientAuth: true },
    ],
  });
  const other = await makeCa('an untrusted CA');
  const untrusted = await generate([{ name: 'commonName', value: 'localhost' }], {
    ...ec,
    notAfterDate: tomorrow(),
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }] }],
  });
  return {
    ipOnlyServer: await makeServerCert(ca, 'ip only', [{ type: 7, ip: '127.0.0.1' }]),
    dnsOnlyServer: await makeServerCert(ca, 'localhost', [{ type: 2, value: 'localhost' }]),
    otherNameServer: await makeServerCert(ca, 'default.test', [{ type: 2, value: 'default.test' }]),
    untrustedServer: { key: untrusted.private, cert: untrusted.cert },
    ca: ca.cert,
    server: { key: server.private, cert: server.cert },
    client: { key: client.private, cert: client.cert },
    otherCa: other.cert,
  };
}

let pki: Promise<TestPki> | undefined;

/** The process's test PKI (made once). */
export function testPki(): Promise<TestPki> {
  pki ??= makePki();
  return pki;
}
