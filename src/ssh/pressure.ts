/**
 * Backpressure from output sinks to the commands producing output: a sink whose stream is
 * behind (an `-o` file waiting for the disk, a `-r` stdout piped to a slow reader) says so
 * with {@link holdUntilDrained}; channels pause reading (so the SSH window closes and the
 * remote command blocks) until every such stream has drained. Without it, output arriving
 * faster than it can be written piles up in memory. One process-wide set: the sinks of a
 * process share the disk and the terminal.
 */

/** A stream that can be behind: a Writable (fs.WriteStream, process.stdout). */
interface Drainable {
  once(event: "drain" | "close" | "error", listener: () => void): unknown;
  removeListener(event: "drain" | "close" | "error", listener: () => void): unknown;
}

const behind = new Set<Drainable>();
let drained: Promise<void> | undefined;
let release: (() => void) | undefined;

/**
 * Mark `stream` as behind (its `write()` returned false) until it drains, closes or fails;
 * producers pause meanwhile.
 */
export function holdUntilDrained(stream: Drainable): void {
  if (behind.has(stream)) return;
  behind.add(stream);
  drained ??= new Promise<void>((resolve) => {
    release = resolve;
  });
  const done = (): void => {
    stream.removeListener("drain", done);
    stream.removeListener("close", done);
    stream.removeListener("error", done);
    behind.delete(stream);
    if (behind.size === 0) {
      const r = release;
      drained = undefined;
      release = undefined;
      r?.();
    }
  };
  stream.once("drain", done);
  stream.once("close", done);
  stream.once("error", done);
}

/** Resolves once no sink is behind; undefined when none is (the common case: no wait). */
export function whenDrained(): Promise<void> | undefined {
  return drained;
}

/** Pause `source` after a chunk while a sink is behind, resume it once all have drained. */
export function pauseWhileBehind(source: { pause(): unknown; resume(): unknown }): void {
  const wait = drained;
  if (!wait) return;
  source.pause();
  void wait.then(() => source.resume());
}
