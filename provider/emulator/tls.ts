/**
 * Certificates for `--tls`: a certificate authority made at start and a
 * server certificate it signs for localhost, 127.0.0.1 and ::1. The CA's
 * private key lives only in memory and is dropped once the leaf is signed,
 * so a CA someone trusted cannot sign anything else later; each start makes
 * a new one.
 *
 * Why no library: node:crypto makes the keys and the ECDSA signatures; all
 * it lacks is writing the two certificates' DER (RFC 5280), which for two
 * fixed templates is the few encoders below. node-forge would add 1.6 MB of
 * pure-JS crypto (and RSA-only certificates) to every install of the
 * provider for a test-only feature; @peculiar/x509 brings a dozen packages
 * and a reflect-metadata polyfill; the openssl CLI is missing on Windows and
 * slim images. The tests check the result with node's X509Certificate, the
 * openssl CLI's strict verifier (where present) and real TLS handshakes.
 * The certificates follow what strict verifiers (Python 3.13's default,
 * OpenSSL's X509_STRICT) require: critical basicConstraints and keyUsage on
 * the CA, subject and authority key identifiers, a non-empty SAN.
 */
import { createHash, generateKeyPairSync, KeyObject, randomBytes, sign } from "node:crypto";
import { isIPv4 } from "node:net";

/** What an HTTPS server needs, and the CA a client must trust (all PEM). */
export interface LocalCertificates {
  caPem: string;
  certPem: string;
  keyPem: string;
}

// --- DER, just what two certificates need ---------------------------------

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from([tag]), length(body.length), body]);
}

const seq = (...parts: Buffer[]) => tlv(0x30, ...parts);
const octets = (b: Buffer) => tlv(0x04, b);
const TRUE = tlv(0x01, Buffer.from([0xff]));

function oid(dotted: string): Buffer {
  const [first, second, ...rest] = dotted.split(".").map(Number);
  const out = [40 * first + second];
  for (const n of rest) {
    const base128: number[] = [];
    for (let v = n; ; v = Math.floor(v / 128)) {
      base128.unshift((v & 0x7f) | (base128.length ? 0x80 : 0));
      if (v < 128) break;
    }
    out.push(...base128);
  }
  return tlv(0x06, Buffer.from(out));
}

/** A non-negative INTEGER from big-endian bytes. */
function uint(bytes: Buffer): Buffer {
  let b = bytes;
  while (b.length > 1 && b[0] === 0 && !(b[1] & 0x80)) b = b.subarray(1);
  return tlv(0x02, b[0] & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b);
}

/** A BIT STRING; `unusedBits` trailing bits of the last byte are padding. */
const bits = (b: Buffer, unusedBits = 0) => tlv(0x03, Buffer.from([unusedBits]), b);

/** UTCTime before 2050, GeneralizedTime from then on (RFC 5280 4.1.2.5). */
function time(d: Date): Buffer {
  const digits = d.toISOString().replace(/[-:T]/g, "").slice(0, 14) + "Z";
  return d.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(digits.slice(2), "ascii")) : tlv(0x18, Buffer.from(digits, "ascii"));
}

const commonName = (cn: string) => seq(tlv(0x31, seq(oid("2.5.4.3"), tlv(0x0c, Buffer.from(cn, "utf8")))));

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return critical ? seq(oid(id), TRUE, octets(value)) : seq(oid(id), octets(value));
}

// --- the certificates ------------------------------------------------------

const ECDSA_WITH_SHA256 = seq(oid("1.2.840.10045.4.3.2"));
const SERVER_AUTH = "1.3.6.1.5.5.7.3.1";

interface Signer {
  name: Buffer;
  key: KeyObject;
  keyId: Buffer;
}

function keyIdOf(spki: Buffer): Buffer {
  return createHash("sha1").update(spki).digest();
}

function certificate(subject: Buffer, publicKey: KeyObject, issuer: Signer, extensions: Buffer[]): Buffer {
  const spki = publicKey.export({ type: "spki", format: "der" });
  const serial = randomBytes(16);
  serial[0] = (serial[0] & 0x7f) | 0x40; // positive, 16 bytes
  const now = Date.now();
  const tbs = seq(
    tlv(0xa0, uint(Buffer.from([2]))), // v3
    uint(serial),
    ECDSA_WITH_SHA256,
    issuer.name,
    seq(time(new Date(now - 3_600_000)), time(new Date(now + 365 * 86_400_000))),
    subject,
    spki,
    tlv(0xa3, seq(...extensions)),
  );
  return seq(tbs, ECDSA_WITH_SHA256, bits(sign("sha256", tbs, issuer.key)));
}

function pem(der: Buffer): string {
  const lines = der.toString("base64").match(/.{1,64}/g)!.join("\n");
  return `-----BEGIN CERTIFICATE-----\n${lines}\n-----END CERTIFICATE-----\n`;
}

function ipBytes(ip: string): Buffer | undefined {
  if (isIPv4(ip)) return Buffer.from(ip.split(".").map(Number));
  if (ip === "::1") return Buffer.from([...Array<number>(15).fill(0), 1]);
  return undefined;
}

/**
 * A fresh CA and a server certificate for localhost, 127.0.0.1, ::1 and
 * `extraHosts` (names or IPv4 addresses the emulator listens on).
 */
export function makeLocalCertificates(extraHosts: readonly string[] = []): LocalCertificates {
  const ca = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  const caSpki = ca.publicKey.export({ type: "spki", format: "der" });
  const caName = commonName(`zilliz-stage-emulator local CA ${new Date().toISOString()}`);
  const caSigner: Signer = { name: caName, key: ca.privateKey, keyId: keyIdOf(caSpki) };
  const caCert = certificate(caName, ca.publicKey, caSigner, [
    extension("2.5.29.19", true, seq(TRUE, uint(Buffer.from([0])))), // CA, path length 0
    extension("2.5.29.15", true, bits(Buffer.from([0x06]), 1)), // keyCertSign, cRLSign
    extension("2.5.29.14", false, octets(caSigner.keyId)),
  ]);

  const leaf = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  const names = new Set(["localhost", "127.0.0.1", "::1", ...extraHosts.filter((h) => h && h !== "0.0.0.0" && h !== "::")]);
  const altNames = [...names].map((h) => {
    const ip = ipBytes(h);
    return ip ? tlv(0x87, ip) : tlv(0x82, Buffer.from(h, "ascii"));
  });
  const leafCert = certificate(commonName("localhost"), leaf.publicKey, caSigner, [
    extension("2.5.29.19", true, seq()), // not a CA
    extension("2.5.29.15", true, bits(Buffer.from([0x80]), 7)), // digitalSignature
    extension("2.5.29.37", false, seq(oid(SERVER_AUTH))),
    extension("2.5.29.17", false, seq(...altNames)),
    extension("2.5.29.14", false, octets(keyIdOf(leaf.publicKey.export({ type: "spki", format: "der" })))),
    extension("2.5.29.35", false, seq(tlv(0x80, caSigner.keyId))),
  ]);

  return {
    caPem: pem(caCert),
    certPem: pem(leafCert),
    keyPem: leaf.privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
  };
}
