/**
 * Graph queries and edits over one scheduler's direct jobs. Requirements that point
 * outside the given set are ignored by the queries (validation reports them; `sanitize`
 * removes them). Every result keeps insertion order.
 */
import type { AbstractJob } from "./job.ts";

type Jobs = readonly AbstractJob[];

const NONE: readonly AbstractJob[] = [];

/** A job's requirements (its one storage form, read only). */
export function requirementsOf(job: AbstractJob): readonly AbstractJob[] {
  return job._req ?? NONE;
}
/**
 * True when `job` is a direct job of `group`. Membership is the job's owners, which the
 * scheduler's `add` and `remove` keep in step: no Set of every job beside the list (on
 * 100k-job graphs its inserts and memory were a fair part of building the scheduler).
 */
export function isMember(group: AbstractJob, job: AbstractJob): boolean {
  const more: readonly AbstractJob[] | undefined = job._moreOwners;
  return job._owner === group || more?.includes(group) === true;
}

/** A query about some jobs (`targets`) within a scheduler's jobs. */
type Query = { jobs: Jobs; targets: Iterable<AbstractJob> };

/** Index of each job in `jobs`. */
function indexOf(jobs: Jobs): Map<AbstractJob, number> {
  const m = new Map<AbstractJob, number>();
  jobs.forEach((j, i) => m.set(j, i));
  return m;
}

/** Successors of each job in compressed form, and how many requirements each job has. */
export interface SuccessorIndex {
  /** successors of job i are succ[off[i] .. off[i+1]), in insertion order */
  readonly off: Int32Array;
  readonly succ: Int32Array;
  /** requirements of job i inside `jobs` */
  readonly pending: Int32Array;
  /** how many requirements point outside `jobs` (validation reports them) */
  readonly outside: number;
}

/**
 * The successor index of `jobs`, typed arrays only (a run builds it on 100k-job graphs);
 * requirements outside `jobs` are ignored, recognised through the scratch `_index`.
 */
export function successorIndex({ jobs }: { jobs: Jobs }): SuccessorIndex {
  const n = jobs.length;
  for (let i = 0; i < n; i++) jobs[i]!._index = i;
  const pending = new Int32Array(n);
  const off = new Int32Array(n + 1);
  let outside = 0;
  for (let i = 0; i < n; i++) {
    const req = jobs[i]!._req;
    if (req === undefined) continue;
    for (let k = 0; k < req.length; k++) {
      const r = req[k]!;
      if (jobs[r._index] === r) {
        pending[i]!++;
        off[r._index + 1]!++;
      } else outside++;
    }
  }
  for (let i = 0; i < n; i++) off[i + 1]! += off[i]!;
  const succ = new Int32Array(off[n]!);
  const fill = off.slice(0, n);
  if (off[n]! > 0)
    for (let i = 0; i < n; i++) {
      const req = jobs[i]!._req;
      if (req === undefined) continue;
      for (let k = 0; k < req.length; k++) {
        const r = req[k]!;
        if (jobs[r._index] === r) succ[fill[r._index]!++] = i;
      }
    }
  return { off, succ, pending, outside };
}

/**
 * True when the graph of `index` has no cycle: Kahn's pass over the compressed successors,
 * two typed arrays and no job touched (`findCycle` then names a cycle, when there is one).
 */
export function isAcyclic({ off, succ, pending }: SuccessorIndex): boolean {
  const n = pending.length;
  const left = pending.slice();
  const queue = new Int32Array(n);
  let tail = 0;
  for (let i = 0; i < n; i++) if (left[i] === 0) queue[tail++] = i;
  for (let head = 0; head < tail; head++) {
    const v = queue[head]!;
    for (let k = off[v]!, e = off[v + 1]!; k < e; k++) {
      const w = succ[k]!;
      if (--left[w]! === 0) queue[tail++] = w;
    }
  }
  return tail === n;
}

/** Successor lists by index (only edges inside `jobs`), each in insertion order. */
export function successorLists(jobs: Jobs): number[][] {
  const idx = indexOf(jobs);
  const succ: number[][] = jobs.map(() => []);
  jobs.forEach((j, i) => {
    for (const r of requirementsOf(j)) {
      const k = idx.get(r);
      if (k !== undefined) succ[k]!.push(i);
    }
  });
  return succ;
}

/**
 * A cycle as a list of jobs with the first repeated at the end, or undefined.
 * Iterative, so a 100k-job chain does not overflow the stack.
 */
export function findCycle({ jobs }: { jobs: Jobs }): AbstractJob[] | undefined {
  const n = jobs.length;
  // positions through the jobs' scratch `_index` (no Map: this runs on 100k-job graphs);
  // a requirement outside the set is recognised by jobs[r._index] !== r
  for (let v = 0; v < n; v++) jobs[v]!._index = v;
  // requirement lists in compressed form: req[off[v] .. off[v+1])
  const off = new Int32Array(n + 1);
  for (let v = 0; v < n; v++) off[v + 1] = off[v]! + jobs[v]!._reqCount();
  const req = new Int32Array(off[n]!).fill(-1);
  for (let v = 0; v < n; v++) {
    const rs = jobs[v]!._req;
    if (rs === undefined) continue;
    let k = off[v]!;
    for (const r of rs) req[k++] = jobs[r._index] === r ? r._index : -1;
  }
  const color = new Uint8Array(n); // 0 new, 1 on stack, 2 finished
  const parent = new Int32Array(n).fill(-1);
  const cursor = off.slice(0, n);
  const stack = new Int32Array(n);
  for (let root = 0; root < n; root++) {
    if (color[root] !== 0) continue;
    let top = 0;
    stack[0] = root;
    color[root] = 1;
    while (top >= 0) {
      const v = stack[top]!;
      if (cursor[v]! < off[v + 1]!) {
        const w = req[cursor[v]!++]!;
        if (w < 0) continue; // outside the set: validation reports it elsewhere
        if (color[w] === 0) {
          color[w] = 1;
          parent[w] = v;
          stack[++top] = w;
        } else if (color[w] === 1) {
          // v requires w and w is below v on the stack: each job is required by the next
          const path: number[] = [w];
          for (let x = v; x !== w; x = parent[x]!) path.push(x);
          path.push(w);
          return path.map((i) => jobs[i]!);
        }
      } else {
        color[v] = 2;
        top--;
      }
    }
  }
  return undefined;
}

/**
 * Topological order, stable: among jobs ready at the same time, insertion order first.
 * Jobs caught in a cycle are appended at the end in insertion order.
 */
export function topologicalOrder({ jobs }: { jobs: Jobs }): AbstractJob[] {
  const idx = indexOf(jobs);
  const pending = new Int32Array(jobs.length);
  jobs.forEach((j, i) => {
    for (const r of requirementsOf(j)) if (idx.has(r)) pending[i]!++;
  });
  const succ = successorLists(jobs);
  const heap = new MinHeap();
  for (let i = 0; i < jobs.length; i++) if (pending[i] === 0) heap.push(i);
  const out: AbstractJob[] = [];
  const seen = new Uint8Array(jobs.length);
  while (heap.size > 0) {
    const i = heap.pop();
    seen[i] = 1;
    out.push(jobs[i]!);
    for (const s of succ[i]!) if (--pending[s]! === 0) heap.push(s);
  }
  if (out.length < jobs.length)
    for (let i = 0; i < jobs.length; i++) if (!seen[i]) out.push(jobs[i]!);
  return out;
}

/** Requirements pointing outside `jobs`, as [job, outside requirement] pairs. */
export function outsideRequirements({ jobs }: { jobs: Jobs }): [AbstractJob, AbstractJob][] {
  const set = new Set(jobs);
  const out: [AbstractJob, AbstractJob][] = [];
  for (const j of jobs) for (const r of requirementsOf(j)) if (!set.has(r)) out.push([j, r]);
  return out;
}

/** Jobs of `jobs` with no requirement inside `jobs`. */
export function entryJobs({ jobs }: { jobs: Jobs }): AbstractJob[] {
  const set = new Set(jobs);
  return jobs.filter((j) => ![...requirementsOf(j)].some((r) => set.has(r)));
}

/** Jobs of `jobs` nothing requires (forever jobs excluded unless `forever`). */
export function exitJobs({
  jobs,
  forever = false,
}: {
  jobs: Jobs;
  forever?: boolean;
}): AbstractJob[] {
  const required = new Set<AbstractJob>();
  for (const j of jobs) for (const r of requirementsOf(j)) required.add(r);
  return jobs.filter((j) => !required.has(j) && (forever || !j.forever));
}

/** Direct requirements of `targets` that are in `jobs`. */
export function predecessors({ jobs, targets }: Query): AbstractJob[] {
  const t = new Set(targets);
  const set = new Set(jobs);
  const found = new Set<AbstractJob>();
  for (const j of t) for (const r of requirementsOf(j)) if (set.has(r)) found.add(r);
  return jobs.filter((j) => found.has(j));
}

/** Jobs in `jobs` that directly require one of `targets`. */
export function successors({ jobs, targets }: Query): AbstractJob[] {
  const t = new Set(targets);
  return jobs.filter((j) => [...requirementsOf(j)].some((r) => t.has(r)));
}

/** Transitive requirements of `targets` (excluding the targets themselves). */
export function upstream({ jobs, targets }: Query): AbstractJob[] {
  const set = new Set(jobs);
  const start = new Set(targets);
  const seen = new Set<AbstractJob>();
  const todo = [...start];
  while (todo.length > 0) {
    const j = todo.pop()!;
    for (const r of requirementsOf(j))
      if (set.has(r) && !seen.has(r)) {
        seen.add(r);
        todo.push(r);
      }
  }
  return jobs.filter((j) => seen.has(j) && !start.has(j));
}

/** Transitive dependents of `targets` (excluding the targets themselves). */
export function downstream({ jobs, targets }: Query): AbstractJob[] {
  const succ = successorLists(jobs);
  const idx = indexOf(jobs);
  const start = new Set(targets);
  const seen = new Uint8Array(jobs.length);
  const todo: number[] = [];
  for (const t of start) {
    const i = idx.get(t);
    if (i !== undefined) todo.push(i);
  }
  while (todo.length > 0) {
    const i = todo.pop()!;
    for (const s of succ[i]!)
      if (!seen[s]) {
        seen[s] = 1;
        todo.push(s);
      }
  }
  return jobs.filter((j, i) => seen[i] && !start.has(j));
}

/**
 * Each job of `jobs` that requires `job` requires `job`'s requirements instead (the edit
 * behind `bypassAndRemove`; `job` itself keeps its requirements).
 */
export function bypass({ jobs, job }: { jobs: Jobs; job: AbstractJob }): void {
  for (const s of successors({ jobs, targets: [job] })) {
    s._reqDelete(job);
    for (const r of requirementsOf(job)) if (r !== s) s._reqAdd(r);
  }
}

/**
 * The jobs of `jobs` downstream of `starts` and upstream of `ends` (every job for a side
 * not given), plus the starts and ends themselves unless `keepStarts` / `keepEnds` is
 * false; starts and ends outside `jobs` are ignored. In insertion order.
 */
export function between({
  jobs,
  starts: startsIn,
  ends: endsIn,
  keepStarts,
  keepEnds,
}: {
  jobs: Jobs;
  starts?: Iterable<AbstractJob> | undefined;
  ends?: Iterable<AbstractJob> | undefined;
  keepStarts?: boolean | undefined;
  keepEnds?: boolean | undefined;
}): AbstractJob[] {
  const set = new Set(jobs);
  const starts = startsIn ? [...startsIn].filter((j) => set.has(j)) : undefined;
  const ends = endsIn ? [...endsIn].filter((j) => set.has(j)) : undefined;
  const down = new Set(starts ? downstream({ jobs, targets: starts }) : jobs);
  const up = new Set(ends ? upstream({ jobs, targets: ends }) : jobs);
  const keep = new Set(jobs.filter((j) => down.has(j) && up.has(j)));
  if (starts && keepStarts !== false) for (const j of starts) keep.add(j);
  if (ends && keepEnds !== false) for (const j of ends) keep.add(j);
  return jobs.filter((j) => keep.has(j));
}

/** @internal binary min-heap of job indexes (insertion order among ready jobs) */
export class MinHeap {
  private a: number[] = [];
  get size(): number {
    return this.a.length;
  }
  push(x: number): void {
    const a = this.a;
    let i = a.length;
    a.push(x);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p]! <= x) break;
      a[i] = a[p]!;
      i = p;
    }
    a[i] = x;
  }
  pop(): number {
    const a = this.a;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length > 0) {
      let i = 0;
      const n = a.length;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && a[r]! < a[l]! ? r : l;
        if (a[c]! >= last) break;
        a[i] = a[c]!;
        i = c;
      }
      a[i] = last;
    }
    return top;
  }
  clear(): void {
    this.a.length = 0;
  }
}
