// name: hotspots_bugs
// description: Most bug-linked files and functions: modified by bug-introducing commits (those that INDUCED a fix) plus mentioned by bug or incident tickets. Only files and functions that exist at head count; a renamed file takes the history of its old path. Tests, docs, CI configuration (.github, .circleci, .gitlab) and vendored or generated paths are left out unless include_all.
// param: include_all BOOL Also count tests, docs, vendored and generated files (default false)
// param: limit INT Rows to return (default 20)
// default: include_all false
// default: limit 20
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
WITH x, bug_commits, bug_tickets, [r IN renames WHERE r.old_path = x.uid] AS moved
WITH CASE WHEN size(moved) > 0 THEN moved[0].uid ELSE x.uid END AS uid,
     CASE WHEN size(moved) > 0 THEN moved[0].path ELSE x.path END AS path,
     size(moved) > 0 OR coalesce(x.deleted, false) = false AS live,
     coalesce(x.is_test, false) AS test, bug_commits, bug_tickets
WHERE live AND ($include_all OR NOT (test OR path =~ '(?i)(.*/)?(tests?|testing|docs?|examples?|vendor|vendored|third_party|node_modules|dist|build|generated|[.]github|[.]circleci|[.]gitlab)/.*|.*([.](md|rst|txt|lock|min[.]js|pb[.]go)|_pb2[.]py|[.]generated[.].*)'))
WITH uid, path, sum(bug_commits) AS bug_commits, sum(bug_tickets) AS bug_tickets
RETURN uid, CASE WHEN uid STARTS WITH 'fn:' THEN 'Function' ELSE 'File' END AS kind,
       path, bug_commits, bug_tickets, bug_commits + bug_tickets AS score
ORDER BY score DESC, uid
LIMIT $limit
