-- xtrace schema, version 5: what each correlated request was. The task that submitted it, its
-- device and direction (one row of request_tasks per distinct combination: consecutive requests
-- mostly share them, and a narrow requests row keeps storing fast), and how its block I/O went
-- (bios, block requests, bytes), so that SQL sees what request filters (`--filter`) and
-- `--group-by` see, and why a request was counted.
-- Column comments are /* */ comments inside the statement (see 004_counter_stage.sql).

CREATE TABLE request_tasks (      -- who submitted requests of a correlation, on which device, in which direction
  id             INTEGER PRIMARY KEY, -- requests.task_id
  correlation_id INTEGER NOT NULL REFERENCES correlations(id) ON DELETE CASCADE, -- correlations.id
  comm           TEXT,              -- task name of the event that opened the request (the submitting task)
  pid            INTEGER,           -- its thread id
  tgid           INTEGER,           -- its process id, when the trace records it (record-tgid)
  dev            TEXT,              -- block device, major,minor (254,0), when the profile has block points
  op             TEXT,              -- direction from the rwbs: R read, W write, D discard, F flush
  labels         TEXT               -- JSON object of the fields the profile labels (opcode, op, domid ...), NULL when it labels none
);

ALTER TABLE requests ADD COLUMN task_id INTEGER /* request_tasks.id: the submitting task, device, direction */;
ALTER TABLE requests ADD COLUMN bios INTEGER /* bios its I/O was queued as (splits included); 0 without block points */;
ALTER TABLE requests ADD COLUMN block_requests INTEGER /* block requests they became (a bio merged into another request adds none) */;
ALTER TABLE requests ADD COLUMN bytes INTEGER /* bytes of its bios, NULL when unknown */;
ALTER TABLE requests ADD COLUMN filtered INTEGER NOT NULL DEFAULT 0 /* 1 when a --filter of the report left it out */;
