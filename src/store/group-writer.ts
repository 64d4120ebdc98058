/**
 * Group commit for the audit log. Every request writes one moderation_log row before it answers; one
 * transaction per row made that write the largest single cost of a cache hit (a commit each, an fsync
 * each on InnoDB's default settings). Rows submitted while a write is in flight, or within the same
 * event-loop turn, are written together in one statement and one transaction.
 *
 * Nothing is dropped or answered early: each caller's promise settles when its own row is committed,
 * or rejects with the error. A batch the database refused is retried row by row, so one bad row cannot
 * take the others down with it; a batch that failed because the database is unavailable is not (every
 * row would wait for the same outage again, and better-sqlite3 would block the process meanwhile).
 */
export class GroupWriter<Row> {
  private queue: { row: Row; resolve: () => void; reject: (error: unknown) => void }[] = [];
  private flushing = false;

  constructor(
    private readonly writeRows: (rows: Row[]) => Promise<void>,
    /** True when the error says the database is away rather than that a row was refused. */
    private readonly isUnavailable: (error: unknown) => boolean,
    private readonly maxRows = 100,
  ) {}

  write(row: Row): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ row, resolve, reject });
      if (!this.flushing) {
        this.flushing = true;
        // The rest of this event-loop turn may bring more rows: collect them first.
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxRows);
      try {
        await this.writeRows(batch.map((entry) => entry.row));
        for (const entry of batch) entry.resolve();
      } catch (error) {
        if (batch.length === 1 || this.isUnavailable(error)) for (const entry of batch) entry.reject(error);
        else await this.writeOneByOne(batch);
      }
    }
    this.flushing = false;
  }

  private async writeOneByOne(batch: typeof this.queue): Promise<void> {
    for (const entry of batch) {
      try {
        await this.writeRows([entry.row]);
        entry.resolve();
      } catch (error) {
        entry.reject(error);
      }
    }
  }
}
