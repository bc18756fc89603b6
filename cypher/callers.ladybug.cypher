// Ladybug: `* SHORTEST 1..3` (one path per caller) instead of SHORTEST 1 with a {1,3}
// quantifier; a plain `*1..3` walk enumerates every path and is slow around hub functions.
MATCH p = (caller:Function)-[:CALLS* SHORTEST 1..3]->(f:Function {uid: $uid})
WHERE length(p) <= $hops AND caller <> f
RETURN caller.uid AS uid, caller.qualname AS qualname, caller.path AS path,
       min(length(p)) AS depth
ORDER BY depth, uid
LIMIT 1000
