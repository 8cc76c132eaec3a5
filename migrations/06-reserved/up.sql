-- Reserved for another part of issue 12, whose migration 06 replaces this file when the parts
-- are merged. Migration numbers must be consecutive, so this branch needs a 06 to apply its 07.
SELECT 1;
