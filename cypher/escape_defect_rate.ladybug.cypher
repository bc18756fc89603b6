// Ladybug: to_days($days) instead of duration({days: $days}).
MATCH (d:Deployment)-[:OF]->(s:Service)
WHERE d.started_at >= $since AND d.started_at < $until
OPTIONAL MATCH (t:Ticket)-[:AFFECTS]->(s)
WHERE t.kind IN ['bug', 'incident'] AND t.created_at >= d.started_at
  AND t.created_at < d.started_at + to_days($days)
WITH s, d, count(t) AS tickets
RETURN s.name AS service, count(d) AS deployments,
       count(CASE WHEN tickets > 0 THEN d.uid END) AS escaped,
       count(CASE WHEN tickets > 0 THEN d.uid END) * 1.0 / count(d) AS escape_rate
ORDER BY service
