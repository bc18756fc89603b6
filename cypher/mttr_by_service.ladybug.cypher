// Ladybug: no duration.inSeconds(), so hours come from to_epoch_ms() differences; no
// SHORTEST 1 {0,30} quantifier, so the shipped commit itself is tested apart from its
// ancestors (`* SHORTEST` finds one path per commit instead of enumerating every walk).
MATCH (t:Ticket)-[:AFFECTS]->(s:Service)
WHERE t.kind IN ['bug', 'incident'] AND t.created_at >= $since AND t.created_at < $until
  AND t.resolved_at IS NOT NULL
OPTIONAL MATCH (fix:Commit)-[:FIXES]->(t)
OPTIONAL MATCH (d:Deployment)-[:OF]->(s)
WHERE d.started_at >= fix.committed_at
  AND (EXISTS { MATCH (d)-[:SHIPS]->(fix) }
       OR EXISTS { MATCH (d)-[:SHIPS]->(:Commit)-[:PARENT* SHORTEST 1..30]->(fix) })
WITH s, t, min(d.started_at) AS fix_deployed_at
RETURN s.name AS service, count(t) AS tickets,
       avg((to_epoch_ms(t.resolved_at) - to_epoch_ms(t.created_at)) / 3600000.0)
         AS mean_hours_to_resolve,
       avg((to_epoch_ms(fix_deployed_at) - to_epoch_ms(t.created_at)) / 3600000.0)
         AS mean_hours_to_fix_deployed,
       count(fix_deployed_at) AS fixes_deployed
ORDER BY service
