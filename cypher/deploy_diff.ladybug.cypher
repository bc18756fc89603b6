// Ladybug: variable-length walks enumerate every path (exponential over merge commits) and
// stop at 30 hops by default, so both sides use `* SHORTEST 1..30` (one path per commit),
// and the two shipped commits themselves are added to the lists. Commits are re-matched by
// uid so the planner starts each walk from a primary-key look-up.
MATCH (d:Deployment {uid: $uid})
MATCH (prev:Deployment)-[:PRECEDES]->(d)
MATCH (d)-[:SHIPS]->(h:Commit)
MATCH (prev)-[:SHIPS]->(b:Commit)
WITH prev.uid AS previous, h.uid AS head_uid, b.uid AS base_uid
MATCH (base:Commit {uid: base_uid})
OPTIONAL MATCH (base)-[:PARENT* SHORTEST 1..30]->(old:Commit)
WITH previous, head_uid, base_uid, collect(DISTINCT old.uid) AS old_uids
MATCH (head:Commit {uid: head_uid})
OPTIONAL MATCH (head)-[:PARENT* SHORTEST 1..30]->(anc:Commit)
WITH previous, head_uid, base_uid, old_uids, collect(DISTINCT anc.uid) AS anc_uids
WITH previous, list_append(old_uids, base_uid) AS shipped_before,
     list_append(anc_uids, head_uid) AS shipped_now
UNWIND shipped_now AS commit_uid
WITH previous, commit_uid, shipped_before
WHERE NOT commit_uid IN shipped_before
MATCH (c:Commit {uid: commit_uid})
RETURN DISTINCT c.uid AS uid, c.sha AS sha, c.summary AS summary,
       c.authored_at AS authored_at, previous
ORDER BY authored_at DESC, uid
