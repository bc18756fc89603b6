// Ladybug: label() instead of labels()[0] and type(); one table per node, so (n {uid}) scans every node table's key.
MATCH (n {uid: $uid})-[r]->(m)
RETURN m.uid AS uid, label(m) AS label, label(r) AS rel_type, 'out' AS direction
ORDER BY rel_type, uid
LIMIT $limit
UNION ALL
MATCH (n {uid: $uid})<-[r]-(m)
RETURN m.uid AS uid, label(m) AS label, label(r) AS rel_type, 'in' AS direction
ORDER BY rel_type, uid
LIMIT $limit
