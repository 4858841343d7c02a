/**
 * `aiorch/queue`: scale-out through BullMQ on Redis. `distributeRun` hands a scheduler's
 * command and module jobs to workers started with `startWorker` (or `aiorch worker`); see
 * docs/scale.md.
 */
export {
  type DistributeOptions,
  type Distribution,
  distributeRun,
  type KindCount,
} from "./controller.ts";
export { type RedisTarget, parseRedisUrl } from "./redis.ts";
export { type WorkerHandle, type WorkerOptions, startWorker } from "./worker.ts";
