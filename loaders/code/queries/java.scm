(package_declaration [(identifier) (scoped_identifier)] @package)

(method_declaration
  name: (identifier) @function.name
  parameters: (formal_parameters) @function.params) @function
(constructor_declaration
  name: (identifier) @function.name
  parameters: (formal_parameters) @function.params) @function

(class_declaration name: (identifier) @class.name) @class
(interface_declaration name: (identifier) @class.name) @class
(enum_declaration name: (identifier) @class.name) @class
(record_declaration name: (identifier) @class.name) @class
(class_declaration superclass: (superclass (type_identifier) @base)) @base.of
(class_declaration interfaces: (super_interfaces (type_list (type_identifier) @base))) @base.of
(interface_declaration (extends_interfaces (type_list (type_identifier) @base))) @base.of

(import_declaration (scoped_identifier scope: (_) @import.from name: (identifier) @import.name))
(import_declaration (scoped_identifier) @import.from (asterisk) @import.wildcard)

(method_invocation !object name: (identifier) @call.name) @call
(method_invocation
  object: [(identifier) (this) (super) (field_access) (scoped_identifier)] @call.receiver
  name: (identifier) @call.name) @call
(object_creation_expression type: (type_identifier) @call.new) @call

; a method called on a freshly constructed object: `new Helper().run()`
(method_invocation
  object: (object_creation_expression type: (type_identifier) @call.ctor)
  name: (identifier) @call.name) @call

; declared types: locals (`var` takes the constructed class), parameters, loop variables, fields
(local_variable_declaration
  type: (_) @local.type
  declarator: (variable_declarator name: (identifier) @local.name))
(local_variable_declaration
  declarator: (variable_declarator name: (identifier) @local.name value: (_) @local.value))
(formal_parameter type: (_) @local.type name: (identifier) @local.name)
(enhanced_for_statement type: (_) @local.type name: (identifier) @local.name)
(lambda_expression parameters: (identifier) @local.name)
(lambda_expression parameters: (inferred_parameters (identifier) @local.name))
(field_declaration
  type: (_) @field.type
  declarator: (variable_declarator name: (identifier) @field.name))
