/**
 * TLS material from etcd-style flags (--cert-file, --key-file, --trusted-ca-file,
 * --client-cert-auth, --client-crl-file and their --peer-* twins), read once at startup.
 */
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import type { TlsConfig } from '../config/types';

/** Options for a TLS server (client port, metrics port, peer port). ALPN offers h2 and HTTP/1.1. */
export function serverTlsOptions(config: TlsConfig): tls.TlsOptions {
  if (config.certFile === '' || config.keyFile === '') throw new Error('TLS needs a certificate and a key file');
  return {
    cert: readFileSync(config.certFile),
    key: readFileSync(config.keyFile),
    ...(config.trustedCaFile !== '' ? { ca: readFileSync(config.trustedCaFile) } : {}),
    ...(config.crlFile !== '' ? { crl: readFileSync(config.crlFile) } : {}),
    // etcd: --client-cert-auth demands a client certificate signed by the trusted CA.
    requestCert: config.clientCertAuth,
    rejectUnauthorized: config.clientCertAuth,
    ALPNProtocols: ['h2', 'http/1.1'],
    minVersion: 'TLSv1.2',
  };
}

/** Returns why a client's certificate is not acceptable, or undefined when it is. */
export type ClientCertificateCheck = (socket: tls.TLSSocket) => string | undefined;

/**
 * etcd's --peer-cert-allowed-cn / --(peer-|client-)cert-allowed-hostname: after the CA check,
 * the client certificate must also carry this CN, or be valid for this host name (SAN).
 * Undefined when neither is configured.
 */
export function clientCertificateCheck(config: TlsConfig): ClientCertificateCheck | undefined {
  if (config.allowedCn === '' && config.allowedHostname === '') return undefined;
  return (socket) => {
    const certificate = socket.getPeerCertificate();
    if (certificate === null || Object.keys(certificate).length === 0) return 'no client certificate';
    if (config.allowedCn !== '' && certificate.subject?.CN !== config.allowedCn) {
      return `client certificate CN ${JSON.stringify(certificate.subject?.CN ?? '')} is not the allowed CN ${JSON.stringify(config.allowedCn)}`;
    }
    if (config.allowedHostname !== '' && tls.checkServerIdentity(config.allowedHostname, certificate) !== undefined) {
      return `client certificate is not valid for the allowed hostname ${JSON.stringify(config.allowedHostname)}`;
    }
    return undefined;
  };
}

/** Options for dialling a TLS peer: our peer certificate as client certificate, the peer CA as trust root. */
export function clientTlsOptions(config: TlsConfig): tls.ConnectionOptions {
  return {
    ...(config.certFile !== '' ? { cert: readFileSync(config.certFile) } : {}),
    ...(config.keyFile !== '' ? { key: readFileSync(config.keyFile) } : {}),
    ...(config.trustedCaFile !== '' ? { ca: readFileSync(config.trustedCaFile) } : {}),
    minVersion: 'TLSv1.2',
  };
}
