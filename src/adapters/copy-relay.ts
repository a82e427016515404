/**
 * A COPY relayed from one server to another as the protocol's own messages: blue's COPY TO STDOUT
 * sends its rows as CopyData messages, and green's COPY FROM STDIN takes exactly those messages, so
 * the bytes go through untouched. The relay only walks message headers to find where the rows begin
 * and end; it never copies a row out of its message (pg-copy-streams' COPY TO does, row by row).
 * Measured, it saves the controller little (a 4 GB clone spends 3-6 s of its CPU in all): the servers'
 * COPYs are the cost.
 */
import { Readable } from 'node:stream';
import { from as copyFrom } from 'pg-copy-streams';

const COPY_DATA = 0x64; // d
const COPY_DONE = 0x63; // c
const COPY_OUT_RESPONSE = 0x48; // H
const ERROR_RESPONSE = 0x45; // E
/** Messages the server may send in the middle of a COPY: read past, never relayed. */
const INTERSPERSED = new Set([0x41, 0x4e, 0x53]); // A (notification), N (notice), S (parameter status)

type DataHandler = (chunk: Buffer) => void;

interface PgConnection {
  stream: NodeJS.ReadableStream & NodeJS.WritableStream;
  query(text: string): void;
}

/**
 * COPY ... TO STDOUT whose chunks are whole runs of CopyData messages, headers included. Submit it
 * with `client.query(...)`; pipe it into `relayInto(...)` on the other server.
 */
export class CopyOutRelay extends Readable {
  rowCount = 0;
  private connection?: PgConnection;
  private pgDataHandler?: DataHandler;
  /** What arrived of a message not yet whole, and how many bytes it needs in all. */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private needed = 0;
  private finished = false;
  private readonly onReadable = () => this.pump();
  private wanted = false;
  /** Destroyed before the rows ended (the other side failed): the rest is read and dropped, so the session can go on. */
  private discarding = false;

  /** `onBytes` is told the size of every run of messages relayed (progress, without a stream stage of its own). */
  constructor(
    private readonly text: string,
    private readonly onBytes?: (bytes: number) => void,
  ) {
    super();
  }

  private relay(run: Buffer): void {
    this.onBytes?.(run.length);
    this.wanted = this.push(run);
  }

  submit(connection: PgConnection): void {
    this.connection = connection;
    const stream = connection.stream;
    const listeners = stream.listeners('data') as DataHandler[];
    if (listeners.length !== 1) throw new Error('the connection is not idle: cannot relay a COPY on it');
    this.pgDataHandler = listeners[0];
    stream.removeListener('data', this.pgDataHandler);
    stream.pause();
    stream.on('readable', this.onReadable);
    connection.query(this.text);
  }

  /** pg calls these once the connection is handed back (after CopyDone or an error). */
  handleCommandComplete(msg: { text?: string }): void {
    const match = /COPY (\d+)/.exec(msg?.text ?? '');
    if (match) this.rowCount = Number(match[1]);
  }

  handleReadyForQuery(): void {}

  handleError(error: Error): void {
    this.destroy(error);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (this.connection && !this.finished) {
      this.discarding = true;
      this.pump();
    }
    callback(error);
  }

  callback(): void {}

  override _read(): void {
    this.wanted = true;
    this.pump();
  }

  private pump(): void {
    if (!this.connection || this.finished) return;
    const stream = this.connection.stream as unknown as { read(): Buffer | null };
    while ((this.wanted || this.discarding) && !this.finished) {
      const chunk = stream.read();
      if (chunk === null) return;
      this.walk(chunk);
    }
  }

  /**
   * Walks one chunk: relays the runs of whole CopyData messages in it, stops at CopyDone or an error.
   * A message cut by the chunk's end waits for the rest: the other side only ever gets whole messages,
   * so should it stop taking them, its session is not left inside a half-sent one.
   */
  private walk(incoming: Buffer): void {
    let chunk = incoming;
    // The message the last read cut is completed from the head of this one: only its own bytes are
    // copied (concatenating whole reads copied every byte of the COPY once more, for nearly every read).
    while (this.pendingBytes) {
      const missing = this.needed - this.pendingBytes;
      if (chunk.length < missing) {
        this.pending.push(chunk);
        this.pendingBytes += chunk.length;
        return;
      }
      const head = Buffer.concat([...this.pending, chunk.subarray(0, missing)], this.needed);
      chunk = chunk.subarray(missing);
      this.pending = [];
      this.pendingBytes = 0;
      this.needed = 0;
      const whole = 1 + head.readUInt32BE(1);
      if (whole > head.length) {
        // Only the header was cut: now the message's length is known.
        this.pending = [head];
        this.pendingBytes = head.length;
        this.needed = whole;
        continue;
      }
      const code = head[0];
      if (code === COPY_DATA) {
        if (!this.discarding) this.relay(head);
      } else if (code === COPY_DONE) {
        this.finish(chunk);
        return;
      } else if (code !== COPY_OUT_RESPONSE && !INTERSPERSED.has(code)) {
        this.finish(Buffer.concat([head, chunk]));
        return;
      }
    }
    if (chunk.length) this.walkWhole(chunk);
  }

  /** `walk` for a chunk that begins with a message's first byte. */
  private walkWhole(chunk: Buffer): void {
    let at = 0;
    let runStart = -1;
    const flushRun = (end: number) => {
      if (runStart >= 0 && end > runStart && !this.discarding) this.relay(chunk.subarray(runStart, end));
      runStart = -1;
    };
    while (at < chunk.length) {
      const code = chunk[at];
      if (code === ERROR_RESPONSE) {
        // pg reads the error (the stream fails through handleError).
        flushRun(at);
        this.finish(chunk.subarray(at));
        return;
      }
      const whole = chunk.length - at >= 5 ? 1 + chunk.readUInt32BE(at + 1) : 5;
      if (chunk.length - at < whole) {
        flushRun(at);
        this.pending = [chunk.subarray(at)];
        this.pendingBytes = chunk.length - at;
        this.needed = whole;
        return;
      }
      if (code === COPY_DONE) {
        // The rows are over; pg reads what follows (CommandComplete, ReadyForQuery), never the CopyDone itself.
        flushRun(at);
        this.finish(chunk.subarray(at + whole));
        return;
      }
      if (code === COPY_DATA) {
        if (runStart < 0) runStart = at;
      } else if (code === COPY_OUT_RESPONSE || INTERSPERSED.has(code)) {
        flushRun(at);
      } else {
        // Anything else ends copy-out mode: pg reads it.
        flushRun(at);
        this.finish(chunk.subarray(at));
        return;
      }
      at += whole;
    }
    flushRun(at);
  }

  /** Hands the connection back to pg with what follows the rows (CopyDone, CommandComplete, ReadyForQuery, or an error). */
  private finish(rest: Buffer): void {
    this.finished = true;
    const connection = this.connection!;
    connection.stream.removeListener('readable', this.onReadable);
    connection.stream.on('data', this.pgDataHandler!);
    const handler = this.pgDataHandler!;
    if (rest[0] !== ERROR_RESPONSE && !this.discarding) this.push(null);
    if (rest.length) handler(Buffer.from(rest));
    process.nextTick(() => connection.stream.resume());
  }
}

/** COPY ... FROM STDIN that takes whole CopyData messages (what `CopyOutRelay` gives) and sends them as they are. */
export function relayInto(text: string): ReturnType<typeof copyFrom> {
  const stream = copyFrom(text) as ReturnType<typeof copyFrom> & {
    flushChunk(chunk: Buffer): boolean;
    connection: PgConnection | null;
    _destroy(error: Error | null, callback: (error?: Error | null) => void): void;
  };
  // pg-copy-streams frames each chunk as a CopyData message: these chunks are framed already.
  stream.flushChunk = (chunk: Buffer) => stream.connection!.stream.write(chunk);
  // Once the server has refused the COPY (the error handled, the connection let go), there is nothing to
  // cancel: pg-copy-streams would send a CopyFail and wait for an answer that never comes.
  const destroy = stream._destroy.bind(stream);
  stream._destroy = (error, callback) => (stream.connection ? destroy(error, callback) : callback(error));
  return stream;
}
