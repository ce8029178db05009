/**
 * Runs tasks so that tasks with the same key run one at a time, in the order they were added, and at
 * most `concurrency` keys run at once. This is how messages of one conversation reach the agent in
 * order while different conversations run in parallel.
 */
export class KeyedQueue {
  readonly #concurrency: number;
  readonly #queues = new Map<string, (() => Promise<void>)[]>();
  readonly #ready: string[] = [];
  #running = 0;
  #idleWaiters: (() => void)[] = [];

  constructor(concurrency: number) {
    if (!(concurrency >= 1)) throw new RangeError("concurrency must be >= 1");
    this.#concurrency = concurrency;
  }

  /** Adds a task; the returned promise settles with the task's own result. */
  push<T>(key: string, task: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const wrapped = () => task().then(resolve, reject);
      const queue = this.#queues.get(key);
      if (queue) {
        queue.push(wrapped);
      } else {
        this.#queues.set(key, [wrapped]);
        this.#ready.push(key);
        this.#pump();
      }
    });
  }

  /** Tasks waiting or running. */
  get size(): number {
    let n = 0;
    for (const q of this.#queues.values()) n += q.length;
    return n;
  }

  /** Resolves when nothing is queued or running. */
  onIdle(): Promise<void> {
    if (this.#queues.size === 0) return Promise.resolve();
    return new Promise((r) => this.#idleWaiters.push(r));
  }

  #pump(): void {
    while (this.#running < this.#concurrency && this.#ready.length > 0) {
      const key = this.#ready.shift()!;
      this.#running++;
      void this.#drain(key);
    }
  }

  async #drain(key: string): Promise<void> {
    const queue = this.#queues.get(key)!;
    while (queue.length > 0) {
      const task = queue[0]!;
      await task();
      queue.shift();
    }
    this.#queues.delete(key);
    this.#running--;
    if (this.#queues.size === 0) for (const w of this.#idleWaiters.splice(0)) w();
    this.#pump();
  }
}
