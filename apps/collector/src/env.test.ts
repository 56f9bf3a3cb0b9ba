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

  it('trusts a number of proxy hops or listed proxies, never any X-Forwarded-For', () => {
    expect(readEnv({}).HAVEN_TRUST_PROXY).toBe(false);
    expect(readEnv({ HAVEN_TRUST_PROXY: '1' }).HAVEN_TRUST_PROXY).toBe(1);
    expect(readEnv({ HAVEN_TRUST_PROXY: '127.0.0.1, 10.0.0.0/8, ::1, loopback' }).HAVEN_TRUST_PROXY).toEqual(['127.0.0.1', '10.0.0.0/8', '::1', 'loopback']);
    expect(() => readEnv({ HAVEN_TRUST_PROXY: 'true' })).toThrow(/HAVEN_TRUST_PROXY: true would believe any X-Forwarded-For/);
    expect(() => readEnv({ HAVEN_TRUST_PROXY: 'proxy.school.example' })).toThrow(/HAVEN_TRUST_PROXY: "proxy.school.example" is not an address/);
    expect(() => readEnv({ HAVEN_TRUST_PROXY: '10.0.0.0/40' })).toThrow(/HAVEN_TRUST_PROXY/);
  });

  it('reads the secret key from HAVEN_SECRET_KEY or a file, and refuses one of the wrong size', () => {
    const hex = 'ab'.repeat(32);
    expect(readEnv({ HAVEN_SECRET_KEY: hex }).secretKey).toEqual(Buffer.from(hex, 'hex'));
    const base64 = Buffer.alloc(32, 3).toString('base64');
    expect(readEnv({ HAVEN_SECRET_KEY: base64 }).secretKey).toEqual(Buffer.alloc(32, 3));
    expect(readEnv({ HAVEN_SECRET_KEY_FILE: '/etc/haven/secret.key' }, () => `${base64}\n`).secretKey).toEqual(Buffer.alloc(32, 3));
    expect(readEnv({}).secretKey).toBeUndefined();
    expect(() => readEnv({ HAVEN_SECRET_KEY: 'too short' })).toThrow(/HAVEN_SECRET_KEY: must be 32 bytes/);
    expect(() => readEnv({ HAVEN_SECRET_KEY: hex, HAVEN_SECRET_KEY_FILE: '/x' })).toThrow(/not both/);
    const missing = () => {
      throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
    };
    expect(() => readEnv({ HAVEN_SECRET_KEY_FILE: '/nowhere' }, missing)).toThrow(/HAVEN_SECRET_KEY_FILE: cannot read \/nowhere \(ENOENT\)/);
  });
});
