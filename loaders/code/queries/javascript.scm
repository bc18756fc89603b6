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
; functions assigned to properties (CommonJS modules, mixins, prototypes): `obj.f = function`
; is a method of `obj`, `Cls.prototype.f = ...` a method of `Cls`, `exports.f = ...` and
; `module.exports.f = ...` module-level functions; `{f: function () {}}` like `{f() {}}`
(assignment_expression
  left: (member_expression
    object: (identifier) @function.receiver
    property: (property_identifier) @function.name)
  right: [
    (arrow_function parameters: (formal_parameters) @function.params)
    (arrow_function parameter: (identifier) @function.params)
    (function_expression parameters: (formal_parameters) @function.params)
  ] @function
  (#not-match? @function.receiver "^(exports|module)$"))
(assignment_expression
  left: (member_expression
    object: (member_expression
      object: (identifier) @function.receiver
      property: (property_identifier) @_prototype)
    property: (property_identifier) @function.name)
  right: [
    (arrow_function parameters: (formal_parameters) @function.params)
    (arrow_function parameter: (identifier) @function.params)
    (function_expression parameters: (formal_parameters) @function.params)
  ] @function
  (#eq? @_prototype "prototype"))
(assignment_expression
  left: (member_expression
    object: (identifier) @_exports
    property: (property_identifier) @function.name)
  right: [
    (arrow_function parameters: (formal_parameters) @function.params)
    (arrow_function parameter: (identifier) @function.params)
    (function_expression parameters: (formal_parameters) @function.params)
  ] @function
  (#eq? @_exports "exports"))
(assignment_expression
  left: (member_expression
    object: (member_expression
      object: (identifier) @_module
      property: (property_identifier) @_exports)
    property: (property_identifier) @function.name)
  right: [
    (arrow_function parameters: (formal_parameters) @function.params)
    (arrow_function parameter: (identifier) @function.params)
    (function_expression parameters: (formal_parameters) @function.params)
  ] @function
  (#eq? @_module "module")
  (#eq? @_exports "exports"))
(pair
  key: (property_identifier) @function.name
  value: [
    (arrow_function parameters: (formal_parameters) @function.params)
    (arrow_function parameter: (identifier) @function.params)
    (function_expression parameters: (formal_parameters) @function.params)
  ] @function)
; a named function passed as an argument (`defineGetter(req, 'host', function host() {...})`,
; `app.get('/', function index(req, res) {...})`): the author named it, so it is one
(arguments
  (function_expression
    name: (identifier) @function.name
    parameters: (formal_parameters) @function.params) @function)
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
