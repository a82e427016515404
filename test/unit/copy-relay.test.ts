import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { CopyOutRelay } from '../../src/adapters/copy-relay.js';

/** One protocol message: its type byte, then its length (itself included) and body. */
const message = (type: string, body: Buffer): Buffer => {
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeUInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
};

// What a server sends for a COPY TO STDOUT: the response, rows (one empty, one long), a notice in the middle, the end.
const rows = [Buffer.from('a\tb\n'), Buffer.alloc(0), Buffer.alloc(300, 7), Buffer.from('last\n')];
const BEFORE = message('H', Buffer.from([0, 0, 2, 0, 0, 0, 0]));
const DATA = rows.map((r) => message('d', r));
const NOTICE = message('N', Buffer.from('SNOTICE\0\0'));
const AFTER = Buffer.concat([message('C', Buffer.from('COPY 4\0')), message('Z', Buffer.from('I'))]);
const WIRE = Buffer.concat([BEFORE, DATA[0], DATA[1], NOTICE, DATA[2], DATA[3], message('c', Buffer.alloc(0)), AFTER]);

/** Feeds `chunks` as separate socket reads; returns what was relayed and what was handed back to pg. */
async function relay(chunks: Buffer[]): Promise<{ relayed: Buffer; handedBack: Buffer }> {
  const socket = new PassThrough();
  const handed: Buffer[] = [];
  socket.on('data', (b: Buffer) => handed.push(b));
  const out = new CopyOutRelay('COPY t TO STDOUT');
  out.submit({ stream: socket, query: () => undefined });
  const relayed: Buffer[] = [];
  out.on('data', (b: Buffer) => relayed.push(b));
  const ended = new Promise<void>((resolve) => out.on('end', () => resolve()));
  for (const c of chunks) {
    socket.write(c);
    await new Promise((r) => setImmediate(r));
  }
  await ended;
  await new Promise((r) => setImmediate(r));
  return { relayed: Buffer.concat(relayed), handedBack: Buffer.concat(handed) };
}

describe('the COPY relay', () => {
  it('relays exactly the CopyData messages and hands back what follows CopyDone, wherever the reads cut the messages', async () => {
    const expected = Buffer.concat(DATA);
    // Every cut into two reads, and every pair of cuts into three: headers, bodies and boundaries all cut.
    for (let i = 1; i < WIRE.length; i++) {
      const two = await relay([WIRE.subarray(0, i), WIRE.subarray(i)]);
      expect(two.relayed.equals(expected), `cut at ${i}`).toBe(true);
      expect(two.handedBack.equals(AFTER), `cut at ${i}`).toBe(true);
    }
    for (let i = 1; i < WIRE.length; i += 3) {
      for (let j = i + 1; j < WIRE.length; j += 2) {
        const three = await relay([WIRE.subarray(0, i), WIRE.subarray(i, j), WIRE.subarray(j)]);
        expect(three.relayed.equals(expected), `cuts at ${i}, ${j}`).toBe(true);
        expect(three.handedBack.equals(AFTER), `cuts at ${i}, ${j}`).toBe(true);
      }
    }
    // Byte by byte.
    const single = await relay([...WIRE].map((b) => Buffer.from([b])));
    expect(single.relayed.equals(expected)).toBe(true);
    expect(single.handedBack.equals(AFTER)).toBe(true);
  });

  it('every chunk it relays is whole messages (the other side never gets half a row)', async () => {
    const socket = new PassThrough();
    socket.on('data', () => undefined);
    const out = new CopyOutRelay('COPY t TO STDOUT');
    out.submit({ stream: socket, query: () => undefined });
    const chunks: Buffer[] = [];
    out.on('data', (b: Buffer) => chunks.push(b));
    const ended = new Promise<void>((resolve) => out.on('end', () => resolve()));
    for (let i = 0; i < WIRE.length; i += 7) {
      socket.write(WIRE.subarray(i, i + 7));
      await new Promise((r) => setImmediate(r));
    }
    await ended;
    for (const c of chunks) {
      let at = 0;
      while (at < c.length) {
        expect(c[at]).toBe(0x64);
        at += 1 + c.readUInt32BE(at + 1);
      }
      expect(at).toBe(c.length);
    }
  });
});
