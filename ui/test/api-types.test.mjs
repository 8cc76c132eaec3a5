// The committed API types (src/api/schema.d.ts) are what the service's OpenAPI document
// generates now: a change to the API that the UI has not taken in fails here.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { generate, SCHEMA_FILE } from '../scripts/gen-types.mjs';

test('src/api/schema.d.ts is generated from the current OpenAPI document (run `npm run types`)', async () => {
  const fresh = await generate();
  const committed = readFileSync(SCHEMA_FILE, 'utf8');
  assert.ok(committed === fresh, 'src/api/schema.d.ts is stale: run `npm run types` in ui/ and commit it');
});
