// The demo's TLS certificate, made at start-up (never shipped): self-signed for localhost and
// 127.0.0.1, and trusted by the demo's clients as their only CA, so verification stays on.
import { generate } from 'selfsigned';

export interface DemoCertificate {
  readonly key: string;
  readonly cert: string;
}

export async function makeDemoCertificate(): Promise<DemoCertificate> {
  const pem = await generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notAfterDate: new Date(Date.now() + 86_400_000),
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'keyUsage', digitalSignature: true, keyCertSign: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] },
    ],
  });
  return { key: pem.private, cert: pem.cert };
}
