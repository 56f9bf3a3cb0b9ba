export * from './credentials';
export * from './open';
export * from './schema';
