export * from './categories';
export * from './close-codes';
export * from './limits';
export * from './messages';
export * from './parse';
export * from './uuid';
export * from './enrollment';
