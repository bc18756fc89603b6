// name: escaped_deployments
// description: Per deployment started in a window: the bug or incident tickets affecting its service created within $days days after it (escaped defects), newest deployment first.
// param: since DATETIME Deployments started at or after (UTC)
// param: until DATETIME Deployments started before (UTC)
// param: days INT Days after a deployment in which a ticket counts against it (default 7)
// default: days 7
MATCH (d:Deployment)-[:OF]->(s:Service)
WHERE d.started_at >= $since AND d.started_at < $until
OPTIONAL MATCH (t:Ticket)-[:AFFECTS]->(s)
WHERE t.kind IN ['bug', 'incident'] AND t.created_at >= d.started_at
  AND t.created_at < d.started_at + duration({days: $days})
WITH s, d, collect(DISTINCT t.uid) AS tickets
RETURN d.uid AS uid, s.name AS service, d.version AS version, d.started_at AS started_at,
       size(tickets) > 0 AS escaped, tickets
ORDER BY started_at DESC, uid
