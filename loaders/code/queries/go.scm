(package_clause (package_identifier) @package)

(function_declaration
  name: (identifier) @function.name
  parameters: (parameter_list) @function.params
  result: (_)? @function.result) @function
(method_declaration
  receiver: (parameter_list
    (parameter_declaration
      name: (identifier)? @function.self
      type: [(type_identifier) @function.receiver
             (pointer_type (type_identifier) @function.receiver)]))
  name: (field_identifier) @function.name
  parameters: (parameter_list) @function.params
  result: (_)? @function.result) @function

(type_spec name: (type_identifier) @class.name type: [(struct_type) (interface_type)]) @class

(import_spec name: (package_identifier) @import.alias path: (_) @import.module)
(import_spec !name path: (_) @import.module)

(call_expression function: (identifier) @call.name) @call
(call_expression
  function: (selector_expression
    operand: [(identifier) (selector_expression)] @call.receiver
    field: (field_identifier) @call.name)) @call

; declared types: parameters (the receiver too), `var c Client`, struct fields; values:
; `c := NewClient()`, `c, err := NewClient()` (the first result), `e := &Client{}`
(parameter_declaration name: (identifier) @local.name type: (_) @local.type)
(var_spec . name: (identifier) @local.name type: (_) @local.type)
(var_spec . name: (identifier) @local.name !type value: (expression_list . (_) @local.value))
(short_var_declaration
  left: (expression_list . (identifier) @local.name)
  right: (expression_list . (_) @local.value))
(assignment_statement
  left: (expression_list . (identifier) @local.name)
  right: (expression_list . (_) @local.value))
; other bindings make a name's type unknown: later names of a list, range and switch variables
(short_var_declaration left: (expression_list (_) . (identifier) @local.name))
(assignment_statement left: (expression_list (_) . (identifier) @local.name))
(range_clause left: (expression_list (identifier) @local.name))
(type_switch_statement alias: (expression_list (identifier) @local.name))
(field_declaration name: (field_identifier) @field.name type: (_) @field.type)
(method_elem name: (field_identifier) @field.name) @field.method
; a function returned or passed by name: `return handle`, `http.HandleFunc("/", index)`
(return_statement (expression_list . (identifier) @return.name))
(call_expression
  function: [(identifier) (selector_expression)] @call.via
  arguments: (argument_list (identifier) @call.arg)) @call
