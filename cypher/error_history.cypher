// name: error_history
// description: An error signature's story: first and last seen, occurrences, services and deployments it was seen in, tickets that report it, and the commits that fixed those tickets.
// param: uid STRING ErrorSignature uid (err:<fingerprint>)
MATCH (e:ErrorSignature {uid: $uid})
OPTIONAL MATCH (e)-[:SEEN_IN]->(s:Service)
WITH e, collect(DISTINCT s.name) AS services
OPTIONAL MATCH (e)-[:SEEN_IN]->(d:Deployment)
WITH e, services, collect(DISTINCT d.uid) AS deployments
OPTIONAL MATCH (t:Ticket)-[:REPORTS]->(e)
OPTIONAL MATCH (c:Commit)-[:FIXES]->(t)
RETURN e.uid AS uid, e.type AS type, e.message_template AS message,
       e.first_seen AS first_seen, e.last_seen AS last_seen, e.count AS occurrences,
       services, deployments, collect(DISTINCT t.uid) AS tickets,
       collect(DISTINCT c.sha) AS fix_commits
