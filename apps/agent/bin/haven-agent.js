#!/usr/bin/env -S node --max-semi-space-size=2
// The headless agent. The CLI is apps/agent/src/cli.ts over @haven/agent-core; this file only starts it.
// --max-semi-space-size=2: the agent allocates little once running, and V8's default young
// generation (16 MiB semi-spaces) would keep tens of MiB of memory for nothing.
require('../dist/cli')
  .run()
  .then((code) => process.exit(code));
