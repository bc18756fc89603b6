// name: repeat_errors
// description: Error signatures seen again after their fix shipped: a ticket reporting the error was fixed by a commit, the first deployment of a service the error is seen in that shipped that commit (or a descendant) started before the error was last seen.
MATCH (e:ErrorSignature)<-[:REPORTS]-(t:Ticket)<-[:FIXES]-(fix:Commit)
MATCH (e)-[:SEEN_IN]->(s:Service)<-[:OF]-(d:Deployment)-[:SHIPS]->(head:Commit)
WHERE d.started_at >= fix.committed_at
MATCH SHORTEST 1 (head)-[:PARENT]->{0,30}(fix)
WITH e, t, fix, min(d.started_at) AS fix_deployed_at
WHERE e.last_seen > fix_deployed_at
RETURN e.uid AS uid, e.type AS type, e.message_template AS message, t.uid AS ticket,
       fix.sha AS fix_sha, fix_deployed_at, e.last_seen AS last_seen
ORDER BY last_seen DESC, uid, ticket
