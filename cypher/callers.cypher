// name: callers
// description: Functions that call the given function, up to $hops levels (1-3), each with the shortest depth at which it is reached. Code outside functions calls as `<module>` (a file's module-level code) or `Class.<body>`.
// param: uid STRING Function uid (fn:<repo>:<path>:<qualname>)
// param: hops INT Maximum depth, 1 to 3 (default 1)
// default: hops 1
MATCH p = SHORTEST 1 (caller:Function)-[:CALLS]->{1,3}(f:Function {uid: $uid})
WHERE length(p) <= $hops AND caller <> f
RETURN caller.uid AS uid, caller.qualname AS qualname, caller.path AS path,
       min(length(p)) AS depth
ORDER BY depth, uid
LIMIT 1000
