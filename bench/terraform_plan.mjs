#!/usr/bin/env node
// How long `terraform plan` takes with N verbatim_oauth_client resources
// (default 50), each with two expected_actions, against a fresh
// `verbatim serve --dev`: the refresh (one GET per client) plus the plan-time
// checks (one effective-access and one simulator call per expected action).
//
//   VERBATIM_BIN=build/verbatim node bench/terraform_plan.mjs [clients] [runs]
//
// Prints the apply time, then each plan's wall time and the median. Uses the
// same offline installation as tests/e2e/lib/terraform.mjs.
import { startServer } from '../tests/e2e/lib/server.mjs';
import { findTerraform, workspace } from '../tests/e2e/lib/terraform.mjs';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const clients = Number(process.argv[2] ?? 50);
const runs = Number(process.argv[3] ?? 5);
const tf = findTerraform();
if (!tf) {
  console.error('terraform is not installed');
  process.exit(1);
}

const srv = await startServer();
const ws = workspace(tf, srv, null);  // the configuration is generated below
try {
  let hcl = `terraform {
  required_providers {
    verbatim = { source = "verbatim/verbatim" }
  }
}
provider "verbatim" {}
`;
  for (let i = 0; i < clients; i++) {
    hcl += `
resource "verbatim_oauth_client" "c${i}" {
  name             = "bench-client-${i}"
  scopes           = ["recording:control", "recording:read"]
  roles            = ["Recording Controller"]
  expected_actions = ["recording:recording:start", "recording:recording:view"]
}
`;
  }
  writeFileSync(join(ws.dir, 'main.tf'), hcl);
  await ws.expect(['init', '-input=false']);
  const time = async (args, code) => {
    const t0 = process.hrtime.bigint();
    await ws.expect(args, code);
    return Number(process.hrtime.bigint() - t0) / 1e6;
  };
  const applyMs = await time(['apply', '-auto-approve', '-input=false'], 0);
  console.log(`apply of ${clients} clients: ${applyMs.toFixed(0)} ms`);
  const plans = [];
  for (let i = 0; i < runs; i++) plans.push(await time(['plan', '-detailed-exitcode', '-input=false'], 0));
  plans.sort((a, b) => a - b);
  console.log(`plan of ${clients} clients (no changes): ${plans.map((p) => p.toFixed(0)).join(' ')} ms; median ${plans[Math.floor(plans.length / 2)].toFixed(0)} ms`);
  const noChecks = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    await ws.expect(['plan', '-detailed-exitcode', '-input=false'], 0, { extraEnv: { VERBATIM_ACCESS_CHECKS: 'off' } });
    noChecks.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  noChecks.sort((a, b) => a - b);
  console.log(`plan with access_checks = "off": median ${noChecks[Math.floor(noChecks.length / 2)].toFixed(0)} ms`);
  await ws.expect(['destroy', '-auto-approve', '-input=false']);
} finally {
  ws.dispose();
  await srv.dispose();
}
