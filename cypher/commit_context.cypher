// name: commit_context
// description: One commit in context: author, files and functions it modified, tickets it fixes, fixes of the bugs it introduced, and the commits whose bugs it fixes.
// param: uid STRING Commit uid (commit:<sha>)
MATCH (c:Commit {uid: $uid})
OPTIONAL MATCH (a:Person)-[:AUTHORED]->(c)
WITH c, a
OPTIONAL MATCH (c)-[:MODIFIES]->(f:File)
WITH c, a, collect(DISTINCT f.path) AS files
OPTIONAL MATCH (c)-[:MODIFIES]->(fn:Function)
WITH c, a, files, collect(DISTINCT fn.uid) AS functions
OPTIONAL MATCH (c)-[:FIXES]->(t:Ticket)
WITH c, a, files, functions, collect(DISTINCT t.uid) AS tickets_fixed
OPTIONAL MATCH (c)-[:INDUCED]->(fix:Commit)
WITH c, a, files, functions, tickets_fixed, collect(DISTINCT fix.sha) AS fixed_by
OPTIONAL MATCH (bug:Commit)-[:INDUCED]->(c)
RETURN c.sha AS sha, c.summary AS summary, c.authored_at AS authored_at,
       a.name AS author, a.email AS email, c.lines_added AS lines_added,
       c.lines_deleted AS lines_deleted, files, functions, tickets_fixed,
       fixed_by AS bugs_induced_fixed_by, collect(DISTINCT bug.sha) AS fixes_bugs_from
