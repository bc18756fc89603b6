// name: hotspots_churn
// description: Most modified files and functions in a time window: commits touching each and lines added plus deleted.
// param: since DATETIME Start of the window (UTC, inclusive)
// param: until DATETIME End of the window (UTC, exclusive)
// param: limit INT Rows to return (default 20)
// default: limit 20
MATCH (c:Commit)-[m:MODIFIES]->(x:File|Function)
WHERE c.authored_at >= $since AND c.authored_at < $until
WITH x, count(DISTINCT c) AS commits, sum(m.lines_added + m.lines_deleted) AS lines_changed
RETURN x.uid AS uid, CASE WHEN x.uid STARTS WITH 'fn:' THEN 'Function' ELSE 'File' END AS kind,
       x.path AS path, commits, lines_changed
ORDER BY commits DESC, lines_changed DESC, uid
LIMIT $limit
