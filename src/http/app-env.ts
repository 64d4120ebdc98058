import type { AuditRecord } from '../moderation/audit-record.js';

/** Per-request values shared by middleware and handlers. */
export type AppEnv = {
  Variables: {
    requestId: string;
    /** performance.now() when the request arrived. */
    startedAt: number;
    /** Present on /analyse/* requests: what will become the moderation_log row. */
    audit: AuditRecord;
    /** Set by a handler that writes its own rows (one per batch item) instead of this request's one. */
    auditWrittenByHandler: boolean;
    /** The name of the API key the request came with. */
    client: string;
  };
};
