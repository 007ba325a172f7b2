-- xtrace schema, version 5: what each correlated request was. The task that submitted it, its
-- device and direction, and how its block I/O went (bios, block requests, bytes), so that SQL can
-- see what request filters (`--filter`) and `--group-by` see, and why a request was counted.
-- Column comments are /* */ comments inside the statement (see 004_counter_stage.sql).

ALTER TABLE requests ADD COLUMN comm TEXT /* task name of the event that opened the request (the submitting task) */;
ALTER TABLE requests ADD COLUMN pid INTEGER /* its thread id */;
ALTER TABLE requests ADD COLUMN tgid INTEGER /* its process id, when the trace records it (record-tgid) */;
ALTER TABLE requests ADD COLUMN dev TEXT /* block device, major,minor (254,0), when the profile has block points */;
ALTER TABLE requests ADD COLUMN op TEXT /* direction from its rwbs: R read, W write, D discard, F flush */;
ALTER TABLE requests ADD COLUMN labels TEXT /* JSON object of the fields the profile labels (opcode, op, domid ...), NULL when it labels none */;
ALTER TABLE requests ADD COLUMN bios INTEGER /* bios its I/O was queued as (splits included); 0 without block points */;
ALTER TABLE requests ADD COLUMN block_requests INTEGER /* block requests they became (a bio merged into another request adds none) */;
ALTER TABLE requests ADD COLUMN bytes INTEGER /* bytes of its bios, NULL when unknown */;
ALTER TABLE requests ADD COLUMN filtered INTEGER NOT NULL DEFAULT 0 /* 1 when a --filter of the report left it out */;
