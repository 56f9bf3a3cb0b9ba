export * from './devices';
export * from './events';
export * from './people';
export * from './schools';
export * from './staff';
export * from './triage';
