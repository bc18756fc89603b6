// name: find
// description: Functions and classes by name, for when the exact uid is not known: an exact qualified name first (rank 0), then a qualified-name tail (`Client.send` finds `Client.send` in any file; rank 1), then the short name (rank 2), then a substring (rank 3); case-insensitive; code that exists at head before functions only the history knows (`gone`: deleted since), test code after the rest.
// param: name STRING A name, a qualified name or its tail (Client.send), any case
// param: limit INT Maximum rows per label (default 20)
// default: limit 20
MATCH (f:Function)
WITH f, toLower(f.qualname) AS q, toLower($name) AS s
WHERE q CONTAINS s
RETURN f.uid AS uid, 'Function' AS label, f.qualname AS qualname, f.path AS path,
       f.start_line AS line, coalesce(f.is_test, false) AS is_test,
       coalesce(f.deleted, false) AS gone,
       CASE WHEN q = s THEN 0 WHEN q ENDS WITH ('.' + s) THEN 1
            WHEN toLower(f.name) = s THEN 2 ELSE 3 END AS rank
ORDER BY gone, rank, is_test, size(qualname), uid
LIMIT $limit
UNION ALL
MATCH (c:Class)
WITH c, toLower(c.qualname) AS q, toLower($name) AS s
WHERE q CONTAINS s
RETURN c.uid AS uid, 'Class' AS label, c.qualname AS qualname, c.path AS path,
       c.start_line AS line, false AS is_test, false AS gone,
       CASE WHEN q = s THEN 0 WHEN q ENDS WITH ('.' + s) THEN 1
            WHEN toLower(c.name) = s THEN 2 ELSE 3 END AS rank
ORDER BY gone, rank, is_test, size(qualname), uid
LIMIT $limit
