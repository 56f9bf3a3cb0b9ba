export * from './credentials';
export * from './errors';
export * from './open';
export * from './schema';
