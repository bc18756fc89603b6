// name: new_calls_since
// description: Calls whose call line was written or rewritten since a date (CALLS.since, dated from the git history): the code paths that are new since, say, the last deployment; newest first.
// param: since DATETIME Start of the window (UTC, ISO 8601)
MATCH (a:Function)-[r:CALLS]->(b:Function)
WHERE r.since >= $since
RETURN a.uid AS caller, b.uid AS callee, a.path AS path, r.line AS line, r.since AS since
ORDER BY since DESC, caller, callee
