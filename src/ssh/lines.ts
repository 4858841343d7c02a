/**
 * Line buffering of command output. Works on bytes: a multi-byte character split across
 * chunks is decoded whole, and partial lines wait for their newline or the end of the stream.
 */
export class LineSplitter {
  private pending: Buffer[] = [];
  private readonly onLine: (line: string) => void;

  constructor(onLine: (line: string) => void) {
    this.onLine = onLine;
  }

  /** Feed a chunk; complete lines are emitted without their `\n` (and a `\r` before it). */
  push(chunk: Buffer): void {
    let start = 0;
    for (let nl = chunk.indexOf(10, start); nl !== -1; nl = chunk.indexOf(10, start)) {
      const piece = chunk.subarray(start, nl);
      const line = this.pending.length > 0 ? Buffer.concat([...this.pending, piece]) : piece;
      this.pending = [];
      this.emit(line);
      start = nl + 1;
    }
    if (start < chunk.length) this.pending.push(chunk.subarray(start));
  }

  /** Emit the last partial line, if any. */
  end(): void {
    if (this.pending.length === 0) return;
    const line = Buffer.concat(this.pending);
    this.pending = [];
    this.emit(line);
  }

  private emit(line: Buffer): void {
    const end = line.length > 0 && line[line.length - 1] === 13 ? line.length - 1 : line.length;
    this.onLine(line.toString("utf8", 0, end));
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
