// name: hotspots_churn
// description: Most modified files and functions in a time window: commits touching each and lines added plus deleted. Only files and functions that exist at head count; a renamed file takes the history of its old path. Tests, docs, CI configuration (.github, .circleci, .gitlab) and vendored or generated paths are left out unless include_all.
// param: since DATETIME Start of the window (UTC, inclusive); default `days` before the newest commit
// param: until DATETIME End of the window (UTC, exclusive); default up to the newest commit
// param: days INT Window length when since is not given (default 90)
// param: include_all BOOL Also count tests, docs, vendored and generated files (default false)
// param: limit INT Rows to return (default 20)
// default: since null
// default: until null
// default: days 90
// default: include_all false
// default: limit 20
OPTIONAL MATCH (:Commit)-[r:MODIFIES]->(y:File)
WHERE r.old_path IS NOT NULL AND coalesce(y.deleted, false) = false
WITH collect(DISTINCT {old_path: 'file:' + y.repo + ':' + r.old_path, uid: y.uid, path: y.path}) AS renames
MATCH (n:Commit)
WITH renames, max(n.authored_at) AS newest
MATCH (c:Commit)-[m:MODIFIES]->(x:File|Function)
WHERE c.authored_at >= coalesce($since, newest - duration({days: $days}))
  AND (c.authored_at < $until OR ($until IS NULL AND c.authored_at <= newest))
WITH renames, x, count(DISTINCT c) AS commits, sum(m.lines_added + m.lines_deleted) AS lines_changed
WITH x, commits, lines_changed, [r IN renames WHERE r.old_path = x.uid] AS moved
WITH CASE WHEN size(moved) > 0 THEN moved[0].uid ELSE x.uid END AS uid,
     CASE WHEN size(moved) > 0 THEN moved[0].path ELSE x.path END AS path,
     size(moved) > 0 OR coalesce(x.deleted, false) = false AS live,
     coalesce(x.is_test, false) AS test, commits, lines_changed
WHERE live AND ($include_all OR NOT (test OR path =~ '(?i)(.*/)?(tests?|testing|docs?|examples?|vendor|vendored|third_party|node_modules|dist|build|generated|[.]github|[.]circleci|[.]gitlab)/.*|.*([.](md|rst|txt|lock|min[.]js|pb[.]go)|_pb2[.]py|[.]generated[.].*)'))
RETURN uid, CASE WHEN uid STARTS WITH 'fn:' THEN 'Function' ELSE 'File' END AS kind, path,
       sum(commits) AS commits, sum(lines_changed) AS lines_changed
ORDER BY commits DESC, lines_changed DESC, uid
LIMIT $limit
