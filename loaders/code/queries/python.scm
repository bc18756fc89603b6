(function_definition
  name: (identifier) @function.name
  parameters: (parameters) @function.params) @function

(class_definition name: (identifier) @class.name) @class

(class_definition
  superclasses: (argument_list
    [(identifier) @base
     (attribute) @base
     (subscript value: [(identifier) (attribute)] @base)])) @base.of

(import_statement name: (dotted_name) @import.module)
(import_statement
  name: (aliased_import name: (dotted_name) @import.module alias: (identifier) @import.alias))
(import_from_statement
  module_name: (_) @import.from
  name: (dotted_name) @import.name)
(import_from_statement
  module_name: (_) @import.from
  name: (aliased_import name: (dotted_name) @import.name alias: (identifier) @import.alias))
(import_from_statement
  module_name: (_) @import.from
  (wildcard_import) @import.wildcard)

(call function: (identifier) @call.name) @call
(call
  function: (attribute
    object: [(identifier) (attribute)] @call.receiver
    attribute: (identifier) @call.name)) @call
(call
  function: (attribute
    object: (call function: (identifier) @_super) @call.receiver
    attribute: (identifier) @call.name)
  (#eq? @_super "super")) @call

(assignment left: (identifier) @local.name right: (_) @local.value)
(typed_parameter (identifier) @local.name type: (type [(identifier) (attribute)] @local.type))
(typed_default_parameter
  name: (identifier) @local.name
  type: (type [(identifier) (attribute)] @local.type))
; other bindings of a name: they make its type unknown (no @local.value / @local.type)
(for_statement left: (identifier) @local.name)
(pattern_list (identifier) @local.name)
(tuple_pattern (identifier) @local.name)
(as_pattern_target (identifier) @local.name)
(named_expression name: (identifier) @local.name)
(augmented_assignment left: (identifier) @local.name)
