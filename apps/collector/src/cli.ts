#!/usr/bin/env node
import { randomBytes } from 'node:crypto';
import {
  DEFAULT_RETENTION,
  devices,
  enrollmentTokens,
  openDatabase,
  ROLES,
  schools,
  schoolSettings,
  sharedLogons,
  staff,
  staffRoles,
  staffSessions,
  trusts,
  type AgentPolicySettings,
  type RetentionRules,
  type Role,
} from '@haven/db';
import { MAX_OCR_LANGUAGES, OCR_LANGUAGE_NAMES, OCR_LANGUAGES, OcrLanguagesSchema, type OcrLanguage } from '@haven/protocol';
import { asc, desc, eq, inArray } from 'drizzle-orm';
import { purgeExpired } from './retention/purge';
import { hashPassword } from './auth/passwords';
import { createStaff, grantRole, normaliseEmail } from './staff/repository';
import { parseArgs } from 'node:util';
import { createEnrollmentToken, revokeDevice, revokeEnrollmentToken } from './enrollment/repository';
import { readEnv } from './env';
import { safeError } from './logger';

const USAGE = `Usage:
  haven-collector token create [--school ID] [--days N] [--max-uses N] [--label TEXT]
  haven-collector token list
  haven-collector token revoke TOKEN_ID
  haven-collector device list
  haven-collector device revoke DEVICE_ID
  haven-collector school list
  haven-collector staff create --email ADDRESS --name "NAME" --role ROLE [--school ID]
  haven-collector staff grant STAFF_EMAIL --role ROLE [--school ID]
  haven-collector staff reset-password STAFF_EMAIL
  haven-collector staff reset-two-factor STAFF_EMAIL
  haven-collector staff list
  haven-collector device room DEVICE_ID "ROOM"
  haven-collector shared-logon add OS_USERNAME [--label TEXT] [--school ID]
  haven-collector shared-logon list [--school ID]
  haven-collector school settings [--school ID] [--vulnerable-step N] [--retention OUTCOME=DAYS|never ...]
                                  [--agent-threshold N] [--agent-sources title,keys,screen] [--quiet-hours HH:MM-HH:MM ...]
                                  [--ocr-languages eng,pol,...]
  haven-collector trust create "NAME" --school ID [--school ID ...]
  haven-collector retention purge

Retention outcomes: false_positive, no_further_action, resolved, referred.

Screen text languages (--ocr-languages, one to ${MAX_OCR_LANGUAGES}; default English only): ${OCR_LANGUAGES.map((c) => `${c} ${OCR_LANGUAGE_NAMES[c]}`).join(', ')}.

Roles: dsl, deputy_dsl, head, technician, trust_admin. New passwords are generated and shown
once.

Uses DATABASE_URL, or the embedded database in HAVEN_DATA_DIR (default ./data), which only
one process can open at a time: stop the collector first.`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      school: { type: 'string', multiple: true },
      days: { type: 'string', default: '30' },
      'max-uses': { type: 'string' },
      label: { type: 'string', default: '' },
      email: { type: 'string' },
      name: { type: 'string' },
      role: { type: 'string' },
      'vulnerable-step': { type: 'string' },
      retention: { type: 'string', multiple: true },
      'agent-threshold': { type: 'string' },
      'agent-sources': { type: 'string' },
      'quiet-hours': { type: 'string', multiple: true },
      'ocr-languages': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [noun, verb, id] = positionals;
  if (values.help || !noun) {
    process.stdout.write(USAGE + '\n');
    return values.help ? 0 : 2;
  }
  const database = await openDatabase(readEnv().databaseLocation);
  try {
    const db = database.db;
    if (noun === 'school' && verb === 'list') {
      for (const s of await db.select().from(schools)) process.stdout.write(`${s.id}  ${s.name}\n`);
      return 0;
    }
    const oneSchool = async (): Promise<string | null> => {
      if (values.school?.length === 1) return values.school[0]!;
      if (values.school && values.school.length > 1) {
        process.stderr.write('Name one school.\n');
        return null;
      }
      const all = await db.select({ id: schools.id }).from(schools);
      if (all.length !== 1) {
        process.stderr.write('There is more than one school (or none): name one with --school.\n');
        return null;
      }
      return all[0]!.id;
    };
    if (noun === 'staff') {
      const role = values.role as Role | undefined;
      if ((verb === 'create' || verb === 'grant') && (!role || !ROLES.includes(role))) {
        process.stderr.write(`--role must be one of ${ROLES.join(', ')}.\n`);
        return 2;
      }
      if (verb === 'create') {
        if (!values.email || !values.name) {
          process.stderr.write('staff create needs --email and --name.\n');
          return 2;
        }
        const schoolId = await oneSchool();
        if (!schoolId) return 2;
        const password = randomBytes(15).toString('base64url');
        await createStaff(db, { email: values.email, displayName: values.name, password, roles: [{ schoolId, role: role! }] });
        process.stdout.write(`Created ${normaliseEmail(values.email)} (${role}). Password, shown only now:\n${password}\n`);
        return 0;
      }
      const [member] = id ? await db.select().from(staff).where(eq(staff.email, normaliseEmail(id))) : [];
      if ((verb === 'grant' || verb === 'reset-password' || verb === 'reset-two-factor') && !member) {
        process.stderr.write('No member of staff has that e-mail address.\n');
        return 1;
      }
      if (verb === 'grant') {
        const schoolId = await oneSchool();
        if (!schoolId) return 2;
        await grantRole(db, member!.id, schoolId, role!);
        process.stdout.write(`${member!.email} is now ${role} at that school.\n`);
        return 0;
      }
      if (verb === 'reset-password') {
        const password = randomBytes(15).toString('base64url');
        await db.update(staff).set({ passwordHash: await hashPassword(password) }).where(eq(staff.id, member!.id));
        await db.delete(staffSessions).where(eq(staffSessions.staffId, member!.id));
        process.stdout.write(`New password for ${member!.email}, shown only now (their sessions were ended):\n${password}\n`);
        return 0;
      }
      if (verb === 'reset-two-factor') {
        // For a lost authenticator, or a lost secret key (docs/operations.md §4a): the person
        // signs in with their password and turns two-factor sign-in on again.
        await db.update(staff).set({ totpEnabled: false, totpSecret: null, totpLastStep: null }).where(eq(staff.id, member!.id));
        await db.delete(staffSessions).where(eq(staffSessions.staffId, member!.id));
        process.stdout.write(`Two-factor sign-in is off for ${member!.email} (their sessions were ended); they should turn it on again after signing in.\n`);
        return 0;
      }
      if (verb === 'list') {
        const rows = await db
          .select({ email: staff.email, name: staff.displayName, role: staffRoles.role, school: schools.name, totp: staff.totpEnabled })
          .from(staff)
          .leftJoin(staffRoles, eq(staffRoles.staffId, staff.id))
          .leftJoin(schools, eq(schools.id, staffRoles.schoolId))
          .orderBy(asc(staff.email));
        for (const r of rows) process.stdout.write(`${r.email}  ${r.name}  ${r.role ?? '(no role)'}${r.school ? ` at ${r.school}` : ''}${r.totp ? '  2FA' : ''}\n`);
        return 0;
      }
    }
    if (noun === 'device' && verb === 'room' && id) {
      const room = positionals[3];
      if (room === undefined) {
        process.stderr.write('device room needs the room, e.g. "Room 12" (or "" to clear it).\n');
        return 2;
      }
      const done = await db.update(devices).set({ room: room || null }).where(eq(devices.id, id)).returning({ id: devices.id });
      process.stdout.write(done.length ? `Device ${id} is in ${room || 'no room'}.\n` : 'No such device.\n');
      return done.length ? 0 : 1;
    }
    if (noun === 'shared-logon') {
      const schoolId = await oneSchool();
      if (!schoolId) return 2;
      if (verb === 'add' && id) {
        await db.insert(sharedLogons).values({ schoolId, osUsername: id.toLowerCase(), label: values.label }).onConflictDoNothing();
        process.stdout.write(`${id.toLowerCase()} is a shared logon: its events are attributed by device, room and time until the DSL names the pupil.\n`);
        return 0;
      }
      if (verb === 'list') {
        for (const l of await db.select().from(sharedLogons).where(eq(sharedLogons.schoolId, schoolId))) process.stdout.write(`${l.osUsername}  ${l.label}\n`);
        return 0;
      }
    }
    if (noun === 'school' && verb === 'settings') {
      const schoolId = await oneSchool();
      if (!schoolId) return 2;
      const [current] = await db.select().from(schoolSettings).where(eq(schoolSettings.schoolId, schoolId));
      const retention: RetentionRules = { ...DEFAULT_RETENTION, ...(current?.retention ?? {}) };
      let step = current?.vulnerableSeverityStep ?? 1;
      if (values['vulnerable-step'] !== undefined) {
        step = Number(values['vulnerable-step']);
        if (!Number.isInteger(step) || step < 0 || step > 3) {
          process.stderr.write('--vulnerable-step must be 0, 1, 2 or 3.\n');
          return 2;
        }
      }
      for (const rule of values.retention ?? []) {
        const [key, value] = rule.split('=');
        const days = value === 'never' ? null : Number(value);
        if (!key || !(key in DEFAULT_RETENTION) || (days !== null && !(Number.isInteger(days) && days >= 1))) {
          process.stderr.write(`--retention takes OUTCOME=DAYS or OUTCOME=never (outcomes: ${Object.keys(DEFAULT_RETENTION).join(', ')}).\n`);
          return 2;
        }
        retention[key as keyof RetentionRules] = days;
      }
      let agentPolicy: AgentPolicySettings | null = current?.agentPolicy ?? null;
      const agentOptions = ['agent-threshold', 'agent-sources', 'quiet-hours', 'ocr-languages'] as const;
      if (agentOptions.some((o) => values[o] !== undefined)) {
        const threshold = Number(values['agent-threshold'] ?? agentPolicy?.threshold ?? 3);
        const names = (values['agent-sources'] ?? 'title,keys,screen').split(',').map((x) => x.trim());
        const quiet = (values['quiet-hours'] ?? []).map((q) => /^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$/.test(q) ? { start: q.slice(0, 5), end: q.slice(6) } : null);
        if (!Number.isInteger(threshold) || threshold < 1 || threshold > 5 || names.some((n) => !['title', 'keys', 'screen'].includes(n)) || quiet.includes(null)) {
          process.stderr.write('--agent-threshold takes 1–5, --agent-sources a list of title, keys, screen, --quiet-hours HH:MM-HH:MM.\n');
          return 2;
        }
        let ocrLanguages = agentPolicy?.ocrLanguages;
        if (values['ocr-languages'] !== undefined) {
          const parsed = OcrLanguagesSchema.safeParse(values['ocr-languages'].split(',').map((x) => x.trim().toLowerCase()).filter(Boolean));
          if (!parsed.success) {
            process.stderr.write(
              `--ocr-languages takes one to ${MAX_OCR_LANGUAGES} different languages, separated by commas, of: ${OCR_LANGUAGES.join(', ')}.\n`,
            );
            return 2;
          }
          ocrLanguages = parsed.data;
        }
        agentPolicy = {
          threshold,
          sources: { title: names.includes('title'), keys: names.includes('keys'), screen: names.includes('screen') },
          quietHours: values['quiet-hours'] === undefined ? (agentPolicy?.quietHours ?? []) : (quiet as Array<{ start: string; end: string }>),
          ...(ocrLanguages ? { ocrLanguages } : {}),
        };
      }
      await db
        .insert(schoolSettings)
        .values({ schoolId, vulnerableSeverityStep: step, retention, agentPolicy })
        .onConflictDoUpdate({ target: schoolSettings.schoolId, set: { vulnerableSeverityStep: step, retention, agentPolicy, updatedAt: new Date() } });
      const shown = Object.entries(retention).map(([k, v]) => `${k} ${v === null ? 'not deleted automatically' : `${v} days`}`);
      const agents = agentPolicy
        ? `Agents: threshold ${agentPolicy.threshold}, sources ${Object.entries(agentPolicy.sources).filter(([, on]) => on).map(([k]) => k).join(', ') || 'none'}, quiet hours ${agentPolicy.quietHours.map((q) => `${q.start}-${q.end}`).join(', ') || 'none'}, screen text languages ${(agentPolicy.ocrLanguages ?? ['eng']).map((c) => OCR_LANGUAGE_NAMES[c as OcrLanguage] ?? c).join(', ')} (pushed when they connect).`
        : 'Agents keep their own policy files.';
      process.stdout.write(`Vulnerable pupils' incidents raised by ${step}. Closed incidents kept: ${shown.join('; ')}. ${agents}\n`);
      return 0;
    }
    if (noun === 'trust' && verb === 'create' && id) {
      if (!values.school?.length) {
        process.stderr.write('trust create needs at least one --school.\n');
        return 2;
      }
      const [trust] = await db.insert(trusts).values({ name: id }).returning({ id: trusts.id });
      await db.update(schools).set({ trustId: trust!.id }).where(inArray(schools.id, values.school));
      process.stdout.write(`Trust ${trust!.id} (${id}) holds ${values.school.length} school${values.school.length === 1 ? '' : 's'}.\n`);
      return 0;
    }
    if (noun === 'retention' && verb === 'purge') {
      const purged = await purgeExpired(db);
      for (const p of purged) process.stdout.write(`${p.schoolId}  ${p.incidents} incidents, ${p.events} events removed\n`);
      return 0;
    }
    if (noun === 'token' && verb === 'create') {
      const schoolId = await oneSchool();
      if (!schoolId) return 2;
      const days = Number(values.days);
      const maxUses = values['max-uses'] === undefined ? null : Number(values['max-uses']);
      if (!Number.isFinite(days) || days <= 0 || (maxUses !== null && !(Number.isInteger(maxUses) && maxUses > 0))) {
        process.stderr.write('--days must be a positive number and --max-uses a positive whole number.\n');
        return 2;
      }
      const token = await createEnrollmentToken(db, { schoolId, ttlMs: days * 24 * 3600_000, maxUses, label: values.label });
      process.stdout.write(`Token ${token.id}, valid until ${token.expiresAt.toISOString()} (shown only now):\n${token.token}\n`);
      return 0;
    }
    if (noun === 'token' && verb === 'list') {
      const rows = await db.select().from(enrollmentTokens).orderBy(desc(enrollmentTokens.createdAt));
      const now = Date.now();
      for (const t of rows) {
        const state = t.revokedAt ? 'revoked' : t.expiresAt.getTime() <= now ? 'expired' : t.maxUses !== null && t.useCount >= t.maxUses ? 'used up' : 'active';
        const uses = `${t.useCount}${t.maxUses === null ? '' : `/${t.maxUses}`} uses`;
        process.stdout.write(`${t.id}  ${state.padEnd(7)}  expires ${t.expiresAt.toISOString().slice(0, 16)}Z  ${uses}  ${t.label}\n`);
      }
      return 0;
    }
    if (noun === 'device' && verb === 'list') {
      const rows = await db.select().from(devices).orderBy(asc(devices.hostname));
      for (const d of rows) {
        const seen = d.lastSeenAt ? `last seen ${d.lastSeenAt.toISOString().slice(0, 16)}Z` : 'never connected';
        process.stdout.write(`${d.id}  ${(d.revokedAt ? 'revoked' : 'active').padEnd(7)}  ${d.hostname}  ${d.osPlatform}  agent ${d.agentVersion}  ${seen}  outbox ${d.outboxDepth}\n`);
      }
      return 0;
    }
    if (noun === 'token' && verb === 'revoke' && id) {
      const done = await revokeEnrollmentToken(db, id);
      process.stdout.write(done ? 'Token revoked.\n' : 'No such active token.\n');
      return done ? 0 : 1;
    }
    if (noun === 'device' && verb === 'revoke' && id) {
      const done = await revokeDevice(db, id);
      process.stdout.write(
        done
          ? 'Device revoked. A connected agent is refused at its first message after the next 30-second re-check (agents send a heartbeat every minute).\n'
          : 'No such active device.\n',
      );
      return done ? 0 : 1;
    }
    process.stderr.write(USAGE + '\n');
    return 2;
  } finally {
    await database.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    // Described like a log line: a failed query's message would carry its parameters.
    process.stderr.write(`haven-collector: ${String(safeError(err).message ?? 'failed')}\n`);
    process.exit(1);
  },
);
