(function_declaration
  name: (identifier) @function.name
  parameters: (formal_parameters) @function.params) @function
(generator_function_declaration
  name: (identifier) @function.name
  parameters: (formal_parameters) @function.params) @function
(method_definition
  name: [(property_identifier) (private_property_identifier)] @function.name
  parameters: (formal_parameters) @function.params) @function
(variable_declarator
  name: (identifier) @function.name
  value: [
    (arrow_function parameters: (formal_parameters) @function.params)
    (arrow_function parameter: (identifier) @function.params)
    (function_expression parameters: (formal_parameters) @function.params)
  ] @function)
; class fields holding a function: `handle = () => ...` is a method of the class
(field_definition
  property: [(property_identifier) (private_property_identifier)] @function.name
  value: [
    (arrow_function parameters: (formal_parameters) @function.params)
    (arrow_function parameter: (identifier) @function.params)
    (function_expression parameters: (formal_parameters) @function.params)
  ] @function)

(class_declaration name: (identifier) @class.name) @class
(class_declaration (class_heritage (identifier) @base)) @base.of

(import_statement
  (import_clause (identifier) @import.default)
  source: (string (string_fragment) @import.from))
(import_statement
  (import_clause (named_imports (import_specifier name: (_) @import.name alias: (_)? @import.alias)))
  source: (string (string_fragment) @import.from))
(import_statement
  (import_clause (namespace_import (identifier) @import.alias))
  source: (string (string_fragment) @import.from))
(import_statement source: (string (string_fragment) @import.from))
(variable_declarator
  name: (identifier) @import.alias
  value: (call_expression
    function: (identifier) @_require
    arguments: (arguments . (string (string_fragment) @import.from)))
  (#eq? @_require "require"))
(export_statement (export_clause (export_specifier name: (_) @import.name alias: (_)? @import.alias)) source: (string (string_fragment) @import.from))

(export_statement "default" value: (identifier) @export.default)
(export_statement "default" declaration: [(function_declaration name: (_) @export.default) (class_declaration name: (_) @export.default)])

(call_expression function: (identifier) @call.name) @call
(call_expression
  function: (member_expression
    object: [(identifier) (this) (super) (member_expression)] @call.receiver
    property: (property_identifier) @call.name)) @call
(new_expression constructor: (identifier) @call.new) @call

; class fields: `client = new Client()`
(field_definition property: (property_identifier) @field.name value: (_) @field.value)
