// The graph schema from GET /v1/schema: labels by uid prefix, and the editor's completion lists.

export class Schema {
  constructor(answer) {
    this.backend = answer.backend;
    this.version = answer.schema_version;
    this.labels = answer.labels.map((l) => l.label);
    this.relationshipTypes = answer.relationships.map((r) => r.type);
    this.propertyKeys = answer.property_keys;
    this.byPrefix = new Map(answer.labels.map((l) => [l.key_prefix, l.label]));
    this.info = answer;
  }

  /** The label a uid's prefix names (`fn:` -> Function), or null for other strings. */
  labelOf(uid) {
    if (typeof uid !== "string") return null;
    const colon = uid.indexOf(":");
    if (colon < 1 || colon === uid.length - 1) return null;
    return this.byPrefix.get(uid.slice(0, colon + 1)) || null;
  }

  isLabel(label) {
    return this.labels.includes(label);
  }

  /** The schema in the shape the Cypher editor's completion wants. */
  editorSchema(parameters = []) {
    return {
      labels: this.labels.map((l) => `:${l}`),
      relationshipTypes: this.relationshipTypes.map((r) => `:${r}`),
      propertyKeys: this.propertyKeys,
      parameters,
    };
  }
}
