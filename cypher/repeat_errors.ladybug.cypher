// Ladybug: `* SHORTEST 1..30` (one path per commit; a plain variable-length walk enumerates
// every path, exponential over merge commits), with the shipped commit itself tested apart.
MATCH (e:ErrorSignature)<-[:REPORTS]-(t:Ticket)<-[:FIXES]-(fix:Commit)
MATCH (e)-[:SEEN_IN]->(s:Service)<-[:OF]-(d:Deployment)-[:SHIPS]->(head:Commit)
WHERE d.started_at >= fix.committed_at
  AND (head.uid = fix.uid OR EXISTS { MATCH (head)-[:PARENT* SHORTEST 1..30]->(fix) })
WITH e, t, fix, min(d.started_at) AS fix_deployed_at
WHERE e.last_seen > fix_deployed_at
RETURN e.uid AS uid, e.type AS type, e.message_template AS message, t.uid AS ticket,
       fix.sha AS fix_sha, fix_deployed_at, e.last_seen AS last_seen
ORDER BY last_seen DESC, uid, ticket
