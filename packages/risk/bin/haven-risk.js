#!/usr/bin/env node
// `npx haven-risk score`: JSON lines in, JSON lines out. Built by `npm install` (root prepare).
require('../dist/cli.js').run();
