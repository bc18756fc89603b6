// name: external_callers
// description: Functions that call code outside their repository (a builtin, the standard library, a package): by qualified name, `subprocess.run`, `<builtin>.eval`, or a package or module name, `requests`, for every name under it. Static calls only (Python), with how each was resolved.
// param: name STRING Qualified name (subprocess.run, <builtin>.eval) or a package or module (requests)
// param: limit INT Maximum rows (default 200)
// default: limit 200
MATCH (f:Function)-[c:CALLS_EXTERNAL]->(x:External)
WHERE x.qualname = $name OR x.qualname STARTS WITH ($name + '.')
RETURN f.uid AS uid, f.qualname AS qualname, f.path AS path, x.qualname AS callee,
       c.resolution AS resolution, c.confidence AS confidence, c.line AS line
ORDER BY callee, path, qualname
LIMIT $limit
