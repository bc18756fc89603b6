// name: changes_since
// description: What changed in a file or function since a date (by default its whole history): each commit with its author and the lines it added and deleted there, newest first.
// param: uid STRING File or Function uid (file:<repo>:<path> or fn:<repo>:<path>:<qualname>)
// param: since DATETIME Start of the window (UTC, ISO 8601); default the whole history
// param: limit INT Rows to return, newest first (default 50)
// default: since null
// default: limit 50
MATCH (c:Commit)-[m:MODIFIES]->(x:File|Function {uid: $uid})
WHERE c.authored_at >= coalesce($since, c.authored_at)
OPTIONAL MATCH (a:Person)-[:AUTHORED]->(c)
RETURN c.sha AS sha, c.summary AS summary, c.authored_at AS authored_at,
       a.name AS author, a.email AS email,
       m.lines_added AS lines_added, m.lines_deleted AS lines_deleted, m.change AS change
ORDER BY authored_at DESC, sha
LIMIT $limit
