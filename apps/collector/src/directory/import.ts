import type { HavenDatabase } from '@haven/db';
import { sql } from 'drizzle-orm';
import { queryRows, ts } from '../db-rows';
import { parseCsv } from './csv';
import { codePoints } from '../input/schemas';

/** One person as the MIS export describes them, checked and normalised. */
export type DirectoryRow = {
  /** The line of the file the row starts on (the header is line 1). */
  line: number;
  /** The UPN (upper case) when given, else the admission number. */
  externalId: string;
  /** Lower case. */
  osUsername: string;
  forename: string;
  surname: string;
  kind: 'pupil' | 'staff';
  /** "Nursery", "Reception" or "1" … "13"; null for staff. */
  yearGroup: string | null;
  className: string | null;
  /** null: the file has no such column, so an existing person's value stays as it is. */
  send: boolean | null;
  lookedAfter: boolean | null;
};

export type DirectoryProblem = { line: number; column?: string; message: string };

export type DirectoryValidation = { ok: true; rows: DirectoryRow[] } | { ok: false; errors: DirectoryProblem[] };

export type DirectoryCounts = { created: number; updated: number; unchanged: number; left: number };

export const MAX_DIRECTORY_ROWS = 20_000;
export const MAX_NAME_CHARS = 100;
const MAX_KEY_CHARS = 64;

/** The columns, as people read them; a header matches them ignoring case, spaces, `_` and `-`. */
const COLUMNS = {
  upn: 'UPN',
  admissionnumber: 'admission number',
  forename: 'forename',
  surname: 'surname',
  yeargroup: 'year group',
  class: 'class',
  osusername: 'os username',
  role: 'role',
  send: 'SEND',
  lookedafter: 'looked after',
} as const;
type ColumnKey = keyof typeof COLUMNS;
const REQUIRED: ColumnKey[] = ['forename', 'surname', 'yeargroup', 'class', 'osusername', 'role'];

const UPN = /^[A-Z][0-9]{11}[0-9A-Z]$/i;
const OS_USERNAME = /^[A-Za-z0-9._@$-]{1,64}$/;
const YEAR_GROUP = /^(?:year|yr|y)?\s*(\d{1,2}|r|n|reception|nursery)$/i;
// eslint-disable-next-line no-control-regex -- control characters are what it looks for
const CONTROL = /[\u0000-\u001f\u007f]/;
const YES = new Set(['y', 'yes', 'true', '1']);
const NO = new Set(['', 'n', 'no', 'false', '0']);

const normaliseHeader = (name: string) => name.trim().toLowerCase().replace(/[\s_-]+/g, '');

/** A value from the row itself, quoted and cut short, for a message about that row. */
const found = (value: string) => JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);

const count = (n: number) => n.toLocaleString('en-GB');

/** "Reception", "Nursery" or "1" … "13"; null when it is none of those. */
export function normaliseYearGroup(value: string): string | null {
  const m = YEAR_GROUP.exec(value.trim());
  if (!m) return null;
  const v = m[1]!.toLowerCase();
  if (v === 'r' || v === 'reception') return 'Reception';
  if (v === 'n' || v === 'nursery') return 'Nursery';
  const year = Number(v);
  return year >= 1 && year <= 13 ? String(year) : null;
}

/**
 * Checks a directory export (CSV with a header line) and turns it into rows to import. Every
 * problem is reported, each naming its line and, where it has one, its column; a message
 * quotes only the row it is about. Nothing is imported unless there are none.
 */
export function validateDirectory(csvText: string): DirectoryValidation {
  const parsed = parseCsv(csvText);
  if (!parsed.ok) return { ok: false, errors: [{ line: parsed.line, message: parsed.message }] };
  const [header, ...records] = parsed.rows;
  if (!header) return { ok: false, errors: [{ line: 1, message: 'Line 1: the file is empty; it needs a header line and a line for each person.' }] };

  // ---- the header ----
  const index = new Map<ColumnKey, number>();
  const problems: DirectoryProblem[] = [];
  header.fields.forEach((name, i) => {
    const key = normaliseHeader(name);
    if (!(key in COLUMNS)) return; // other columns of the export are ignored
    const column = key as ColumnKey;
    if (index.has(column)) problems.push({ line: header.line, column: COLUMNS[column], message: `Line ${header.line}: the "${COLUMNS[column]}" column appears more than once.` });
    else index.set(column, i);
  });
  if (!index.has('upn') && !index.has('admissionnumber')) {
    problems.push({ line: header.line, column: 'UPN', message: `Line ${header.line}: the header needs a "UPN" or an "admission number" column.` });
  }
  for (const column of REQUIRED) {
    if (!index.has(column)) problems.push({ line: header.line, column: COLUMNS[column], message: `Line ${header.line}: the header has no "${COLUMNS[column]}" column.` });
  }
  if (problems.length > 0) return { ok: false, errors: problems };
  if (records.length === 0) return { ok: false, errors: [{ line: header.line, message: `Line ${header.line}: the file has a header but no people.` }] };
  if (records.length > MAX_DIRECTORY_ROWS) {
    const first = records[MAX_DIRECTORY_ROWS]!;
    return {
      ok: false,
      errors: [{ line: first.line, message: `Line ${first.line}: the file has ${count(records.length)} people; at most ${count(MAX_DIRECTORY_ROWS)} can be imported at once.` }],
    };
  }

  // ---- each row ----
  const rows: DirectoryRow[] = [];
  const byKey = new Map<string, number[]>();
  const byUsername = new Map<string, number[]>();
  const keyColumn = new Map<string, string>();
  for (const record of records) {
    const { line, fields } = record;
    // Spreadsheets sometimes pad a line with empty fields: those are harmless.
    if (fields.length < header.fields.length || fields.slice(header.fields.length).some((f) => f.trim() !== '')) {
      problems.push({ line, message: `Line ${line}: expected ${header.fields.length} fields, found ${fields.length} (is a comma or a quote missing?).` });
      continue;
    }
    const get = (column: ColumnKey) => {
      const i = index.get(column);
      return i === undefined ? '' : fields[i]!.trim();
    };
    const before = problems.length;
    const problem = (column: ColumnKey | undefined, message: string) =>
      problems.push({ line, ...(column ? { column: COLUMNS[column] } : {}), message: `Line ${line}: ${message}` });

    // The key: the UPN when given, else the admission number.
    const upn = get('upn').toUpperCase();
    const admission = get('admissionnumber');
    let externalId: string | null = null;
    if (upn) {
      if (UPN.test(upn)) externalId = upn;
      else problem('upn', `UPN must be 13 characters: a letter, 11 digits, then a digit or a letter (found ${found(get('upn'))}).`);
    } else if (admission) {
      if (codePoints(admission) > MAX_KEY_CHARS || CONTROL.test(admission)) problem('admissionnumber', `admission number must be at most ${MAX_KEY_CHARS} characters on one line.`);
      else externalId = admission;
    } else {
      problem(index.has('upn') ? 'upn' : 'admissionnumber', 'give a UPN or an admission number.');
    }
    if (externalId !== null) {
      const key = (upn ? 'upn:' : 'adm:') + externalId;
      byKey.set(key, [...(byKey.get(key) ?? []), line]);
      keyColumn.set(key, upn ? 'upn' : 'admissionnumber');
    }

    const name = (column: 'forename' | 'surname') => {
      const value = get(column);
      if (!value) problem(column, `${COLUMNS[column]} is empty.`);
      else if (codePoints(value) > MAX_NAME_CHARS) problem(column, `${COLUMNS[column]} is longer than ${MAX_NAME_CHARS} characters.`);
      else if (CONTROL.test(value)) problem(column, `${COLUMNS[column]} must be on one line, without control characters.`);
      return value;
    };
    const forename = name('forename');
    const surname = name('surname');

    const roleText = get('role');
    const role = roleText.toLowerCase();
    let kind: 'pupil' | 'staff' | null = null;
    if (role === 'pupil' || role === 'staff') kind = role;
    else if (!roleText) problem('role', 'role is empty; it must be pupil or staff.');
    else problem('role', `role must be pupil or staff (found ${found(roleText)}).`);

    const yearText = get('yeargroup');
    let yearGroup: string | null = null;
    if (kind === 'pupil') {
      if (!yearText) problem('yeargroup', 'a pupil needs a year group.');
      else {
        yearGroup = normaliseYearGroup(yearText);
        if (yearGroup === null) problem('yeargroup', `year group must be Nursery, Reception or 1 to 13 (found ${found(yearText)}).`);
      }
    }

    const classText = get('class');
    if (kind === 'pupil' && !classText) problem('class', 'a pupil needs a class.');
    else if (codePoints(classText) > MAX_NAME_CHARS) problem('class', `class is longer than ${MAX_NAME_CHARS} characters.`);
    else if (CONTROL.test(classText)) problem('class', 'class must be on one line, without control characters.');

    const usernameText = get('osusername');
    let osUsername = '';
    if (!usernameText) problem('osusername', 'os username is empty.');
    else if (!OS_USERNAME.test(usernameText)) {
      problem('osusername', `os username must be 1 to 64 letters, digits or . _ @ $ - (found ${found(usernameText)}).`);
    } else {
      osUsername = usernameText.toLowerCase();
      byUsername.set(osUsername, [...(byUsername.get(osUsername) ?? []), line]);
    }

    const flag = (column: 'send' | 'lookedafter'): boolean | null => {
      if (!index.has(column)) return null;
      const value = get(column).toLowerCase();
      if (YES.has(value)) return true;
      if (NO.has(value)) return false;
      problem(column, `${COLUMNS[column]} must be empty, Y/N, yes/no, true/false or 1/0 (found ${found(get(column))}).`);
      return null;
    };
    const send = flag('send');
    const lookedAfter = flag('lookedafter');

    if (problems.length > before || externalId === null || kind === null) continue;
    rows.push({ line, externalId, osUsername, forename, surname, kind, yearGroup, className: classText || null, send, lookedAfter });
  }

  // ---- the same person twice: every line involved is flagged ----
  const lines = (list: number[]) => list.join(', ');
  for (const [key, list] of byKey) {
    if (list.length < 2) continue;
    const column = keyColumn.get(key) as ColumnKey;
    for (const line of list) {
      problems.push({ line, column: COLUMNS[column], message: `Line ${line}: the same ${COLUMNS[column]} is on more than one line (lines ${lines(list)}).` });
    }
  }
  for (const [, list] of byUsername) {
    if (list.length < 2) continue;
    for (const line of list) {
      problems.push({ line, column: COLUMNS.osusername, message: `Line ${line}: the same os username is on more than one line (lines ${lines(list)}).` });
    }
  }

  if (problems.length > 0) return { ok: false, errors: problems.sort((a, b) => a.line - b.line) };
  return { ok: true, rows };
}

/** The import cannot go ahead as it stands (an os username taken by someone outside the file). */
export class DirectoryConflictError extends Error {
  constructor(readonly problems: DirectoryProblem[]) {
    super(`${problems.length} directory rows conflict with people already known`);
    this.name = 'DirectoryConflictError';
  }
}

type Existing = {
  id: string;
  external_id: string | null;
  os_username: string;
  forename: string;
  surname: string;
  display_name: string;
  kind: 'pupil' | 'staff';
  year_group: string | null;
  class_name: string | null;
  send: boolean;
  looked_after: boolean;
  left_at: unknown;
};

/** Thrown inside the transaction of a dry run so that it rolls back, carrying the counts out. */
class DryRunRollback extends Error {
  constructor(readonly counts: DirectoryCounts) {
    super('dry run');
  }
}

export type ApplyOptions = {
  /** Work everything out, in a transaction that is rolled back. */
  dryRun?: boolean;
  /** Runs in the import's transaction once it has been applied (not in a dry run): the audit row. */
  onApplied?: (tx: HavenDatabase, counts: DirectoryCounts) => Promise<void>;
};

/**
 * Makes the school's people what the file says, in ONE transaction: people are matched on
 * (school, externalId); a changed person is updated and a returner's `leftAt` cleared; new
 * people are inserted; people with an externalId missing from the file get `leftAt = now`
 * (never deleted); people added by hand (no externalId) are not touched. An os username that
 * belongs to someone outside the file fails the whole import with a DirectoryConflictError.
 * Imports for one school run one at a time (the school's row is locked FOR NO KEY UPDATE, which
 * does not hold up events arriving for it meanwhile).
 */
export async function applyDirectory(db: HavenDatabase, schoolId: string, rows: readonly DirectoryRow[], now: Date, options: ApplyOptions = {}): Promise<DirectoryCounts> {
  try {
    return await db.transaction(async (tx) => {
      const t = tx as unknown as HavenDatabase;
      await t.execute(sql`select id from schools where id = ${schoolId} for no key update`);
      const existing = await queryRows<Existing>(
        t,
        sql`select id, external_id, os_username, forename, surname, display_name, kind, year_group, class_name, send, looked_after, left_at
            from people where school_id = ${schoolId}`,
      );
      const byExternal = new Map<string, Existing>();
      const byUsername = new Map<string, Existing>();
      for (const p of existing) {
        if (p.external_id !== null) byExternal.set(p.external_id, p);
        byUsername.set(p.os_username, p);
      }
      const inFile = new Set(rows.map((r) => r.externalId));

      const conflicts: DirectoryProblem[] = [];
      const inserts: DirectoryRow[] = [];
      const updates: Array<DirectoryRow & { id: string; renamed: boolean }> = [];
      let unchanged = 0;
      for (const row of rows) {
        const person = byExternal.get(row.externalId);
        const owner = byUsername.get(row.osUsername);
        // Someone else has the name. If they are in the file too, they move to another name
        // (names are unique within the file); anyone else keeps it, so the file cannot win.
        if (owner && owner !== person && !(owner.external_id !== null && inFile.has(owner.external_id))) {
          const who =
            owner.external_id === null
              ? 'someone added by hand'
              : owner.left_at !== null
                ? 'someone who has left'
                : 'someone not in this file (who would be marked as left)';
          conflicts.push({
            line: row.line,
            column: COLUMNS.osusername,
            message: `Line ${row.line}: os username ${found(row.osUsername)} already belongs to ${who} at this school; nothing was imported.`,
          });
          continue;
        }
        if (!person) {
          inserts.push(row);
          continue;
        }
        const displayName = `${row.forename} ${row.surname}`;
        const same =
          person.os_username === row.osUsername &&
          person.forename === row.forename &&
          person.surname === row.surname &&
          person.display_name === displayName &&
          person.kind === row.kind &&
          person.year_group === row.yearGroup &&
          person.class_name === row.className &&
          (row.send === null || person.send === row.send) &&
          (row.lookedAfter === null || person.looked_after === row.lookedAfter) &&
          person.left_at === null;
        if (same) unchanged++;
        else updates.push({ ...row, id: person.id, renamed: person.os_username !== row.osUsername });
      }
      if (conflicts.length > 0) throw new DirectoryConflictError(conflicts);
      const leavers = existing.filter((p) => p.external_id !== null && p.left_at === null && !inFile.has(p.external_id)).map((p) => p.id);
      const counts: DirectoryCounts = { created: inserts.length, updated: updates.length, unchanged, left: leavers.length };

      // Names that move between people (a swap, say) are parked first, so no row ever holds a
      // name another row still has. "~" is not allowed in a name, so the parked ones are free.
      const renamed = updates.filter((u) => u.renamed).map((u) => u.id);
      if (renamed.length > 0) {
        await t.execute(sql`update people set os_username = '~' || id::text where id in (select jsonb_array_elements_text(${JSON.stringify(renamed)}::jsonb)::uuid)`);
      }
      if (updates.length > 0) {
        const data = updates.map((u) => ({ ...fields(u), id: u.id }));
        await t.execute(
          sql`update people p set os_username = r.os_username, forename = r.forename, surname = r.surname, display_name = r.display_name,
                kind = r.kind, year_group = r.year_group, class_name = r.class_name,
                send = coalesce(r.send, p.send), looked_after = coalesce(r.looked_after, p.looked_after),
                left_at = null, updated_at = ${ts(now)}
              from jsonb_to_recordset(${JSON.stringify(data)}::jsonb) as r(
                id uuid, os_username text, forename text, surname text, display_name text, kind text,
                year_group text, class_name text, send boolean, looked_after boolean)
              where p.id = r.id and p.school_id = ${schoolId}`,
        );
      }
      if (inserts.length > 0) {
        const data = inserts.map(fields);
        await t.execute(
          sql`insert into people (school_id, external_id, os_username, forename, surname, display_name, kind, year_group, class_name, send, looked_after, created_at, updated_at)
              select ${schoolId}::uuid, r.external_id, r.os_username, r.forename, r.surname, r.display_name, r.kind, r.year_group, r.class_name,
                     coalesce(r.send, false), coalesce(r.looked_after, false), ${ts(now)}, ${ts(now)}
              from jsonb_to_recordset(${JSON.stringify(data)}::jsonb) as r(
                external_id text, os_username text, forename text, surname text, display_name text, kind text,
                year_group text, class_name text, send boolean, looked_after boolean)`,
        );
      }
      if (leavers.length > 0) {
        await t.execute(
          sql`update people set left_at = ${ts(now)}, updated_at = ${ts(now)}
              where school_id = ${schoolId} and id in (select jsonb_array_elements_text(${JSON.stringify(leavers)}::jsonb)::uuid)`,
        );
      }
      if (options.dryRun) throw new DryRunRollback(counts);
      await options.onApplied?.(t, counts);
      return counts;
    });
  } catch (err) {
    if (err instanceof DryRunRollback) return err.counts;
    throw err;
  }
}

function fields(r: DirectoryRow) {
  return {
    external_id: r.externalId,
    os_username: r.osUsername,
    forename: r.forename,
    surname: r.surname,
    display_name: `${r.forename} ${r.surname}`,
    kind: r.kind,
    year_group: r.yearGroup,
    class_name: r.className,
    send: r.send,
    looked_after: r.lookedAfter,
  };
}
