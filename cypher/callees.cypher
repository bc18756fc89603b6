// name: callees
// description: Functions the given function calls, up to $hops levels (1-3), each with the shortest depth at which it is reached.
// param: uid STRING Function uid (fn:<repo>:<path>:<qualname>)
// param: hops INT Maximum depth, 1 to 3 (default 1)
// default: hops 1
MATCH p = SHORTEST 1 (f:Function {uid: $uid})-[:CALLS]->{1,3}(callee:Function)
WHERE length(p) <= $hops AND callee <> f
RETURN callee.uid AS uid, callee.qualname AS qualname, callee.path AS path,
       min(length(p)) AS depth
ORDER BY depth, uid
LIMIT 1000
