// Lints prodgraph's named Cypher queries with Neo4j's own language support library.
//
// Reads on stdin: {catalog: {labels, relationshipTypes, propertyKeys},
//                  queries: [{name, text, parameters: {p: sampleValue}}]}
// Prints each query's diagnostics (or one JSON object with --json) and exits 1 when any
// diagnostic is an error (severity 1) or names an unknown label, relationship type or
// property key (severity 2 "... is not present in the database"). Neo4j 5's built-in
// functions are declared, so a function Neo4j does not have (a Ladybug one such as label()
// or to_epoch_ms()) is an error too.
import { lintCypherQuery } from '@neo4j-cypher/language-support';

// Built-in functions of Neo4j 5 (Cypher 5), by name.
const NEO4J_FUNCTIONS = `
avg collect count max min percentileCont percentileDisc stDev stDevP sum
all any exists isEmpty none single
coalesce elementId endNode head id last length nullIf properties randomUUID size startNode
timestamp toBoolean toBooleanOrNull toFloat toFloatOrNull toInteger toIntegerOrNull type
valueType char_length character_length
keys labels nodes range reduce relationships reverse tail toBooleanList toFloatList
toIntegerList toStringList
abs ceil floor isNaN rand round sign e exp log log10 sqrt acos asin atan atan2 cos cot degrees
haversin pi radians sin tan
btrim left lower ltrim normalize replace right rtrim split substring toLower toString
toStringOrNull toUpper trim upper
date date.realtime date.statement date.transaction date.truncate
datetime datetime.fromepoch datetime.fromepochmillis datetime.realtime datetime.statement
datetime.transaction datetime.truncate
localdatetime localdatetime.realtime localdatetime.statement localdatetime.transaction
localdatetime.truncate
localtime localtime.realtime localtime.statement localtime.transaction localtime.truncate
time time.realtime time.statement time.transaction time.truncate
duration duration.between duration.inDays duration.inMonths duration.inSeconds
point point.distance point.withinBBox
vector.similarity.cosine vector.similarity.euclidean
graph.names graph.propertiesByName graph.byName graph.byElementId
file linenumber
`.trim().split(/\s+/);

const OPTIONAL_ARGS = Array.from({ length: 8 }, (_, i) => ({
  name: `arg${i}`,
  description: '',
  type: 'ANY',
  isDeprecated: false,
  default: 'null',
}));

const AGGREGATING = new Set([
  'avg', 'collect', 'count', 'max', 'min', 'percentileCont', 'percentileDisc', 'stDev', 'stDevP',
  'sum',
]);

function functionRegistry() {
  const registry = {};
  for (const name of NEO4J_FUNCTIONS) {
    registry[name] = {
      name,
      category: '',
      description: '',
      isBuiltIn: true,
      // Signatures are not checked here: every argument is optional and of any type.
      argumentDescription: OPTIONAL_ARGS,
      returnDescription: 'ANY',
      signature: `${name}(${OPTIONAL_ARGS.map((a) => `${a.name} = null :: ANY`).join(', ')}) :: ANY`,
      aggregating: AGGREGATING.has(name),
      isDeprecated: false,
    };
  }
  return { 'CYPHER 5': registry };
}

const UNKNOWN_NAME = /is not present in the database/;

function isFailing(diagnostic) {
  return diagnostic.severity === 1 ||
    (diagnostic.severity === 2 && UNKNOWN_NAME.test(diagnostic.message));
}

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

function schemaFor(query, catalog, functions) {
  return {
    labels: catalog.labels ?? [],
    relationshipTypes: catalog.relationshipTypes ?? [],
    propertyKeys: catalog.propertyKeys ?? [],
    parameters: query.parameters ?? {},
    ...(functions ? { functions } : {}),
  };
}

function plain(d) {
  return {
    severity: d.severity,
    message: d.message,
    line: (d.range?.start?.line ?? 0) + 1,
    column: (d.range?.start?.character ?? 0) + 1,
    failing: isFailing(d),
  };
}

function lintAll(queries, catalog) {
  const functions = functionRegistry();
  return queries.map((q) => ({
    name: q.name,
    diagnostics: lintCypherQuery(q.text, schemaFor(q, catalog, functions)).diagnostics.map(plain),
  }));
}

async function main() {
  const asJson = process.argv.includes('--json');
  const doc = JSON.parse(await readStdin());
  const results = lintAll(doc.queries ?? [], doc.catalog ?? {});
  const ok = results.every((r) => !r.diagnostics.some((d) => d.failing));
  if (asJson) {
    process.stdout.write(JSON.stringify({ ok, results }) + '\n');
  } else {
    for (const r of results) {
      const failed = r.diagnostics.some((d) => d.failing);
      console.log(`${failed ? 'FAIL' : 'ok  '} ${r.name}`);
      for (const d of r.diagnostics) {
        const kind = d.failing ? 'error' : 'note';
        console.log(`     ${d.line}:${d.column} ${kind}: ${d.message.split('\n')[0]}`);
      }
    }
  }
  process.exitCode = ok ? 0 : 1;
}

main().catch((err) => {
  console.error(err?.stack ?? String(err));
  process.exitCode = 2;
});
