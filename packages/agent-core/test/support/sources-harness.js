// Runs the window and keys sources in their own process (libuiohook reads DISPLAY from the real
// environment, which jest's sandbox does not change) and reports what they saw as JSON lines.
// A test fixture: the product never writes captured text anywhere.
const { WindowSource } = require('../../dist/sources/window/window-source');
const { KeysSource } = require('../../dist/sources/keys/keys-source');
const { toEvent } = require('../../dist/transform/to-event');

const identity = { deviceId: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b', osUser: 'pupil' };
const policy = { threshold: 3, ageBand: 'secondary' };
const say = (o) => process.stdout.write(JSON.stringify(o) + '\n');

const keys = new KeysSource({
  idleMs: 1500,
  onPhrase: (p) => {
    const { event } = toEvent({ source: 'keys', text: p.text, app: p.window.app, title: p.window.title, at: p.at }, policy, identity);
    say({ kind: 'phrase', text: p.text, title: p.window.title, event });
  },
});
const windows = new WindowSource({

  onChange: (w) => {
    keys.setWindow({ title: w ? w.title : null, app: w ? w.app : null });
    const event = w ? toEvent({ source: 'title', text: w.title, app: w.app, title: w.title, url: w.url, at: new Date() }, policy, identity).event : null;
    say({ kind: 'window', title: w ? w.title : null, app: w ? w.app : null, url: w ? w.url : undefined, event });
  },
  onError: (err) => say({ kind: 'error', message: err.message }),
});
windows.start();
keys.start();
say({ kind: 'ready' });
process.on('SIGTERM', () => {
  keys.stop();
  windows.stop();
  process.exit(0);
});
