import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { saslPrep, scramKeys, scramVerifier } from '../../src/core/scram.js';

const hmac = (key: Buffer, text: string) => createHmac('sha256', key).update(text).digest();

describe('SCRAM-SHA-256 verifiers computed on the controller', () => {
  it("RFC 7677's exchange: the keys give its server signature and its client proof", () => {
    // RFC 7677 section 3: user "user", password "pencil".
    const salt = Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64');
    const nonce = 'rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0';
    const authMessage = `n=user,r=rOprNGfwEbeRWgbNEkqO,r=${nonce},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,c=biws,r=${nonce}`;
    const { storedKey, serverKey } = scramKeys('pencil', salt, 4096);
    expect(hmac(serverKey, authMessage).toString('base64')).toBe('6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=');
    // ClientKey = ClientProof XOR ClientSignature; StoredKey is its hash.
    const proof = Buffer.from('dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=', 'base64');
    const signature = hmac(storedKey, authMessage);
    const clientKey = Buffer.from(proof.map((b, i) => b ^ signature[i]));
    expect(createHash('sha256').update(clientKey).digest().equals(storedKey)).toBe(true);
  });

  it("the verifier has PostgreSQL's shape and never holds the password", () => {
    const verifier = scramVerifier('s3cret-value', Buffer.alloc(16, 7));
    expect(verifier).toMatch(/^SCRAM-SHA-256\$4096:[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=:[A-Za-z0-9+/]{43}=$/);
    expect(verifier).not.toContain('s3cret');
    // A new salt each time: two roles with one password do not share a verifier.
    expect(scramVerifier('s3cret-value', Buffer.alloc(16, 8))).not.toBe(verifier);
  });

  it('SASLprep as the server applies it: ASCII as is, non-ASCII spaces mapped, NFKC, the raw bytes where prohibited', () => {
    expect(saslPrep('pencil').toString()).toBe('pencil');
    expect(saslPrep('a\u00A0b').toString()).toBe('a b');
    expect(saslPrep('\u2168').toString()).toBe('IX');
    expect(saslPrep('x\u00ADy').toString()).toBe('xy');
    expect(saslPrep('\u00E9\u0007').toString()).toBe('\u00E9\u0007');
  });
});
