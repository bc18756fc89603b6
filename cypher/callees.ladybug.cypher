// Ladybug: `* SHORTEST 1..3` (one path per callee) instead of SHORTEST 1 with a {1,3}
// quantifier; a plain `*1..3` walk enumerates every path and is slow through hub functions.
MATCH p = (f:Function {uid: $uid})-[:CALLS* SHORTEST 1..3]->(callee:Function)
WHERE length(p) <= $hops AND callee <> f
RETURN callee.uid AS uid, callee.qualname AS qualname, callee.path AS path,
       min(length(p)) AS depth
ORDER BY depth, uid
LIMIT 1000
