import { createHash } from 'node:crypto';

/** Hex SHA-256 of the exact bytes: the identity used for exact duplicates. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
