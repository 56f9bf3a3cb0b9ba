#!/usr/bin/env -S node --max-semi-space-size=2
// The headless agent. All logic is in @haven/agent-core; this file only starts it.
// --max-semi-space-size=2: the agent allocates little once running, and V8's default young
// generation (16 MiB semi-spaces) would keep tens of MiB of memory for nothing.
require('@haven/agent-core/dist/cli')
  .run()
  .then((code) => process.exit(code));
