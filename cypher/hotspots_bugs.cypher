// name: hotspots_bugs
// description: Most bug-linked files and functions: modified by bug-introducing commits (those that INDUCED a fix) plus mentioned by bug or incident tickets.
// param: limit INT Rows to return (default 20)
// default: limit 20
MATCH (x:File|Function)
OPTIONAL MATCH (b:Commit)-[:MODIFIES]->(x)
WHERE EXISTS { MATCH (b)-[:INDUCED]->(:Commit) }
WITH x, count(DISTINCT b) AS bug_commits
OPTIONAL MATCH (t:Ticket)-[:MENTIONS]->(x)
WHERE t.kind IN ['bug', 'incident']
WITH x, bug_commits, count(DISTINCT t) AS bug_tickets
WHERE bug_commits + bug_tickets > 0
RETURN x.uid AS uid, CASE WHEN x.uid STARTS WITH 'fn:' THEN 'Function' ELSE 'File' END AS kind,
       x.path AS path, bug_commits, bug_tickets, bug_commits + bug_tickets AS score
ORDER BY score DESC, uid
LIMIT $limit
