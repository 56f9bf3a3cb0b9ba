export * from './devices';
export * from './events';
export * from './schools';
