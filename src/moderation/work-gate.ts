import { AppError } from '../errors.js';

/**
 * A cap on analyses running at once (downloads, decoders, ffmpeg, model inference all use memory
 * and CPU). Up to `maxRunning` run; up to `maxWaiting` more wait in arrival order; anything beyond
 * is refused at once with 503 and Retry-After, so a flood queues or is turned away instead of
 * exhausting the machine. Only new work takes a slot: a request that joins work already in flight
 * (the same URL, the same bytes) costs nothing and never waits here.
 */
export class WorkGate {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly maxRunning: number,
    private readonly maxWaiting: number,
  ) {}

  get load(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.waiting.length };
  }

  /** Resolves with a release function once a slot is free; false when the queue is full. */
  async enter(): Promise<(() => void) | false> {
    if (this.running >= this.maxRunning) {
      if (this.waiting.length >= this.maxWaiting) return false;
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      // The slot passes straight to the next waiter; otherwise it is freed.
      if (next) next();
      else this.running--;
    };
  }
}

/** Runs `work` in a slot of the gate, or refuses with 503 when the gate's queue is full. */
export async function inSlot<T>(gate: WorkGate, work: () => Promise<T>): Promise<T> {
  const release = await gate.enter();
  if (!release) throw new AppError('overloaded', 'The service is at capacity; retry in a few seconds.', { retryAfterSeconds: 5 });
  try {
    return await work();
  } finally {
    release();
  }
}
