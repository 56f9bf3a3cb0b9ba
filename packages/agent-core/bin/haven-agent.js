#!/usr/bin/env node
require('../dist/cli')
  .run()
  .then((code) => process.exit(code));
