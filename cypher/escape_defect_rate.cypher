// name: escape_defect_rate
// description: Escaped defects per service: share of deployments started in a window that were followed within $days days by a bug or incident ticket affecting the service.
// param: since DATETIME Deployments started at or after (UTC)
// param: until DATETIME Deployments started before (UTC)
// param: days INT Days after a deployment in which a ticket counts against it (default 7)
// default: days 7
MATCH (d:Deployment)-[:OF]->(s:Service)
WHERE d.started_at >= $since AND d.started_at < $until
OPTIONAL MATCH (t:Ticket)-[:AFFECTS]->(s)
WHERE t.kind IN ['bug', 'incident'] AND t.created_at >= d.started_at
  AND t.created_at < d.started_at + duration({days: $days})
WITH s, d, count(t) AS tickets
RETURN s.name AS service, count(d) AS deployments,
       count(CASE WHEN tickets > 0 THEN d.uid END) AS escaped,
       count(CASE WHEN tickets > 0 THEN d.uid END) * 1.0 / count(d) AS escape_rate
ORDER BY service
