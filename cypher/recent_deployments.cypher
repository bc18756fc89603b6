// name: recent_deployments
// description: Deployments since a time, newest first: service, version, status, the commit shipped and the previous deployment. An empty $service means all services.
// param: since DATETIME Earliest start time (UTC)
// param: service STRING Service name, or empty for all (default empty)
// param: limit INT Rows to return (default 20)
// default: service ''
// default: limit 20
MATCH (d:Deployment)
WHERE d.started_at >= $since AND ($service = '' OR d.service = $service)
OPTIONAL MATCH (d)-[:SHIPS]->(c:Commit)
OPTIONAL MATCH (prev:Deployment)-[:PRECEDES]->(d)
RETURN d.uid AS uid, d.service AS service, d.environment AS environment,
       d.version AS version, d.status AS status, d.started_at AS started_at,
       c.sha AS sha, c.summary AS summary, prev.uid AS previous
ORDER BY started_at DESC, uid
LIMIT $limit
