// Typed client for the staff API (docs/api.md). Relative URLs, cookie session, and
// `Content-Type: application/json` on every POST and PATCH (Haven's CSRF defence).

// ---- Types, as docs/api.md defines them ----

export type Role = 'dsl' | 'deputy_dsl' | 'head' | 'technician' | 'trust_admin';
export type Status = 'new' | 'in_review' | 'escalated' | 'closed';
export type Severity = 0 | 1 | 2 | 3 | 4 | 5;

export type Me = {
  id: string;
  email: string;
  displayName: string;
  totpEnabled: boolean;
  roles: { schoolId: string; schoolName: string; role: Role }[];
  can: { incidents: boolean; audit: boolean; devices: boolean };
};

export type Subject = {
  /** The OS user name (lower case), or "cluster" for a cluster. */
  key: string;
  displayName: string | null;
  /** shared: a class logon, not yet attributed to anyone. */
  kind: 'pupil' | 'staff' | 'shared' | 'unknown';
  yearGroup: string | null;
  /** The directory entry, once known (from the OS user name, or by attribution). */
  personId: string | null;
};

/** The class logon and the device an incident came from (kept after attribution). */
export type SharedLogon = { osUser: string; device: { id: string; hostname: string; room: string | null } };

/** Why a vulnerable pupil's incident was raised, and by how much. */
export type Vulnerability = { send: boolean; lookedAfter: boolean; flagged: boolean; severityRaisedBy: number };

export type StaffRef = { id: string; displayName: string };

export type IncidentSummary = {
  id: string;
  schoolId: string;
  schoolName: string;
  kind: 'person' | 'cluster';
  likelyLessonContent: boolean;
  subject: Subject;
  category: string;
  severity: Severity;
  status: Status;
  routedTo: 'dsl' | 'head';
  eventCount: number;
  deviceCount: number;
  firstSeenAt: string;
  lastSeenAt: string;
  acknowledgedAt: string | null;
  assignee: StaffRef | null;
  /** Set once a cluster has absorbed this incident: it has left the queue. */
  mergedInto: string | null;
  sharedLogon: SharedLogon | null;
  vulnerability: Vulnerability | null;
  version: number;
};

export type EventSource = 'title' | 'keys' | 'screen';

/** One rule the scorer on the device matched, and what moved its severity (labels in British English). */
export type ReasonView = {
  ruleId: string;
  category: string;
  kind: 'term' | 'pair' | 'frame' | 'learned';
  /** "a listed phrase", "two words near each other", "a pattern of words", "the learned model". */
  kindLabel: string;
  /** The rule's own severity, before context. */
  base: number;
  /** In the order applied: "+1 a time or plan", "−3 a negation". */
  adjustments: { name: string; delta: number; label: string }[];
  /** After the adjustments. */
  severity: number;
  classes?: string[];
  needs?: string[];
  corroboratedBy?: string;
  /** learned: the model's probability for the category, in per cent. */
  confidence?: number;
};

export type EventView = {
  id: string;
  occurredAt: string;
  source: EventSource;
  category: string;
  severity: number;
  ruleIds: string[];
  /** The scorer's reasons; null for events from agents that send none. */
  explanation: ReasonView[] | null;
  why: string;
  device: { id: string; hostname: string };
  osUser: string;
  app: string | null;
};

export type HistoryEntry = {
  at: string;
  /** null: Haven itself. */
  actor: StaffRef | null;
  field: string;
  from: unknown;
  to: unknown;
};

export type Note = { at: string; author: StaffRef; text: string };

export type IncidentDetail = IncidentSummary & {
  involvement: string[];
  activityType: string | null;
  concernLevel: string | null;
  actions: string[];
  outcome: string | null;
  notes: Note[];
  events: EventView[];
  history: HistoryEntry[];
  assignable: StaffRef[];
  allowedStatuses: Status[];
};

/** `url`: the browser's address (scheme, host, path), where the agent gave one; null otherwise. */
export type Evidence = { eventId: string; match: string; before: string; after: string; windowTitle: string | null; url: string | null };

export type Option = { value: string; label: string };
export type ActionOption = Option & { referral: boolean };

export type Meta = {
  categories: Option[];
  statuses: Option[];
  involvement: Option[];
  activityTypes: Option[];
  concernLevels: Option[];
  actions: ActionOption[];
  outcomes: Option[];
};

export type IncidentPatch = {
  version: number;
  status?: Status;
  involvement?: string[];
  activityType?: string | null;
  concernLevel?: string | null;
  actions?: string[];
  outcome?: string | null;
  assigneeId?: string | null;
  note?: string;
};

export type IncidentQuery = {
  /** One or more statuses, or 'open' (everything but closed, the API's default). */
  status?: (Status | 'open')[];
  category?: string;
  schoolId?: string;
  yearGroup?: string;
  /** YYYY-MM-DD, on lastSeenAt. */
  from?: string;
  to?: string;
  limit?: number;
};

/** Whether urgent alerts reach anyone outside the dashboard (GET /api/incidents, `alertDelivery`). */
export type AlertDelivery = {
  working: boolean;
  reason: 'ok' | 'not_configured' | 'failing';
  channels: { channel: 'email' | 'webhook'; configured: boolean; lastAttempt: { at: string; ok: boolean } | null }[];
  /** A sentence for the banner when urgent alerts are not working; null when they are. */
  message: string | null;
};

/** What one channel of an urgent alert did: the `to` of an `alert` history entry. */
export type AlertRecord = {
  kind: 'alert' | 'escalation';
  channel: 'email' | 'webhook';
  outcome: 'not_configured' | 'no_recipient' | 'sent' | 'failed';
  retrying: boolean;
  recipients: number;
};

export type PersonMatch = {
  id: string;
  displayName: string;
  osUsername: string;
  kind: 'pupil' | 'staff';
  yearGroup: string | null;
  className: string | null;
};

/** An attribution to a member of staff moves the incident to the head: a DSL gets `incident: null`. */
export type AttributeResult = { incident: IncidentDetail; message?: undefined } | { incident: null; message: string };

export type Chronology = { subject: Subject; incidents: IncidentSummary[]; events: EventView[] };

/** The contract does not spell out `actor`; the client accepts a name, a staff reference or null. */
export type AuditEntry = {
  id: string | number;
  at: string;
  actor: string | StaffRef | null;
  action: string;
  schoolId: string | null;
  incidentId: string | null;
  reason: string | null;
};

export type HealthState = 'ok' | 'degraded' | 'failed' | 'disabled' | 'paused';

export type Device = {
  id: string;
  hostname: string;
  schoolId: string;
  schoolName: string;
  osPlatform: string | null;
  agentVersion: string | null;
  lastSeenAt: string | null;
  connected: boolean;
  revoked: boolean;
  outboxDepth: number | null;
  droppedEvents: number | null;
  health: Record<string, { state: HealthState | string; detail?: string; lastCaptureAt?: string | null }> | null;
  /** How many per-user session parts are monitoring, logged out, or stopped while their user was logged in; null for agents that do not report them. */
  sessions: { running: number; ended: number; stopped: number } | null;
  /** When a session part last stopped while its user was logged in (a tamper signal). */
  lastTamperAt: string | null;
  /** Events in the last 7 days kept with their arrival time because the device's clock was wrong. */
  clockWrongEvents: number;
  /** Events set aside because grouping them into incidents failed. */
  setAsideEvents: number;
};

export type LiveMessage =
  | { type: 'incident'; incident: IncidentSummary }
  /** An incident this user could see has moved out of their reach (attributed to staff). */
  | { type: 'incident-removed'; id: string }
  | { type: 'ready' };

export type ErrorCode =
  | 'HAVEN_ERR_VALIDATION'
  | 'HAVEN_ERR_UNAUTHENTICATED'
  | 'HAVEN_ERR_BAD_LOGIN'
  | 'HAVEN_ERR_TOTP_REQUIRED'
  | 'HAVEN_ERR_FORBIDDEN'
  | 'HAVEN_ERR_NOT_FOUND'
  | 'HAVEN_ERR_CONFLICT'
  | 'HAVEN_ERR_CONTENT_TYPE'
  | 'HAVEN_ERR_ILLEGAL_TRANSITION'
  | 'HAVEN_ERR_RATE_LIMITED'
  /** Not from the API: the network failed, or the answer was not Haven's JSON. */
  | 'HAVEN_ERR_NETWORK'
  | 'HAVEN_ERR_HTTP';

// ---- Errors ----

export class ApiError extends Error {
  readonly status: number;
  readonly code: ErrorCode | string;
  /** Seconds to wait, from `Retry-After` (429 only), when the server gave one. */
  readonly retryAfterSeconds: number | null;

  constructor(status: number, code: ErrorCode | string, message: string, retryAfterSeconds: number | null = null) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

export const isApiError = (error: unknown, code?: ErrorCode): error is ApiError =>
  error instanceof ApiError && (code === undefined || error.code === code);

/** A friendly sentence for an error the page has no special handling for. */
export const errorMessage = (error: unknown): string => {
  if (error instanceof ApiError) {
    if (error.code === 'HAVEN_ERR_NETWORK') return 'Haven could not be reached. Check your connection and try again.';
    if (error.code === 'HAVEN_ERR_FORBIDDEN') return 'Your role does not allow this.';
    if (error.code === 'HAVEN_ERR_NOT_FOUND') return 'Not found. It may have been removed, or it belongs to another school.';
    return error.message || 'Something went wrong. Try again.';
  }
  return 'Something went wrong. Try again.';
};

// ---- Session expiry ----

type UnauthenticatedListener = () => void;
let onUnauthenticated: UnauthenticatedListener | null = null;

/** The session provider registers here: any 401 outside sign-in sends the user to /login. */
export const setUnauthenticatedHandler = (listener: UnauthenticatedListener | null): void => {
  onUnauthenticated = listener;
};

// ---- Transport ----

type Method = 'GET' | 'POST' | 'PATCH';

const parseRetryAfter = (value: string | null): number | null => {
  if (value === null || value.trim() === '') return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const when = Date.parse(value);
  return Number.isNaN(when) ? null : Math.max(0, Math.round((when - Date.now()) / 1000));
};

const toApiError = async (response: Response): Promise<ApiError> => {
  let code: string = 'HAVEN_ERR_HTTP';
  let message = response.statusText || `The server answered ${response.status}.`;
  try {
    const body: unknown = await response.json();
    if (body !== null && typeof body === 'object') {
      const b = body as { error?: unknown; message?: unknown };
      if (typeof b.error === 'string') code = b.error;
      if (typeof b.message === 'string') message = b.message;
    }
  } catch {
    // Not JSON (a proxy's error page): keep the HTTP status.
  }
  return new ApiError(response.status, code, message, parseRetryAfter(response.headers.get('Retry-After')));
};

const send = async (method: Method, path: string, body?: unknown, signal?: AbortSignal): Promise<Response> => {
  const headers: Record<string, string> = { Accept: 'application/json' };
  const init: RequestInit = { method, headers, credentials: 'same-origin', cache: 'no-store' };
  if (signal) init.signal = signal;
  if (method !== 'GET') {
    // Always a JSON body on a change, even an empty one: the header is the CSRF defence and
    // an empty body with a JSON content type is refused by the server's parser.
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body ?? {});
  }
  let response: Response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') throw error;
    throw new ApiError(0, 'HAVEN_ERR_NETWORK', 'Haven could not be reached.');
  }
  if (!response.ok) {
    const error = await toApiError(response);
    if (error.status === 401 && error.code === 'HAVEN_ERR_UNAUTHENTICATED' && !path.startsWith('/api/auth/')) {
      onUnauthenticated?.();
    }
    throw error;
  }
  return response;
};

const request = async <T>(method: Method, path: string, body?: unknown, signal?: AbortSignal): Promise<T> => {
  const response = await send(method, path, body, signal);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
};

const query = (params: Record<string, string | number | (string | number)[] | undefined>): string => {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === '') continue;
    for (const v of Array.isArray(value) ? value : [value]) search.append(key, String(v));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
};

const id = (value: string): string => encodeURIComponent(value);

// ---- Routes ----

export const login = async (email: string, password: string, totp?: string): Promise<Me> => {
  const body: { email: string; password: string; totp?: string } = { email, password };
  if (totp) body.totp = totp;
  return (await request<{ me: Me }>('POST', '/api/auth/login', body)).me;
};

export const logout = (): Promise<void> => request<void>('POST', '/api/auth/logout', {});

export const getMe = async (signal?: AbortSignal): Promise<Me> => (await request<{ me: Me }>('GET', '/api/me', undefined, signal)).me;

export const getMeta = (signal?: AbortSignal): Promise<Meta> => request<Meta>('GET', '/api/meta', undefined, signal);

/** The queue, and whether urgent alerts about it reach anyone outside the dashboard. */
export const getQueue = async (q: IncidentQuery, signal?: AbortSignal): Promise<{ incidents: IncidentSummary[]; alertDelivery: AlertDelivery | null }> => {
  const body = await request<{ incidents: IncidentSummary[]; alertDelivery?: AlertDelivery }>(
    'GET',
    `/api/incidents${query({ status: q.status, category: q.category, schoolId: q.schoolId, yearGroup: q.yearGroup, from: q.from, to: q.to, limit: q.limit })}`,
    undefined,
    signal,
  );
  return { incidents: body.incidents, alertDelivery: body.alertDelivery ?? null };
};

export const listIncidents = async (q: IncidentQuery, signal?: AbortSignal): Promise<IncidentSummary[]> => (await getQueue(q, signal)).incidents;

export const getIncident = async (incidentId: string, signal?: AbortSignal): Promise<IncidentDetail> =>
  (await request<{ incident: IncidentDetail }>('GET', `/api/incidents/${id(incidentId)}`, undefined, signal)).incident;

export const revealEvidence = async (incidentId: string, reason: string): Promise<Evidence[]> =>
  (await request<{ evidence: Evidence[] }>('POST', `/api/incidents/${id(incidentId)}/evidence`, { reason })).evidence;

/** The export answers with a JSON attachment; this returns it as a file to save. */
export const exportIncident = async (incidentId: string, reason: string): Promise<{ blob: Blob; filename: string }> => {
  const response = await send('POST', `/api/incidents/${id(incidentId)}/export`, { reason });
  const disposition = response.headers.get('Content-Disposition') ?? '';
  const match = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition);
  let filename = `haven-incident-${incidentId}.json`;
  if (match?.[1]) {
    try {
      filename = decodeURIComponent(match[1]);
    } catch {
      filename = match[1];
    }
  }
  const blob = await response.blob();
  return { blob: blob.type ? blob : new Blob([blob], { type: 'application/json' }), filename };
};

export const acknowledgeIncident = async (incidentId: string): Promise<IncidentSummary | IncidentDetail> =>
  (await request<{ incident: IncidentSummary | IncidentDetail }>('POST', `/api/incidents/${id(incidentId)}/acknowledge`, {})).incident;

export const updateIncident = async (incidentId: string, patch: IncidentPatch): Promise<IncidentDetail> =>
  (await request<{ incident: IncidentDetail }>('PATCH', `/api/incidents/${id(incidentId)}`, patch)).incident;

export const attributeIncident = (incidentId: string, personId: string, reason?: string): Promise<AttributeResult> => {
  const body: { personId: string; reason?: string } = { personId };
  if (reason) body.reason = reason;
  return request<AttributeResult>('POST', `/api/incidents/${id(incidentId)}/attribute`, body);
};

/** Current people of a school whose name or OS user name contains `q` (at most 50). */
export const searchPeople = async (schoolId: string, q: string, signal?: AbortSignal): Promise<PersonMatch[]> =>
  (await request<{ people: PersonMatch[] }>('GET', `/api/people${query({ schoolId, q })}`, undefined, signal)).people;

export const getChronology = (schoolId: string, subject: string, signal?: AbortSignal): Promise<Chronology> =>
  request<Chronology>('GET', `/api/people/chronology${query({ schoolId, subject })}`, undefined, signal);

export const listAudit = async (limit = 200, signal?: AbortSignal): Promise<AuditEntry[]> =>
  (await request<{ entries: AuditEntry[] }>('GET', `/api/audit${query({ limit })}`, undefined, signal)).entries;

export const listDevices = async (signal?: AbortSignal): Promise<Device[]> =>
  (await request<{ devices: Device[] }>('GET', '/api/devices', undefined, signal)).devices;
