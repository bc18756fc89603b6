// name: neighbours
// description: Direct neighbours of any node by uid, any label: neighbour uid, label, relationship type and direction (out or in), up to $limit each way.
// param: uid STRING Node uid of any label (fn:..., file:..., svc:..., commit:..., ticket:...)
// param: limit INT Maximum neighbours per direction (default 100)
// default: limit 100
MATCH (n {uid: $uid})-[r]->(m)
RETURN m.uid AS uid, labels(m)[0] AS label, type(r) AS rel_type, 'out' AS direction
ORDER BY rel_type, uid
LIMIT $limit
UNION ALL
MATCH (n {uid: $uid})<-[r]-(m)
RETURN m.uid AS uid, labels(m)[0] AS label, type(r) AS rel_type, 'in' AS direction
ORDER BY rel_type, uid
LIMIT $limit
