import { createHmac } from 'node:crypto';
import type { HavenDatabase } from '@haven/db';
import { sql } from 'drizzle-orm';
import type { FastifyBaseLogger } from 'fastify';
import nodemailer, { type Transporter } from 'nodemailer';
import { queryRows, toDate, ts } from '../db-rows';
import { history } from '../triage/grouping';
import { CATEGORY_LABELS, SEVERITY_WORDS, ukTime } from '../triage/workflow';

export type AlertConfig = {
  /** smtp://… or smtps://…; without it no mail is sent (and the start-up log says so). */
  smtpUrl?: string;
  mailFrom: string;
  /** POSTed a JSON summary (no names, no captured text) for each urgent alert. */
  webhookUrl?: string;
  /** Signs webhook bodies: `x-haven-signature: sha256=<hex HMAC>`. */
  webhookSecret?: string;
  /** An unacknowledged urgent alert goes to the deputy DSL after this long (default 15 min). */
  escalateAfterMs: number;
  /** Links in messages point here (the dashboard's address). */
  publicUrl: string;
};

type Incident = { id: string; school_id: string; school_name: string; routed_to: 'dsl' | 'head'; category: string; severity: number; first_seen_at: unknown };

/**
 * What happened to one channel of an urgent alert, as the incident history records it:
 * not configured (nothing was sent), no recipient, sent, or failed (retried by the sweep every
 * minute until it goes through or the incident is acknowledged).
 */
export type ChannelOutcome = 'not_configured' | 'no_recipient' | 'sent' | 'failed';
export type AlertChannel = 'email' | 'webhook';
/** The `to` of an `alert` history entry; one entry per channel each time its outcome changes. */
export type AlertRecord = { kind: 'alert' | 'escalation'; channel: AlertChannel; outcome: ChannelOutcome; retrying: boolean; recipients: number };

/** Whether urgent alerts currently reach anyone outside the dashboard (GET /api/incidents, `alertDelivery`). */
export type AlertDeliveryHealth = {
  working: boolean;
  reason: 'ok' | 'not_configured' | 'failing';
  channels: Array<{ channel: AlertChannel; configured: boolean; lastAttempt: { at: string; ok: boolean } | null }>;
  message: string | null;
};

/** How long a claimed alert may take to be delivered before the sweep takes it over. */
const CLAIM_GRACE_MS = 5 * 60_000;

const categoryLabel = (c: string) => CATEGORY_LABELS[c as keyof typeof CATEGORY_LABELS] ?? c;
const when = ukTime;

/**
 * Urgent alerts, escalation to the deputy and the weekly digest.
 *
 *   incident reaches severity ≥ 4 ─► e-mail to the DSL (the head for staff) + webhook
 *        │ not acknowledged within escalateAfterMs
 *        ▼
 *   e-mail to the deputy DSL (the head when the school has none) + webhook
 *
 * Messages never carry names or captured text: only the category, severity, school, time and
 * a link that needs a sign-in. Each delivery is recorded per channel and recipient, so a retry
 * after a failure never repeats one that went through.
 */
export class Alerter {
  private readonly transport: Transporter | null;

  constructor(
    private readonly db: HavenDatabase,
    private readonly log: FastifyBaseLogger,
    private readonly config: AlertConfig,
  ) {
    this.transport = config.smtpUrl ? nodemailer.createTransport(config.smtpUrl) : null;
  }

  get mailEnabled(): boolean {
    return this.transport !== null;
  }

  /** After grouping commits: sends the first alert of each urgent person incident. */
  async incidentsChanged(changes: Array<{ incidentId: string; severity: number; kind: 'person' | 'cluster' }>): Promise<void> {
    for (const change of changes) {
      if (change.kind !== 'person' || change.severity < 4) continue;
      const [claimed] = await queryRows<Incident>(
        this.db,
        sql`update incidents i set alerted_at = now() from schools s
            where i.id = ${change.incidentId} and s.id = i.school_id and i.alerted_at is null and i.severity >= 4 and i.kind = 'person'
              and i.merged_into_id is null
            returning i.id, i.school_id, s.name as school_name, i.routed_to, i.category, i.severity, i.first_seen_at`,
      );
      if (!claimed) continue;
      await this.deliver(claimed, 'alert');
    }
  }

  /**
   * Run every minute: escalates unacknowledged urgent alerts, retries failed deliveries, and
   * sends the weekly digest once it is due (Monday from 07:00 UK time).
   */
  async sweep(now = new Date()): Promise<void> {
    await this.resumeInterrupted(now);
    const due = await queryRows<Incident>(
      this.db,
      sql`update incidents i set escalated_at = ${ts(now)} from schools s
          where s.id = i.school_id and i.alerted_at is not null and i.alerted_at <= ${ts(new Date(now.getTime() - this.config.escalateAfterMs))}
            and i.acknowledged_at is null and i.escalated_at is null and i.status = 'new' and i.merged_into_id is null
          returning i.id, i.school_id, s.name as school_name, i.routed_to, i.category, i.severity, i.first_seen_at`,
    );
    for (const incident of due) {
      await history(this.db, incident.id, 'escalation', null, 'unacknowledged');
      await this.deliver(incident, 'escalation');
    }
    const retry = await queryRows<Incident & { kind: 'alert' | 'escalation' }>(
      this.db,
      sql`select distinct i.id, i.school_id, s.name as school_name, i.routed_to, i.category, i.severity, i.first_seen_at, d.kind
          from alert_deliveries d join incidents i on i.id = d.incident_id join schools s on s.id = i.school_id
          where d.ok = 0 and d.at > ${ts(new Date(now.getTime() - 24 * 3600_000))} and i.acknowledged_at is null
            and not exists (select 1 from alert_deliveries k where k.incident_id = d.incident_id and k.kind = d.kind
                            and k.channel = d.channel and k.recipient = d.recipient and k.ok = 1)`,
    );
    for (const incident of retry) await this.deliver(incident, incident.kind);
    if (digestDue(now)) await this.sendDigests(now);
  }

  /**
   * Sends the first alert of urgent incidents that a database outage cut short: grouping
   * committed but the alert was never claimed, or it was claimed but its delivery never
   * finished (no outcome in the history). Nothing else would ever send them. A claim younger
   * than CLAIM_GRACE_MS is left alone: its delivery may still be running.
   */
  private async resumeInterrupted(now: Date): Promise<void> {
    const interrupted = await queryRows<Incident & { claimed: boolean }>(
      this.db,
      sql`select i.id, i.school_id, s.name as school_name, i.routed_to, i.category, i.severity, i.first_seen_at,
                 i.alerted_at is not null as claimed
          from incidents i join schools s on s.id = i.school_id
          where i.kind = 'person' and i.severity >= 4 and i.merged_into_id is null and i.status = 'new'
            and i.acknowledged_at is null and i.last_seen_at > ${ts(new Date(now.getTime() - 24 * 3600_000))}
            and (i.alerted_at is null
                 or (i.alerted_at <= ${ts(new Date(now.getTime() - CLAIM_GRACE_MS))}
                     and not exists (select 1 from incident_history h
                                     where h.incident_id = i.id and h.field = 'alert' and h.to_value->>'kind' = 'alert')))`,
    );
    for (const incident of interrupted) {
      if (incident.claimed) await this.deliver(incident, 'alert');
      else await this.incidentsChanged([{ incidentId: incident.id, severity: Number(incident.severity), kind: 'person' }]);
    }
  }

  /** The weekly digest of low-severity (1–2) items, once per school and week. */
  async sendDigests(now = new Date()): Promise<number> {
    const weekStart = mondayOf(now);
    const schools = await queryRows<{ id: string; name: string }>(
      this.db,
      sql`select s.id, s.name from schools s
          where not exists (select 1 from digest_runs r where r.school_id = s.id and r.week_start = ${weekStart}::date)`,
    );
    let sent = 0;
    for (const school of schools) {
      const items = await queryRows<{ id: string; category: string; severity: number; event_count: number; first_seen_at: unknown; status: string }>(
        this.db,
        sql`select id, category, severity, event_count, first_seen_at, status from incidents
            where school_id = ${school.id} and routed_to = 'dsl' and merged_into_id is null and severity between 1 and 2
              and first_seen_at >= ${ts(new Date(now.getTime() - 7 * 24 * 3600_000))} and first_seen_at < ${ts(now)}
            order by first_seen_at asc`,
      );
      const recipients = await this.recipients(school.id, ['dsl']);
      const lines = items.map(
        (i) => `- ${when(toDate(i.first_seen_at))}: ${categoryLabel(i.category)}, severity ${i.severity} (${SEVERITY_WORDS[i.severity]}), ${i.event_count} event(s), ${i.status.replace('_', ' ')} — ${this.link(i.id)}`,
      );
      const text = [
        `Haven weekly digest for ${school.name}: ${items.length} low-level concern${items.length === 1 ? '' : 's'} in the seven days to ${when(now)}.`,
        '',
        ...(lines.length > 0 ? lines : ['Nothing at severity 1 or 2 this week.']),
        '',
        'Names and captured text are shown only in Haven, after you sign in.',
      ].join('\n');
      for (const to of recipients) await this.mail(school.id, null, 'digest', to, `Haven weekly digest: ${items.length} low-level concern${items.length === 1 ? '' : 's'} at ${school.name}`, text);
      await this.db.execute(
        sql`insert into digest_runs (school_id, week_start, item_count) values (${school.id}, ${weekStart}::date, ${items.length}) on conflict do nothing`,
      );
      sent++;
    }
    return sent;
  }

  private async deliver(incident: Incident, kind: 'alert' | 'escalation'): Promise<void> {
    const roles: string[][] = incident.routed_to === 'head' ? [['head']] : kind === 'alert' ? [['dsl'], ['deputy_dsl'], ['head']] : [['deputy_dsl'], ['head']];
    let recipients: string[] = [];
    for (const r of roles) {
      recipients = await this.recipients(incident.school_id, r);
      if (recipients.length > 0) break;
    }
    const severity = Number(incident.severity);
    const label = categoryLabel(incident.category);
    const first = toDate(incident.first_seen_at);
    const subject =
      kind === 'alert'
        ? `Haven: ${SEVERITY_WORDS[severity]} concern (${label}) at ${incident.school_name}`
        : `Haven: unacknowledged ${SEVERITY_WORDS[severity]} concern (${label}) at ${incident.school_name}`;
    const text = [
      kind === 'alert'
        ? `A ${SEVERITY_WORDS[severity]} concern was raised at ${incident.school_name} on ${when(first)} and needs a response.`
        : `A ${SEVERITY_WORDS[severity]} concern raised at ${incident.school_name} on ${when(first)} has not been acknowledged. You are receiving it as deputy.`,
      '',
      `Category: ${label}`,
      `Severity: ${severity} (${SEVERITY_WORDS[severity]})`,
      incident.routed_to === 'head' ? 'It concerns a member of staff, so it has been sent to the head teacher only.' : '',
      '',
      `Open it in Haven: ${this.link(incident.id)}`,
      '',
      'This message holds no names or captured text; sign in to Haven to see them.',
    ]
      .filter((l, i, all) => l !== '' || all[i - 1] !== '')
      .join('\n');
    // What each channel really did is recorded in the incident's history, so the DSL is never
    // told an alert went out when it did not.
    let email: ChannelOutcome;
    if (!this.transport) email = 'not_configured';
    else if (recipients.length === 0) email = 'no_recipient';
    else {
      let failed = false;
      for (const to of recipients) if ((await this.mail(incident.school_id, incident.id, kind, to, subject, text)) === 'failed') failed = true;
      email = failed ? 'failed' : 'sent';
    }
    if (recipients.length === 0) this.log.error({ incidentId: incident.id, kind }, 'Urgent alert has no recipient: give someone the DSL (or head) role at this school.');
    await this.recordOutcome(incident.id, { kind, channel: 'email', outcome: email, retrying: email === 'failed', recipients: recipients.length });
    // Staff allegations stay with the head: a shared webhook channel never hears of them.
    if (this.config.webhookUrl && incident.routed_to === 'dsl') {
      const hook = await this.webhook(incident, kind);
      await this.recordOutcome(incident.id, { kind, channel: 'webhook', outcome: hook, retrying: hook === 'failed', recipients: 1 });
    }
  }

  /** Writes an `alert` history entry when a channel's outcome differs from the last one recorded. */
  private async recordOutcome(incidentId: string, record: AlertRecord): Promise<void> {
    const [last] = await queryRows<{ to_value: AlertRecord | null }>(
      this.db,
      sql`select to_value from incident_history where incident_id = ${incidentId} and field = 'alert'
            and to_value->>'kind' = ${record.kind} and to_value->>'channel' = ${record.channel}
          order by id desc limit 1`,
    );
    const previous = last?.to_value ?? null;
    if (previous && previous.outcome === record.outcome && previous.recipients === record.recipients) return;
    await history(this.db, incidentId, 'alert', previous?.outcome ?? null, record);
  }

  /**
   * Whether urgent alerts for these schools reach anyone: a channel works when it is configured
   * and its last attempt (alert or escalation) went through, or it has not been tried yet.
   */
  async deliveryHealth(schoolIds: string[]): Promise<AlertDeliveryHealth> {
    const last = async (channel: AlertChannel) => {
      if (schoolIds.length === 0) return null;
      const [row] = await queryRows<{ at: unknown; ok: number }>(
        this.db,
        sql`select at, ok from alert_deliveries where channel = ${channel} and kind in ('alert', 'escalation') and school_id in ${schoolIds}
            order by at desc limit 1`,
      );
      return row ? { at: toDate(row.at).toISOString(), ok: Number(row.ok) === 1 } : null;
    };
    const channels = [
      { channel: 'email' as const, configured: this.transport !== null, lastAttempt: this.transport ? await last('email') : null },
      { channel: 'webhook' as const, configured: Boolean(this.config.webhookUrl), lastAttempt: this.config.webhookUrl ? await last('webhook') : null },
    ];
    const configured = channels.filter((c) => c.configured);
    const working = configured.some((c) => c.lastAttempt === null || c.lastAttempt.ok);
    const reason = working ? 'ok' : configured.length === 0 ? 'not_configured' : 'failing';
    const message =
      reason === 'not_configured'
        ? 'Urgent alerts are not being sent: no e-mail server or webhook is set up, so nobody is told of a severe concern outside this page. Check the queue often, and ask your technician to set up alert e-mail.'
        : reason === 'failing'
          ? 'Urgent alerts are not getting through: the last attempt to send one failed. Haven keeps trying, but check the queue often and tell your technician.'
          : null;
    return { working, reason, channels, message };
  }

  private async recipients(schoolId: string, roles: string[]): Promise<string[]> {
    const rows = await queryRows<{ email: string }>(
      this.db,
      sql`select distinct s.email from staff s join staff_roles r on r.staff_id = s.id
          where r.school_id = ${schoolId} and r.role in ${roles} and s.disabled_at is null order by s.email`,
    );
    return rows.map((r) => r.email);
  }

  private async already(incidentId: string | null, kind: string, channel: string, recipient: string): Promise<boolean> {
    if (!incidentId) return false;
    const [row] = await queryRows<{ one: number }>(
      this.db,
      sql`select 1 as one from alert_deliveries where incident_id = ${incidentId} and kind = ${kind} and channel = ${channel} and recipient = ${recipient} and ok = 1 limit 1`,
    );
    return !!row;
  }

  private async record(schoolId: string, incidentId: string | null, kind: string, channel: string, recipient: string, error: string | null) {
    await this.db.execute(
      sql`insert into alert_deliveries (school_id, incident_id, kind, channel, recipient, ok, error)
          values (${schoolId}, ${incidentId}, ${kind}, ${channel}, ${recipient}, ${error ? 0 : 1}, ${error})`,
    );
  }

  /**
   * Without a mail server nothing is attempted and nothing is recorded as a delivery: there is
   * nothing to retry, and the incident history says the channel is not configured.
   */
  private async mail(
    schoolId: string,
    incidentId: string | null,
    kind: 'alert' | 'escalation' | 'digest',
    to: string,
    subject: string,
    text: string,
  ): Promise<'not_configured' | 'sent' | 'failed'> {
    if (!this.transport) return 'not_configured';
    if (await this.already(incidentId, kind, 'email', to)) return 'sent';
    try {
      await this.transport.sendMail({ from: this.config.mailFrom, to, subject, text });
      await this.record(schoolId, incidentId, kind, 'email', to, null);
      return 'sent';
    } catch (err) {
      this.log.error({ err, incidentId, kind }, 'Alert e-mail could not be sent; it will be retried.');
      await this.record(schoolId, incidentId, kind, 'email', to, String((err as Error).message ?? err).slice(0, 300));
      return 'failed';
    }
  }

  private async webhook(incident: Incident, kind: 'alert' | 'escalation'): Promise<'sent' | 'failed'> {
    const url = this.config.webhookUrl!;
    if (await this.already(incident.id, kind, 'webhook', url)) return 'sent';
    const body = JSON.stringify({
      type: kind === 'alert' ? 'incident.alert' : 'incident.escalated',
      incidentId: incident.id,
      schoolId: incident.school_id,
      school: incident.school_name,
      category: incident.category,
      severity: Number(incident.severity),
      firstSeenAt: toDate(incident.first_seen_at).toISOString(),
      url: this.link(incident.id),
    });
    const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'Haven-Collector' };
    if (this.config.webhookSecret) headers['x-haven-signature'] = `sha256=${createHmac('sha256', this.config.webhookSecret).update(body).digest('hex')}`;
    try {
      const response = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(5000) });
      if (!response.ok) throw new Error(`webhook answered ${response.status}`);
      await this.record(incident.school_id, incident.id, kind, 'webhook', url, null);
      return 'sent';
    } catch (err) {
      this.log.error({ err, incidentId: incident.id, kind }, 'Alert webhook failed; it will be retried.');
      await this.record(incident.school_id, incident.id, kind, 'webhook', url, String((err as Error).message ?? err).slice(0, 300));
      return 'failed';
    }
  }

  private link(incidentId: string): string {
    return `${this.config.publicUrl.replace(/\/$/, '')}/incidents/${incidentId}`;
  }
}

/** Monday (UK date) of the week holding `now`, as YYYY-MM-DD. */
export function mondayOf(now: Date): string {
  const uk = new Date(now.toLocaleString('en-US', { timeZone: 'Europe/London' }));
  const back = (uk.getDay() + 6) % 7;
  uk.setDate(uk.getDate() - back);
  return `${uk.getFullYear()}-${String(uk.getMonth() + 1).padStart(2, '0')}-${String(uk.getDate()).padStart(2, '0')}`;
}

/**
 * The week's digest is due from 07:00 UK time on Monday; digest_runs keeps it to once a week
 * (a collector that was down on Monday sends it when it is back).
 */
export function digestDue(now: Date): boolean {
  const uk = new Date(now.toLocaleString('en-US', { timeZone: 'Europe/London' }));
  return !(uk.getDay() === 1 && uk.getHours() < 7);
}
