// name: blast_radius
// description: What a change can break: functions that reach the changed functions through reverse CALLS (up to 3 hops; depth 0 is a changed function), with the operations implemented by them and the services exposing those operations. At most 500 functions, nearest first; module-level code and class bodies appear as the functions `<module>` and `Class.<body>`.
// param: uids LIST<STRING> Changed Function uids (comma separated on the command line)
UNWIND $uids AS changed_uid
MATCH (changed:Function {uid: changed_uid})
MATCH p = SHORTEST 1 (f:Function)-[:CALLS]->{0,3}(changed)
WITH f, min(length(p)) AS depth
ORDER BY depth, f.uid
LIMIT 500
OPTIONAL MATCH (op:Operation)-[:IMPLEMENTED_BY]->(f)
OPTIONAL MATCH (svc:Service)-[:EXPOSES]->(op)
RETURN f.uid AS uid, f.qualname AS qualname, f.path AS path, depth,
       collect(DISTINCT op.uid) AS operations, collect(DISTINCT svc.uid) AS services
ORDER BY depth, uid
