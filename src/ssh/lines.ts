/** Longest line kept whole: longer ones are emitted in pieces of this size (memory stays bounded). */
export const MAX_LINE_BYTES = 1024 * 1024;

/**
 * Line buffering of command output. Works on bytes: a multi-byte character split across
 * chunks is decoded whole, and partial lines wait for their newline or the end of the stream.
 * Each line also comes with its exact bytes, line end included, for byte-exact sinks; a
 * line longer than {@link MAX_LINE_BYTES} comes in pieces, so a 600 MB line without a
 * newline never becomes one string.
 */
export class LineSplitter {
  private pending: Buffer[] = [];
  private size = 0;
  private readonly onLine: (line: string, bytes: Buffer) => void;
  private readonly max: number;

  constructor(onLine: (line: string, bytes: Buffer) => void, max = MAX_LINE_BYTES) {
    this.onLine = onLine;
    this.max = max;
  }

  /** Feed a chunk; complete lines are emitted without their `\n` (and a `\r` before it). */
  push(chunk: Buffer): void {
    let start = 0;
    for (let nl = chunk.indexOf(10, start); nl !== -1; nl = chunk.indexOf(10, start)) {
      const piece = chunk.subarray(start, nl + 1);
      start = nl + 1;
      if (this.size + piece.length > this.max) {
        this.pushPartial(piece);
        this.flushPieces(true);
        continue;
      }
      const line = this.pending.length > 0 ? Buffer.concat([...this.pending, piece]) : piece;
      this.pending = [];
      this.size = 0;
      this.emit(line);
    }
    if (start < chunk.length) this.pushPartial(chunk.subarray(start));
  }

  /** Emit the last partial line, if any. */
  end(): void {
    this.flushPieces(true);
  }

  private pushPartial(bytes: Buffer): void {
    this.pending.push(bytes);
    this.size += bytes.length;
    if (this.size >= this.max) this.flushPieces(false);
  }

  /** Emit pending bytes in pieces of at most `max`; all of them with `all`, else whole pieces only. */
  private flushPieces(all: boolean): void {
    if (this.size === 0) return;
    let buf = this.pending.length === 1 ? (this.pending[0] as Buffer) : Buffer.concat(this.pending);
    while (buf.length >= this.max || (all && buf.length > 0)) {
      const n = Math.min(this.max, buf.length);
      this.emit(buf.subarray(0, n));
      buf = buf.subarray(n);
    }
    this.pending = buf.length > 0 ? [buf] : [];
    this.size = buf.length;
  }

  private emit(bytes: Buffer): void {
    let end = bytes.length;
    if (end > 0 && bytes[end - 1] === 10) end--;
    if (end > 0 && bytes[end - 1] === 13 && end < bytes.length) end--;
    this.onLine(bytes.toString("utf8", 0, end), bytes);
  }
}

/** Collects raw bytes (binary-safe capture). */
export class ByteCollector {
  private chunks: Buffer[] = [];
  private size = 0;

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
  }

  get length(): number {
    return this.size;
  }

  bytes(): Buffer {
    if (this.chunks.length !== 1) this.chunks = [Buffer.concat(this.chunks, this.size)];
    return this.chunks[0] ?? Buffer.alloc(0);
  }
}

/** Keeps only the last `max` bytes (stderr tail for error messages). */
export class TailBuffer {
  private buf = Buffer.alloc(0);
  private readonly max: number;

  constructor(max: number) {
    this.max = max;
  }

  push(chunk: Buffer): void {
    const joined = Buffer.concat([this.buf, chunk]);
    this.buf = joined.length > this.max ? joined.subarray(joined.length - this.max) : joined;
  }

  /** Last non-empty line, trimmed. */
  lastLine(): string {
    const lines = this.buf
      .toString("utf8")
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l !== "");
    return lines[lines.length - 1] ?? "";
  }
}
