// Splits a server profile into buckets of "where the time goes":
//   perf script -i perf.data | node bench/perf-buckets.mjs
// Each sample goes to the first bucket (in the order below) one of whose
// frames appears anywhere in its call stack, so buckets never overlap and sum
// to 100 % of the server's CPU samples. Used by bench/profile.sh.
import { createInterface } from 'node:readline';

const BUCKETS = [
  ['sqlite checkpoint (background thread)', /Checkpointer::Run|sqlite3_wal_checkpoint/],
  ['audit group commit (background thread)', /AuditLog::Run/],
  ['ES256 signing', /SigningKeyPair::Sign|ECDSA_|ecdsa_/],
  ['ES256 verification', /VerifyAccessToken|EVP_DigestVerify|ossl_ecdsa_verify/],
  ['token issuance (claims JSON, base64url, jti)', /TokenService::Issue|SignAccessToken/],
  ['client authentication (form, Basic, secret hash)', /AuthenticateClient/],
  ['store: write transaction commit', /sqlite3BtreeCommitPhase|sqlite3PagerCommitPhase|sqlite3WalFrames/],
  ['store: load recording/conversation (reads)', /LoadRecording|LoadConversation|GetRecording|GetConversation|LoadTimeline/],
  ['store: other SQL in transactions', /sqlite3_step|sqlite3_prepare|Db::Transaction|Db::Prepare|InsertAudit|AppendTransition|LoadHead/],
  ['router (Router::Match)', /Router::Match/],
  ['request log line (Log, spdlog)', /verbatim::Log\b|verbatim::Log\(|spdlog::/],
  ['metrics (Metrics::Inc/Observe)', /Metrics::(Inc|Observe|Key)/],
  ['audit event construction (AuditEventFor)', /AuditEventFor|AuditLog::Record/],
  ['authorization (token cache, roles, decision)', /App::Authorize|TokenService::|authz::Evaluate/],
  ['error/decision response rendering', /DecisionResponse|ErrorResponse|OAuthError|App::Deny/],
  ['handler and JSON (rest of App::Handle)', /App::Handle/],
  ['HTTP write (Beast serializer + send syscalls)', /Session::Write|write_op|sendmsg/],
  ['HTTP read (recv syscalls + Beast parser)', /Session::OnRead|read_op|read_some_op|recvmsg|Session::Read/],
  ['event loop, wakeups, scheduling', /scheduler::|epoll|do_run_one|futex|schedule/],
];

const counts = new Map(BUCKETS.map(([name]) => [name, 0]));
let other = 0, total = 0, stack = [];
const flush = () => {
  if (!stack.length) return;
  total++;
  const hit = BUCKETS.find(([, re]) => stack.some((f) => re.test(f)));
  if (hit) counts.set(hit[0], counts.get(hit[0]) + 1);
  else other++;
  stack = [];
};
for await (const line of createInterface({ input: process.stdin })) {
  if (!line.trim()) flush();
  else if (/^\s/.test(line)) stack.push(line.trim());
}
flush();
const rows = [...counts.entries(), ['other (kernel, libc, unattributed)', other]]
  .filter(([, n]) => n > 0)
  .sort((a, b) => b[1] - a[1]);
for (const [name, n] of rows) console.log(`${((100 * n) / total).toFixed(1).padStart(5)} %  ${name}`);
console.log(`(${total} samples)`);
