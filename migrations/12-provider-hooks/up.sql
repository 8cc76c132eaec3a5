-- PLACEHOLDER on branch prov-upstream only: the hooks part (branch prov-hooks) owns migration 12.
-- Migration ids must be consecutive, so 13-upstream needs a 12 to exist here; at the merge
-- this file is replaced by prov-hooks' own 12-provider-hooks/up.sql.
SELECT 1;
