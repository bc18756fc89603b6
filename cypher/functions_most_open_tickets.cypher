// name: functions_most_open_tickets
// description: Functions named by the most open tickets (not resolved), with the ticket uids.
// param: limit INT Rows to return (default 20)
// default: limit 20
MATCH (t:Ticket)-[:MENTIONS]->(f:Function)
WHERE t.resolved_at IS NULL AND coalesce(t.status, 'open') <> 'closed'
WITH f, collect(DISTINCT t.uid) AS tickets
RETURN f.uid AS uid, f.qualname AS qualname, f.path AS path, size(tickets) AS open_tickets,
       tickets
ORDER BY open_tickets DESC, uid
LIMIT $limit
