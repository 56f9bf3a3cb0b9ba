import { createHash } from 'node:crypto';
import type { HavenDatabase } from '@haven/db';
import { sql, type SQL } from 'drizzle-orm';
import { queryRows, toDate, ts } from '../db-rows';

/**
 * Limits on failed sign-ins and enrolments, kept in the database (`auth_attempts`), so they
 * survive a restart and hold across several collectors on one database.
 *
 * The address is the client's as the configured reverse proxy saw it (HAVEN_TRUST_PROXY): one
 * person's failures never stop someone at another address. Sign-in has three limits, each
 * over the last 15 minutes:
 *
 *   (account, address)  5 failures: that address may not try that account again for a while;
 *                       a success from there clears it.
 *   address            50 failures, any accounts: that address may not sign in at all, so one
 *                       address cannot guess its way through every account.
 *   account            10 failures from anywhere: the account then refuses addresses it has
 *                       not signed in from in the last 90 days (guessing from many addresses),
 *                       while its owner, at an address they have used, still gets in.
 *
 * Enrolment counts failed enrolments (a token that is unknown, expired, revoked or used up)
 * per address: 20.
 */
export const LIMITS = {
  windowMs: 15 * 60_000,
  signIn: { accountAddress: 5, address: 50, account: 10, knownForMs: 90 * 24 * 3600_000 },
  enrolment: { address: 20 },
} as const;

export type Refusal = { retryAfterMs: number; limit: 'account-address' | 'address' | 'account' };

/** The account key: a SHA-256 of the normalised e-mail address, so what people type is not kept. */
export const accountKey = (email: string): string => createHash('sha256').update(email).digest('hex');

export class AttemptLimits {
  private lastPrune = 0;

  constructor(
    private readonly db: HavenDatabase,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** When the `n`-th most recent matching failure leaves the window, or 0 if there are fewer than `n`. */
  private async waitFor(where: SQL, n: number, now: Date): Promise<number> {
    const since = new Date(now.getTime() - LIMITS.windowMs);
    const [row] = await queryRows<{ at: unknown }>(
      this.db,
      sql`select at from auth_attempts where not succeeded and at > ${ts(since)} and ${where} order by at desc offset ${n - 1} limit 1`,
    );
    return row ? Math.max(1, toDate(row.at).getTime() + LIMITS.windowMs - now.getTime()) : 0;
  }

  /** Null when this address may try this account now; otherwise how long to wait, and why. */
  async signInRefusal(account: string, address: string): Promise<Refusal | null> {
    const now = this.now();
    const [cleared] = await queryRows<{ at: unknown }>(
      this.db,
      sql`select max(at) as at from auth_attempts where purpose = 'sign_in' and succeeded and account = ${account} and address = ${address}`,
    );
    const lastSuccess = cleared?.at ? toDate(cleared.at) : null;
    const pair = await this.waitFor(
      sql`purpose = 'sign_in' and account = ${account} and address = ${address} ${lastSuccess ? sql`and at > ${ts(lastSuccess)}` : sql``}`,
      LIMITS.signIn.accountAddress,
      now,
    );
    if (pair > 0) return { retryAfterMs: pair, limit: 'account-address' };
    const byAddress = await this.waitFor(sql`purpose = 'sign_in' and address = ${address}`, LIMITS.signIn.address, now);
    if (byAddress > 0) return { retryAfterMs: byAddress, limit: 'address' };
    const known = lastSuccess !== null && now.getTime() - lastSuccess.getTime() < LIMITS.signIn.knownForMs;
    if (!known) {
      const byAccount = await this.waitFor(sql`purpose = 'sign_in' and account = ${account}`, LIMITS.signIn.account, now);
      if (byAccount > 0) return { retryAfterMs: byAccount, limit: 'account' };
    }
    return null;
  }

  async enrolmentRefusal(address: string): Promise<Refusal | null> {
    const wait = await this.waitFor(sql`purpose = 'enrolment' and address = ${address}`, LIMITS.enrolment.address, this.now());
    return wait > 0 ? { retryAfterMs: wait, limit: 'address' } : null;
  }

  async record(purpose: 'sign_in' | 'enrolment', succeeded: boolean, address: string, account: string | null = null): Promise<void> {
    const now = this.now();
    await this.db.execute(
      sql`insert into auth_attempts (at, purpose, succeeded, account, address) values (${ts(now)}, ${purpose}, ${succeeded}, ${account}, ${address})`,
    );
    // Old rows go at most once a minute per collector: failures after the window, successes after 90 days.
    if (now.getTime() - this.lastPrune < 60_000) return;
    this.lastPrune = now.getTime();
    await this.db.execute(
      sql`delete from auth_attempts
          where (not succeeded and at < ${ts(new Date(now.getTime() - LIMITS.windowMs))})
             or (succeeded and at < ${ts(new Date(now.getTime() - LIMITS.signIn.knownForMs))})`,
    );
  }
}
