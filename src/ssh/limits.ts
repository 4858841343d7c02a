/** Counting semaphore with a FIFO queue and abortable waits (no polling: waiters are woken). */
export class Semaphore {
  private capacity: number;
  private used = 0;
  private readonly waiters: Array<() => void> = [];

  constructor(capacity: number) {
    this.capacity = Math.max(1, capacity);
  }

  get inUse(): number {
    return this.used;
  }

  get limit(): number {
    return this.capacity;
  }

  /** Change the capacity (never below 1); wakes waiters when it grows. */
  setLimit(capacity: number): void {
    this.capacity = Math.max(1, capacity);
    this.wake();
  }

  /** A slot now if one is free and nobody waits (no promise, no tick), else undefined. */
  tryAcquire(): (() => void) | undefined {
    if (this.used >= this.capacity || this.waiters.length > 0) return undefined;
    this.used++;
    return this.releaser();
  }

  /** Wait for a slot; the returned function releases it (idempotent). */
  acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    const now = this.tryAcquire();
    if (now) return Promise.resolve(now);
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        const i = this.waiters.indexOf(grant);
        if (i !== -1) this.waiters.splice(i, 1);
        reject(abortReason(signal as AbortSignal));
      };
      const grant = () => {
        signal?.removeEventListener("abort", onAbort);
        this.used++;
        resolve(this.releaser());
      };
      this.waiters.push(grant);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  private releaser(): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.used--;
      this.wake();
    };
  }

  private wake(): void {
    while (this.used < this.capacity && this.waiters.length > 0) this.waiters.shift()?.();
  }
}

/** The abort reason as an Error. */
export function abortReason(signal: AbortSignal): Error {
  const r: unknown = signal.reason;
  return r instanceof Error ? r : new Error(String(r ?? "aborted"));
}

/** Settings shared by every SSH connection of the process. */
export interface SshSettings {
  /**
   * Simultaneous SSH handshakes (TCP connect + key exchange + authentication), process-wide.
   * OpenSSH's `MaxStartups` starts dropping unauthenticated connections above 10 per server.
   * @default 64
   */
  maxHandshakes?: number;
}

/** @internal process-wide handshake limiter */
export const handshakes = new Semaphore(64);

/**
 * Tune process-wide SSH settings.
 * @example configureSsh({ maxHandshakes: 16 })
 */
export function configureSsh(settings: SshSettings): void {
  if (settings.maxHandshakes !== undefined) handshakes.setLimit(settings.maxHandshakes);
}
