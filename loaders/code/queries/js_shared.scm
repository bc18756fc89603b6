; Patterns shared by the JavaScript and TypeScript query files (the two grammars name these
; nodes alike); `LanguageSpec.shared_queries` appends this file to theirs.
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

; a method called on a freshly constructed object: `new Calc().add(1)`
(call_expression
  function: (member_expression
    object: (new_expression constructor: (identifier) @call.ctor)
    property: (property_identifier) @call.name)) @call

; variables: `const c = new Client()` types `c`; `const f = make()` holds what `make` returns
(variable_declarator name: (identifier) @local.name value: (_) @local.value)
(assignment_expression left: (identifier) @local.name right: (_) @local.value)
; fields assigned in the class: `this.client = new Client()` (any other value: type unknown)
(assignment_expression
  left: (member_expression object: (this) property: (property_identifier) @field.name)
  right: (_) @field.value)
; a function returned by name: `return handle`
(return_statement (identifier) @return.name)
; a function passed by name: `items.map(helper)`, `new Worker(task)`
(call_expression
  function: [(identifier) (member_expression)] @call.via
  arguments: (arguments (identifier) @call.arg)) @call
(new_expression constructor: (_) @call.via arguments: (arguments (identifier) @call.arg)) @call
