import { people, type HavenDatabase, type Role } from '@haven/db';
import { createStaff } from '../../src/staff/repository';

export type StaffMember = { id: string; email: string; password: string; displayName: string };

let counter = 0;

/** A member of staff with the given roles at a school, and the password to sign in with. */
export async function addStaff(db: HavenDatabase, schoolId: string, roles: Role[], displayName?: string): Promise<StaffMember> {
  counter++;
  const name = displayName ?? `${roles.join(' ')} ${counter}`;
  const email = `${roles.join('.')}.${counter}.${process.pid}@school.example`;
  const password = `correct horse battery ${counter}`;
  const { id } = await createStaff(db, { email, displayName: name, password, roles: roles.map((role) => ({ schoolId, role })) });
  return { id, email, password, displayName: name };
}

export async function addPerson(
  db: HavenDatabase,
  schoolId: string,
  osUsername: string,
  kind: 'pupil' | 'staff',
  displayName: string,
  yearGroup: string | null = null,
): Promise<string> {
  const [row] = await db.insert(people).values({ schoolId, osUsername: osUsername.toLowerCase(), kind, displayName, yearGroup }).returning({ id: people.id });
  return row!.id;
}

export type Reply<T = any> = { status: number; body: T; headers: Headers };

/** A signed-in browser without the browser: keeps the session cookie, speaks JSON. */
export class StaffClient {
  private constructor(
    readonly baseUrl: string,
    readonly cookie: string,
  ) {}

  static async login(baseUrl: string, member: { email: string; password: string }): Promise<StaffClient> {
    const response = await fetch(`${baseUrl}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: member.email, password: member.password }),
    });
    if (response.status !== 200) throw new Error(`sign-in failed with ${response.status}: ${await response.text()}`);
    const cookie = response.headers.getSetCookie().find((c) => c.startsWith('haven_session='));
    if (!cookie) throw new Error('no session cookie');
    return new StaffClient(baseUrl, cookie.split(';')[0]!);
  }

  get<T = any>(path: string): Promise<Reply<T>> {
    return this.request<T>('GET', path);
  }

  post<T = any>(path: string, body: unknown = {}): Promise<Reply<T>> {
    return this.request<T>('POST', path, body);
  }

  patch<T = any>(path: string, body: unknown): Promise<Reply<T>> {
    return this.request<T>('PATCH', path, body);
  }

  async request<T>(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<Reply<T>> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: { cookie: this.cookie, ...(body === undefined ? {} : { 'content-type': contentType }) },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // not JSON
    }
    return { status: response.status, body: parsed as T, headers: response.headers };
  }
}
