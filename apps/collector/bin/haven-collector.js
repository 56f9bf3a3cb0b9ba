#!/usr/bin/env node
// `npx haven-collector …`: a committed file, so npm links the bin at install time (a bin that
// points into dist/ does not exist yet when npm links bins, and npx then asks the public
// registry for a package of that name instead). The code is built by `npm install` (root prepare).
const path = require('node:path');
const { existsSync } = require('node:fs');

const built = path.join(__dirname, '..', 'dist', 'cli.js');
if (!existsSync(built)) {
  process.stderr.write('haven-collector: the collector is not built yet; run `npm run build` in the repository first.\n');
  process.exit(1);
}
require(built);
