/** Suites that need a real collector on PostgreSQL run when DATABASE_URL points at one (CI sets it). */
export const describeWithPostgres = process.env.DATABASE_URL?.startsWith('postgres') ? describe : describe.skip;
