// name: mttr_by_service
// description: Mean time to recover per service for bug and incident tickets created in a window: hours from ticket created to resolved, and to the first deployment of the affected service that shipped the fixing commit or a descendant of it (PARENT path up to 30 commits).
// param: since DATETIME Tickets created at or after (UTC)
// param: until DATETIME Tickets created before (UTC)
MATCH (t:Ticket)-[:AFFECTS]->(s:Service)
WHERE t.kind IN ['bug', 'incident'] AND t.created_at >= $since AND t.created_at < $until
  AND t.resolved_at IS NOT NULL
OPTIONAL MATCH (fix:Commit)-[:FIXES]->(t)
OPTIONAL MATCH (d:Deployment)-[:OF]->(s)
WHERE d.started_at >= fix.committed_at
  AND EXISTS { MATCH (d)-[:SHIPS]->(h:Commit) MATCH SHORTEST 1 (h)-[:PARENT]->{0,30}(fix) }
WITH s, t, min(d.started_at) AS fix_deployed_at
RETURN s.name AS service, count(t) AS tickets,
       avg(duration.inSeconds(t.created_at, t.resolved_at).seconds / 3600.0)
         AS mean_hours_to_resolve,
       avg(duration.inSeconds(t.created_at, fix_deployed_at).seconds / 3600.0)
         AS mean_hours_to_fix_deployed,
       count(fix_deployed_at) AS fixes_deployed
ORDER BY service
