/** Suites that need a real collector on PostgreSQL run when DATABASE_URL points at one (CI sets it). */
export const describeWithPostgres = process.env.DATABASE_URL?.startsWith('postgres') ? describe : describe.skip;

/** Plain SQL on a test database, for suites that check what a real collector stored. */
export async function sqlClient<R = Record<string, any>>(url: string): Promise<{ sql: (query: string) => Promise<R[]>; end: () => Promise<void> }> {
  const { default: postgres } = await import('postgres');
  const client = postgres(url, { max: 1, onnotice: () => undefined });
  return { sql: async (q) => (await client.unsafe(q)) as unknown as R[], end: () => client.end() };
}
