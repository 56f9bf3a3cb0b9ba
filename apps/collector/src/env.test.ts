import path from 'node:path';
import { readEnv } from './env';

describe('readEnv', () => {
  it('defaults to the embedded database under ./data and port 8080', () => {
    const env = readEnv({});
    expect(env.PORT).toBe(8080);
    expect(env.databaseLocation).toBe(path.resolve('data', 'pglite'));
  });

  it('treats blank variables as unset rather than as port 0 or an empty path', () => {
    const env = readEnv({ PORT: '', DATABASE_URL: '', HAVEN_DATA_DIR: '' });
    expect(env.PORT).toBe(8080);
    expect(env.databaseLocation).toBe(path.resolve('data', 'pglite'));
  });

  it('refuses a database URL that is not PostgreSQL instead of opening an empty embedded one', () => {
    expect(() => readEnv({ DATABASE_URL: 'postgress://db/haven' })).toThrow(/DATABASE_URL: must start with postgres:\/\//);
  });

  it('refuses a port out of range', () => {
    expect(() => readEnv({ PORT: '70000' })).toThrow(/PORT/);
  });
});
