#!/usr/bin/env node
// The headless agent. All logic is in @haven/agent-core; this file only starts it.
require('@haven/agent-core/dist/cli')
  .run()
  .then((code) => process.exit(code));
