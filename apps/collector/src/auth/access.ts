import type { Role } from '@haven/db';

export type Principal = {
  staffId: string;
  email: string;
  displayName: string;
  totpEnabled: boolean;
  roles: { schoolId: string; schoolName: string; role: Role }[];
};

/** Where a role may read incidents: the DSL's route, and the head's too for the head teacher. */
export type IncidentScope = { schoolId: string; routes: Array<'dsl' | 'head'> };

const INCIDENT_ROUTES: Partial<Record<Role, Array<'dsl' | 'head'>>> = {
  dsl: ['dsl'],
  deputy_dsl: ['dsl'],
  head: ['dsl', 'head'],
};

export function incidentScopes(p: Principal): IncidentScope[] {
  const bySchool = new Map<string, Set<'dsl' | 'head'>>();
  for (const { schoolId, role } of p.roles) {
    for (const route of INCIDENT_ROUTES[role] ?? []) {
      const set = bySchool.get(schoolId) ?? new Set();
      set.add(route);
      bySchool.set(schoolId, set);
    }
  }
  return [...bySchool].map(([schoolId, routes]) => ({ schoolId, routes: [...routes] }));
}

export function canSeeIncident(p: Principal, incident: { schoolId: string; routedTo: 'dsl' | 'head' }): boolean {
  return incidentScopes(p).some((s) => s.schoolId === incident.schoolId && s.routes.includes(incident.routedTo));
}

/** Schools whose audit log the user may read: the head's and the trust admin's. */
export function auditSchools(p: Principal): string[] {
  return [...new Set(p.roles.filter((r) => r.role === 'head' || r.role === 'trust_admin').map((r) => r.schoolId))];
}

/** Every role sees the school's devices and their health, which carry no captured content. */
export function deviceSchools(p: Principal): string[] {
  return [...new Set(p.roles.map((r) => r.schoolId))];
}

export function capabilities(p: Principal): { incidents: boolean; audit: boolean; devices: boolean } {
  return { incidents: incidentScopes(p).length > 0, audit: auditSchools(p).length > 0, devices: deviceSchools(p).length > 0 };
}
