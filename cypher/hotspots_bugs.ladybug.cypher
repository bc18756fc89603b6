// Ladybug: list_filter/list_extract (1-based) for the list comprehension; sums cast back to
// integers.
OPTIONAL MATCH (:Commit)-[r:MODIFIES]->(y:File)
WHERE r.old_path IS NOT NULL AND coalesce(y.deleted, false) = false
WITH collect(DISTINCT {old_path: 'file:' + y.repo + ':' + r.old_path, uid: y.uid, path: y.path}) AS renames
MATCH (x:File|Function)
OPTIONAL MATCH (b:Commit)-[:MODIFIES]->(x)
WHERE EXISTS { MATCH (b)-[:INDUCED]->(:Commit) }
WITH renames, x, count(DISTINCT b) AS bug_commits
OPTIONAL MATCH (t:Ticket)-[:MENTIONS]->(x)
WHERE t.kind IN ['bug', 'incident']
WITH renames, x, bug_commits, count(DISTINCT t) AS bug_tickets
WHERE bug_commits + bug_tickets > 0
WITH x, bug_commits, bug_tickets, list_filter(renames, r -> r.old_path = x.uid) AS moved
WITH CASE WHEN size(moved) > 0 THEN list_extract(moved, 1).uid ELSE x.uid END AS uid,
     CASE WHEN size(moved) > 0 THEN list_extract(moved, 1).path ELSE x.path END AS path,
     size(moved) > 0 OR coalesce(x.deleted, false) = false AS live,
     coalesce(x.is_test, false) AS test, bug_commits, bug_tickets
WHERE live AND ($include_all OR NOT (test OR path =~ '(?i)(.*/)?(tests?|testing|docs?|examples?|vendor|vendored|third_party|node_modules|dist|build|generated|[.]github|[.]circleci|[.]gitlab)/.*|.*([.](md|rst|txt|lock|min[.]js|pb[.]go)|_pb2[.]py|[.]generated[.].*)'))
WITH uid, path, to_int64(sum(bug_commits)) AS bug_commits, to_int64(sum(bug_tickets)) AS bug_tickets
RETURN uid, CASE WHEN uid STARTS WITH 'fn:' THEN 'Function' ELSE 'File' END AS kind,
       path, bug_commits, bug_tickets, bug_commits + bug_tickets AS score
ORDER BY score DESC, uid
LIMIT $limit
