// Runs the collector from its TypeScript source in a child process, the way jest runs it in
// tests (@swc/core, and @haven/* resolved to their src), so a child-process test never runs a
// stale build:  node -r ./test/support/register-ts.cjs src/server.ts
const fs = require('node:fs');
const Module = require('node:module');
const path = require('node:path');
const { transformSync } = require('@swc/core');

const root = path.resolve(__dirname, '..', '..', '..', '..');
const SOURCES = {
  '@haven/protocol': 'packages/protocol/src/index.ts',
  '@haven/db': 'packages/db/src/index.ts',
  '@haven/risk': 'packages/risk/src/index.ts',
  '@haven/agent-core': 'packages/agent-core/src/index.ts',
};

const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, parent, ...rest) {
  const mapped = SOURCES[request];
  if (mapped) return path.join(root, mapped);
  try {
    return resolve.call(this, request, parent, ...rest);
  } catch (err) {
    // TypeScript source imports './x' for './x.ts' (or './x/index.ts').
    if (request.startsWith('.') && parent && parent.filename && parent.filename.endsWith('.ts')) {
      for (const suffix of ['.ts', '/index.ts']) {
        const file = path.resolve(path.dirname(parent.filename), request + suffix);
        if (fs.existsSync(file)) return file;
      }
    }
    throw err;
  }
};

Module._extensions['.ts'] = function (module, filename) {
  const { code } = transformSync(fs.readFileSync(filename, 'utf8'), {
    filename,
    jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
    module: { type: 'commonjs' },
    sourceMaps: 'inline',
  });
  module._compile(code, filename);
};
