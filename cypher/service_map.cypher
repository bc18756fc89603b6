// name: service_map
// description: Runtime dependencies between services and resources with request counts, errors, error rate and latency.
MATCH (s:Service)-[d:DEPENDS_ON]->(t:Service|Resource)
RETURN s.uid AS source, t.uid AS target, t.name AS target_name, d.count AS requests,
       d.errors AS errors,
       CASE WHEN d.count > 0 THEN d.errors * 1.0 / d.count ELSE 0.0 END AS error_rate,
       d.p50_ms AS p50_ms, d.p95_ms AS p95_ms, d.last_seen AS last_seen
ORDER BY source, target
