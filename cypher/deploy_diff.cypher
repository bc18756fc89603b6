// name: deploy_diff
// description: The commits a deployment shipped that its previous deployment (same service and environment, through PRECEDES) did not: commits reachable from its shipped commit through PARENT that are not reachable from the previous one's (up to 200 parents deep; 30 on Ladybug). Empty for a first deployment, a redeploy of the same commit, or a rollback.
// param: uid STRING Deployment uid (deploy:<env>:<service>:<id>)
MATCH (prev:Deployment)-[:PRECEDES]->(d:Deployment {uid: $uid})
MATCH (d)-[:SHIPS]->(head:Commit)
MATCH (prev)-[:SHIPS]->(base:Commit)
OPTIONAL MATCH (base)-[:PARENT*0..200]->(old:Commit)
WITH prev, head, collect(DISTINCT old.uid) AS shipped_before
MATCH (head)-[:PARENT*0..200]->(c:Commit)
WHERE NOT c.uid IN shipped_before
RETURN DISTINCT c.uid AS uid, c.sha AS sha, c.summary AS summary,
       c.authored_at AS authored_at, prev.uid AS previous
ORDER BY authored_at DESC, uid
