/**
 * The journal of an `aiorch run --redis` (see src/journal/): the same lines as a journal
 * file, kept in a Redis list beside the run's state, so `--resume RUN_ID` follows the
 * journal's rules on any machine the controller restarts on: done jobs are restored (the
 * controller's own jobs too), changed ones and everything downstream of them run again.
 */
import type { Redis } from "ioredis";
import type { Journal, JournalSink } from "../journal/index.ts";
import { parseJournal } from "../journal/reader.ts";
import { PREFIX } from "./wire.ts";

/** The Redis key of a run's journal. */
export function journalKey(runId: string): string {
  return `${PREFIX}:run:${runId}:journal`;
}

/**
 * A journal sink writing to Redis: the list is replaced at each run start, each line
 * appended in order on the one connection (ioredis keeps the order of commands); a write
 * that fails is reported once through `onError` and the journal stops.
 */
export function redisJournalSink(o: {
  client: Redis;
  runId: string;
  /** seconds the list is kept after its last write */
  keepSeconds: number;
  onError: (err: Error) => void;
}): JournalSink & { flush(): Promise<void> } {
  const key = journalKey(o.runId);
  let failed = false;
  let last: Promise<unknown> = Promise.resolve();
  const report = (err: unknown) => {
    if (failed) return;
    failed = true;
    o.onError(err instanceof Error ? err : new Error(String(err)));
  };
  return {
    name: `the journal of run ${o.runId} in Redis`,
    start() {
      failed = false;
      last = o.client.del(key).catch(report);
    },
    append(line) {
      if (failed) return;
      last = o.client.multi().rpush(key, line).expire(key, o.keepSeconds).exec().catch(report);
    },
    close() {},
    /** resolves once every line given so far is in Redis (or failed) */
    async flush() {
      await last;
    },
  };
}

/** The journal of run `runId` as written by {@link redisJournalSink}; undefined when none. */
export async function readRedisJournal(o: {
  client: Redis;
  runId: string;
}): Promise<Journal | undefined> {
  const lines = await o.client.lrange(journalKey(o.runId), 0, -1);
  if (lines.length === 0) return undefined;
  return parseJournal({ text: `${lines.join("\n")}\n`, file: `run ${o.runId} in Redis` });
}
