import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { staff, staffSessions, type Database } from '@haven/db';
import { openTestDatabase } from '@haven/db/testing';
import { eq } from 'drizzle-orm';
import { createSchool } from '../src/enrollment/repository';
import { addStaff } from './support/staff';

const cliJs = path.resolve(__dirname, '..', 'dist', 'cli.js');
/** The CLI is a process of its own, so it needs a database both can reach: a PostgreSQL server. */
const describeWithPostgres = process.env.DATABASE_URL?.startsWith('postgres') ? describe : describe.skip;

describeWithPostgres('the staff CLI on a PostgreSQL server', () => {
  let database: Database;
  let url: string;
  let dispose: () => Promise<void>;
  beforeAll(async () => {
    if (!existsSync(cliJs)) throw new Error(`${cliJs} is missing: run \`npm run build\` first (npm test does)`);
    ({ database, url, dispose } = await openTestDatabase('postgres'));
  });
  afterAll(() => dispose?.());

  const cli = (...args: string[]) => spawnSync(process.execPath, [cliJs, ...args], { env: { ...process.env, DATABASE_URL: url }, encoding: 'utf8' });

  it('reset-two-factor turns two-factor sign-in off, forgets the secret and ends the sessions (a lost authenticator or key)', async () => {
    const school = await createSchool(database.db, 'CLI Academy');
    const member = await addStaff(database.db, school.id, ['dsl']);
    await database.db.update(staff).set({ totpEnabled: true, totpSecret: 'v1:sealed-with-a-lost-key', totpLastStep: 123 }).where(eq(staff.id, member.id));
    await database.db.insert(staffSessions).values({ id: 'x'.repeat(64), staffId: member.id, expiresAt: new Date(Date.now() + 3600_000) });
    expect(cli('staff', 'list').stdout).toMatch(new RegExp(`${member.email}.*2FA`));

    const r = cli('staff', 'reset-two-factor', member.email.toUpperCase());
    expect({ status: r.status, out: r.stdout }).toEqual({ status: 0, out: expect.stringMatching(/Two-factor sign-in is off for/) });
    const [row] = await database.db.select().from(staff).where(eq(staff.id, member.id));
    expect({ enabled: row!.totpEnabled, secret: row!.totpSecret, step: row!.totpLastStep }).toEqual({ enabled: false, secret: null, step: null });
    expect(await database.db.select().from(staffSessions).where(eq(staffSessions.staffId, member.id))).toEqual([]);
    expect(cli('staff', 'list').stdout).not.toMatch(/2FA/);
    expect(cli('staff', 'reset-two-factor', 'nobody@school.example').status).toBe(1);
  });
});
