// Ladybug: to_days($days) for duration({days: $days}); list_filter/list_extract (1-based) for
// the list comprehension; sums cast back to integers.
OPTIONAL MATCH (:Commit)-[r:MODIFIES]->(y:File)
WHERE r.old_path IS NOT NULL AND coalesce(y.deleted, false) = false
WITH collect(DISTINCT {old_path: 'file:' + y.repo + ':' + r.old_path, uid: y.uid, path: y.path}) AS renames
MATCH (n:Commit)
WITH renames, max(n.authored_at) AS newest
MATCH (c:Commit)-[m:MODIFIES]->(x:File|Function)
WHERE c.authored_at >= coalesce($since, newest - to_days($days))
  AND (c.authored_at < $until OR ($until IS NULL AND c.authored_at <= newest))
WITH renames, x, count(DISTINCT c) AS commits, sum(m.lines_added + m.lines_deleted) AS lines_changed
WITH x, commits, lines_changed, list_filter(renames, r -> r.old_path = x.uid) AS moved
WITH CASE WHEN size(moved) > 0 THEN list_extract(moved, 1).uid ELSE x.uid END AS uid,
     CASE WHEN size(moved) > 0 THEN list_extract(moved, 1).path ELSE x.path END AS path,
     size(moved) > 0 OR coalesce(x.deleted, false) = false AS live,
     coalesce(x.is_test, false) AS test, commits, lines_changed
WHERE live AND ($include_all OR NOT (test OR path =~ '(?i)(.*/)?(tests?|testing|docs?|examples?|vendor|vendored|third_party|node_modules|dist|build|generated|[.]github|[.]circleci|[.]gitlab)/.*|.*([.](md|rst|txt|lock|min[.]js|pb[.]go)|_pb2[.]py|[.]generated[.].*)'))
RETURN uid, CASE WHEN uid STARTS WITH 'fn:' THEN 'Function' ELSE 'File' END AS kind, path,
       to_int64(sum(commits)) AS commits, to_int64(sum(lines_changed)) AS lines_changed
ORDER BY commits DESC, lines_changed DESC, uid
LIMIT $limit
