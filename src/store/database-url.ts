/** The file of a `sqlite:PATH` DATABASE_URL (`sqlite:///abs/path` and `sqlite:/abs/path` alike), else null. */
export function sqliteFilePath(databaseUrl: string): string | null {
  if (!databaseUrl.startsWith('sqlite:')) return null;
  return databaseUrl.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '') || './data/moderation.sqlite';
}
