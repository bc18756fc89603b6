// Ladybug: a variable-length match seeded through UNWIND scans every function, and `*`
// walks enumerate every path around hubs, so: `IN $uids` seeds, `* SHORTEST 1..3` (its
// lower bound must be 1), and the changed functions themselves added at depth 0 by list.
MATCH (changed:Function) WHERE changed.uid IN $uids
OPTIONAL MATCH p = (caller:Function)-[:CALLS* SHORTEST 1..3]->(changed)
WITH collect(DISTINCT {uid: changed.uid, depth: 0}) AS seeds,
     collect({uid: caller.uid, depth: length(p)}) AS reached
UNWIND list_concat(seeds, reached) AS hit
WITH hit WHERE hit.uid IS NOT NULL
WITH hit.uid AS uid, min(hit.depth) AS depth
ORDER BY depth, uid
LIMIT 500
MATCH (f:Function {uid: uid})
OPTIONAL MATCH (op:Operation)-[:IMPLEMENTED_BY]->(f)
OPTIONAL MATCH (svc:Service)-[:EXPOSES]->(op)
RETURN f.uid AS uid, f.qualname AS qualname, f.path AS path, depth,
       collect(DISTINCT op.uid) AS operations, collect(DISTINCT svc.uid) AS services
ORDER BY depth, uid
