import { AiorchError } from "./errors.ts";
import {
  AbstractJob,
  describeValue,
  isSequence,
  type Requirement,
  type SequenceLike,
} from "./job.ts";

/** What a sequence accepts: jobs, other sequences (spliced in), iterables of them. */
export type SequenceItem =
  | AbstractJob
  | SequenceLike
  | Iterable<SequenceItem | null | undefined>
  | null
  | undefined;

/**
 * Jobs that run one after the other: each requires the previous. Not a job itself; a
 * scheduler given a sequence adds all its jobs, and `requires(seq)` means its last job.
 *
 * @example
 * ```ts
 * const seq = new Sequence(fetch, build, test);   // build requires fetch, test requires build
 * seq.append(deploy, notify);                     // deploy requires test, notify requires deploy
 * seq.requires(setup);                            // fetch requires setup
 * new Scheduler([setup, seq]);
 * ```
 */
export class Sequence implements SequenceLike {
  readonly isSequence = true as const;
  private readonly list: AbstractJob[] = [];

  constructor(...items: SequenceItem[]) {
    this.append(...items);
  }

  /** Jobs in order. */
  get jobs(): readonly AbstractJob[] {
    return this.list;
  }
  get first(): AbstractJob | undefined {
    return this.list[0];
  }
  get last(): AbstractJob | undefined {
    return this.list[this.list.length - 1];
  }

  /** Chain jobs after the current tail: x after the tail, y after x… */
  append(...items: SequenceItem[]): this {
    for (const job of flattenSequenceItems(items)) {
      const tail = this.last;
      if (tail && tail !== job) job.requires(tail);
      this.list.push(job);
    }
    return this;
  }

  /** Requirements of the sequence are requirements of its first job. */
  requires(...reqs: Requirement[]): this {
    const first = this.first;
    if (!first)
      throw new AiorchError("INVALID_ARGUMENT", "requires() on an empty Sequence: add a job first");
    first.requires(...reqs);
    return this;
  }
}

function flattenSequenceItems(items: Iterable<SequenceItem>): AbstractJob[] {
  const out: AbstractJob[] = [];
  const walk = (x: SequenceItem): void => {
    if (x === null || x === undefined) return;
    if (x instanceof AbstractJob) out.push(x);
    else if (isSequence(x)) out.push(...x.jobs);
    else if (typeof x === "object" && Symbol.iterator in x) for (const y of x) walk(y);
    else
      throw new AiorchError(
        "INVALID_ARGUMENT",
        `Sequence accepts jobs and sequences, got ${describeValue(x)}`,
      );
  };
  for (const x of items) walk(x);
  return out;
}
