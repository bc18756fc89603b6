// Ladybug: to_days($days) instead of duration({days: $days}).
MATCH (d:Deployment)-[:OF]->(s:Service)
WHERE d.started_at >= $since AND d.started_at < $until
OPTIONAL MATCH (t:Ticket)-[:AFFECTS]->(s)
WHERE t.kind IN ['bug', 'incident'] AND t.created_at >= d.started_at
  AND t.created_at < d.started_at + to_days($days)
WITH s, d, collect(DISTINCT t.uid) AS tickets
RETURN d.uid AS uid, s.name AS service, d.version AS version, d.started_at AS started_at,
       size(tickets) > 0 AS escaped, tickets
ORDER BY started_at DESC, uid
