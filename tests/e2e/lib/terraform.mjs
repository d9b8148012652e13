// Drives the real `terraform` binary against terraform-provider-verbatim and a
// live `verbatim serve`: one temporary working directory per scenario with its
// own HOME, TF_DATA_DIR and CLI configuration. The CLI configuration installs
// the provider the way docs/terraform/index.md tells users to, offline:
// dev_overrides runs the freshly built binary for plan/apply, and a
// filesystem_mirror holding it lets `terraform init` succeed without a registry.
import { execFile, execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { arch } from 'node:process';
import { BIN, tempDir } from './server.mjs';

const FIXTURES = new URL('../terraform/', import.meta.url).pathname;

/** Absolute path of `terraform` (TERRAFORM_BIN, else the PATH), or null. */
export function findTerraform() {
  if (process.env.TERRAFORM_BIN) return existsSync(process.env.TERRAFORM_BIN) ? process.env.TERRAFORM_BIN : null;
  for (const d of (process.env.PATH ?? '').split(delimiter)) {
    const p = join(d, 'terraform');
    if (d && existsSync(p)) return p;
  }
  return null;
}

/** The provider binary: next to VERBATIM_BIN (both are built into build/), or TF_PROVIDER_BIN. */
/** The version `verbatim --version` prints (project(VERSION) of CMakeLists.txt). */
function verbatimVersion() {
  return execFileSync(BIN, ['--version'], { encoding: 'utf8' }).trim().split(' ')[1];
}

export function providerBin() {
  return process.env.TF_PROVIDER_BIN ?? (BIN ? join(dirname(BIN), 'terraform-provider-verbatim') : null);
}

/**
 * What the suite does without terraform: skip with a reason, except under CI,
 * where a missing terraform must fail rather than pass silently.
 */
export function terraformAvailability() {
  const tf = findTerraform();
  if (tf) return { tf, skip: false };
  const why = 'terraform is not installed (not on PATH, TERRAFORM_BIN unset)';
  if (process.env.CI === 'true') return { tf: null, skip: false, fail: `${why}; CI=true requires it` };
  return { tf: null, skip: `${why}: skipping the Terraform provider tests` };
}

function goArch() {
  return { x64: 'amd64', arm64: 'arm64', ia32: '386', arm: 'arm' }[arch] ?? arch;
}

/**
 * A working directory holding the fixture `name` (tests/e2e/terraform/<name>,
 * or an absolute path; null: an empty directory),
 * configured for `srv` through VERBATIM_ENDPOINT / _CLIENT_ID / _CLIENT_SECRET
 * (the dev admin client).
 */
export function workspace(tf, srv, name) {
  const root = tempDir('verbatim-tf-');
  const dir = join(root, 'work');
  if (name) cpSync(name.startsWith('/') ? name : join(FIXTURES, name), dir, { recursive: true });
  else mkdirSync(dir);
  const provider = providerBin();
  if (!provider || !existsSync(provider)) throw new Error(`terraform-provider-verbatim not found at ${provider}: build it (ninja -C build terraform-provider-verbatim)`);
  const mirror = join(root, 'mirror', 'registry.terraform.io', 'verbatim', 'verbatim', verbatimVersion(), `linux_${goArch()}`);
  mkdirSync(mirror, { recursive: true });
  symlinkSync(provider, join(mirror, 'terraform-provider-verbatim'));
  const cli = join(root, 'cli.tfrc');
  writeFileSync(cli, `provider_installation {
  dev_overrides {
    "verbatim/verbatim" = ${JSON.stringify(dirname(provider))}
  }
  filesystem_mirror {
    path    = ${JSON.stringify(join(root, 'mirror'))}
    include = ["registry.terraform.io/verbatim/verbatim"]
  }
}
`);
  mkdirSync(join(root, 'home'));
  const env = {
    PATH: process.env.PATH,
    HOME: join(root, 'home'),
    TMPDIR: process.env.TMPDIR ?? '/tmp',
    TF_CLI_CONFIG_FILE: cli,
    TF_DATA_DIR: join(root, 'tfdata'),
    CHECKPOINT_DISABLE: '1',
    TF_IN_AUTOMATION: '1',
    TF_INPUT: '0',
    VERBATIM_ENDPOINT: srv.url,
    VERBATIM_CLIENT_ID: srv.creds.admin.clientId,
    VERBATIM_CLIENT_SECRET: srv.creds.admin.clientSecret,
  };
  const ws = {
    dir,
    runs: [],
    /** Runs terraform; resolves {code, stdout, stderr} whatever the exit code. `extraEnv` adds variables. */
    run(args, { timeoutMs = 60_000, extraEnv = {} } = {}) {
      return new Promise((resolve) => {
        execFile(tf, ['-chdir=' + dir, args[0], '-no-color', ...args.slice(1)],
          { env: { ...env, ...extraEnv }, timeout: timeoutMs, maxBuffer: 32 << 20 }, (err, stdout, stderr) => {
            const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
            const r = { args, code, stdout, stderr };
            ws.runs.push(r);
            resolve(r);
          });
      });
    },
    /** Like run(), but the exit code must be `code` (default 0). */
    async expect(args, code = 0, opts = {}) {
      const r = await ws.run(args, opts);
      if (r.code !== code) {
        throw new Error(`terraform ${args.join(' ')} exited ${r.code}, expected ${code}\n--- stdout ---\n${r.stdout.slice(-6000)}\n--- stderr ---\n${r.stderr.slice(-6000)}`);
      }
      return r;
    },
    read(file) { return readFileSync(join(dir, file), 'utf8'); },
    write(file, text) { writeFileSync(join(dir, file), text); },
    /** `terraform show -json <planfile>`: resource_changes of managed resources as {address: actions}. */
    async changes(planFile) {
      const r = await ws.expect(['show', '-json', planFile]);
      const plan = JSON.parse(r.stdout);
      const out = {};
      for (const c of plan.resource_changes ?? []) if (c.mode === 'managed') out[c.address] = c;
      return out;
    },
    async outputs() {
      return JSON.parse((await ws.expect(['output', '-json'])).stdout);
    },
    /** The log of every run so far, for failure messages. */
    log() {
      return ws.runs.map((r) => `$ terraform ${r.args.join(' ')}  (exit ${r.code})\n${r.stdout.slice(-3000)}${r.stderr.slice(-3000)}`).join('\n');
    },
    dispose() { if (!process.env.VERBATIM_E2E_KEEP) rmSync(root, { recursive: true, force: true }); },
  };
  return ws;
}
