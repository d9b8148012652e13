// make bench peer: oidc-provider (npm) as a client_credentials token endpoint
// issuing ES256 JWT access tokens (RFC 9068, through its resource-indicators
// feature), one Node.js process. docs/performance.md "Peers".
//
//   node bench/peers/oidc/server.mjs --client CLIENT_JSON --port-file FILE [--listen 127.0.0.1:0]
//
// CLIENT_JSON: {"clientId","clientSecret","scope"}: the same credentials and
// scopes as verbatim's bench client, so the load generator sends both servers
// byte-identical requests (POST /oauth/token, HTTP Basic, the same form body).
// Prints the bound port on stdout and writes it to FILE once listening.
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

import Provider from 'oidc-provider';

const { values: args } = parseArgs({
  options: { client: { type: 'string' }, 'port-file': { type: 'string' }, listen: { type: 'string', default: '127.0.0.1:0' } },
});
if (!args.client || !args['port-file']) {
  console.error('usage: node bench/peers/oidc/server.mjs --client CLIENT_JSON --port-file FILE [--listen HOST:PORT]');
  process.exit(1);
}
const client = JSON.parse(readFileSync(args.client, 'utf8'));
const [host, port] = [args.listen.slice(0, args.listen.lastIndexOf(':')), Number(args.listen.slice(args.listen.lastIndexOf(':') + 1))];

const server = createServer();
server.keepAliveTimeout = 60_000;  // as verbatim's idle timeout: the load generator keeps its connections
await new Promise((resolve) => server.listen(port, host, resolve));
const issuer = `http://${host}:${server.address().port}`;
const audience = `${issuer}/api`;

// A fresh P-256 key, as verbatim creates one on first start.
const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const jwk = { ...privateKey.export({ format: 'jwk' }), use: 'sig', alg: 'ES256', kid: 'bench-es256' };

const provider = new Provider(issuer, {
  clients: [{
    client_id: client.clientId,
    client_secret: client.clientSecret,
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: 'ES256',  // the only key is P-256 (the default is RS256)
    scope: client.scope,
  }],
  jwks: { keys: [jwk] },
  scopes: client.scope.split(' '),
  routes: { token: '/oauth/token' },
  ttl: { ClientCredentials: 3600 },  // as verbatim's default token lifetime
  features: {
    clientCredentials: { enabled: true },
    devInteractions: { enabled: false },
    resourceIndicators: {
      enabled: true,
      // No resource parameter in the request (verbatim needs none): every
      // token is for the one API, as a JWT signed with ES256.
      defaultResource: () => audience,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope: client.scope,
        audience,
        accessTokenFormat: 'jwt',
        accessTokenTTL: 3600,
        jwt: { sign: { alg: 'ES256' } },
      }),
    },
  },
});
provider.on('server_error', (_ctx, err) => console.error('oidc-provider server_error:', err));
server.on('request', provider.callback());

const portFile = args['port-file'];
writeFileSync(`${portFile}.tmp`, `${server.address().port}\n`);
renameSync(`${portFile}.tmp`, portFile);
console.log(server.address().port);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => server.close(() => process.exit(0)));
