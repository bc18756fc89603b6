(package_clause (package_identifier) @package)

(function_declaration
  name: (identifier) @function.name
  parameters: (parameter_list) @function.params) @function
(method_declaration
  receiver: (parameter_list
    (parameter_declaration
      name: (identifier)? @function.self
      type: [(type_identifier) @function.receiver
             (pointer_type (type_identifier) @function.receiver)]))
  name: (field_identifier) @function.name
  parameters: (parameter_list) @function.params) @function

(type_spec name: (type_identifier) @class.name type: [(struct_type) (interface_type)]) @class

(import_spec name: (package_identifier) @import.alias path: (_) @import.module)
(import_spec !name path: (_) @import.module)

(call_expression function: (identifier) @call.name) @call
(call_expression
  function: (selector_expression operand: (identifier) @call.receiver field: (field_identifier) @call.name)) @call
