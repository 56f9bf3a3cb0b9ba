// Builds the Windows installer on Linux with wixl and reads its tables back with msiinfo (msitools).
// The MSI built here holds placeholder text files instead of node.exe and the service wrapper: it is a
// test artefact (its product name says so), built only to check the tables, and is deleted afterwards.
// Nothing here installs it: Windows Installer is not available on Linux.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const BUILDER = resolve(__dirname, '../packaging/windows/build-msi.mjs');
const haveTools = ['wixl', 'wixl-heat', 'msiinfo', 'msibuild', 'msiextract'].every(
  (tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0,
);
const describeWithWixl = haveTools ? describe : describe.skip;
const suiteName = haveTools
  ? 'Windows MSI built with wixl (test build with placeholder binaries, never installed)'
  : 'Windows MSI: SKIPPED because wixl/msitools is not installed (apt-get install wixl msitools)';

type Row = Record<string, string>;

/** `msiinfo export <msi> <table>`: line 1 column names, line 2 types, line 3 table name and keys. */
function table(msi: string, name: string): Row[] {
  const lines = execFileSync('msiinfo', ['export', msi, name], { encoding: 'utf8' }).split(/\r?\n/);
  const columns = lines[0]!.split('\t');
  return lines
    .slice(3)
    .filter((l) => l.length > 0)
    .map((l) => {
      const cells = l.split('\t');
      return Object.fromEntries(columns.map((c, i) => [c, cells[i] ?? '']));
    });
}

function build(stage: string, out: string, extra: string[] = []) {
  return spawnSync(process.execPath, [BUILDER, '--stage', stage, '--out', out, '--version', '1.2.3', ...extra], {
    encoding: 'utf8',
  });
}

describeWithWixl(suiteName, () => {
  let dir: string;
  let stage: string;
  let msi: string;
  let placeholder: string;
  const stageFiles = ['bin/haven-agent.js', 'node_modules/@haven/agent-core/package.json', 'node_modules/some dep/index.js'];

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'haven-msi-test-'));
    stage = join(dir, 'stage');
    for (const f of stageFiles) {
      mkdirSync(join(stage, f, '..'), { recursive: true });
      writeFileSync(join(stage, f), `// ${f}\n`);
    }
    placeholder = join(dir, 'placeholder.exe');
    writeFileSync(placeholder, 'TEST PLACEHOLDER: not a Windows executable\n');
    msi = join(dir, 'haven-agent-TEST-placeholders.msi');
    const r = build(stage, msi, [
      '--node-exe', placeholder,
      '--service-host-exe', placeholder,
      '--service-host-config', placeholder,
      '--test-placeholders',
    ]);
    if (r.status !== 0) throw new Error(`build-msi failed: ${r.stderr}`);
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const prop = (name: string) => table(msi, 'Property').find((r) => r.Property === name)?.Value;

  test('the MSI names itself a test build and carries the version', () => {
    expect(prop('ProductName')).toBe('Haven Agent (TEST BUILD, placeholder binaries, do not install)');
    expect(prop('ProductVersion')).toBe('1.2.3');
    expect(prop('ALLUSERS')).toBe('1');
  });

  test('ENROLL_TOKEN is hidden from msiexec logs and has no default value', () => {
    expect(prop('MsiHiddenProperties')?.split(';')).toContain('ENROLL_TOKEN');
    expect(prop('ENROLL_TOKEN')).toBeUndefined();
    expect(prop('COLLECTOR_URL')).toBeUndefined();
  });

  test('the public properties are secure (passed to the elevated install), alongside the upgrade ones', () => {
    const secure = prop('SecureCustomProperties')?.split(';') ?? [];
    expect(secure).toEqual(
      expect.arrayContaining(['COLLECTOR_URL', 'ENROLL_TOKEN', 'SCHOOL_NAME', 'TRANSPARENCY_URL', 'WIX_UPGRADE_DETECTED']),
    );
  });

  test('each property is written to HKLM\\SOFTWARE\\Haven\\Agent as the value the service reads', () => {
    const reg = table(msi, 'Registry');
    const components = table(msi, 'Component');
    for (const [name, property] of [
      ['CollectorUrl', 'COLLECTOR_URL'],
      ['EnrolToken', 'ENROLL_TOKEN'],
      ['SchoolName', 'SCHOOL_NAME'],
      ['TransparencyUrl', 'TRANSPARENCY_URL'],
    ]) {
      const row = reg.find((r) => r.Name === name);
      expect(row).toMatchObject({ Root: '2', Key: 'SOFTWARE\\Haven\\Agent', Value: `[${property}]` });
      const component = components.find((c) => c.Component === row!.Component_)!;
      expect(Number(component.Attributes) & 256).toBe(256); // 64-bit registry view
      // The service deletes EnrolToken after enrolling: it must not be what marks the component installed.
      expect(component.KeyPath).not.toBe(row!.Registry);
    }
  });

  test('the session part starts at every login from the machine-wide Run key', () => {
    const run = table(msi, 'Registry').find((r) => r.Key === 'SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run');
    expect(run).toMatchObject({ Root: '2', Name: 'HavenAgentSession' });
    expect(run!.Value).toBe('"[INSTALLDIR]node.exe" --max-semi-space-size=2 "[INSTALLDIR]bin\\haven-agent.js" session');
  });

  test('the HavenAgent service: LocalSystem, automatic, started on install, stopped and removed on uninstall', () => {
    const [svc, ...others] = table(msi, 'ServiceInstall');
    expect(others).toHaveLength(0);
    expect(svc).toMatchObject({ Name: 'HavenAgent', ServiceType: '16', StartType: '2', ErrorControl: '1', StartName: 'LocalSystem' });
    // The service's image is its component's key file: the wrapper, which runs node.exe.
    const component = table(msi, 'Component').find((c) => c.Component === svc!.Component_)!;
    const keyFile = table(msi, 'File').find((f) => f.File === component.KeyPath)!;
    expect(keyFile.FileName).toBe('haven-agent-service.exe');
    const control = table(msi, 'ServiceControl').find((c) => c.Name === 'HavenAgent')!;
    const event = Number(control.Event);
    // msidbServiceControlEvent: Start 1, Stop 2 (install); Stop 32, Delete 128 (uninstall)
    expect([event & 1, event & 2, event & 32, event & 128]).toEqual([1, 2, 32, 128]);
    expect(control.Component_).toBe(svc!.Component_);
  });

  test('the files land under Program Files\\Haven Agent, with the wrapper configured to run the service', () => {
    const out = join(dir, 'extracted');
    const listed = execFileSync('msiextract', ['-C', out, msi], { encoding: 'utf8' }).split('\n').filter(Boolean);
    expect(listed.sort()).toEqual(
      [
        'Haven Agent/haven-agent-service.exe',
        'Haven Agent/haven-agent-service.exe.config',
        'Haven Agent/haven-agent-service.xml',
        'Haven Agent/node.exe',
        ...stageFiles.map((f) => `Haven Agent/${f}`),
      ].sort(),
    );
    expect(readFileSync(join(out, 'Haven Agent/bin/haven-agent.js'), 'utf8')).toBe('// bin/haven-agent.js\n');
    const dirs = table(msi, 'Directory');
    expect(dirs.find((d) => d.Directory === 'INSTALLDIR')).toMatchObject({ Directory_Parent: 'ProgramFiles64Folder', DefaultDir: 'Haven Agent' });
    const xml = readFileSync(join(out, 'Haven Agent/haven-agent-service.xml'), 'utf8');
    expect(xml).toContain('<id>HavenAgent</id>');
    expect(xml).toContain('<executable>%BASE%\\node.exe</executable>');
    expect(xml).toMatch(/<argument>%BASE%\\bin\\haven-agent\.js<\/argument>\s*<argument>service<\/argument>/);
    // Every component is in the one feature, so nothing is left out of a default install.
    const inFeature = new Set(table(msi, 'FeatureComponents').map((r) => r.Component_));
    for (const c of table(msi, 'Component')) expect(inFeature.has(c.Component!)).toBe(true);
  });

  test('values already in the registry are kept on an upgrade without properties; no collector, no install', () => {
    const seq = Object.fromEntries(table(msi, 'InstallExecuteSequence').map((r) => [r.Action, r]));
    for (const action of ['KeepCollectorUrl', 'KeepSchoolName', 'KeepTransparencyUrl']) {
      const n = Number(seq[action]!.Sequence);
      expect(n).toBeGreaterThan(Number(seq.AppSearch!.Sequence));
      expect(n).toBeLessThan(Number(seq.LaunchConditions!.Sequence));
    }
    expect(seq.KeepCollectorUrl!.Condition).toBe('NOT COLLECTOR_URL AND SAVED_COLLECTOR_URL');
    const search = table(msi, 'RegLocator').find((r) => r.Signature_ === 'FindCollectorUrl')!;
    expect(search).toMatchObject({ Root: '2', Key: 'SOFTWARE\\Haven\\Agent', Name: 'CollectorUrl' });
    expect(Number(search.Type) & 16).toBe(16); // 64-bit registry view
    expect(table(msi, 'CustomAction').find((r) => r.Action === 'KeepCollectorUrl')).toMatchObject({
      Source: 'COLLECTOR_URL',
      Target: '[SAVED_COLLECTOR_URL]',
    });
    expect(table(msi, 'LaunchCondition').map((r) => r.Condition)).toContain('Installed OR COLLECTOR_URL');
  });

  test('the builder refuses placeholder binaries unless told this is a test build', () => {
    const r = build(stage, join(dir, 'refused.msi'), [
      '--node-exe', placeholder,
      '--service-host-exe', placeholder,
      '--service-host-config', placeholder,
    ]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('is not a Windows executable');
  });

  test('the builder refuses a stage dir without bin/haven-agent.js', () => {
    const empty = join(dir, 'empty-stage');
    mkdirSync(empty);
    const r = build(empty, join(dir, 'refused.msi'), ['--node-exe', placeholder, '--test-placeholders']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('has no bin/haven-agent.js');
  });
});
