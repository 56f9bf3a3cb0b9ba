import type { FastifyInstance } from 'fastify';

/** The school's directory: import from the MIS (filled in by directory/import.ts). */
export async function directoryRoutes(_app: FastifyInstance): Promise<void> {}
