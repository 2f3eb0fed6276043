// The CSP hook's policy (node --test; tools/test.sh runs it): connect-src names the
// provider and config.json's api_origins, normalized and once each; form-action the
// provider only; api_origins the app would refuse are refused here too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { apiOrigins, withPolicy } from './csp.mjs';

const page = '<meta http-equiv="Content-Security-Policy" content=""><script type="module">x</script>';
const policyOf = (config) => {
  const html = withPolicy(page, JSON.stringify(config));
  return Object.fromEntries(html.match(/content="([^"]*)"/)[1].split('; ').map((d) => [d.split(' ')[0], d]));
};

test('connect-src names the provider and the API origins; form-action the provider only', () => {
  const policy = policyOf({ issuer: 'https://id.example/tenant', api_origins: ['https://API.example:443/', 'https://id.example'] });
  assert.equal(policy['connect-src'], "connect-src 'self' https://id.example https://api.example");
  assert.equal(policy['form-action'], "form-action 'self' https://id.example");
  assert.equal(policyOf({ issuer: 'https://id.example' })['connect-src'], "connect-src 'self' https://id.example");
});

test('api_origins the app would refuse stop the build', () => {
  for (const origins of [['https://api.example/v1'], ['http://api.example'], ['https://u@api.example'], 'https://api.example']) {
    assert.throws(() => apiOrigins(JSON.stringify({ issuer: 'https://id.example', api_origins: origins })), /api_origins/, JSON.stringify(origins));
  }
  assert.deepEqual(apiOrigins(JSON.stringify({ api_origins: ['http://127.0.0.1:9200'] })), ['http://127.0.0.1:9200']);
});
